import MLModel
import MLWire

/// Resolves an artifact reference — a file path or `builtin:<version>` — to a verified model.
public enum ModelLoader {
    public static let builtinPrefix = "builtin:"

    public static func load(_ reference: String, expectedChecksum: Digest32 = .zero) -> Result<Model, SlotError> {
        if reference.hasPrefix(builtinPrefix) {
            let name = String(reference.dropFirst(builtinPrefix.count))
            guard let model = BuiltinModels.model(version: name) else {
                return .failure(SlotError(.notFound, .artifactNotFound, "\(reference): no such built-in model (have \(BuiltinModels.all.joined(separator: ", ")))"))
            }
            if !expectedChecksum.isZero && expectedChecksum != model.checksum {
                return .failure(SlotError(.dataLoss, .checksumMismatch, "\(reference): checksum \(model.checksum.hex) does not match expected \(expectedChecksum.hex)"))
            }
            return .success(model)
        }
        do {
            return .success(try Model.load(path: reference, expectedChecksum: expectedChecksum))
        } catch {
            return .failure(SlotError(error.status, error.reason, error.message))
        }
    }
}
