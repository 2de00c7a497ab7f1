/// The fixed 16-byte header that starts every frame (PROTOCOL.md §3). All integers little-endian.
///
///     0      2    3     4       5      6          8            12            16
///     +------+----+-----+-------+------+----------+------------+-------------+
///     | "ML" | v1 | type| status| flags| reserved | request id | payload len |
///     +------+----+-----+-------+------+----------+------------+-------------+
public struct FrameHeader: Equatable, Sendable {
    public static let size = 16
    /// "ML" read as a little-endian UInt16.
    public static let magic: UInt16 = 0x4C4D
    public static let frameVersion: UInt8 = 1

    public var type: UInt8
    public var status: UInt8
    public var flags: UInt8
    public var reserved: UInt16
    public var requestID: UInt32
    public var payloadLength: UInt32

    public init(type: MessageType, status: Status = .ok, flags: UInt8 = 0, requestID: UInt32, payloadLength: Int) {
        self.type = type.rawValue
        self.status = status.rawValue
        self.flags = flags
        self.reserved = 0
        self.requestID = requestID
        self.payloadLength = UInt32(payloadLength)
    }

    public init(rawType: UInt8, status: UInt8, flags: UInt8, reserved: UInt16, requestID: UInt32, payloadLength: UInt32) {
        self.type = rawType
        self.status = status
        self.flags = flags
        self.reserved = reserved
        self.requestID = requestID
        self.payloadLength = payloadLength
    }

    public var messageType: MessageType? { MessageType(rawValue: type) }
    public var statusCode: Status? { Status(rawValue: status) }

    /// Writes the 16 header bytes at `base`.
    @inline(__always)
    public func write(to base: UnsafeMutableRawPointer) {
        base.storeBytes(of: FrameHeader.magic.littleEndian, as: UInt16.self)
        base.storeBytes(of: FrameHeader.frameVersion, toByteOffset: 2, as: UInt8.self)
        base.storeBytes(of: type, toByteOffset: 3, as: UInt8.self)
        base.storeBytes(of: status, toByteOffset: 4, as: UInt8.self)
        base.storeBytes(of: flags, toByteOffset: 5, as: UInt8.self)
        base.storeBytes(of: reserved.littleEndian, toByteOffset: 6, as: UInt16.self)
        base.storeBytes(of: requestID.littleEndian, toByteOffset: 8, as: UInt32.self)
        base.storeBytes(of: payloadLength.littleEndian, toByteOffset: 12, as: UInt32.self)
    }

    /// Reads a header from 16 bytes at `base` without validating it.
    @inline(__always)
    public static func read(from base: UnsafeRawPointer) -> (magic: UInt16, version: UInt8, header: FrameHeader) {
        let magic = UInt16(littleEndian: base.loadUnaligned(as: UInt16.self))
        let version = base.load(fromByteOffset: 2, as: UInt8.self)
        let header = FrameHeader(
            rawType: base.load(fromByteOffset: 3, as: UInt8.self),
            status: base.load(fromByteOffset: 4, as: UInt8.self),
            flags: base.load(fromByteOffset: 5, as: UInt8.self),
            reserved: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 6, as: UInt16.self)),
            requestID: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
            payloadLength: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        return (magic, version, header)
    }
}
