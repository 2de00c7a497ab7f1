/// Load an artifact into the standby slot (PROTOCOL.md §11.9). Controller only.
/// `artifact` is a path on the node's file system, or `builtin:<version>` for a demo model.
/// A non-zero `expectedChecksum` must equal the artifact's SHA-256 or the load is refused.
public struct LoadStandby: WireMessage {
    public static let messageType = MessageType.loadStandby

    public var expectedChecksum: Digest32
    public var artifact: String

    public init(artifact: String, expectedChecksum: Digest32 = .zero) {
        self.artifact = artifact
        self.expectedChecksum = expectedChecksum
    }

    public var payloadSize: Int { 32 + ByteWriter.size(of: artifact) }

    public func write(to w: inout ByteWriter) {
        w.write(digest: expectedChecksum)
        w.write(string: artifact)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        expectedChecksum = try r.readDigest()
        artifact = try r.readString("artifact", limit: Limits.artifact)
        guard !artifact.isEmpty else { throw .malformed(.loadStandby, "empty artifact reference") }
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
