import Foundation
import MLWire
import XCTest
@testable import MLModel

final class ArtifactSpecTests: XCTestCase {
    private func spec(_ json: String) throws -> ArtifactSpec {
        try ArtifactSpec.decode(json: Array(json.utf8), source: "test.json")
    }

    func testLogisticSpecLoadsAndPredictsAsSpecified() throws {
        let json = """
            {"name": "fraud", "version": "v3.0", "kind": "logistic", "threshold": 0.6,
             "weights": [1.0, -2.0, 0.5], "bias": 0.25}
            """
        let bytes = try spec(json).makeArtifactBytes()
        let path = Fixtures.write(bytes, label: "spec")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try Model.load(path: path)
        XCTAssertEqual(model.name, "fraud")
        XCTAssertEqual(model.version, "v3.0")
        XCTAssertEqual(model.kind, .logistic)
        XCTAssertEqual(model.featureCount, 3)
        XCTAssertEqual(model.threshold, 0.6)
        XCTAssertEqual(model.referenceBins, Artifact.uniformBins)  // not 32 features: uniform
        let row: [Float] = [0.5, 0.25, 2]
        let expected = 1 / (1 + exp(-(0.5 - 0.5 + 1.0 + 0.25)))
        XCTAssertEqual(Double(row.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) }), expected, accuracy: 1e-6)
    }

    func testMLPSpecPredictsAsSpecified() throws {
        let json = """
            {"name": "m", "version": "v1", "kind": "mlp", "threshold": 0.5, "featureCount": 2,
             "layers": [{"weights": [[1, 0], [0, -1]], "biases": [0, 0]},
                        {"weights": [[2, 3]], "biases": [-1]}]}
            """
        let artifact = try spec(json).makeArtifact()
        let model = try Model.decode(bytes: try ArtifactWriter.encode(artifact), source: "spec")
        let row: [Float] = [0.5, -0.25]  // hidden = relu(0.5), relu(0.25) → z = 1 + 0.75 - 1
        XCTAssertEqual(Double(row.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) }), 1 / (1 + exp(-0.75)), accuracy: 1e-6)
    }

    func test32FeatureSpecWithoutBinsGetsDemoDataHistogram() throws {
        let weights = (0..<32).map { DemoData.anomalyShift(feature: $0) }
        let json = """
            {"name": "d", "version": "v1", "kind": "logistic", "threshold": 0.5, "weights": \(weights), "bias": -4}
            """
        let artifact = try spec(json).makeArtifact()
        XCTAssertNotEqual(artifact.referenceBins, Artifact.uniformBins)
        XCTAssertEqual(Double(artifact.referenceBins.reduce(0, +)), 1, accuracy: 1e-4)
    }

    func testSpecErrorsSayWhatIsWrong() {
        let cases: [(String, String)] = [
            (#"{"name": "x", "version": "v", "threshold": 0.5, "weights": [1], "bias": 0}"#, "missing field \"kind\""),
            (#"{"name": "x", "version": "v", "kind": "tree", "threshold": 0.5}"#, "unknown kind \"tree\""),
            (#"{"name": "x", "version": "v", "kind": "logistic", "threshold": 0.5, "weights": [1]}"#, "\"bias\""),
            (#"{"name": "x", "version": "v", "kind": "logistic", "threshold": 2, "weights": [1], "bias": 0}"#, "threshold"),
            (#"{"name": "x", "version": "v", "kind": "logistic", "threshold": 0.5, "weights": [], "bias": 0}"#, "feature count"),
            (#"{"name": "x", "version": "v", "kind": "logistic", "threshold": 0.5, "featureCount": 2, "weights": [1], "bias": 0}"#, "featureCount is 2"),
            (#"{"name": "x", "version": "v", "kind": "mlp", "threshold": 0.5, "layers": [{"weights": [[1, 2], [3]], "biases": [0, 0]}]}"#, "differ in length"),
            (#"{"name": "x", "version": "v", "kind": "mlp", "threshold": 0.5, "layers": [{"weights": [[1], [2]], "biases": [0, 0]}]}"#, "last layer must have 1 output"),
            (#"{"name": "x", "version": "v", "kind": "logistic", "threshold": "high", "weights": [1], "bias": 0}"#, "threshold"),
            (#"{"name": "x", "#, "invalid JSON"),
        ]
        for (json, fragment) in cases {
            assertRefused(.invalidArgument, containing: ["test.json", fragment]) {
                _ = try spec(json).makeArtifact(source: "test.json")
            }
        }
    }
}
