import Foundation
import MLWire
import XCTest
@testable import MLModel

/// Format 2 (ARTIFACT.md §9–§18): the worked example, round trips, refusals and golden rows.
final class ArtifactVersion2Tests: XCTestCase {
    private var paths: [String] = []
    override func tearDown() {
        for path in paths { unlink(path) }
    }

    /// The §18 example: its bytes were computed by a Python `struct` script, not by this encoder.
    private var exampleArtifact: Artifact {
        let nodes: [TreeNode] = [.numerical(feature: 1, threshold: 0.5, left: 1, right: 2, missing: .nan, defaultLeft: true),
                                 .leaf(1.0), .leaf(-1.0)]
        return Artifact(name: "t", version: "v1", featureCount: 2, threshold: 0.5,
                        parameters: .treeEnsemble(TreeEnsemble(comparison: .xgboost, aggregation: .sum, transform: .sigmoid,
                                                               baseMargin: 0, treeNodeCounts: [3], nodes: nodes)),
                        referenceBins: [], featureNames: ["a", "b"], acceptsMissing: true,
                        goldenRows: GoldenRows(features: [0, 0.25], expected: [Float(1 / (1 + exp(-1.0)))], tolerance: 1e-6))
    }

    private func documentedExample() throws -> [UInt8] {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("protocol/ARTIFACT.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        let begin = try XCTUnwrap(text.range(of: "<!-- artifact-v2-example-begin -->"))
        let end = try XCTUnwrap(text.range(of: "<!-- artifact-v2-example-end -->"))
        var bytes: [UInt8] = []
        for line in text[begin.upperBound..<end.lowerBound].split(separator: "\n") where line.count > 6 && !line.hasPrefix("```") {
            for pair in line.dropFirst(6).split(separator: " ") { bytes.append(try XCTUnwrap(UInt8(pair, radix: 16))) }
        }
        return bytes
    }

    func testEncoderProducesTheDocumentedVersion2Example() throws {
        let documented = try documentedExample()
        XCTAssertEqual(documented.count, 342)
        XCTAssertEqual(try ArtifactWriter.encode(exampleArtifact), documented)
    }

    func testDocumentedVersion2ExampleLoadsScoresAndTakesNaNAsMissing() throws {
        let model = try Model.decode(bytes: try documentedExample(), source: "ARTIFACT.md",
                                     expectedChecksum: try XCTUnwrap(Digest32(hex: "2584077b908216bac0d8a8c6b65c98873ac764d5641aca1be31a60ec3a161665")))
        XCTAssertTrue(model.acceptsMissing)
        XCTAssertEqual(model.featureNames, ["a", "b"])
        XCTAssertEqual(model.referenceBins, [], "no reference histogram: drift is absent")
        XCTAssertEqual(model.goldenRowsChecked, 1)
        for row: [Float] in [[0, 0.25], [0, .nan]] {
            let score = row.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) }
            XCTAssertEqual(Double(score), 1 / (1 + exp(-1.0)), accuracy: 1e-7)
        }
        let right: [Float] = [0, 0.5]
        XCTAssertEqual(Double(right.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) }), 1 / (1 + exp(1.0)), accuracy: 1e-7)
    }

    func testVersion1ArtifactsStillEncodeAsVersion1() throws {
        XCTAssertEqual(Fixtures.logistic().formatVersion, 1)
        XCTAssertEqual(Fixtures.mlp().formatVersion, 1)
        var tanh = Fixtures.mlp()
        guard case .mlp(var layers) = tanh.parameters else { return XCTFail() }
        layers[0].activation = .tanh
        tanh.parameters = .mlp(layers: layers)
        XCTAssertEqual(tanh.formatVersion, 2)
        let bytes = try ArtifactWriter.encode(Fixtures.logistic())
        XCTAssertEqual(bytes[4], 1)
    }

    func testRichVersion2ArtifactRoundTrips() throws {
        for comparison in TreeEnsemble.Comparison.allCases {
            var artifact = TreeFixtures.artifact(comparison: comparison, seed: 7)
            artifact.preprocessing = [.impute(fill: (0..<artifact.featureCount).map { Double($0) * 0.5 }),
                                      .scale(mean: (0..<artifact.featureCount).map { Double($0) }, scale: (0..<artifact.featureCount).map { 1 + Double($0) })]
            artifact.featureNames = (0..<artifact.featureCount).map { "f\($0)" }
            artifact.metadata = [MetadataEntry("source", "test"), MetadataEntry("best_iteration", "3")]
            artifact.referenceBins = Artifact.uniformBins
            let bytes = try ArtifactWriter.encode(artifact)
            let (decoded, _) = try ArtifactReader.decode(bytes, source: "round trip")
            XCTAssertEqual(decoded, artifact)
            XCTAssertEqual(try ArtifactWriter.encode(decoded), bytes)
        }
        var mlp = Fixtures.mlp(features: 6, hidden: [5, 4])
        guard case .mlp(var layers) = mlp.parameters else { return XCTFail() }
        layers[0].activation = .tanh
        layers[1].activation = .sigmoid
        mlp.parameters = .mlp(layers: layers)
        mlp.referenceBins = []
        let (decoded, _) = try ArtifactReader.decode(try ArtifactWriter.encode(mlp), source: "mlp")
        XCTAssertEqual(decoded, mlp)
    }

    func testTreeKernelMatchesADirectReadingOfTheSpec() throws {
        for comparison in TreeEnsemble.Comparison.allCases {
            for seed in 1...6 as ClosedRange<UInt64> {
                let artifact = TreeFixtures.artifact(comparison: comparison, seed: seed)
                let model = try Model.make(artifact: artifact, source: "trees")
                let rows = 150
                let features = TreeFixtures.rows(rows, features: artifact.featureCount, seed: seed + 50)
                let batch = model.scores(features, count: rows)
                for r in 0..<rows {
                    let row = Array(features[r * artifact.featureCount..<(r + 1) * artifact.featureCount])
                    let single = row.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) }
                    XCTAssertEqual(Double(single), Reference.score(artifact, row: row), accuracy: 1e-6, "\(comparison) seed \(seed) row \(r)")
                    XCTAssertEqual(batch[r], single, "batch and single differ at row \(r)")
                }
            }
        }
    }

    func testGoldenRowMismatchRefusesTheArtifactNamingRowValuesAndTolerance() throws {
        var artifact = exampleArtifact
        artifact.goldenRows = GoldenRows(features: [0, 0.25, 0, 0.75], expected: [0.7310586, 0.5], tolerance: 1e-6)
        let path = Fixtures.write(try ArtifactWriter.encode(artifact), label: "golden")
        paths.append(path)
        assertRefused(.failedPrecondition, containing: ["golden row 1", "computed 0.26894", "0.5", "tolerance 1e-06"]) {
            _ = try Model.load(path: path)
        }
    }

    func testFiniteInFiniteOut() throws {
        let huge = Float.greatestFiniteMagnitude
        let logistic = Artifact(name: "huge", version: "v1", featureCount: 32, threshold: 0.5,
                                parameters: .logistic(weights: (0..<32).map { $0 % 2 == 0 ? 3e38 : -3e38 }, bias: 3e38),
                                referenceBins: Artifact.uniformBins)
        var mlp = Fixtures.mlp(features: 32, hidden: [8, 4])
        guard case .mlp(var layers) = mlp.parameters else { return XCTFail() }
        for l in layers.indices { layers[l].weights = layers[l].weights.map { $0 > 0 ? 3e38 : -3e38 } }
        layers[1].activation = .tanh
        mlp.parameters = .mlp(layers: layers)
        let rows: [[Float]] = [[Float](repeating: huge, count: 32), (0..<32).map { $0 % 3 == 0 ? -huge : huge },
                               [Float](repeating: 0, count: 32)]
        for artifact in [logistic, mlp] {
            let model = try Model.make(artifact: artifact, source: "huge")
            for row in rows {
                let score = row.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) }
                XCTAssertTrue(score >= 0 && score <= 1, "\(artifact.kind.name) scored \(score)")
            }
        }
    }

    func testVersion2RefusalsNameTheProblem() throws {
        let good = try ArtifactWriter.encode(exampleArtifact)
        func resealed(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var body = Array(good.dropLast(32))
            edit(&body)
            return ArtifactWriter.seal(body)
        }
        let cases: [(String, [UInt8])] = [
            ("unknown section tag 9", resealed { $0[0x10c] = 9 }),
            ("out of order", resealed { $0[0x10c] = 1 }),
            ("bits other than accepts_missing", resealed { $0[7] = 3 }),
            ("missing type 3", resealed { $0[0xd0] = 7 }),
            ("feature 5", resealed { $0[0xc4] = 5 }),
            ("children", resealed { $0[0xc8] = 0 }),
            ("unknown model kind 9", resealed { $0[6] = 9 }),
            ("length mismatch", Array(good.dropLast())),
        ]
        for (fragment, bytes) in cases {
            assertRefused(.invalidArgument, containing: [fragment]) { _ = try ArtifactReader.decode(bytes, source: "bad") }
        }
        var logistic = Fixtures.logistic()
        logistic.acceptsMissing = true
        assertRefused(.invalidArgument, containing: ["accepts_missing needs"]) { _ = try ArtifactWriter.encode(logistic) }
        var nanGolden = exampleArtifact
        nanGolden.acceptsMissing = false
        nanGolden.goldenRows = GoldenRows(features: [0, .nan], expected: [0.7], tolerance: 1e-6)
        assertRefused(.invalidArgument, containing: ["does not accept missing values"]) { _ = try ArtifactWriter.encode(nanGolden) }
    }
}

/// Random but valid tree ensembles with every node type, and rows that reach every branch.
enum TreeFixtures {
    static func artifact(comparison: TreeEnsemble.Comparison, seed: UInt64, features: Int = 6, trees: Int = 12) -> Artifact {
        var rng = Xoshiro256(seed: seed)
        var nodes: [TreeNode] = [], counts: [Int] = [], words: [UInt32] = []
        for _ in 0..<trees {
            var tree: [TreeNode] = []
            func grow(_ depth: Int) -> Int {
                let index = tree.count
                tree.append(.leaf(0))
                if depth >= 4 || (depth > 0 && rng.nextUnit() < 0.25) {
                    tree[index] = .leaf(rng.nextUnit() * 2 - 1)
                    return index
                }
                let feature = Int(rng.nextUnit() * Double(features)) % features
                let categorical = rng.nextUnit() < 0.25
                let first = words.count
                if categorical {
                    words.append(UInt32(truncatingIfNeeded: Int(rng.nextUnit() * 4_294_967_295)))
                    words.append(UInt32(truncatingIfNeeded: Int(rng.nextUnit() * 4_294_967_295)))
                }
                let left = grow(depth + 1), right = grow(depth + 1)
                let defaultLeft = rng.nextUnit() < 0.5
                if categorical {
                    tree[index] = .categorical(feature: feature, left: left, right: right, defaultLeft: defaultLeft,
                                               membersGoRight: rng.nextUnit() < 0.5, firstWord: first, wordCount: 2)
                } else {
                    let missing: MissingType = comparison == .xgboost ? .nan : MissingType(rawValue: UInt8(rng.nextUnit() * 3))!
                    tree[index] = .numerical(feature: feature, threshold: Double(Float(rng.nextUnit() * 4 - 2)), left: left, right: right,
                                             missing: missing, defaultLeft: defaultLeft)
                }
                return index
            }
            _ = grow(0)
            counts.append(tree.count)
            nodes += tree
        }
        let transform: TreeEnsemble.Transform = seed % 3 == 0 ? .isolation : (seed % 3 == 1 ? .sigmoid : .identity)
        let ensemble = TreeEnsemble(comparison: comparison, aggregation: seed % 2 == 0 ? .mean : .sum, transform: transform,
                                    baseMargin: transform == .identity ? 0.5 : 0.1,
                                    transformParameter: transform == .isolation ? 3.2 : 0,
                                    treeNodeCounts: counts, nodes: nodes, categoryWords: words)
        return Artifact(name: "trees", version: "v-\(seed)", featureCount: features, threshold: 0.5,
                        parameters: .treeEnsemble(ensemble), referenceBins: [], acceptsMissing: true)
    }

    /// Values near thresholds, exact categories (0…70, beyond the bitsets), negatives, zeros, NaN.
    static func rows(_ count: Int, features: Int, seed: UInt64) -> [Float] {
        var rng = Xoshiro256(seed: seed)
        return (0..<(count * features)).map { _ in
            let u = rng.nextUnit()
            switch u {
            case ..<0.1: return .nan
            case ..<0.2: return 0
            case ..<0.25: return -0.5
            case ..<0.5: return Float(Int(rng.nextUnit() * 70))
            default: return Float(rng.nextUnit() * 4 - 2)
            }
        }
    }
}
