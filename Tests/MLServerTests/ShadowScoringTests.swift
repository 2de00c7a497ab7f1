import Foundation
import MLClient
import MLModel
@testable import MLServer
import MLWire
import XCTest

/// Shadow scoring driven from outside over TCP: what the standby's counters say, that the
/// active's replies do not change, the refusals, and that a swap or a load ends shadowing.
final class ShadowScoringTests: XCTestCase {
    private var node: TestNode!

    override func setUpWithError() throws { node = try TestNode() }
    override func tearDown() { node.stop() }

    private func rows(_ count: Int, seed: UInt64 = 3) -> [(features: [Float], label: UInt8)] { demoRows(count, seed: seed) }

    private func shadowPair(_ client: NodeClient, active: String = "v2.0", standby: String = "v2.1") throws -> ShadowPairMetrics? {
        try client.metrics().shadow.pair(active: active, standby: standby)
    }

    /// Labels each built-in model gives a row, computed here from the models themselves.
    private func localLabel(_ version: String, _ features: [Float]) -> UInt8 {
        let model = BuiltinModels.model(version: version)!
        return features.withUnsafeBufferPointer { model.label(for: model.score(row: $0.baseAddress!)) }
    }

    func testEveryRowShadowedAtRateOneCountsAgreementAndLeavesRepliesByteIdentical() throws {
        let data = rows(300)
        let client = try node.client()
        let predicts: [Message] = data.map { .predict(Predict(features: $0.features)) }
        let before = try client.pipeline(predicts)

        let controller = try node.controller()
        let reply = try controller.setShadow(rate: 1, expectedStandby: "v2.1")
        XCTAssertEqual(reply.rate, 1)
        XCTAssertNotEqual(reply.session, 0)
        XCTAssertEqual([reply.activeVersion, reply.standbyVersion], ["v2.0", "v2.1"])
        XCTAssertEqual(try controller.info().extension?.shadowRate, 1)

        let during = try client.pipeline(predicts)
        XCTAssertEqual(during, before, "shadowing must not change a single reply")
        // A batch too: 50 rows in one frame.
        let batchValues = data.prefix(50).flatMap(\.features)
        let batch = try client.predictBatch(featureCount: DemoData.featureCount, values: batchValues)
        XCTAssertEqual(batch.version, "v2.0")

        let pair = try XCTUnwrap(try shadowPair(client))
        let shadowed = data + data.prefix(50)
        XCTAssertEqual(pair.rows, UInt64(shadowed.count))
        XCTAssertEqual(pair.standbyErrors, 0)
        let agreeing = shadowed.filter { localLabel("v2.0", $0.features) == localLabel("v2.1", $0.features) }.count
        XCTAssertEqual(pair.agreements, UInt64(agreeing))
        XCTAssertLessThan(agreeing, shadowed.count, "the demo's v2.1 disagrees with v2.0 on some rows")
        XCTAssertEqual(pair.differenceBins.reduce(0, +), pair.rows)
        XCTAssertEqual(pair.standbyScoreBins.reduce(0, +), pair.rows)
        XCTAssertEqual(pair.activeScoreBins.reduce(0, +), pair.rows)
        // One standby latency sample per request frame: 300 Predicts and one batch.
        XCTAssertEqual(pair.standbyLatencyBuckets.reduce(0) { $0 + $1.count }, 301)
        let status = try client.metrics().shadow
        XCTAssertEqual(status.session, reply.session)
        XCTAssertEqual([status.activeVersion, status.standbyVersion], ["v2.0", "v2.1"])
        // The active's own counters are those of the requests, shadow or not.
        let active = try XCTUnwrap(try client.metrics().versions.first { $0.version == "v2.0" })
        XCTAssertEqual(active.requests, UInt64(2 * data.count + 50))
    }

    func testStandbyProducingNonFiniteScoresCountsStandbyErrorsAndActiveRepliesAreUntouched() throws {
        // No valid artifact scores NaN any more (finite in, finite out): a kernel bug stand-in,
        // put in the standby directly and warmed as a load would.
        let broken = BrokenModel.make(version: "v9-nan")
        node.control.registry.register(broken)
        _ = try node.control.slots.loadStandby(broken, persist: { _ in }).get()
        WarmUp.run(broken, golden: [], rows: 0)
        let controller = try node.controller()
        _ = try controller.setShadow(rate: 1)
        let client = try node.client()
        let features = [Float](repeating: 10, count: 32)  // v9-nan scores NaN on every row; v2.0 does not
        let replies = try client.pipeline((0..<40).map { _ in .predict(Predict(features: features)) })
        for reply in replies {
            guard case .predictResult(let result) = reply else { return XCTFail("active reply failed: \(reply)") }
            XCTAssertEqual(result.version, "v2.0")
            XCTAssertTrue(result.score.isFinite)
        }
        _ = try client.predictBatch(featureCount: 32, values: [Float](repeating: 10, count: 32 * 10))
        let pair = try XCTUnwrap(try shadowPair(client, standby: "v9-nan"))
        XCTAssertEqual(pair.rows, 50)
        XCTAssertEqual(pair.standbyErrors, 50)
        XCTAssertEqual(pair.agreements, 0)
        XCTAssertNil(pair.agreementRate)
        let metrics = try client.metrics()
        let active = try XCTUnwrap(metrics.versions.first { $0.version == "v2.0" })
        XCTAssertEqual(active.requests, 50)
        XCTAssertEqual(active.modelErrors, 0)
        XCTAssertEqual(metrics.versions.first { $0.version == "v9-nan" }?.requests ?? 0, 0, "shadow rows are not the standby's requests")
    }

    /// An active that takes NaN as missing (a tree) and a standby that does not: a row with NaN is
    /// answered by the active and not shadowed (the standby would have refused it as the client's
    /// error), so it is neither a standby error nor a disagreement.
    func testRowsWithMissingValuesAreNotShadowedOnAStandbyThatRefusesThem() throws {
        let nodes: [TreeNode] = [.numerical(feature: 0, threshold: 0, left: 1, right: 2, missing: .nan, defaultLeft: true),
                                 .leaf(1.0), .leaf(-1.0)]
        let tree = Artifact(name: "anomaly-detector", version: "v5-tree", featureCount: 32, threshold: 0.5,
                            parameters: .treeEnsemble(TreeEnsemble(comparison: .xgboost, aggregation: .sum, transform: .sigmoid,
                                                                   baseMargin: 0, treeNodeCounts: [3], nodes: nodes)),
                            referenceBins: [Float](repeating: 0.05, count: ScoreBins.count), acceptsMissing: true)
        let controller = try node.controller()
        _ = try controller.loadStandby(artifact: try node.writeFile("tree.mlart", try ArtifactWriter.encode(tree)))
        _ = try controller.swap(expectedActive: "v2.0")
        XCTAssertEqual(try controller.info().standby.version, "v2.0")
        _ = try controller.setShadow(rate: 1)
        let client = try node.client()
        let data = rows(30, seed: 21).enumerated().map { i, row in
            i % 3 == 0 ? row.features.enumerated().map { $0.offset == 5 ? Float.nan : $0.element } : row.features
        }
        let replies = try client.pipeline(data.map { .predict(Predict(features: $0)) })
        for reply in replies {
            guard case .predictResult(let result) = reply else { return XCTFail("the active answers every row: \(reply)") }
            XCTAssertEqual(result.version, "v5-tree")
        }
        _ = try client.predictBatch(featureCount: 32, values: data.prefix(6).flatMap { $0 })
        let pair = try XCTUnwrap(try shadowPair(client, active: "v5-tree", standby: "v2.0"))
        XCTAssertEqual(pair.rows, 20 + 4, "rows with NaN (every third) are not shadowed")
        XCTAssertEqual(pair.standbyErrors, 0)
    }

    func testRateOutsideZeroToOneIsInvalidArgumentAndChangesNothing() throws {
        let controller = try node.controller()
        for rate in [Float(1.5), -0.1, .nan, .infinity] {
            XCTAssertRemote(.invalidArgument, .shadowRateOutOfRange, try controller.setShadow(rate: rate))
        }
        XCTAssertEqual(try controller.info().extension?.shadowRate, 0)
        XCTAssertEqual(try controller.metrics().shadow.session, 0)
        XCTAssertRemote(.failedPrecondition, .fenceStandbyMismatch, try controller.setShadow(rate: 0.5, expectedStandby: "v7"))
        // Only a controller may turn it on, and only on v2.
        XCTAssertRemote(.permissionDenied, .roleNotAllowed, try node.client().setShadow(rate: 0.5))
        let v1 = try NodeClient(node.endpoint, timeout: 10)
        try v1.hello(role: .controller, token: TestNode.token, maxVersion: 1)
        // A v1 ERROR carries no reason: UNIMPLEMENTED, as for any type v1 does not have.
        XCTAssertRemote(.unimplemented, try v1.setShadow(rate: 0.5))
        XCTAssertTrue(try v1.health().serving, "the v1 connection stays open")
    }

    func testEmptyStandbyCannotBeShadowed() throws {
        node.stop()
        node = try TestNode(standby: nil)
        XCTAssertRemote(.failedPrecondition, .standbyEmpty, try node.controller().setShadow(rate: 1))
        XCTAssertEqual(try node.controller().setShadow(rate: 0).session, 0, "turning it off always works")
    }

    func testSwapAndLoadEndShadowing() throws {
        let controller = try node.controller()
        let client = try node.client()
        let first = try controller.setShadow(rate: 1)
        _ = try client.predict(rows(1)[0].features)
        _ = try controller.swap(expectedActive: "v2.0")
        XCTAssertEqual(try controller.info().extension?.shadowRate, 0)
        XCTAssertEqual(try controller.metrics().shadow.session, 0)
        _ = try client.predict(rows(1)[0].features)
        XCTAssertNil(try shadowPair(client, active: "v2.1", standby: "v2.0"), "the swapped pair is not shadowed")
        XCTAssertEqual(try shadowPair(client)?.rows, 1)

        let second = try controller.setShadow(rate: 1)
        XCTAssertGreaterThan(second.session, first.session)
        _ = try controller.loadStandby(artifact: "builtin:mlp-v1")
        XCTAssertEqual(try controller.info().extension?.shadowRate, 0)
        XCTAssertEqual(try controller.metrics().shadow.session, 0)
        _ = try client.predict(rows(1)[0].features)
        let pairs = try client.metrics().shadow.pairs
        XCTAssertEqual(pairs.map(\.rows).reduce(0, +), 1, "nothing shadowed after the load")
    }

    /// Rows with prediction ids are sampled by SplitMix64's finaliser of the id (PROTOCOL.md
    /// §11.14.1), written out here independently of the node's code.
    func testRowsWithIDsAreSampledByTheirIDAndLabelsScoreBothModels() throws {
        func mix(_ id: UInt64) -> UInt64 {
            var z = id &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let rate: Float = 0.25
        let threshold = UInt64(Double(rate) * 18446744073709551616.0)
        let data = rows(400, seed: 11)
        let ids = (0..<UInt64(data.count)).map { 7_000 + $0 * 13 }
        let controller = try node.controller()
        _ = try controller.setShadow(rate: rate)
        let client = try node.client()
        _ = try client.pipeline(zip(data, ids).map { .predict(Predict(features: $0.0.features, predictionID: $0.1)) })
        let sampled = ids.indices.filter { mix(ids[$0]) < threshold }
        let pair = try XCTUnwrap(try shadowPair(client))
        XCTAssertEqual(pair.rows, UInt64(sampled.count))
        XCTAssertGreaterThan(sampled.count, 50)

        // Labels for every prediction, by id, from the controller.
        _ = try controller.call(.label(LabelRequest(items: zip(ids, data).map { .init(predictionID: $0.0, actualLabel: $0.1.label) })))
        func confusion(_ version: String) -> ConfusionCounts {
            var c = ConfusionCounts()
            for i in sampled {
                switch (localLabel(version, data[i].features), data[i].label) {
                case (1, 1): c.truePositives += 1
                case (1, _): c.falsePositives += 1
                case (_, 1): c.falseNegatives += 1
                default: c.trueNegatives += 1
                }
            }
            return c
        }
        let labelled = try XCTUnwrap(try shadowPair(client))
        XCTAssertEqual(labelled.activeConfusion, confusion("v2.0"))
        XCTAssertEqual(labelled.standbyConfusion, confusion("v2.1"))
        XCTAssertEqual(labelled.labelledRows, UInt64(sampled.count))
    }

    /// `/metrics` renders the node's live shadow block; every line parses as exposition format.
    func testPrometheusExportsTheShadowPair() throws {
        _ = try node.controller().setShadow(rate: 1)
        let client = try node.client()
        _ = try client.pipeline(rows(120).map { .predict(Predict(features: $0.features)) })
        let text = PrometheusExposition.render(info: node.control.info(), metrics: node.control.metrics(), ready: true)
        let (samples, types) = try AdminPrometheusTests.parseExposition(text)
        XCTAssertEqual(types["mlserve_shadow_standby_duration_seconds"], "histogram")
        func value(_ name: String, _ extra: [String: String] = [:]) -> Double? {
            samples.first { $0.name == name && $0.labels == ["active": "v2.0", "standby": "v2.1"].merging(extra) { a, _ in a } }?.value
        }
        XCTAssertEqual(samples.first { $0.name == "mlserve_shadow_rate" }?.value, 1)
        XCTAssertEqual(value("mlserve_shadow_rows_total"), 120)
        let pair = try XCTUnwrap(try shadowPair(client))
        XCTAssertEqual(value("mlserve_shadow_agreements_total"), Double(pair.agreements))
        XCTAssertEqual(value("mlserve_shadow_standby_duration_seconds_count"), 120)
        XCTAssertEqual(value("mlserve_shadow_labels_total", ["role": "standby", "outcome": "tp"]), 0)
    }

    /// Without ids, exactly `rate` of the rows by request order.
    func testRowsWithoutIDsAreSampledByRequestOrder() throws {
        _ = try node.controller().setShadow(rate: 0.1)
        let client = try node.client()
        // One connection lands on one loop, whose accumulator samples exactly one row in ten.
        _ = try client.pipeline(rows(500).map { .predict(Predict(features: $0.features)) })
        XCTAssertEqual(try shadowPair(client)?.rows, 50)
    }
}
