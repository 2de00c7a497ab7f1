import Foundation
import MLWire

/// A model described in JSON, turned into an artifact file by `mlctl artifact create spec.json
/// out.mlart`. Foundation's JSONDecoder is fine here: this is a tool path, not the serving path.
///
/// ```json
/// {"name": "fraud", "version": "v3.0", "kind": "logistic", "threshold": 0.5,
///  "weights": [0.5, -0.25, ...], "bias": -1.0}
/// {"name": "fraud", "version": "v3.1", "kind": "mlp", "threshold": 0.4,
///  "layers": [{"weights": [[...32 numbers...], ... 16 rows], "biases": [...16...]},
///             {"weights": [[...16 numbers...]], "biases": [0.1]}]}
/// ```
/// `featureCount` is optional (derived from the weights; if given it must agree). `referenceBins`
/// is optional: without it, the model's own score histogram on DemoData when it takes 32
/// features, else uniform bins.
public struct ArtifactSpec: Decodable, Sendable {
    public struct Layer: Decodable, Sendable {
        /// One row per output, each with one weight per input.
        public var weights: [[Float]]
        public var biases: [Float]
    }

    public var name: String
    public var version: String
    /// "logistic" or "mlp".
    public var kind: String
    public var threshold: Float
    public var featureCount: Int?
    public var weights: [Float]?
    public var bias: Float?
    public var layers: [Layer]?
    public var referenceBins: [Float]?

    /// Parses JSON; `source` names the spec in error messages.
    public static func decode(json: [UInt8], source: String = "spec") throws(ArtifactError) -> ArtifactSpec {
        do {
            return try JSONDecoder().decode(ArtifactSpec.self, from: Data(json))
        } catch let error as DecodingError {
            throw ArtifactError(.invalidArgument, "spec \(source): \(describe(error))")
        } catch {
            throw ArtifactError(.invalidArgument, "spec \(source): \(error)")
        }
    }

    public static func load(path: String) throws(ArtifactError) -> ArtifactSpec {
        try decode(json: try ArtifactReader.readFile(path: path), source: path)
    }

    /// The validated artifact this spec describes.
    public func makeArtifact(source: String = "spec") throws(ArtifactError) -> Artifact {
        func fail(_ problem: String) -> ArtifactError { ArtifactError(.invalidArgument, "spec \(source): \(problem)") }
        let parameters: ModelParameters
        let derivedFeatures: Int
        switch kind {
        case "logistic":
            guard let weights, let bias else { throw fail("a logistic spec needs \"weights\" and \"bias\"") }
            guard layers == nil else { throw fail("a logistic spec has no \"layers\"") }
            parameters = .logistic(weights: weights, bias: bias)
            derivedFeatures = weights.count
        case "mlp":
            guard let layers, !layers.isEmpty else { throw fail("an mlp spec needs a non-empty \"layers\" array") }
            guard weights == nil, bias == nil else { throw fail("an mlp spec has \"layers\", not \"weights\"/\"bias\"") }
            var dense: [DenseLayer] = []
            for (index, layer) in layers.enumerated() {
                guard let inputs = layer.weights.first?.count, inputs > 0 else {
                    throw fail("layer \(index) has no weight rows")
                }
                guard layer.weights.allSatisfy({ $0.count == inputs }) else {
                    throw fail("layer \(index) weight rows differ in length (the first has \(inputs))")
                }
                dense.append(DenseLayer(inputs: inputs, outputs: layer.weights.count,
                                        weights: layer.weights.flatMap { $0 }, biases: layer.biases))
            }
            parameters = .mlp(layers: dense)
            derivedFeatures = dense[0].inputs
        default:
            throw fail("unknown kind \"\(kind)\" (expected \"logistic\" or \"mlp\")")
        }
        if let featureCount, featureCount != derivedFeatures {
            throw fail("featureCount is \(featureCount) but the weights take \(derivedFeatures) features")
        }
        var artifact = Artifact(name: name, version: version, featureCount: derivedFeatures, threshold: threshold,
                                parameters: parameters, referenceBins: referenceBins ?? Artifact.uniformBins)
        try artifact.validate(source: "spec \(source)")
        if referenceBins == nil && derivedFeatures == DemoData.featureCount {
            let scratch = Model(artifact: artifact, checksum: .zero, source: source, loadedAtMicros: 0)
            artifact.referenceBins = BuiltinModels.referenceBins(for: scratch)
        }
        return artifact
    }

    /// The artifact file's bytes, checksum included. Throws `ArtifactError` (INVALID_ARGUMENT).
    public func makeArtifactBytes(source: String = "spec") throws -> [UInt8] {
        try ArtifactWriter.encode(try makeArtifact(source: source))
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "top level" : String(keys.drop(while: { $0 == "." }))
        }
        switch error {
        case .keyNotFound(let key, let context):
            let at = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "missing field \"\(key.stringValue)\"\(at)"
        case .typeMismatch(let type, let context):
            return "\(path(context)) should be \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)) is null, expected \(type)"
        case .dataCorrupted(let context):
            return "invalid JSON at \(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
