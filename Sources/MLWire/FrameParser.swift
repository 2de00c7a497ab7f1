/// One step of framing over bytes already in memory. Stateless: the server runs it directly over
/// a connection's read buffer; `FrameDecoder` wraps it for callers that want it incremental.
public enum ParseStep {
    /// A whole frame: a valid header and a view of its payload (valid while the buffer is).
    case frame(FrameHeader, payload: UnsafeRawBufferPointer, consumed: Int)
    /// Not enough bytes yet; `need` is the total the current frame requires.
    case needMore(need: Int)
    /// A protocol error. When `consumed` is 0 the stream cannot be framed any further and the
    /// connection must be closed after the error frame; otherwise skip `consumed` bytes and go on.
    case reject(WireError, requestID: UInt32, consumed: Int)
}

public enum FrameParser {
    /// Default maximum payload size (PROTOCOL.md §4.2): 1 MiB.
    public static let defaultMaxPayload = 1 << 20
    /// Maximum payload before HELLO is accepted: unauthenticated peers get a tight limit.
    public static let preHelloMaxPayload = 4096
    /// Hard ceiling for the configurable limit.
    public static let absoluteMaxPayload = 16 << 20

    /// Parses the frame at the start of `buffer`. The declared length is compared with
    /// `maxPayload` as soon as the header is complete, before the payload is waited for.
    @inline(__always)
    /// `allowedFlags`: header flag bits the connection's protocol version defines (v2: `WITH_IDS`);
    /// the caller checks that a set flag suits the message type.
    public static func parse(_ buffer: UnsafeRawBufferPointer, maxPayload: Int, allowedFlags: UInt8 = 0) -> ParseStep {
        guard buffer.count >= FrameHeader.size else { return .needMore(need: FrameHeader.size) }
        let (magic, version, header) = FrameHeader.read(from: buffer.baseAddress!)
        guard magic == FrameHeader.magic else {
            return .reject(.badMagic(found: magic), requestID: 0, consumed: 0)
        }
        guard version == FrameHeader.frameVersion else {
            return .reject(.unsupportedFrameVersion(found: version), requestID: 0, consumed: 0)
        }
        guard Int(header.payloadLength) <= maxPayload else {
            return .reject(.frameTooLarge(declared: header.payloadLength, limit: maxPayload),
                           requestID: header.requestID, consumed: 0)
        }
        let total = FrameHeader.size + Int(header.payloadLength)
        guard buffer.count >= total else { return .needMore(need: total) }
        if header.flags & ~allowedFlags != 0 || header.reserved != 0 {
            return .reject(.reservedBitsSet(flags: header.flags, reserved: header.reserved),
                           requestID: header.requestID, consumed: total)
        }
        let payload = UnsafeRawBufferPointer(rebasing: buffer[FrameHeader.size..<total])
        return .frame(header, payload: payload, consumed: total)
    }
}
