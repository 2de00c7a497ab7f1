/// A message with a fixed type byte and a payload layout from PROTOCOL.md §11.
///
/// Versioned layouts: a message whose layout grows in protocol v2 holds its v2 fields so that
/// `payloadSize` and `write(to:)` know which layout they produce (an optional extension, nil =
/// the v1 layout), and `init(from:)` reads them when `reader.version >= 2`.
public protocol WireMessage: Equatable, Sendable {
    static var messageType: MessageType { get }
    /// Exact number of payload bytes `write(to:)` produces.
    var payloadSize: Int { get }
    func write(to writer: inout ByteWriter)
    /// Reads the fields; `decode(payload:)` also checks that nothing trails them.
    init(from reader: inout ByteReader) throws(WireError)
    /// Header byte 5: 0 except where a message says (PREDICT's `WITH_IDS`).
    var headerFlags: UInt8 { get }
}

/// Field limits, in bytes of UTF-8 (PROTOCOL.md §5).
public enum Limits {
    public static let version = 64
    public static let name = 64
    public static let token = 256
    public static let artifact = 4096
    public static let message = 1024
    public static let reason = 256
    /// Features per row and rows per batch.
    public static let features = 4096
    public static let rows = 4096
}

extension WireMessage {
    public var headerFlags: UInt8 { 0 }

    /// Decodes a whole payload in the layout of protocol `version` (PROTOCOL.md §13: fields a
    /// later version adds are appended, and read only on connections that agreed on it).
    public static func decode(payload: UnsafeRawBufferPointer, version: UInt8 = 1) throws(WireError) -> Self {
        var reader = ByteReader(payload, type: messageType, version: version)
        let message = try Self(from: &reader)
        try reader.finish()
        return message
    }

    public static func decode(payload: [UInt8], version: UInt8 = 1) throws(WireError) -> Self {
        let result = payload.withUnsafeBytes { raw in
            Result { () throws(WireError) -> Self in try decode(payload: raw, version: version) }
        }
        return try result.get()
    }

    /// Header + payload bytes, exactly sized.
    public func frameBytes(requestID: UInt32, status: Status = .ok) -> [UInt8] {
        let size = payloadSize
        return [UInt8](unsafeUninitializedCapacity: FrameHeader.size + size) { buffer, count in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            FrameHeader(type: Self.messageType, status: status, flags: headerFlags, requestID: requestID, payloadLength: size).write(to: base)
            var writer = ByteWriter(base + FrameHeader.size, capacity: size)
            write(to: &writer)
            precondition(writer.offset == size, "\(Self.self).payloadSize disagrees with write(to:)")
            count = FrameHeader.size + size
        }
    }

    /// Writes header + payload at `base`; returns the byte count. Caller guarantees room.
    @inline(__always)
    public func writeFrame(to base: UnsafeMutableRawPointer, requestID: UInt32, status: Status = .ok) -> Int {
        let size = payloadSize
        FrameHeader(type: Self.messageType, status: status, flags: headerFlags, requestID: requestID, payloadLength: size).write(to: base)
        var writer = ByteWriter(base + FrameHeader.size, capacity: size)
        write(to: &writer)
        return FrameHeader.size + size
    }
}

/// Requests and replies with no payload at all.
public protocol EmptyWireMessage: WireMessage { init() }

extension EmptyWireMessage {
    public var payloadSize: Int { 0 }
    public func write(to writer: inout ByteWriter) {}
    public init(from reader: inout ByteReader) throws(WireError) { self.init() }
}

public struct HealthRequest: EmptyWireMessage {
    public static let messageType = MessageType.health
    public init() {}
}

public struct ReadyRequest: EmptyWireMessage {
    public static let messageType = MessageType.ready
    public init() {}
}

public struct InfoRequest: EmptyWireMessage {
    public static let messageType = MessageType.info
    public init() {}
}

public struct MetricsRequest: EmptyWireMessage {
    public static let messageType = MessageType.metrics
    public init() {}
}

public struct FeedbackAck: EmptyWireMessage {
    public static let messageType = MessageType.feedbackAck
    public init() {}
}
