/// A 32-byte checksum (SHA-256 of an artifact) as a value type that needs no heap storage.
public struct Digest32: Hashable, Sendable, CustomStringConvertible {
    public var bytes: (UInt64, UInt64, UInt64, UInt64)

    public static let zero = Digest32(bytes: (0, 0, 0, 0))

    public init(bytes: (UInt64, UInt64, UInt64, UInt64)) { self.bytes = bytes }

    public init(_ raw: UnsafeRawBufferPointer) {
        precondition(raw.count == 32)
        var value = Digest32.zero.bytes
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: raw) }
        bytes = value
    }

    public init(_ array: [UInt8]) {
        self = array.withUnsafeBytes { Digest32($0) }
    }

    /// Parses 64 hex digits; nil for anything else.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let high = Digest32.nibble(digits[2 * i]), let low = Digest32.nibble(digits[2 * i + 1]) else { return nil }
            out[i] = high << 4 | low
        }
        self.init(out)
    }

    public var isZero: Bool { self == .zero }

    public var byteArray: [UInt8] {
        withUnsafeBytes(of: bytes) { Array($0) }
    }

    public var hex: String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in byteArray {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func == (a: Digest32, b: Digest32) -> Bool {
        a.bytes.0 == b.bytes.0 && a.bytes.1 == b.bytes.1 && a.bytes.2 == b.bytes.2 && a.bytes.3 == b.bytes.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.0); hasher.combine(bytes.1); hasher.combine(bytes.2); hasher.combine(bytes.3)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
