/// Bounds-checked little-endian reads over a payload. Never reads outside `bytes`; every short
/// read becomes `WireError.malformed` naming the message type.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int = 0
    @usableFromInline let type: MessageType
    /// The protocol version the connection agreed on: a message whose layout grew in a later
    /// version reads its added fields only when this is at least that version.
    public let version: UInt8

    public init(_ bytes: UnsafeRawBufferPointer, type: MessageType, version: UInt8 = 1) {
        self.bytes = bytes
        self.type = type
        self.version = version
    }

    public var remaining: Int { bytes.count - offset }

    @inline(__always)
    mutating func need(_ count: Int, _ what: StaticString) throws(WireError) {
        guard count >= 0, remaining >= count else {
            throw .malformed(type, "payload ends before \(what) (\(remaining) bytes left, \(count) needed)")
        }
    }

    @inline(__always)
    public mutating func readInteger<T: FixedWidthInteger>(_: T.Type, _ what: StaticString = "integer") throws(WireError) -> T {
        try need(MemoryLayout<T>.size, what)
        let value = T(littleEndian: bytes.baseAddress!.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    public mutating func readUInt8(_ what: StaticString = "u8") throws(WireError) -> UInt8 { try readInteger(UInt8.self, what) }
    public mutating func readUInt16(_ what: StaticString = "u16") throws(WireError) -> UInt16 { try readInteger(UInt16.self, what) }
    public mutating func readUInt32(_ what: StaticString = "u32") throws(WireError) -> UInt32 { try readInteger(UInt32.self, what) }
    public mutating func readUInt64(_ what: StaticString = "u64") throws(WireError) -> UInt64 { try readInteger(UInt64.self, what) }
    public mutating func readInt64(_ what: StaticString = "i64") throws(WireError) -> Int64 { try readInteger(Int64.self, what) }

    public mutating func readFloat(_ what: StaticString = "f32") throws(WireError) -> Float {
        Float(bitPattern: try readInteger(UInt32.self, what))
    }

    public mutating func readDouble(_ what: StaticString = "f64") throws(WireError) -> Double {
        Double(bitPattern: try readInteger(UInt64.self, what))
    }

    /// A zero byte that the spec reserves; anything else is malformed.
    public mutating func readReserved(_ count: Int) throws(WireError) {
        try need(count, "reserved bytes")
        for i in 0..<count where bytes[offset + i] != 0 {
            throw .malformed(type, "reserved byte at payload offset \(offset + i) is not zero")
        }
        offset += count
    }

    /// A view of the next `count` bytes, without copying.
    public mutating func readBytes(_ count: Int, _ what: StaticString = "bytes") throws(WireError) -> UnsafeRawBufferPointer {
        try need(count, what)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    /// A u16-length-prefixed UTF-8 string of at most `limit` bytes.
    public mutating func readString(_ field: String, limit: Int) throws(WireError) -> String {
        let length = Int(try readUInt16("string length"))
        guard length <= limit else { throw .badString(field: field, length: length, limit: limit) }
        let raw = try readBytes(length, "string bytes")
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw .badString(field: field, length: length, limit: limit)
        }
        return text
    }

    /// A fixed 32-byte digest.
    public mutating func readDigest() throws(WireError) -> Digest32 {
        Digest32(try readBytes(32, "32-byte checksum"))
    }

    /// Every byte of the payload must have been consumed: trailing bytes are malformed.
    public func finish() throws(WireError) {
        guard remaining == 0 else {
            throw .malformed(type, "\(remaining) unexpected trailing bytes")
        }
    }
}
