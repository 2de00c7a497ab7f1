/// The answer to any failed request (PROTOCOL.md §11.12). The header carries the status; the
/// payload carries the typed reason (protocol v2 and later) and a message for people.
///
/// `reason` is nil for the v1 layout (message only): a v1 connection never sees a reason, and
/// errors sent before HELLO completes use the v1 layout too, since no version is agreed yet.
public struct ErrorReply: WireMessage {
    public static let messageType = MessageType.error

    public var reason: Reason?
    public var message: String

    public init(reason: Reason? = nil, message: String) {
        self.reason = reason
        // Keep within the field limit whatever the caller built; cut on a character boundary.
        var text = message
        while text.utf8.count > Limits.message { text.removeLast() }
        self.message = text
    }

    /// The layout for a connection that agreed on `version`: the reason only from v2 on.
    public init(_ reason: Reason, _ message: String, version: UInt8) {
        self.init(reason: version >= 2 ? reason : nil, message: message)
    }

    public var payloadSize: Int { (reason == nil ? 0 : 4) + ByteWriter.size(of: message) }

    public func write(to w: inout ByteWriter) {
        if let reason {
            w.write(reason.rawValue)
            w.write(UInt16(0))
        }
        w.write(string: message)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        if r.version >= 2 {
            reason = Reason(wire: try r.readUInt16("reason"))
            try r.readReserved(2)
        } else {
            reason = nil
        }
        message = try r.readString("message", limit: Limits.message)
    }
}
