/// The model file formats `mlctl artifact import` reads.
public enum ModelFileFormat: String, CaseIterable, Sendable {
    case xgboostJSON = "xgboost-json"
    case xgboostUBJ = "xgboost-ubj"
    case lightgbm = "lightgbm"

    /// From the content: LightGBM text starts with a `tree` line; JSON text with `{` then a quote
    /// (after spaces); XGBoost's UBJSON with `{` then a length marker for the first key.
    public static func detect(_ bytes: [UInt8]) -> ModelFileFormat? {
        var i = 0
        while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
        guard i < bytes.count else { return nil }
        if bytes[i...].starts(with: Array("tree".utf8)) { return .lightgbm }
        guard bytes[i] == UInt8(ascii: "{") else { return nil }
        if i == 0, bytes.count > 1, [UInt8(ascii: "i"), UInt8(ascii: "U"), UInt8(ascii: "I"), UInt8(ascii: "l"),
                                     UInt8(ascii: "L"), UInt8(ascii: "$"), UInt8(ascii: "#")].contains(bytes[1]) {
            return .xgboostUBJ
        }
        var j = i + 1
        while j < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[j]) { j += 1 }
        if j < bytes.count, bytes[j] == UInt8(ascii: "\"") || bytes[j] == UInt8(ascii: "}") { return .xgboostJSON }
        return nil
    }

    /// Parses `bytes` in this format into the importer's model.
    public func importModel(_ bytes: [UInt8], source: String) throws(ImportError) -> ImportedModel {
        switch self {
        case .xgboostJSON: try XGBoostImporter.importModel(try JSONTextParser.parse(bytes, source: source), source: source)
        case .xgboostUBJ: try XGBoostImporter.importModel(try UBJSONParser.parse(bytes, source: source), source: source)
        case .lightgbm: try LightGBMImporter.importModel(bytes, source: source)
        }
    }
}
