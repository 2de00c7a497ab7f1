import MLModel
import MLWire

/// `mlctl artifact import`: a library's model file (+ optional reference rows) → a verified
/// format-2 artifact. With reference data the artifact gets a drift reference (our scores'
/// histogram) and up to 64 golden rows; when the rows carry the library's own scores, every row is
/// checked against our kernel before anything is written.
public enum ArtifactImporter {
    public struct Options: Sendable {
        public var format: ModelFileFormat?
        public var name: String?
        public var version: String = "v1"
        public var threshold: Float = 0.5
        public var featureNames: [String]?
        public var referenceData: String?
        /// Largest |our score − library score| accepted, on the reference rows and golden rows.
        public var tolerance: Float = 1e-6

        public init() {}
    }

    public struct Outcome: Sendable {
        public var artifact: Artifact
        public var format: ModelFileFormat
        /// Reference rows checked against the library's scores (0 when it gave none).
        public var rowsChecked: Int
        /// Largest |Δp| over those rows.
        public var maxDifference: Double
    }

    public static func importFile(_ path: String, options: Options) throws(ImportError) -> Outcome {
        let bytes: [UInt8]
        do { bytes = try ArtifactReader.readFile(path: path) } catch { throw ImportError(error.message.replacingArtifact(with: "model file")) }
        guard let format = options.format ?? ModelFileFormat.detect(bytes) else {
            throw ImportError("\(path): cannot tell the format from the content (not XGBoost JSON/UBJSON, not a LightGBM text model); give --format xgboost-json|xgboost-ubj|lightgbm")
        }
        let imported = try format.importModel(bytes, source: path)
        var reference: ReferenceData? = nil
        if let csv = options.referenceData {
            let csvBytes: [UInt8]
            do { csvBytes = try ArtifactReader.readFile(path: csv) } catch { throw ImportError(error.message.replacingArtifact(with: "reference data")) }
            reference = try ReferenceData.parse(csvBytes, featureCount: imported.featureCount, source: csv)
        }
        return try build(imported, format: format, reference: reference, modelPath: path, options: options)
    }

    public static func build(_ imported: ImportedModel, format: ModelFileFormat, reference: ReferenceData?,
                             modelPath: String, options: Options) throws(ImportError) -> Outcome {
        let names = options.featureNames ?? imported.featureNames
        if let given = options.featureNames, given.count != imported.featureCount {
            throw ImportError("--feature-names has \(given.count) names, the model takes \(imported.featureCount) features")
        }
        var artifact = Artifact(name: options.name ?? defaultName(modelPath), version: options.version,
                                featureCount: imported.featureCount, threshold: options.threshold,
                                parameters: .treeEnsemble(imported.ensemble), referenceBins: [],
                                featureNames: names, acceptsMissing: true, metadata: imported.metadata)
        var rowsChecked = 0, maxDifference = 0.0
        if let reference {
            let scratch: Model
            do { scratch = try Model.make(artifact: artifact, source: modelPath) } catch { throw ImportError(error.message) }
            let scores = scratch.scores(reference.features, count: reference.rowCount)
            if let expected = reference.expected {
                for row in 0..<reference.rowCount {
                    let difference = abs(Double(scores[row]) - Double(expected[row]))
                    maxDifference = max(maxDifference, difference)
                    guard difference <= Double(options.tolerance) else {
                        throw ImportError("\(modelPath): reference row \(row): our kernel scores \(scores[row]) but the library said \(expected[row]) (tolerance \(options.tolerance)); nothing written")
                    }
                }
                rowsChecked = reference.rowCount
            }
            artifact.referenceBins = histogram(scores)
            let picks = goldenIndices(rows: reference.rowCount)
            var goldenFeatures: [Float] = []
            for row in picks {
                goldenFeatures += reference.features[row * imported.featureCount..<(row + 1) * imported.featureCount]
            }
            artifact.goldenRows = GoldenRows(features: goldenFeatures, expected: picks.map { reference.expected?[$0] ?? scores[$0] },
                                             tolerance: options.tolerance)
            artifact.metadata.append(MetadataEntry("golden_expected", reference.expected == nil ? "mlserve kernel" : "reference library"))
        }
        do { try artifact.validate(source: modelPath) } catch { throw ImportError(error.message) }
        return Outcome(artifact: artifact, format: format, rowsChecked: rowsChecked, maxDifference: maxDifference)
    }

    /// Evenly spread over the reference rows, at most 64.
    static func goldenIndices(rows: Int) -> [Int] {
        let count = min(rows, ArtifactFormat.maxGoldenRows)
        return (0..<count).map { $0 * rows / count }
    }

    static func histogram(_ scores: [Float]) -> [Float] {
        var counts = [Int](repeating: 0, count: ScoreBins.count)
        for score in scores { counts[min(max(Int(score * Float(ScoreBins.count)), 0), ScoreBins.count - 1)] += 1 }
        return counts.map { Float(Double($0) / Double(scores.count)) }
    }

    static func defaultName(_ path: String) -> String {
        var base = Substring(path.split(separator: "/").last ?? "model")
        if let dot = base.lastIndex(of: "."), dot != base.startIndex { base = base[..<dot] }
        let cleaned = String(decoding: base.utf8.prefix(ArtifactFormat.nameField), as: UTF8.self)
        return cleaned.isEmpty ? "model" : cleaned
    }
}

extension String {
    /// ArtifactReader's file errors say "artifact PATH"; on import the file is something else.
    func replacingArtifact(with what: String) -> String {
        hasPrefix("artifact ") ? what + " " + dropFirst("artifact ".count) : self
    }
}
