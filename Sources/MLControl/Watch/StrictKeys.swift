/// The one rule the policy and the gate file share: a key the type does not know is an error,
/// so a misspelt threshold never silently keeps its default.
enum StrictKeys {
    static func check<Known: CodingKey & CaseIterable & RawRepresentable>(_ decoder: Decoder, _: Known.Type) throws
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
