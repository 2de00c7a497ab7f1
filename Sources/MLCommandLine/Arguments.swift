/// A small command-line scanner shared by mlserve, mlctl and mlbench (its own module, so the
/// node does not link the client library for it).
/// Accepts `--name value` and `--name=value`; whatever is left after the known options is an
/// error, so a typo never silently falls back to a default.
public struct Arguments {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public private(set) var remaining: [String]

    public init(_ arguments: [String]) { remaining = arguments }

    /// True if any of `names` is present (and removes it).
    public mutating func flag(_ names: String...) -> Bool {
        var found = false
        remaining.removeAll { argument in
            let hit = names.contains(argument)
            found = found || hit
            return hit
        }
        return found
    }

    /// The value of the last occurrence of any of `names`, nil when absent.
    public mutating func value(_ names: String...) throws -> String? {
        var result: String?
        var index = 0
        while index < remaining.count {
            let argument = remaining[index]
            if let name = names.first(where: { argument.hasPrefix($0 + "=") }) {
                result = String(argument.dropFirst(name.count + 1))
                remaining.remove(at: index)
            } else if names.contains(argument) {
                guard index + 1 < remaining.count else { throw Failure("\(argument) needs a value") }
                result = remaining[index + 1]
                remaining.removeSubrange(index...(index + 1))
            } else {
                index += 1
            }
        }
        return result
    }

    /// Every value given for any of `names`, in order (for repeatable options like --node).
    public mutating func values(_ names: String...) throws -> [String] {
        var results: [String] = []
        var index = 0
        while index < remaining.count {
            let argument = remaining[index]
            if let name = names.first(where: { argument.hasPrefix($0 + "=") }) {
                results.append(String(argument.dropFirst(name.count + 1)))
                remaining.remove(at: index)
            } else if names.contains(argument) {
                guard index + 1 < remaining.count else { throw Failure("\(argument) needs a value") }
                results.append(remaining[index + 1])
                remaining.removeSubrange(index...(index + 1))
            } else {
                index += 1
            }
        }
        return results
    }

    public mutating func integer(_ names: String..., default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = try value(names) else { return fallback }
        guard let number = Int(text), range.contains(number) else {
            throw Failure("\(names[0]) must be an integer in \(range.lowerBound)...\(range.upperBound), got \(text)")
        }
        return number
    }

    public mutating func double(_ names: String..., default fallback: Double, range: ClosedRange<Double>) throws -> Double {
        guard let text = try value(names) else { return fallback }
        guard let number = Double(text), range.contains(number) else {
            throw Failure("\(names[0]) must be a number in \(range.lowerBound)...\(range.upperBound), got \(text)")
        }
        return number
    }

    /// Removes and returns the first argument that is one of `words` (a command name).
    public mutating func first(of words: [String]) -> String? {
        guard let index = remaining.firstIndex(where: { words.contains($0) }) else { return nil }
        return remaining.remove(at: index)
    }

    /// Removes and returns the first positional argument (one not starting with "-").
    public mutating func positional() -> String? {
        guard let index = remaining.firstIndex(where: { !$0.hasPrefix("-") || $0 == "-" }) else { return nil }
        return remaining.remove(at: index)
    }

    /// Throws when anything was not understood.
    public func finish() throws {
        if let unknown = remaining.first {
            throw Failure("unknown argument \(unknown) (see --help)")
        }
    }

    private mutating func value(_ names: [String]) throws -> String? {
        var result: String?
        for name in names { if let found = try value(name) { result = found } }
        return result
    }
}
