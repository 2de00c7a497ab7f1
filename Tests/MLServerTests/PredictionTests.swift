import MLClient
import MLModel
import MLServer
import MLWire
import XCTest

final class PredictionTests: XCTestCase {
    var node: TestNode!

    override func setUpWithError() throws { node = try TestNode() }
    override func tearDown() { node.stop() }

    func testLogisticPredictionsMatchReferenceComputation() throws {
        let client = try node.client()
        let model = BuiltinModels.model(version: "v2.0")!
        let artifact = BuiltinModels.build(version: "v2.0")!
        for (features, _) in demoRows(200) {
            let result = try client.predict(features)
            XCTAssertEqual(result.version, "v2.0")
            XCTAssertEqual(Double(result.score), referenceScore(artifact, features), accuracy: 1e-6)
            XCTAssertEqual(result.label, Double(result.score) >= Double(model.threshold) ? 1 : 0)
            XCTAssertEqual(result.generation, 1)
        }
    }

    func testMLPPredictionsMatchReferenceComputation() throws {
        let controller = try node.controller()
        _ = try controller.loadStandby(artifact: "builtin:mlp-v1")
        _ = try controller.swap(expectedActive: "v2.0")
        let client = try node.client()
        let artifact = BuiltinModels.build(version: "mlp-v1")!
        for (features, _) in demoRows(200, seed: 9) {
            let result = try client.predict(features)
            XCTAssertEqual(result.version, "mlp-v1")
            XCTAssertEqual(Double(result.score), referenceScore(artifact, features), accuracy: 1e-6)
        }
    }

    func testBatchPredictionEqualsSinglePredictions() throws {
        let client = try node.client()
        let rows = demoRows(64, seed: 3)
        let batch = try client.predictBatch(featureCount: 32, values: rows.flatMap(\.features))
        XCTAssertEqual(batch.scores.count, 64)
        for (index, row) in rows.enumerated() {
            let single = try client.predict(row.features)
            XCTAssertEqual(batch.scores[index], single.score)
            XCTAssertEqual(batch.labels[index], single.label)
        }
        XCTAssertEqual(batch.version, "v2.0")
    }

    func testPipelinedRepliesComeBackInOrderWithTheirIDs() throws {
        let client = try node.client()
        let rows = demoRows(500, seed: 4)
        let replies = try client.pipeline(rows.map { .predict(Predict(features: $0.features)) })
        XCTAssertEqual(replies.count, 500)
        let artifact = BuiltinModels.build(version: "v2.0")!
        for (reply, row) in zip(replies, rows) {
            guard case .predictResult(let result) = reply else { return XCTFail("\(reply)") }
            XCTAssertEqual(Double(result.score), referenceScore(artifact, row.features), accuracy: 1e-6)
        }
    }

    func testFeedbackBuildsTheConfusionMatrixOfTheVersionThatPredicted() throws {
        let client = try node.client()
        let controller = try node.controller()  // FEEDBACK is the controller's only
        var expected = (tp: UInt64(0), fp: UInt64(0), tn: UInt64(0), fn: UInt64(0))
        for (features, label) in demoRows(300, seed: 5) {
            let result = try client.predict(features)
            try controller.feedback(predicted: result.label, actual: label, version: result.version)
            switch (result.label, label) {
            case (1, 1): expected.tp += 1
            case (1, 0): expected.fp += 1
            case (0, 1): expected.fn += 1
            default: expected.tn += 1
            }
        }
        let metrics = try client.metrics()
        let v20 = try XCTUnwrap(metrics.versions.first { $0.version == "v2.0" })
        XCTAssertEqual(v20.requests, 300)
        XCTAssertEqual(v20.truePositives, expected.tp)
        XCTAssertEqual(v20.falsePositives, expected.fp)
        XCTAssertEqual(v20.trueNegatives, expected.tn)
        XCTAssertEqual(v20.falseNegatives, expected.fn)
        XCTAssertEqual(v20.latencyCount, 300)
        XCTAssertEqual(v20.scoreBins.reduce(0, +), 300)
        XCTAssertNotNil(v20.f1)
        XCTAssertNotNil(v20.drift)
        XCTAssertEqual(metrics.versions.first { $0.version == "v2.1" }?.requests, 0)
        XCTAssertRemote(.notFound, try controller.feedback(predicted: 1, actual: 1, version: "v9.9"))
    }

    func testWrongFeatureCountIsRefusedAndCountedAsAnError() throws {
        let client = try node.client()
        XCTAssertRemote(.invalidArgument, try client.predict([1, 2, 3]))
        XCTAssertRemote(.invalidArgument, try client.predict([Float](repeating: .nan, count: 32)))
        _ = try client.predict(demoRows(1)[0].features)
        let v20 = try XCTUnwrap(try client.metrics().versions.first { $0.version == "v2.0" })
        XCTAssertEqual(v20.errors, 2)
        XCTAssertEqual(v20.requests, 1)
    }

    func testHealthReadyAndInfoDescribeBothSlots() throws {
        let client = try node.client(role: nil)
        XCTAssertTrue(try client.health().serving)
        XCTAssertTrue(try client.ready().ready)
        XCTAssertRemote(.failedPrecondition, try client.info())
        try client.hello()
        let info = try client.info()
        XCTAssertEqual(info.active.version, "v2.0")
        XCTAssertEqual(info.standby.version, "v2.1")
        XCTAssertEqual(info.active.featureCount, 32)
        XCTAssertEqual(info.active.checksum, BuiltinModels.model(version: "v2.0")!.checksum)
        XCTAssertEqual(info.generation, 1)
        XCTAssertTrue(info.ready)
    }

    /// Finite in, finite out (ARTIFACT.md §16): an artifact with ±3e38 weights, fed ordinary rows
    /// and 32 × 3.4e38, scores in [0, 1] through the node; nothing is charged as a model error.
    func testHugeWeightsAndFeaturesStillScoreInZeroToOne() throws {
        let weights = (0..<32).map { $0 % 2 == 0 ? Float(3e38) : Float(-3e38) }
        let bytes = try ArtifactWriter.encode(Artifact(
            name: "overflow", version: "v9-huge", featureCount: 32, threshold: 0.5,
            parameters: .logistic(weights: weights, bias: 3e38),
            referenceBins: [Float](repeating: 0.05, count: ScoreBins.count)))
        let controller = try node.controller()
        _ = try controller.loadStandby(artifact: try node.writeFile("overflow.mlart", bytes))
        _ = try controller.swap(expectedActive: "v2.0")
        let client = try node.client()
        let huge = Float.greatestFiniteMagnitude
        let rows: [[Float]] = [[Float](repeating: 10, count: 32), [Float](repeating: huge, count: 32),
                               (0..<32).map { $0 % 3 == 0 ? -huge : huge }, demoRows(1)[0].features]
        for row in rows {
            let score = try client.predict(row).score
            XCTAssertTrue(score >= 0 && score <= 1, "score \(score)")
        }
        let batch = try client.predictBatch(featureCount: 32, values: rows.flatMap { $0 })
        XCTAssertTrue(batch.scores.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(batch.scores)")
        let metrics = try XCTUnwrap(try client.metrics().versions.first { $0.version == "v9-huge" })
        XCTAssertEqual(metrics.errors, 0)
    }

    /// A model that truly fails (a kernel bug; see BrokenModel) is the node's fault, not the
    /// request's: INTERNAL, counted as that version's error, and the node serves on.
    func testModelProducingNonFiniteScoresAnswersInternalAndCountsErrors() throws {
        try BrokenModel.deploy(BrokenModel.make(version: "v9-nan"), on: node.control, expectedActive: "v2.0")
        let client = try node.client()
        XCTAssertRemote(.internal, try client.predict([Float](repeating: 10, count: 32)))
        let batch = try client.pipeline([.predictBatch(PredictBatch(featureCount: 32, values: [Float](repeating: 10, count: 64)))])
        guard case .error(let status, _) = batch[0] else { return XCTFail("\(batch)") }
        XCTAssertEqual(status, .internal)
        XCTAssertEqual(try client.info().active.version, "v9-nan")
        let metrics = try XCTUnwrap(try client.metrics().versions.first { $0.version == "v9-nan" })
        XCTAssertEqual(metrics.errors, 2)
    }
}
