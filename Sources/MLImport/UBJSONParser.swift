/// A Universal Binary JSON parser (the subset and conventions XGBoost's `UBJWriter` uses: keys
/// without an `S` marker, optimised containers with `$type` and `#count`, big-endian numbers).
/// Counts are checked against the bytes left before any array is reserved.
struct UBJSONParser {
    private let bytes: [UInt8]
    private var position = 0
    private let source: String

    static func parse(_ bytes: [UInt8], source: String) throws(ImportError) -> JSONValue {
        var parser = UBJSONParser(bytes: bytes, source: source)
        let value = try parser.value(marker: try parser.byte(), depth: 0)
        guard parser.position == bytes.count else { throw parser.fail("unexpected bytes after the UBJSON value") }
        return value
    }

    private init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    private func fail(_ problem: String) -> ImportError { ImportError("\(source): invalid UBJSON at byte \(position): \(problem)") }

    private mutating func byte() throws(ImportError) -> UInt8 {
        guard position < bytes.count else { throw fail("unexpected end of input") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func bigEndian(_ count: Int) throws(ImportError) -> UInt64 {
        guard bytes.count - position >= count else { throw fail("unexpected end of input") }
        var value: UInt64 = 0
        for i in 0..<count { value = value << 8 | UInt64(bytes[position + i]) }
        position += count
        return value
    }

    private mutating func integer(marker: UInt8) throws(ImportError) -> Int64 {
        switch marker {
        case UInt8(ascii: "i"): return Int64(Int8(bitPattern: UInt8(try bigEndian(1))))
        case UInt8(ascii: "U"): return Int64(try bigEndian(1))
        case UInt8(ascii: "I"): return Int64(Int16(bitPattern: UInt16(try bigEndian(2))))
        case UInt8(ascii: "l"): return Int64(Int32(bitPattern: UInt32(try bigEndian(4))))
        case UInt8(ascii: "L"): return Int64(bitPattern: try bigEndian(8))
        default: throw fail("expected an integer marker, got \(marker)")
        }
    }

    private mutating func length() throws(ImportError) -> Int {
        let value = try integer(marker: try byte())
        guard value >= 0, value <= Int64(bytes.count - position) else { throw fail("length \(value) exceeds the input") }
        return Int(value)
    }

    private mutating func text() throws(ImportError) -> String {
        let count = try length()
        guard let text = String(validating: bytes[position..<position + count], as: UTF8.self) else { throw fail("string is not UTF-8") }
        position += count
        return text
    }

    private mutating func value(marker: UInt8, depth: Int) throws(ImportError) -> JSONValue {
        guard depth < JSONTextParser.maxDepth else { throw fail("nested deeper than \(JSONTextParser.maxDepth)") }
        switch marker {
        case UInt8(ascii: "Z"): return .null
        case UInt8(ascii: "T"): return .bool(true)
        case UInt8(ascii: "F"): return .bool(false)
        case UInt8(ascii: "i"), UInt8(ascii: "U"), UInt8(ascii: "I"), UInt8(ascii: "l"), UInt8(ascii: "L"):
            let number = try integer(marker: marker)
            return .number(Double(number), float: Float(number))
        case UInt8(ascii: "d"):
            let value = Float(bitPattern: UInt32(try bigEndian(4)))
            return .number(Double(value), float: value)
        case UInt8(ascii: "D"):
            let value = Double(bitPattern: try bigEndian(8))
            return .number(value, float: Float(value))
        case UInt8(ascii: "C"):
            return .string(String(UnicodeScalar(try byte())))
        case UInt8(ascii: "S"):
            return .string(try text())
        case UInt8(ascii: "H"):
            let digits = try text()
            guard let value = Double(digits), let float = Float(digits) else { throw fail("bad high-precision number \(digits)") }
            return .number(value, float: float)
        case UInt8(ascii: "["):
            let (type, count) = try containerHeader()
            var items: [JSONValue] = []
            if let count {
                // Each element takes at least one byte unless typed with a zero-width marker.
                guard count <= bytes.count - position || type.map(UBJSONParser.zeroWidth) == true else {
                    throw fail("array count \(count) exceeds the input")
                }
                items.reserveCapacity(min(count, bytes.count - position))
                for _ in 0..<count {
                    let marker: UInt8
                    if let type { marker = type } else { marker = try byte() }
                    items.append(try value(marker: marker, depth: depth + 1))
                }
            } else {
                while true {
                    let next = try byte()
                    if next == UInt8(ascii: "]") { break }
                    if next == UInt8(ascii: "N") { continue }
                    items.append(try value(marker: next, depth: depth + 1))
                }
            }
            return .array(items)
        case UInt8(ascii: "{"):
            let (type, count) = try containerHeader()
            var fields: [String: JSONValue] = [:]
            if let count {
                guard count <= bytes.count - position else { throw fail("object count \(count) exceeds the input") }
                for _ in 0..<count {
                    let key = try text()
                    let marker: UInt8
                    if let type { marker = type } else { marker = try byte() }
                    fields[key] = try value(marker: marker, depth: depth + 1)
                }
            } else {
                while true {
                    guard position < bytes.count else { throw fail("unterminated object") }
                    if bytes[position] == UInt8(ascii: "}") { position += 1; break }
                    if bytes[position] == UInt8(ascii: "N") { position += 1; continue }
                    let key = try text()
                    fields[key] = try value(marker: try byte(), depth: depth + 1)
                }
            }
            return .object(fields)
        default:
            throw fail("unknown marker \(marker)")
        }
    }

    private static func zeroWidth(_ marker: UInt8) -> Bool {
        marker == UInt8(ascii: "Z") || marker == UInt8(ascii: "T") || marker == UInt8(ascii: "F") || marker == UInt8(ascii: "N")
    }

    /// Optional `$type` (only with `#count`) and `#count` after `[` or `{`.
    private mutating func containerHeader() throws(ImportError) -> (UInt8?, Int?) {
        var type: UInt8? = nil
        if position < bytes.count, bytes[position] == UInt8(ascii: "$") {
            position += 1
            type = try byte()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "#") else { throw fail("$type without #count") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "#") {
            position += 1
            let count = try integer(marker: try byte())
            guard count >= 0 else { throw fail("negative count") }
            // A typed count can still be hostile: bound it by what the input could hold.
            guard count <= Int64(bytes.count) * 8 else { throw fail("count \(count) exceeds the input") }
            return (type, Int(count))
        }
        return (type, nil)
    }
}
