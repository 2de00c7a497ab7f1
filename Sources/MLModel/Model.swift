import Glibc
import MLWire

/// A loaded, validated, immutable model. Shared by every event-loop thread at once: nothing in it
/// changes after init, and inference keeps its scratch space on the caller's stack.
///
/// `@unchecked Sendable` because the parameter and version buffers are raw pointers: they are
/// written once in init, only read afterwards, and freed in deinit when the last user lets go.
public final class Model: @unchecked Sendable {
    public let name: String
    public let version: String
    public let kind: ModelKind
    public let featureCount: Int
    public let threshold: Float
    /// SHA-256 of the artifact bytes (the file's trailing digest).
    public let checksum: Digest32
    /// Empty when the artifact carries no reference: drift is then reported as absent.
    public let referenceBins: [Float]
    public let acceptsMissing: Bool
    /// The artifact's feature names (format 2), or empty.
    public let featureNames: [String]
    /// The artifact's informational metadata (format 2).
    public let metadata: [MetadataEntry]
    /// How many golden rows were recomputed and matched when this model was loaded.
    public let goldenRowsChecked: Int
    /// The artifact's golden rows (format 2), kept for the node's warm-up; nil for format 1.
    public let goldenRows: GoldenRows?
    /// A file path, or "builtin:<version>".
    public let artifact: String
    /// Unix time of loading, microseconds.
    public let loadedAtMicros: Int64
    public let slotInfo: SlotInfo
    /// The version string as UTF-8, owned by the model, for encoders that copy it into responses.
    public let versionUTF8: UnsafeRawBufferPointer

    /// The inference view of this model: raw pointers into memory this object owns. Valid while
    /// the model is alive; event loops copy it next to the strong reference they hold, so the
    /// prediction path touches no reference count shared between threads.
    public let kernel: ModelKernel
    /// Warming until the node has run its warm-up on it; only a warm standby may be swapped in.
    public let warmth = WarmState()

    /// All weights and biases in file order (logistic: weights then bias; mlp: per layer weights
    /// then biases), one allocation so inference touches one contiguous block.
    private let parameters: UnsafeMutablePointer<Float>
    /// mlp only: one entry per layer.
    private let layers: UnsafeMutablePointer<LayerShape>
    /// Tree nodes, roots, category words and preprocessing values, freed with the model.
    private let buffers: KernelBuffers

    /// `artifact` must already be validated (the reader and `make` do it).
    init(artifact value: Artifact, checksum: Digest32, source: String, loadedAtMicros: Int64) {
        name = value.name
        version = value.version
        kind = value.kind
        featureCount = value.featureCount
        threshold = value.threshold
        self.checksum = checksum
        referenceBins = value.referenceBins
        acceptsMissing = value.acceptsMissing
        featureNames = value.featureNames
        metadata = value.metadata
        goldenRowsChecked = value.goldenRows?.count ?? 0
        goldenRows = value.goldenRows
        artifact = source
        self.loadedAtMicros = loadedAtMicros
        slotInfo = SlotInfo(present: true, modelName: value.name, version: value.version, kind: value.kind.rawValue,
                            featureCount: UInt32(value.featureCount), checksum: checksum,
                            loadedAtMicros: loadedAtMicros, artifact: source)

        let utf8 = Array(value.version.utf8)
        let versionBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(utf8.count, 1), alignment: 8)
        versionBytes.copyBytes(from: utf8)
        versionUTF8 = UnsafeRawBufferPointer(rebasing: versionBytes[0..<utf8.count])

        var flat: [Float] = []
        var shapes: [LayerShape] = []
        switch value.parameters {
        case .logistic(let weights, let bias):
            flat = weights + [bias]
        case .mlp(let denseLayers):
            for layer in denseLayers {
                let weightOffset = flat.count
                flat += layer.weights
                shapes.append(LayerShape(inputs: layer.inputs, outputs: layer.outputs,
                                         weightOffset: weightOffset, biasOffset: flat.count,
                                         activation: layer.activation.rawValue))
                flat += layer.biases
            }
        case .treeEnsemble:
            flat = [0]
        }
        buffers = KernelBuffers(value)
        parameters = .allocate(capacity: flat.count)
        parameters.initialize(from: flat, count: flat.count)
        layers = .allocate(capacity: max(shapes.count, 1))
        layers.initialize(from: shapes, count: shapes.count)
        kernel = ModelKernel(kind: value.kind, featureCount: value.featureCount, threshold: value.threshold,
                             acceptsMissing: value.acceptsMissing,
                             parameters: UnsafePointer(parameters), layers: UnsafePointer(layers),
                             layerCount: shapes.count, trees: buffers.trees, preprocess: buffers.preprocess,
                             versionUTF8: versionUTF8)
    }

    deinit {
        parameters.deallocate()
        layers.deallocate()
        UnsafeMutableRawPointer(mutating: versionUTF8.baseAddress!).deallocate()
    }

    /// Builds a model from an in-memory artifact; the checksum is that of its encoded bytes, so it
    /// equals what loading the written file would report.
    public static func make(artifact: Artifact, source: String) throws(ArtifactError) -> Model {
        let bytes = try ArtifactWriter.encode(artifact)
        let model = Model(artifact: artifact, checksum: Digest32(Array(bytes.suffix(ArtifactFormat.digestSize))),
                          source: source, loadedAtMicros: Model.nowMicros())
        if let golden = artifact.goldenRows { try model.verify(golden, source: source) }
        return model
    }

    /// Decodes and validates artifact bytes. `source` names them in errors and becomes `artifact`.
    /// Golden rows (format 2) are recomputed here: a mismatch refuses the artifact
    /// (FAILED_PRECONDITION, goldenRowMismatch) before any slot can hold it.
    public static func decode(bytes: [UInt8], source: String,
                              expectedChecksum: Digest32 = .zero) throws(ArtifactError) -> Model {
        let (value, checksum) = try ArtifactReader.decode(bytes, source: source, expectedChecksum: expectedChecksum)
        let model = Model(artifact: value, checksum: checksum, source: source, loadedAtMicros: Model.nowMicros())
        if let golden = value.goldenRows { try model.verify(golden, source: source) }
        return model
    }

    /// Reads, verifies and loads an artifact file. A non-zero `expectedChecksum` must match.
    public static func load(path: String, expectedChecksum: Digest32 = .zero) throws(ArtifactError) -> Model {
        try decode(bytes: try ArtifactReader.readFile(path: path), source: path, expectedChecksum: expectedChecksum)
    }

    // MARK: inference (hot path: no allocation, no locks)

    /// Score in [0, 1] for one row of `featureCount` floats.
    @inline(__always)
    public func score(row: UnsafePointer<Float>) -> Float { kernel.score(row: row) }

    /// Scores `count` rows laid out back to back (count × featureCount floats).
    public func predict(rows: UnsafePointer<Float>, count: Int, scores: UnsafeMutablePointer<Float>) {
        kernel.predict(rows: rows, count: count, scores: scores)
    }

    /// 1 (anomaly) when the score reaches the decision threshold.
    @inline(__always)
    public func label(for score: Float) -> UInt8 { kernel.label(for: score) }

    static func nowMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
