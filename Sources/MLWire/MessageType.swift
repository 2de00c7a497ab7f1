/// Byte 3 of the header. Requests are below 0x80; a successful response is `request | 0x80`;
/// any failed request is answered with `.error` and a non-OK status.
public enum MessageType: UInt8, Sendable, CaseIterable {
    case hello = 0x01
    case predict = 0x02
    case predictBatch = 0x03
    case feedback = 0x04
    case health = 0x05
    case ready = 0x06
    case info = 0x07
    case metrics = 0x08
    /// v2: ground truth by prediction id (labeller or controller).
    case label = 0x09
    case loadStandby = 0x10
    case swap = 0x11
    case rollback = 0x12

    case helloReply = 0x81
    case predictResult = 0x82
    case predictBatchResult = 0x83
    case feedbackAck = 0x84
    case healthReply = 0x85
    case readyReply = 0x86
    case infoReply = 0x87
    case metricsReply = 0x88
    case labelReply = 0x89
    case loadStandbyReply = 0x90
    case swapReply = 0x91
    case rollbackReply = 0x92

    case error = 0xFF

    public var isRequest: Bool { rawValue < 0x80 }

    /// The first protocol version that has this type. On a connection that agreed on an older
    /// version it is answered as an unknown type (PROTOCOL.md §5).
    public var minimumVersion: UInt8 { self == .label || self == .labelReply ? 2 : 1 }

    /// The response type for a request type; nil for responses.
    public var replyType: MessageType? {
        isRequest ? MessageType(rawValue: rawValue | 0x80) : nil
    }

    /// Load, Swap and Rollback change the slots and need an authenticated controller connection.
    public var needsController: Bool {
        self == .loadStandby || self == .swap || self == .rollback
    }

    /// Label needs a labeller or controller connection; since v2 so does Feedback (v1: controller).
    public var needsLabeller: Bool { self == .label }

    /// Requests a connection may send before its HELLO is accepted.
    public var allowedBeforeHello: Bool {
        self == .hello || self == .health || self == .ready
    }
}
