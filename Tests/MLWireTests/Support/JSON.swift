/// A minimal JSON value with ordered objects, a serializer with stable output and a strict
/// parser. Enough for `protocol/vectors/manifest.json`; tests only, never the codec path.
enum JSON: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            // Key order is presentation only.
            guard x.count == y.count else { return false }
            let right = Dictionary(y, uniquingKeysWith: { first, _ in first })
            return x.allSatisfy { key, value in right[key] == value }
        default: return false
        }
    }

    subscript(key: String) -> JSON? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first(where: { $0.0 == key })?.1
    }

    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var numberValue: Double? { if case .number(let n) = self { n } else { nil } }
    var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    var arrayValue: [JSON]? { if case .array(let a) = self { a } else { nil } }

    static func int<T: BinaryInteger>(_ value: T) -> JSON { .number(Double(value)) }
    static func float(_ value: Float) -> JSON { .number(Double(value)) }

    var description: String { serialized(indent: nil) }

    /// Pretty output: objects one key per line, arrays of scalars on one line.
    func serialized(indent: Int? = 0) -> String {
        var out = ""
        write(into: &out, indent: indent)
        return out
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    private func write(into out: inout String, indent: Int?) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            if n == n.rounded(), abs(n) < 9_007_199_254_740_992 { out += String(Int64(n)) } else { out += "\(n)" }
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let items):
            if indent == nil || items.allSatisfy(\.isScalar) {
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += indent == nil ? "," : ", " }
                    item.write(into: &out, indent: nil)
                }
                out += "]"
            } else {
                let inner = indent! + 2
                out += "[\n"
                for (i, item) in items.enumerated() {
                    out += String(repeating: " ", count: inner)
                    item.write(into: &out, indent: inner)
                    out += i + 1 < items.count ? ",\n" : "\n"
                }
                out += String(repeating: " ", count: indent!) + "]"
            }
        case .object(let pairs):
            guard let indent, !pairs.isEmpty else {
                out += "{"
                for (i, (key, value)) in pairs.enumerated() {
                    if i > 0 { out += "," }
                    JSON.writeString(key, into: &out)
                    out += ":"
                    value.write(into: &out, indent: nil)
                }
                out += "}"
                return
            }
            let inner = indent + 2
            out += "{\n"
            for (i, (key, value)) in pairs.enumerated() {
                out += String(repeating: " ", count: inner)
                JSON.writeString(key, into: &out)
                out += ": "
                value.write(into: &out, indent: inner)
                out += i + 1 < pairs.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    private static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    // MARK: parsing

    struct ParseError: Error, CustomStringConvertible {
        var offset: Int
        var why: String
        var description: String { "JSON parse error at byte \(offset): \(why)" }
    }

    static func parse(_ text: String) throws -> JSON {
        var parser = Parser(bytes: Array(text.utf8))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.at == parser.bytes.count else { throw ParseError(offset: parser.at, why: "trailing text") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        mutating func skipSpace() {
            while at < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[at]) { at += 1 }
        }

        mutating func expect(_ literal: String) throws {
            let lit = Array(literal.utf8)
            guard at + lit.count <= bytes.count, Array(bytes[at..<(at + lit.count)]) == lit else {
                throw ParseError(offset: at, why: "expected \(literal)")
            }
            at += lit.count
        }

        mutating func value() throws -> JSON {
            skipSpace()
            guard at < bytes.count else { throw ParseError(offset: at, why: "unexpected end") }
            switch bytes[at] {
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                at += 1
                var items: [JSON] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
                while true {
                    items.append(try value())
                    skipSpace()
                    guard at < bytes.count else { throw ParseError(offset: at, why: "unterminated array") }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    try expect("]")
                    return .array(items)
                }
            case UInt8(ascii: "{"):
                at += 1
                var pairs: [(String, JSON)] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(pairs) }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    pairs.append((key, try value()))
                    skipSpace()
                    guard at < bytes.count else { throw ParseError(offset: at, why: "unterminated object") }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    try expect("}")
                    return .object(pairs)
                }
            default:
                let begin = at
                while at < bytes.count, "+-0123456789.eE".utf8.contains(bytes[at]) { at += 1 }
                guard let n = Double(String(decoding: bytes[begin..<at], as: UTF8.self)) else {
                    throw ParseError(offset: begin, why: "bad number")
                }
                return .number(n)
            }
        }

        mutating func string() throws -> String {
            try expect("\"")
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() { scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw.removeAll() }
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""):
                    flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush()
                    guard at < bytes.count else { break }
                    let escape = bytes[at]
                    at += 1
                    switch escape {
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "b"): scalars.append("\u{8}")
                    case UInt8(ascii: "f"): scalars.append("\u{C}")
                    case UInt8(ascii: "u"):
                        guard at + 4 <= bytes.count,
                              let code = UInt32(String(decoding: bytes[at..<(at + 4)], as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(code) else { throw ParseError(offset: at, why: "bad \\u escape") }
                        at += 4
                        scalars.append(scalar)
                    default: scalars.append(Unicode.Scalar(escape))
                    }
                default:
                    raw.append(byte)
                }
            }
            throw ParseError(offset: at, why: "unterminated string")
        }
    }
}
