import MLWire

/// Models compiled into the node, addressable as "builtin:<version>" (no file needed), trained at
/// first use on DemoData in a few milliseconds, deterministically: the same version always has
/// the same bytes and therefore the same checksum.
///
/// - "v2.0": logistic regression on all 32 features. The good model.
/// - "v2.1": the same recipe, but trained on a snapshot where a feature-pipeline bug zeroed
///   features 0..<10 (10 of the 16 that carry signal). Its weights there are exactly 0, so it is
///   blind to most of the signal: a plausible bad deploy, with clearly lower F1 on real data.
/// - "mlp-v1": a 32→16→1 ReLU MLP trained on all features.
///
/// Each model's threshold is the F1-best one on its training set; its reference histogram is its
/// own score distribution on held-out DemoData.
public enum BuiltinModels {
    public static let all = ["v2.0", "v2.1", "mlp-v1"]
    public static let modelName = "anomaly-detector"
    public static let artifactPrefix = "builtin:"

    static let trainingSeed: UInt64 = 2024
    static let trainingCount = 4000
    static let holdoutSeed: UInt64 = 77
    static let holdoutCount = 4000
    /// v2.1's pipeline bug: these features were zero in its training data.
    static let brokenFeatures = 0..<10

    /// A fresh model instance (its own loadedAtMicros); the training runs once per process.
    public static func model(version: String) -> Model? {
        guard let built = built(version) else { return nil }
        return Model(artifact: built.artifact, checksum: built.checksum, source: artifactPrefix + version,
                     loadedAtMicros: Model.nowMicros())
    }

    /// The model named by an artifact string "builtin:<version>", if it is one.
    public static func model(artifact: String) -> Model? {
        guard artifact.hasPrefix(artifactPrefix) else { return nil }
        return model(version: String(artifact.dropFirst(artifactPrefix.count)))
    }

    /// The artifact file bytes of a built-in (for exporting it as a file).
    public static func artifactBytes(version: String) -> [UInt8]? {
        guard let built = built(version) else { return nil }
        return try? ArtifactWriter.encode(built.artifact)
    }

    /// Trains `version` from scratch, bypassing the cache (tests check two builds agree).
    public static func build(version: String) -> Artifact? {
        let data = DemoData.samples(seed: trainingSeed, count: trainingCount)
        switch version {
        case "v2.0":
            return train(version: version, sizes: [32, 1], features: data.features, labels: data.labels,
                         settings: .init(epochs: 6, learningRate: 0.1))
        case "v2.1":
            var features = data.features
            for row in 0..<trainingCount {
                for feature in brokenFeatures { features[row * DemoData.featureCount + feature] = 0 }
            }
            return train(version: version, sizes: [32, 1], features: features, labels: data.labels,
                         settings: .init(epochs: 6, learningRate: 0.1))
        case "mlp-v1":
            return train(version: version, sizes: [32, 16, 1], features: data.features, labels: data.labels,
                         settings: .init(epochs: 8, learningRate: 0.02))
        default:
            return nil
        }
    }

    /// Trained on first use of each version, once per process: a node serving v2.0 and v2.1
    /// never pays for training the MLP (seconds in a debug build).
    private static let cache = Locked<[String: (artifact: Artifact, checksum: Digest32)]>([:])

    private static func built(_ version: String) -> (artifact: Artifact, checksum: Digest32)? {
        cache.withLock { cached in
            if let hit = cached[version] { return hit }
            guard let artifact = build(version: version), let bytes = try? ArtifactWriter.encode(artifact) else { return nil }
            let entry = (artifact, Digest32(Array(bytes.suffix(ArtifactFormat.digestSize))))
            cached[version] = entry
            return entry
        }
    }

    private static func train(version: String, sizes: [Int], features: [Float], labels: [UInt8],
                              settings: Trainer.Settings) -> Artifact {
        var trainer = Trainer(sizes: sizes, seed: trainingSeed &+ UInt64(sizes.count))
        trainer.train(features: features, labels: labels, settings: settings, seed: trainingSeed)
        let parameters: ModelParameters = sizes.count == 2
            ? .logistic(weights: trainer.layers[0].weights, bias: trainer.layers[0].biases[0])
            : .mlp(layers: trainer.layers)
        var artifact = Artifact(name: modelName, version: version, featureCount: sizes[0], threshold: 0.5,
                                parameters: parameters, referenceBins: Artifact.uniformBins)
        // Score the training set with the real kernels to pick the threshold.
        let scratch = Model(artifact: artifact, checksum: .zero, source: "training", loadedAtMicros: 0)
        artifact.threshold = Trainer.bestThreshold(scores: scratch.scores(features, count: labels.count), labels: labels)
        artifact.referenceBins = referenceBins(for: scratch)
        return artifact
    }

    /// The model's score histogram on held-out DemoData: the drift baseline stored in its artifact.
    static func referenceBins(for model: Model) -> [Float] {
        let holdout = DemoData.samples(seed: holdoutSeed, count: holdoutCount)
        var counts = [Int](repeating: 0, count: ScoreBins.count)
        for score in model.scores(holdout.features, count: holdoutCount) { counts[ScoreBins.index(score: score)] += 1 }
        return counts.map { Float($0) / Float(holdoutCount) }
    }
}

extension Model {
    /// Scores `count` rows of an array (allocates; tools and tests only).
    public func scores(_ rows: [Float], count: Int) -> [Float] {
        precondition(rows.count >= count * featureCount)
        var out = [Float](repeating: 0, count: count)
        rows.withUnsafeBufferPointer { r in
            out.withUnsafeMutableBufferPointer { predict(rows: r.baseAddress!, count: count, scores: $0.baseAddress!) }
        }
        return out
    }
}
