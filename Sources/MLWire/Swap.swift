/// Control-request flags (PROTOCOL.md §11.9–11.11, v2). Bits other than these are reserved
/// and must be zero.
public struct ControlFlags: OptionSet, Equatable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// LOAD_STANDBY: allow reloading the active artifact. SWAP/ROLLBACK: allow a standby that is
    /// not warm yet.
    public static let force = ControlFlags(rawValue: 0x01)
    static let known: ControlFlags = [.force]
}

/// The v2 tail of SWAP and ROLLBACK: the standby the caller expects to become active, a deadline
/// after which the node must refuse the request, and the fleet operation it belongs to.
public struct SwapFence: Equatable, Sendable {
    /// Empty: the standby is not fenced.
    public var expectedStandby: String
    /// All zero: any checksum.
    public var expectedStandbyChecksum: Digest32
    /// Wall-clock microseconds since the Unix epoch; 0 = no deadline.
    public var deadlineUnixMicros: Int64
    public var operationID: String
    public var flags: ControlFlags

    public init(expectedStandby: String = "", expectedStandbyChecksum: Digest32 = .zero, deadlineUnixMicros: Int64 = 0,
                operationID: String = "", flags: ControlFlags = []) {
        self.expectedStandby = expectedStandby
        self.expectedStandbyChecksum = expectedStandbyChecksum
        self.deadlineUnixMicros = deadlineUnixMicros
        self.operationID = operationID
        self.flags = flags
    }

    var size: Int { ByteWriter.size(of: expectedStandby) + 32 + 8 + ByteWriter.size(of: operationID) + 4 }

    func write(to w: inout ByteWriter) {
        w.write(string: expectedStandby)
        w.write(digest: expectedStandbyChecksum)
        w.write(deadlineUnixMicros)
        w.write(string: operationID)
        w.write(flags.rawValue)
        w.writeZeros(3)
    }

    init(from r: inout ByteReader, type: MessageType) throws(WireError) {
        expectedStandby = try r.readString("expected_standby", limit: Limits.version)
        expectedStandbyChecksum = try r.readDigest()
        deadlineUnixMicros = try r.readInt64("deadline")
        operationID = try r.readString("operation_id", limit: Limits.operationID)
        flags = try ControlFlags.read(from: &r, type: type)
    }
}

extension ControlFlags {
    static func read(from r: inout ByteReader, type: MessageType) throws(WireError) -> ControlFlags {
        let flags = ControlFlags(rawValue: try r.readUInt8("flags"))
        guard flags.isSubset(of: .known) else { throw .malformed(type, "unknown flag bits 0x\(String(flags.rawValue, radix: 16)) set") }
        try r.readReserved(3)
        return flags
    }
}

/// SWAP and ROLLBACK requests share one layout: the active version the caller expects, then
/// the v2 fence. Each message names only its type; the codec is written once, here.
public protocol FencedFlipRequest: WireMessage {
    /// Empty: unfenced (allowed, not recommended).
    var expectedActive: String { get }
    /// nil is the v1 layout; a v2 connection always carries one.
    var fence: SwapFence? { get }
    init(expectedActive: String, fence: SwapFence?)
}

extension FencedFlipRequest {
    public var payloadSize: Int { ByteWriter.size(of: expectedActive) + (fence?.size ?? 0) }

    public func write(to w: inout ByteWriter) {
        w.write(string: expectedActive)
        fence?.write(to: &w)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        let expectedActive = try r.readString("expected_active", limit: Limits.version)
        self.init(expectedActive: expectedActive, fence: r.version >= 2 ? try SwapFence(from: &r, type: Self.messageType) : nil)
    }

    /// The fence fields the node checks (the same for Swap and Rollback).
    public var parts: (expectedActive: String, fence: SwapFence?) { (expectedActive, fence) }
}

/// Swap active and standby, fenced on the version the caller believes is active
/// (PROTOCOL.md §11.10).
public struct SwapRequest: FencedFlipRequest {
    public static let messageType = MessageType.swap
    public var expectedActive: String
    public var fence: SwapFence?
    public init(expectedActive: String, fence: SwapFence? = nil) { (self.expectedActive, self.fence) = (expectedActive, fence) }
}

/// The runbook's rollback: the same flip as Swap, answered with the runbook's fields
/// (PROTOCOL.md §11.11).
public struct RollbackRequest: FencedFlipRequest {
    public static let messageType = MessageType.rollback
    public var expectedActive: String
    public var fence: SwapFence?
    public init(expectedActive: String, fence: SwapFence? = nil) { (self.expectedActive, self.fence) = (expectedActive, fence) }
}

/// What a completed swap or rollback did: the runbook's previous_version / rolled_back_to /
/// timestamp, plus the new generation and how long the flip took inside the node.
public struct SwapOutcome: Equatable, Sendable {
    public var previousVersion: String
    public var activeVersion: String
    public var generation: UInt64
    /// When the swap was acknowledged, microseconds since the Unix epoch.
    public var timestampMicros: Int64
    /// Time spent inside the node from the fence check to the durable acknowledgement.
    public var swapNanos: UInt64

    public init(previousVersion: String, activeVersion: String, generation: UInt64, timestampMicros: Int64, swapNanos: UInt64) {
        self.previousVersion = previousVersion
        self.activeVersion = activeVersion
        self.generation = generation
        self.timestampMicros = timestampMicros
        self.swapNanos = swapNanos
    }

    var size: Int { ByteWriter.size(of: previousVersion) + ByteWriter.size(of: activeVersion) + 24 }

    func write(to w: inout ByteWriter) {
        w.write(string: previousVersion)
        w.write(string: activeVersion)
        w.write(generation)
        w.write(timestampMicros)
        w.write(swapNanos)
    }

    init(from r: inout ByteReader) throws(WireError) {
        previousVersion = try r.readString("previous_version", limit: Limits.version)
        activeVersion = try r.readString("active_version", limit: Limits.version)
        generation = try r.readUInt64("generation")
        timestampMicros = try r.readInt64("timestamp")
        swapNanos = try r.readUInt64("swap nanos")
    }
}

/// SWAP_REPLY and ROLLBACK_REPLY carry the same `SwapOutcome`; only the type byte differs.
public protocol SwapOutcomeReply: WireMessage {
    var outcome: SwapOutcome { get }
    init(_ outcome: SwapOutcome)
}

extension SwapOutcomeReply {
    public var payloadSize: Int { outcome.size }
    public func write(to w: inout ByteWriter) { outcome.write(to: &w) }
    public init(from r: inout ByteReader) throws(WireError) { self.init(try SwapOutcome(from: &r)) }
}

public struct SwapReply: SwapOutcomeReply {
    public static let messageType = MessageType.swapReply
    public var outcome: SwapOutcome
    public init(_ outcome: SwapOutcome) { self.outcome = outcome }
}

public struct RollbackReply: SwapOutcomeReply {
    public static let messageType = MessageType.rollbackReply
    public var outcome: SwapOutcome
    public init(_ outcome: SwapOutcome) { self.outcome = outcome }
}

extension Limits {
    /// Operation ids (LOAD_STANDBY, SWAP, ROLLBACK v2; INFO_REPLY v2).
    public static let operationID = 64
}
