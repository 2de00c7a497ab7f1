import MLModel
import MLWire

/// A model described in JSON, turned into an artifact by `mlctl artifact create spec.json out`.
/// Strict (ARTIFACT.md §20): unknown keys, wrong types, unknown activations and numbers outside
/// float32 are refused, each naming its key path, e.g.
/// `layers[1].activation: unknown activation "tanh2"; expected relu|tanh|sigmoid`.
public enum ArtifactSpec {
    static let topKeys: Set<String> = ["name", "version", "kind", "threshold", "featureCount", "weights", "bias", "layers",
                                       "referenceBins", "featureNames", "preprocessing", "acceptsMissing"]
    static let layerKeys: Set<String> = ["weights", "biases", "activation"]

    public static func load(path: String) throws(ImportError) -> Artifact {
        let bytes: [UInt8]
        do { bytes = try ArtifactReader.readFile(path: path) } catch { throw ImportError(error.message.replacingArtifact(with: "spec")) }
        return try artifact(json: bytes, source: path)
    }

    /// The validated artifact `json` describes; `source` names it in errors.
    public static func artifact(json: [UInt8], source: String) throws(ImportError) -> Artifact {
        let root = JSONPath(value: try JSONTextParser.parse(json, source: "spec \(source)"), path: "", source: "spec \(source)")
        let spec = try SpecObject(root, allowed: topKeys)
        let name = try spec.required("name").string()
        let version = try spec.required("version").string()
        let kind = try spec.required("kind").string()
        let threshold = try spec.required("threshold").float32()
        let parameters: ModelParameters
        let features: Int
        switch kind {
        case "logistic":
            guard spec.has("weights"), spec.has("bias") else { throw root.fail("a logistic spec needs \"weights\" and \"bias\"") }
            guard !spec.has("layers") else { throw try spec.required("layers").fail("a logistic spec has no \"layers\"") }
            let weights = try spec.required("weights").float32s()
            parameters = .logistic(weights: weights, bias: try spec.required("bias").float32())
            features = weights.count
        case "mlp":
            guard !spec.has("weights"), !spec.has("bias") else { throw root.fail("an mlp spec has \"layers\", not \"weights\"/\"bias\"") }
            let layers = try spec.required("layers").items()
            guard !layers.isEmpty else { throw try spec.required("layers").fail("an mlp spec needs at least one layer") }
            var dense: [DenseLayer] = []
            for (index, item) in layers.enumerated() {
                let layer = try SpecObject(item, allowed: layerKeys)
                let rows = try layer.required("weights").items()
                guard let inputs = try rows.first?.float32s().count, inputs > 0 else { throw try layer.required("weights").fail("no weight rows") }
                var weights: [Float] = []
                for row in rows {
                    let values = try row.float32s()
                    guard values.count == inputs else { throw row.fail("weight rows differ in length (the first has \(inputs), this \(values.count))") }
                    weights += values
                }
                var activation = Activation.relu
                if let given = layer.optional("activation") {
                    let text = try given.string()
                    guard let known = Activation.allCases.first(where: { $0.name == text }) else {
                        throw given.fail("unknown activation \"\(text)\"; expected relu|tanh|sigmoid")
                    }
                    if index == layers.count - 1 && known != .sigmoid {
                        throw given.fail("the last layer's output is always sigmoid; \"\(text)\" is not allowed there")
                    }
                    activation = index == layers.count - 1 ? .relu : known
                }
                dense.append(DenseLayer(inputs: inputs, outputs: rows.count, weights: weights,
                                        biases: try layer.required("biases").float32s(), activation: activation))
            }
            parameters = .mlp(layers: dense)
            features = dense[0].inputs
        default:
            throw try spec.required("kind").fail("unknown kind \"\(kind)\"; expected logistic|mlp")
        }
        if let given = spec.optional("featureCount"), try given.integer() != features {
            throw given.fail("featureCount is \(try given.integer()) but the weights take \(features) features")
        }
        var artifact = Artifact(name: name, version: version, featureCount: features, threshold: threshold,
                                parameters: parameters, referenceBins: try spec.optional("referenceBins")?.float32s() ?? [])
        if let names = spec.optional("featureNames") { artifact.featureNames = try names.items().map { item throws(ImportError) in try item.string() } }
        if let flag = spec.optional("acceptsMissing") {
            guard case .bool(let value) = flag.value else { throw flag.fail("expected true or false") }
            artifact.acceptsMissing = value
        }
        if let steps = spec.optional("preprocessing") {
            artifact.preprocessing = try steps.items().map { item throws(ImportError) in try step(item) }
        }
        do { try artifact.validate(source: "spec \(source)") } catch { throw ImportError(error.message) }
        return artifact
    }

    /// `{"type": "impute", "fill": [...]}` or `{"type": "scale", "mean": [...], "scale": [...]}`.
    private static func step(_ item: JSONPath) throws(ImportError) -> PreprocessStep {
        let type = try SpecObject(item, allowed: ["type", "fill", "mean", "scale"]).required("type").string()
        switch type {
        case "impute":
            let step = try SpecObject(item, allowed: ["type", "fill"])
            return .impute(fill: try step.required("fill").float32s().map(Double.init))
        case "scale":
            let step = try SpecObject(item, allowed: ["type", "mean", "scale"])
            return .scale(mean: try step.required("mean").doubles(), scale: try step.required("scale").doubles())
        default:
            throw try item.child("type").fail("unknown step type \"\(type)\"; expected impute|scale")
        }
    }
}

/// A JSON object whose keys are checked against the allowed set.
private struct SpecObject {
    let path: JSONPath

    init(_ path: JSONPath, allowed: Set<String>) throws(ImportError) {
        guard case .object(let fields) = path.value else { throw path.fail("expected an object") }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ImportError("\(path.source): \(path.path.isEmpty ? "" : path.path + ".")\(unknown): unknown key; expected one of \(allowed.sorted().joined(separator: ", "))")
        }
        self.path = path
    }

    func has(_ key: String) -> Bool { path.value[key] != nil }
    func optional(_ key: String) -> JSONPath? { path.value[key].map { JSONPath(value: $0, path: join(key), source: path.source) } }

    func required(_ key: String) throws(ImportError) -> JSONPath {
        guard let value = optional(key) else { throw ImportError("\(path.source): \(join(key)): missing") }
        return value
    }

    private func join(_ key: String) -> String { path.path.isEmpty ? key : path.path + "." + key }
}

extension JSONPath {
    /// A number within float32's range (tiny numbers round to float32 like any other).
    func float32() throws(ImportError) -> Float {
        guard case .number(let double, let float) = value else { throw fail("expected a number") }
        guard abs(double) <= Double(Float.greatestFiniteMagnitude), float.isFinite else {
            throw fail("\(double) is outside float32's range (±3.4028235e38)")
        }
        return float
    }

    func float32s() throws(ImportError) -> [Float] {
        try items().map { item throws(ImportError) in try item.float32() }
    }

    func doubles() throws(ImportError) -> [Double] {
        try items().map { item throws(ImportError) in
            _ = try item.float32()
            return item.value.double!
        }
    }
}
