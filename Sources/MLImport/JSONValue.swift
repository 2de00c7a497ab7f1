/// A parsed JSON or UBJSON document, as the importers read it. Numbers keep both their f64 value
/// and their float32 value parsed directly from the text (XGBoost writes float32 numbers; rounding
/// through f64 could differ from a direct float32 parse in rare halfway cases).
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double, float: Float)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var double: Double? {
        switch self {
        case .number(let value, _): value
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }

    public var float: Float? {
        switch self {
        case .number(_, let value): value
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }

    /// An integer given as a number or (XGBoost's model parameters) a decimal string.
    public var integer: Int? {
        switch self {
        case .number(let value, _):
            return value.rounded() == value && abs(value) < 9e15 ? Int(value) : nil
        case .bool(let value):
            return value ? 1 : 0
        case .string(let text):
            return Int(text)
        default:
            return nil
        }
    }
}

/// Typed access with errors that name the path, for the importers.
struct JSONPath {
    let value: JSONValue
    let path: String
    let source: String

    func fail(_ problem: String) -> ImportError { ImportError(path.isEmpty ? "\(source): \(problem)" : "\(source): \(path): \(problem)") }

    func child(_ key: String) throws(ImportError) -> JSONPath {
        guard let next = value[key] else { throw ImportError("\(source): \(path).\(key) is missing") }
        return JSONPath(value: next, path: "\(path).\(key)", source: source)
    }

    func optionalChild(_ key: String) -> JSONPath? {
        value[key].map { JSONPath(value: $0, path: "\(path).\(key)", source: source) }
    }

    func string() throws(ImportError) -> String {
        guard let text = value.string else { throw fail("expected a string") }
        return text
    }

    func integer() throws(ImportError) -> Int {
        guard let number = value.integer else { throw fail("expected an integer") }
        return number
    }

    func items() throws(ImportError) -> [JSONPath] {
        guard let items = value.array else { throw fail("expected an array") }
        return items.enumerated().map { JSONPath(value: $1, path: "\(path)[\($0)]", source: source) }
    }

    func integers() throws(ImportError) -> [Int] {
        guard let items = value.array else { throw fail("expected an array of integers") }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard let number = item.integer else { throw fail("[\(index)] is not an integer") }
            out.append(number)
        }
        return out
    }

    func floats() throws(ImportError) -> [Float] {
        guard let items = value.array else { throw fail("expected an array of numbers") }
        var out: [Float] = []
        out.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard let number = item.float else { throw fail("[\(index)] is not a number") }
            out.append(number)
        }
        return out
    }
}
