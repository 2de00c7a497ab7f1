/// Swap active and standby, fenced on the version the caller believes is active
/// (PROTOCOL.md §11.10). Empty `expectedActive` means unfenced: allowed, not recommended.
public struct SwapRequest: WireMessage {
    public static let messageType = MessageType.swap

    public var expectedActive: String

    public init(expectedActive: String) { self.expectedActive = expectedActive }

    public var payloadSize: Int { ByteWriter.size(of: expectedActive) }

    public func write(to w: inout ByteWriter) { w.write(string: expectedActive) }

    public init(from r: inout ByteReader) throws(WireError) {
        expectedActive = try r.readString("expected_active", limit: Limits.version)
    }
}

/// The runbook's rollback: the same flip as Swap, answered with the runbook's fields
/// (PROTOCOL.md §11.11).
public struct RollbackRequest: WireMessage {
    public static let messageType = MessageType.rollback

    public var expectedActive: String

    public init(expectedActive: String) { self.expectedActive = expectedActive }

    public var payloadSize: Int { ByteWriter.size(of: expectedActive) }

    public func write(to w: inout ByteWriter) { w.write(string: expectedActive) }

    public init(from r: inout ByteReader) throws(WireError) {
        expectedActive = try r.readString("expected_active", limit: Limits.version)
    }
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

public struct SwapReply: WireMessage {
    public static let messageType = MessageType.swapReply
    public var outcome: SwapOutcome
    public init(_ outcome: SwapOutcome) { self.outcome = outcome }
    public var payloadSize: Int { outcome.size }
    public func write(to w: inout ByteWriter) { outcome.write(to: &w) }
    public init(from r: inout ByteReader) throws(WireError) { outcome = try SwapOutcome(from: &r) }
}

public struct RollbackReply: WireMessage {
    public static let messageType = MessageType.rollbackReply
    public var outcome: SwapOutcome
    public init(_ outcome: SwapOutcome) { self.outcome = outcome }
    public var payloadSize: Int { outcome.size }
    public func write(to w: inout ByteWriter) { outcome.write(to: &w) }
    public init(from r: inout ByteReader) throws(WireError) { outcome = try SwapOutcome(from: &r) }
}
