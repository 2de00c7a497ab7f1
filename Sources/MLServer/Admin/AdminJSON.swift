import Foundation

/// JSON for the admin routes. Written by hand so keys come out in the runbook's order and
/// strings are escaped exactly once, here; read with Foundation's `JSONSerialization` because
/// request bodies are tiny and the admin path is not hot.
enum AdminJSON {
    /// A JSON value to write. Objects keep their key order.
    indirect enum Value {
        case string(String)
        case int(UInt64)
        case bool(Bool)
        case null
        case object([(String, Value)])
    }

    static func render(_ value: Value) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    static func object(_ fields: [(String, Value)]) -> String { render(.object(fields)) }

    private static func write(_ value: Value, to out: inout String) {
        switch value {
        case .string(let text): out += quoted(text)
        case .int(let number): out += String(number)
        case .bool(let flag): out += flag ? "true" : "false"
        case .null: out += "null"
        case .object(let fields):
            out += "{"
            for (i, (key, field)) in fields.enumerated() {
                if i > 0 { out += "," }
                out += quoted(key)
                out += ":"
                write(field, to: &out)
            }
            out += "}"
        }
    }

    /// RFC 8259 §7: quote, backslash and the C0 controls must be escaped; everything else may pass
    /// through as UTF-8. DEL and U+2028/2029 are escaped too, so the output is safe to paste into JS.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Parses a request body that must be a flat object of string fields drawn from `allowed`.
    /// An empty (or all-whitespace) body is an empty object. Unknown keys are refused rather than
    /// ignored: a typo in `expected_active` must not silently turn a fenced rollback into an
    /// unfenced one. `null` counts as absent.
    static func parseStringObject(_ body: [UInt8], allowed: Set<String>) -> Result<[String: String], AdminFailure> {
        guard body.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) else { return .success([:]) }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body), options: [])
        } catch {
            return .failure(AdminFailure(.invalidArgument, "body is not valid JSON"))
        }
        guard let object = parsed as? [String: Any] else {
            return .failure(AdminFailure(.invalidArgument, "body must be a JSON object"))
        }
        var fields: [String: String] = [:]
        for (key, value) in object {
            guard allowed.contains(key) else {
                let known = allowed.sorted().joined(separator: ", ")
                return .failure(AdminFailure(.invalidArgument, "unknown field \(quoted(String(key.prefix(64)))); expected one of: \(known)"))
            }
            if value is NSNull { continue }
            guard let text = value as? String else {
                return .failure(AdminFailure(.invalidArgument, "field \(key) must be a string"))
            }
            fields[key] = text
        }
        return .success(fields)
    }
}
