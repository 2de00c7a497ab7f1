/// A protocol violation found while decoding bytes from a peer. Each case carries the numbers
/// that explain it, maps to the status sent back, and says whether the byte stream can still be
/// trusted (if not, the connection is closed after the error frame).
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Bytes 0-1 are not "ML": this is not our protocol, or the stream lost sync.
    case badMagic(found: UInt16)
    /// Byte 2 names a frame version this implementation does not speak.
    case unsupportedFrameVersion(found: UInt8)
    /// The declared payload length exceeds the limit; checked before anything is allocated.
    case frameTooLarge(declared: UInt32, limit: Int)
    /// Flags or reserved header bytes are not zero.
    case reservedBitsSet(flags: UInt8, reserved: UInt16)
    /// Byte 3 is not a message type this version knows.
    case unknownType(UInt8)
    /// A request carried a non-zero status byte, or a response type was sent as a request.
    case unexpectedType(UInt8)
    /// The payload does not match the layout of its message type.
    case malformed(MessageType, String)
    /// A feature value is NaN or infinite.
    case nonFiniteFeature(index: Int)
    /// A declared shape (row or feature count) is out of range.
    case badShape(rows: UInt32, features: UInt32)
    /// A string field is longer than its limit or is not UTF-8.
    case badString(field: String, length: Int, limit: Int)
    /// The stream ended inside a frame.
    case truncated(have: Int, need: Int)

    public var status: Status {
        switch self {
        case .badMagic, .reservedBitsSet, .unexpectedType, .malformed, .nonFiniteFeature,
             .badShape, .badString, .truncated:
            .invalidArgument
        case .unsupportedFrameVersion, .unknownType:
            .unimplemented
        case .frameTooLarge:
            .resourceExhausted
        }
    }

    /// The typed reason sent next to the status in v2 ERROR frames.
    public var reason: Reason {
        switch self {
        case .badMagic: .badMagic
        case .unsupportedFrameVersion: .badFrameVersion
        case .frameTooLarge: .frameTooLarge
        case .reservedBitsSet: .reservedBitsSet
        case .unknownType: .unknownType
        case .unexpectedType: .notARequest
        case .malformed: .malformedPayload
        case .nonFiniteFeature: .nonFiniteFeature
        case .badShape: .badShape
        case .badString: .badString
        case .truncated: .truncatedFrame
        }
    }

    /// True when the header cannot be trusted, so the rest of the stream cannot be framed.
    public var closesConnection: Bool {
        switch self {
        case .badMagic, .unsupportedFrameVersion, .frameTooLarge, .truncated: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .badMagic(let found):
            "bad magic 0x\(String(found, radix: 16)) (expected 0x4c4d, bytes \"ML\")"
        case .unsupportedFrameVersion(let found):
            "frame version \(found) not supported (this node speaks 1)"
        case .frameTooLarge(let declared, let limit):
            "frame payload of \(declared) bytes exceeds the limit of \(limit) bytes"
        case .reservedBitsSet(let flags, let reserved):
            "reserved header bits set (flags 0x\(String(flags, radix: 16)), reserved 0x\(String(reserved, radix: 16)))"
        case .unknownType(let type):
            "unknown message type 0x\(String(type, radix: 16))"
        case .unexpectedType(let type):
            "message type 0x\(String(type, radix: 16)) is not a request, or a request carried a status"
        case .malformed(let type, let why):
            "malformed \(type) payload: \(why)"
        case .nonFiniteFeature(let index):
            "feature \(index) is NaN or infinite"
        case .badShape(let rows, let features):
            "bad shape: \(rows) rows x \(features) features"
        case .badString(let field, let length, let limit):
            "string field \(field) of \(length) bytes is over its limit of \(limit) or not UTF-8"
        case .truncated(let have, let need):
            "stream ended inside a frame (\(have) of \(need) bytes)"
        }
    }
}
