/// Little-endian writes into memory the caller owns and sized beforehand with the message's
/// `payloadSize`. Writing past the end is a programming error (precondition), never a wire error.
public struct ByteWriter {
    public let base: UnsafeMutableRawPointer
    public let capacity: Int
    public private(set) var offset: Int = 0

    public init(_ base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always)
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        precondition(offset + MemoryLayout<T>.size <= capacity, "ByteWriter overflow")
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
    }

    @inline(__always)
    public mutating func write(_ value: Float) { write(value.bitPattern) }

    @inline(__always)
    public mutating func write(_ value: Double) { write(value.bitPattern) }

    public mutating func writeZeros(_ count: Int) {
        precondition(offset + count <= capacity, "ByteWriter overflow")
        (base + offset).initializeMemory(as: UInt8.self, repeating: 0, count: count)
        offset += count
    }

    public mutating func write(bytes: UnsafeRawBufferPointer) {
        precondition(offset + bytes.count <= capacity, "ByteWriter overflow")
        if let source = bytes.baseAddress, bytes.count > 0 {
            (base + offset).copyMemory(from: source, byteCount: bytes.count)
        }
        offset += bytes.count
    }

    /// u16 length + UTF-8 bytes. Callers keep strings within their field limits.
    public mutating func write(string: String) {
        var copy = string
        copy.withUTF8 { utf8 in
            write(UInt16(utf8.count))
            write(bytes: UnsafeRawBufferPointer(utf8))
        }
    }

    public mutating func write(digest: Digest32) {
        withUnsafeBytes(of: digest.bytes) { write(bytes: $0) }
    }

    /// Encoded size of a string field.
    @inline(__always)
    public static func size(of string: String) -> Int { 2 + string.utf8.count }
}
