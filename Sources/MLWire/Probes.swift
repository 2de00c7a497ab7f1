/// Answer to Health: the process is up and its loops answer (PROTOCOL.md §11.5).
public struct HealthReply: WireMessage {
    public static let messageType = MessageType.healthReply

    public var serving: Bool
    public var uptimeMillis: UInt64

    public init(serving: Bool, uptimeMillis: UInt64) {
        self.serving = serving
        self.uptimeMillis = uptimeMillis
    }

    public var payloadSize: Int { 12 }

    public func write(to w: inout ByteWriter) {
        w.write(UInt8(serving ? 1 : 0))
        w.writeZeros(3)
        w.write(uptimeMillis)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        serving = try r.readUInt8("serving") != 0
        try r.readReserved(3)
        uptimeMillis = try r.readUInt64("uptime")
    }
}

/// Answer to Ready: an active model is loaded and the node is not draining (PROTOCOL.md §11.6).
public struct ReadyReply: WireMessage {
    public static let messageType = MessageType.readyReply

    public var ready: Bool
    /// Why not, when not ready; empty when ready.
    public var reason: String

    public init(ready: Bool, reason: String) {
        self.ready = ready
        self.reason = reason
    }

    public var payloadSize: Int { 4 + ByteWriter.size(of: reason) }

    public func write(to w: inout ByteWriter) {
        w.write(UInt8(ready ? 1 : 0))
        w.writeZeros(3)
        w.write(string: reason)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        ready = try r.readUInt8("ready") != 0
        try r.readReserved(3)
        reason = try r.readString("reason", limit: Limits.reason)
    }
}
