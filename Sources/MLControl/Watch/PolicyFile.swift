import Foundation

/// What the policy file and the gate file share: read from a path with errors that name it, and
/// a key the type does not know is an error, so a misspelt threshold never keeps its default.
enum PolicyFile {
    /// Reads `path` and decodes it; every failure names the file.
    static func read<T>(path: String, decode: (Data) throws(PolicyError) -> T) throws(PolicyError) -> T {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        do {
            return try decode(data)
        } catch .malformed(let reason) {
            throw .malformed("\(path): \(reason)")
        }
    }

    /// The decoder's container for `Known`, once no key outside `Known` is present.
    static func strictContainer<Known: CodingKey & CaseIterable & RawRepresentable>(_ decoder: Decoder, keyedBy _: Known.Type) throws
        -> KeyedDecodingContainer<Known> where Known.RawValue == String {
        let present = try decoder.container(keyedBy: AnyKey.self)
        let unknown = present.allKeys.map(\.stringValue).filter { Known(rawValue: $0) == nil }.sorted()
        guard unknown.isEmpty else {
            throw PolicyError.unknownKeys(unknown, known: Known.allCases.map(\.rawValue))
        }
        return try decoder.container(keyedBy: Known.self)
    }

    /// Any key at all, to list what the file holds.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension KeyedDecodingContainer {
    /// A missing key keeps its default.
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
