import MLWire

/// A hidden layer's activation (ARTIFACT.md §12.2 codes). The last layer is always sigmoid.
public enum Activation: UInt8, Sendable, CaseIterable {
    case relu = 1
    case tanh = 2
    case sigmoid = 3

    public var name: String {
        switch self {
        case .relu: "relu"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        }
    }
}

/// One dense layer: `outputs` rows of `inputs` weights (row-major), then one bias per output.
public struct DenseLayer: Equatable, Sendable {
    public var inputs: Int
    public var outputs: Int
    /// outputs × inputs, row-major: weights[o * inputs + i].
    public var weights: [Float]
    public var biases: [Float]
    /// Hidden layers only; the last layer's output is always a sigmoid and this field is ignored
    /// there (readers leave it `.relu`).
    public var activation: Activation

    public init(inputs: Int, outputs: Int, weights: [Float], biases: [Float], activation: Activation = .relu) {
        self.inputs = inputs
        self.outputs = outputs
        self.weights = weights
        self.biases = biases
        self.activation = activation
    }
}

/// The learned numbers of a model, by family.
public enum ModelParameters: Equatable, Sendable {
    /// score = sigmoid(weights · x + bias)
    case logistic(weights: [Float], bias: Float)
    /// Hidden layers with their activation, the last layer has one output and a sigmoid.
    case mlp(layers: [DenseLayer])
    /// Format version 2 only.
    case treeEnsemble(TreeEnsemble)

    public var kind: ModelKind {
        switch self {
        case .logistic: .logistic
        case .mlp: .mlp
        case .treeEnsemble: .treeEnsemble
        }
    }

    /// Size of the parameter (v1) or model section (v2) in the file (ARTIFACT.md §3, §12).
    func encodedSize(formatVersion: UInt16) -> Int {
        switch self {
        case .logistic(let weights, _):
            return 4 * weights.count + 4
        case .mlp(let layers):
            let shapeBytes = formatVersion == 1 ? 8 : 12
            return 4 + shapeBytes * layers.count + layers.reduce(0) { $0 + 4 * ($1.weights.count + $1.biases.count) }
        case .treeEnsemble(let ensemble):
            return ensemble.encodedSize
        }
    }
}

/// Everything an artifact file holds except its checksum: the value `ArtifactWriter` encodes and
/// `ArtifactReader` decodes. `validate()` is the single definition of "well-shaped".
public struct Artifact: Equatable, Sendable {
    public var name: String
    public var version: String
    public var featureCount: Int
    public var threshold: Float
    public var parameters: ModelParameters
    /// ScoreBins.count proportions summing to ~1: the score distribution drift is measured against.
    /// Empty = no reference (format 2 only): the node reports drift as absent.
    public var referenceBins: [Float]
    /// Format 2: steps applied to each row before the model, in order.
    public var preprocessing: [PreprocessStep]
    /// Format 2: one name per feature, or empty.
    public var featureNames: [String]
    /// Format 2: NaN in a request row means "missing" (ARTIFACT.md §15).
    public var acceptsMissing: Bool
    /// Format 2: rows the loader recomputes before accepting the artifact.
    public var goldenRows: GoldenRows?
    /// Format 2: informational key/value pairs.
    public var metadata: [MetadataEntry]

    public var kind: ModelKind { parameters.kind }

    public init(name: String, version: String, featureCount: Int, threshold: Float,
                parameters: ModelParameters, referenceBins: [Float], preprocessing: [PreprocessStep] = [],
                featureNames: [String] = [], acceptsMissing: Bool = false, goldenRows: GoldenRows? = nil,
                metadata: [MetadataEntry] = []) {
        self.name = name
        self.version = version
        self.featureCount = featureCount
        self.threshold = threshold
        self.parameters = parameters
        self.referenceBins = referenceBins
        self.preprocessing = preprocessing
        self.featureNames = featureNames
        self.acceptsMissing = acceptsMissing
        self.goldenRows = goldenRows
        self.metadata = metadata
    }

    /// The format a writer produces: 1 whenever the artifact fits it (ARTIFACT.md §8).
    public var formatVersion: UInt16 {
        let fitsVersion1: Bool
        switch parameters {
        case .logistic: fitsVersion1 = true
        case .mlp(let layers): fitsVersion1 = layers.dropLast().allSatisfy { $0.activation == .relu }
        case .treeEnsemble: fitsVersion1 = false
        }
        let plain = !referenceBins.isEmpty && preprocessing.isEmpty && featureNames.isEmpty && !acceptsMissing
            && goldenRows == nil && metadata.isEmpty
        return fitsVersion1 && plain ? 1 : 2
    }

    /// Uniform bins: the baseline when nothing better is known.
    public static var uniformBins: [Float] {
        [Float](repeating: 1 / Float(ScoreBins.count), count: ScoreBins.count)
    }

    /// Checks every rule of ARTIFACT.md §5; `source` names the file in the error message.
    public func validate(source: String) throws(ArtifactError) {
        func fail(_ problem: String) -> ArtifactError { .invalid(source, problem) }
        let nameBytes = name.utf8.count, versionBytes = version.utf8.count
        guard nameBytes >= 1, nameBytes <= ArtifactFormat.nameField else {
            throw fail("model name must be 1...\(ArtifactFormat.nameField) bytes of UTF-8, got \(nameBytes)")
        }
        guard versionBytes >= 1, versionBytes <= ArtifactFormat.versionField else {
            throw fail("version must be 1...\(ArtifactFormat.versionField) bytes of UTF-8, got \(versionBytes)")
        }
        guard !name.utf8.contains(0), !version.utf8.contains(0) else { throw fail("name and version may not contain NUL") }
        guard featureCount >= 1, featureCount <= ArtifactFormat.maxFeatures else {
            throw fail("feature count must be 1...\(ArtifactFormat.maxFeatures), got \(featureCount)")
        }
        guard threshold.isFinite, threshold >= 0, threshold <= 1 else {
            throw fail("decision threshold must be in [0, 1], got \(threshold)")
        }
        switch parameters {
        case .logistic(let weights, let bias):
            guard weights.count == featureCount else {
                throw fail("logistic model has \(weights.count) weights for \(featureCount) features")
            }
            try Artifact.checkFinite(weights, "weights", source)
            guard bias.isFinite else { throw fail("bias is not finite (\(bias))") }
        case .mlp(let layers):
            try Artifact.validate(layers: layers, featureCount: featureCount, source: source)
        case .treeEnsemble(let ensemble):
            try ensemble.validate(featureCount: featureCount, source: source)
        }
        try validateVersion2Parts(source: source)
        if referenceBins.isEmpty { return }  // no reference: drift is reported as absent (format 2 only)
        guard referenceBins.count == ScoreBins.count else {
            throw fail("reference histogram must have \(ScoreBins.count) bins, got \(referenceBins.count)")
        }
        try Artifact.checkFinite(referenceBins, "reference bins", source)
        guard referenceBins.allSatisfy({ $0 >= 0 }) else { throw fail("reference bins must not be negative") }
        let sum = referenceBins.reduce(0, +)
        guard abs(sum - 1) <= ArtifactFormat.binsSumTolerance else {
            throw fail("reference bins must sum to 1, they sum to \(sum)")
        }
    }

    static func validate(layers: [DenseLayer], featureCount: Int, source: String) throws(ArtifactError) {
        func fail(_ problem: String) -> ArtifactError { .invalid(source, problem) }
        guard layers.count >= 1, layers.count <= ArtifactFormat.maxLayers else {
            throw fail("mlp must have 1...\(ArtifactFormat.maxLayers) layers, got \(layers.count)")
        }
        var expectedInputs = featureCount
        for (index, layer) in layers.enumerated() {
            let isLast = index == layers.count - 1
            guard layer.inputs == expectedInputs else {
                throw fail("layer \(index) takes \(layer.inputs) inputs but receives \(expectedInputs)")
            }
            if isLast {
                guard layer.outputs == 1 else { throw fail("last layer must have 1 output, got \(layer.outputs)") }
            } else {
                guard layer.outputs >= 1, layer.outputs <= ArtifactFormat.maxHiddenWidth else {
                    throw fail("hidden layer \(index) width must be 1...\(ArtifactFormat.maxHiddenWidth), got \(layer.outputs)")
                }
            }
            guard layer.weights.count == layer.inputs * layer.outputs, layer.biases.count == layer.outputs else {
                throw fail("layer \(index) is \(layer.outputs)x\(layer.inputs) but has \(layer.weights.count) weights and \(layer.biases.count) biases")
            }
            try checkFinite(layer.weights, "layer \(index) weights", source)
            try checkFinite(layer.biases, "layer \(index) biases", source)
            expectedInputs = layer.outputs
        }
    }

    static func checkFinite(_ values: [Float], _ what: String, _ source: String) throws(ArtifactError) {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .invalid(source, "\(what)[\(bad)] is not finite (\(values[bad]))")
        }
    }
}
