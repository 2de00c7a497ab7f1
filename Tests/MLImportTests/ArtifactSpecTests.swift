import Foundation
import MLImport
import MLModel
import XCTest

/// `mlctl artifact create`'s spec JSON (ARTIFACT.md §20): what it builds, and every refusal naming
/// its key path.
final class ArtifactSpecTests: XCTestCase {
    private func artifact(_ json: String) throws -> Artifact {
        try ArtifactSpec.artifact(json: Array(json.utf8), source: "test.json")
    }

    private func score(_ artifact: Artifact, _ row: [Float]) throws -> Double {
        let model = try Model.decode(bytes: try ArtifactWriter.encode(artifact), source: "spec")
        return Double(row.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) })
    }

    func testLogisticSpecPredictsAsSpecifiedAndHasNoMadeUpReference() throws {
        let built = try artifact("""
            {"name": "fraud", "version": "v3.0", "kind": "logistic", "threshold": 0.6,
             "weights": [1.0, -2.0, 0.5], "bias": 0.25}
            """)
        XCTAssertEqual(built.featureCount, 3)
        XCTAssertEqual(built.threshold, 0.6)
        XCTAssertEqual(built.referenceBins, [], "no referenceBins: drift is absent, not measured against invented bins")
        XCTAssertEqual(try score(built, [0.5, 0.25, 2]), 1 / (1 + exp(-1.25)), accuracy: 1e-6)
    }

    func testMLPActivationsAreServedAsWritten() throws {
        // tanh, then sigmoid hidden layers: the issue's "tanh served as ReLU" cannot happen again.
        let built = try artifact("""
            {"name": "m", "version": "v1", "kind": "mlp", "threshold": 0.5, "featureCount": 2,
             "referenceBins": [0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05],
             "layers": [{"weights": [[1, 0], [0, -1]], "biases": [0, 0], "activation": "tanh"},
                        {"weights": [[1, 1]], "biases": [0], "activation": "sigmoid"},
                        {"weights": [[2]], "biases": [-1]}]}
            """)
        let h1 = [tanh(0.5), tanh(0.25)]
        let h2 = 1 / (1 + exp(-(h1[0] + h1[1])))
        XCTAssertEqual(try score(built, [0.5, -0.25]), 1 / (1 + exp(-(2 * h2 - 1))), accuracy: 1e-6)
    }

    func testPreprocessingAndMissingValues() throws {
        let built = try artifact("""
            {"name": "p", "version": "v1", "kind": "logistic", "threshold": 0.5, "weights": [1, 1], "bias": 0,
             "acceptsMissing": true, "featureNames": ["a", "b"],
             "preprocessing": [{"type": "impute", "fill": [1, 2]}, {"type": "scale", "mean": [1, 0], "scale": [2, 4]}]}
            """)
        // x = (NaN → 1, 3) → ((1−1)/2, (3−0)/4) = (0, 0.75)
        XCTAssertEqual(try score(built, [.nan, 3]), 1 / (1 + exp(-0.75)), accuracy: 1e-6)
    }

    func testSpecErrorsNameTheKeyPath() {
        let head = #""name": "x", "version": "v", "threshold": 0.5"#
        let cases: [(String, String)] = [
            (#"{"# + head + #", "weights": [1], "bias": 0}"#, "kind: missing"),
            (#"{"# + head + #", "kind": "tree"}"#, "kind: unknown kind \"tree\"; expected logistic|mlp"),
            (#"{"# + head + #", "kind": "logistic", "weights": [1]}"#, "needs \"weights\" and \"bias\""),
            (#"{"name": "x", "version": "v", "kind": "logistic", "threshold": 2, "weights": [1], "bias": 0}"#, "threshold"),
            (#"{"# + head + #", "kind": "logistic", "featureCount": 2, "weights": [1], "bias": 0}"#, "featureCount: featureCount is 2"),
            (#"{"# + head + #", "kind": "logistic", "weights": [1], "bias": 0, "reference_bins": []}"#, "reference_bins: unknown key"),
            (#"{"# + head + #", "kind": "logistic", "weights": [1, 3.5e38], "bias": 0}"#, "weights[1]: 3.5e+38 is outside float32"),
            (#"{"# + head + #", "kind": "logistic", "weights": [1], "bias": "0"}"#, "bias: expected a number"),
            (#"{"name": "x", "version": "v", "kind": "logistic", "threshold": "high", "weights": [1], "bias": 0}"#, "threshold: expected a number"),
            (#"{"# + head + #", "kind": "mlp", "layers": [{"weights": [[1, 2], [3]], "biases": [0, 0]}, {"weights": [[1, 1]], "biases": [0]}]}"#, "layers[0].weights[1]: weight rows differ"),
            (#"{"# + head + #", "kind": "mlp", "layers": [{"weights": [[1]], "biases": [0]}, {"weights": [[1]], "biases": [0], "activation": "tanh"}]}"#, "layers[1].activation: the last layer's output is always sigmoid"),
            (#"{"# + head + #", "kind": "mlp", "layers": [{"weights": [[1]], "biases": [0], "activation": "tanh2"}, {"weights": [[1]], "biases": [0]}]}"#, "layers[0].activation: unknown activation \"tanh2\"; expected relu|tanh|sigmoid"),
            (#"{"# + head + #", "kind": "mlp", "layers": [{"weights": [[1]], "biases": [0], "bias": 1}]}"#, "layers[0].bias: unknown key"),
            (#"{"# + head + #", "kind": "logistic", "weights": [1], "bias": 0, "preprocessing": [{"type": "log"}]}"#, "preprocessing[0].type: unknown step type \"log\""),
            (#"{"# + head + #", "kind": "logistic", "weights": [1], "bias": 0, "acceptsMissing": true}"#, "accepts_missing needs"),
            (#"{"name": "x", "#, "invalid JSON"),
        ]
        for (json, fragment) in cases {
            do {
                _ = try artifact(json)
                XCTFail("accepted: \(json)")
            } catch let error as ImportError {
                XCTAssertTrue(error.message.contains("test.json"), error.message)
                XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'")
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    func testMlctlCreateRefusesABadSpecAndWritesNothing() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = directory.appendingPathComponent("s.json").path
        try #"{"name": "x", "version": "v", "threshold": 0.5, "kind": "mlp", "layers": [{"weights": [[1]], "biases": [0], "activation": "tanh2"}, {"weights": [[1]], "biases": [0]}]}"#
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("o.mlart").path
        let result = try Mlctl.run(["artifact", "create", spec, out])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("layers[0].activation: unknown activation \"tanh2\""), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
