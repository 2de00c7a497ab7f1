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

    static func checkKeys<Known: CodingKey & CaseIterable & RawRepresentable>(_ decoder: Decoder, _: Known.Type) throws
        where Known.RawValue == String {
        let present = try decoder.container(keyedBy: AnyKey.self)
        let unknown = present.allKeys.map(\.stringValue).filter { Known(rawValue: $0) == nil }.sorted()
        guard unknown.isEmpty else {
            throw PolicyError.unknownKeys(unknown, known: Known.allCases.map(\.rawValue))
        }
    }

    /// Any key at all, to list what the file holds.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
