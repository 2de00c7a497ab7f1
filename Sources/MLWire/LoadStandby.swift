/// The v2 tail of LOAD_STANDBY: the fleet operation, a deadline, and the force flag.
public struct LoadOptions: Equatable, Sendable {
    public var operationID: String
    /// Wall-clock microseconds since the Unix epoch; 0 = no deadline.
    public var deadlineUnixMicros: Int64
    public var flags: ControlFlags

    public init(operationID: String = "", deadlineUnixMicros: Int64 = 0, flags: ControlFlags = []) {
        self.operationID = operationID
        self.deadlineUnixMicros = deadlineUnixMicros
        self.flags = flags
    }

    var size: Int { ByteWriter.size(of: operationID) + 8 + 4 }

    func write(to w: inout ByteWriter) {
        w.write(string: operationID)
        w.write(deadlineUnixMicros)
        w.write(flags.rawValue)
        w.writeZeros(3)
    }

    init(from r: inout ByteReader) throws(WireError) {
        operationID = try r.readString("operation_id", limit: Limits.operationID)
        deadlineUnixMicros = try r.readInt64("deadline")
        flags = try ControlFlags.read(from: &r, type: .loadStandby)
    }
}

/// Load an artifact into the standby slot (PROTOCOL.md §11.9). Controller only.
/// `artifact` is a path on the node's file system, or `builtin:<version>` for a demo model.
/// A non-zero `expectedChecksum` must equal the artifact's SHA-256 or the load is refused.
/// `options` nil is the v1 layout; a v2 connection always carries them.
public struct LoadStandby: WireMessage {
    public static let messageType = MessageType.loadStandby

    public var expectedChecksum: Digest32
    public var artifact: String
    public var options: LoadOptions?

    public init(artifact: String, expectedChecksum: Digest32 = .zero, options: LoadOptions? = nil) {
        self.artifact = artifact
        self.expectedChecksum = expectedChecksum
        self.options = options
    }

    public var payloadSize: Int { 32 + ByteWriter.size(of: artifact) + (options?.size ?? 0) }

    public func write(to w: inout ByteWriter) {
        w.write(digest: expectedChecksum)
        w.write(string: artifact)
        options?.write(to: &w)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        expectedChecksum = try r.readDigest()
        artifact = try r.readString("artifact", limit: Limits.artifact)
        guard !artifact.isEmpty else { throw .malformed(.loadStandby, "empty artifact reference") }
        options = r.version >= 2 ? try LoadOptions(from: &r) : nil
    }
}

public struct LoadStandbyReply: WireMessage {
    public static let messageType = MessageType.loadStandbyReply

    public var generation: UInt64
    public var standby: SlotInfo

    public init(generation: UInt64, standby: SlotInfo) {
        self.generation = generation
        self.standby = standby
    }

    public var payloadSize: Int { 8 + standby.size }

    public func write(to w: inout ByteWriter) {
        w.write(generation)
        standby.write(to: &w)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        generation = try r.readUInt64("generation")
        standby = try SlotInfo(from: &r)
    }
}
