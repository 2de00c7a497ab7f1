import Foundation
import MLClient
import MLModel
import MLWire
import XCTest
@testable import MLControl

/// From outside, what a client with no token can and cannot do to the runbook: a real node, a
/// real watch loop, traffic on real connections.
final class WatchBadInputTests: XCTestCase {
    /// Frames a tokenless data client sends: NaN, ±Inf, the wrong width, a malformed payload.
    private func badRequests(count: Int) -> [Message] {
        var out: [Message] = []
        var nan = [Float](repeating: 0.5, count: DemoData.featureCount)
        nan[7] = .nan
        var inf = nan
        inf[7] = -.infinity
        for i in 0..<count {
            switch i % 4 {
            case 0: out.append(.predict(Predict(features: nan)))
            case 1: out.append(.predict(Predict(features: inf)))
            case 2: out.append(.predict(Predict(features: [1, 2, 3])))
            default: out.append(.predictBatch(PredictBatch(featureCount: 2, values: [1, .nan, 3, 4])))
            }
        }
        return out
    }

    func testATokenlessClientSendingOnlyBadRowsBesideNormalTrafficCannotCauseARollback() throws {
        // Deploy the good model (v2.0) over the worse one: nothing a model does can fire a rule here.
        var policy = WatchHarness.testPolicy
        policy.pollIntervalSeconds = 60  // 31 polls cover the 30-minute deploy window
        let h = try WatchHarness(self, policy: policy, node: try InProcessNode(active: "builtin:v2.1", standby: "builtin:v2.0"))
        try h.seedBaseline()
        XCTAssertTrue(h.deployStandby(artifact: "builtin:v2.0").succeeded)
        let attacker = try h.node.dataClient()
        let generation = h.node.control.info().generation
        // The whole deploy window (30 min) at 10 s polls: three bad requests for every good one.
        let rounds = Int(h.policy.deployWindowSeconds / h.policy.pollIntervalSeconds) + 1
        for _ in 0..<rounds {
            let replies = try attacker.pipeline(badRequests(count: 3_000))
            XCTAssertTrue(replies.allSatisfy { if case .error(.invalidArgument, _) = $0 { true } else { false } })
            try h.round(1_000)
        }
        XCTAssertEqual(h.node.activeVersion, "v2.0", "client errors must never roll a healthy model back: "
                       + ((try? h.store.incidents().map(\.rootCause).joined(separator: "; ")) ?? ""))
        XCTAssertEqual(h.node.control.info().generation, generation)
        XCTAssertTrue(h.rolledBack().isEmpty)
        XCTAssertTrue(try h.store.incidents().isEmpty)
        let rows = try h.store.metrics(modelName: "anomaly-detector", version: "v2.0", from: noon, to: h.clock.now)
        XCTAssertEqual(rows.count, rounds)
        for row in rows {
            XCTAssertEqual(row.modelErrorRate, 0)
            XCTAssertEqual(row.errorRate, 0, "error_rate holds the model's rate")
            XCTAssertEqual(try XCTUnwrap(row.clientErrorRate), 0.75, accuracy: 1e-9)
        }
        let live = try XCTUnwrap(try h.node.dataClient().metrics().versions.first { $0.version == "v2.0" })
        XCTAssertEqual(live.modelErrors, 0)
        XCTAssertEqual(live.clientErrors, UInt64(3_000 * rounds))
    }

    func testTheClientErrorAlertNotifiesWithoutTouchingTheNode() throws {
        var policy = WatchHarness.testPolicy
        policy.clientErrorRateLimit = 0.5
        let h = try WatchHarness(self, policy: policy)
        try h.seedBaseline()
        let attacker = try h.node.dataClient()
        _ = try attacker.pipeline(badRequests(count: 2_000))
        try h.round(1_000)
        XCTAssertEqual(h.node.activeVersion, "v2.0")
        let incident = try XCTUnwrap(try h.store.incidents().first)
        XCTAssertEqual(incident.alertType, "client_error_rate")
        XCTAssertEqual(incident.status, "investigating")
        XCTAssertEqual(incident.why?.action, "notify")
        XCTAssertEqual(try XCTUnwrap(incident.why?.observed), 2_000.0 / 3_000, accuracy: 1e-9)
        XCTAssertEqual(incident.why?.samples, 3_000)
    }

    /// Rows whose finite but huge values overflowed the old kernels (INTERNAL, a "model error").
    /// Needs finite-in/finite-out kernels (helper `models`); skipped until a node scores them.
    func testHugeFiniteFeaturesAreNeitherModelErrorsNorARollback() throws {
        let h = try WatchHarness(self)
        let huge = (0..<DemoData.featureCount).map { $0 % 2 == 0 ? Float(3.4e38) : Float(-3.4e38) }
        do { _ = try h.node.dataClient().predict(huge) } catch ClientError.remote(.internal, _, _) {
            throw XCTSkip("this build's kernels still overflow on huge finite rows (finite-in/finite-out kernels not merged)")
        }
        try h.seedBaseline()
        let client = try h.node.dataClient()
        for _ in 0..<3 {
            _ = try client.pipeline((0..<2_000).map { _ in .predict(Predict(features: huge)) })
            try h.round(1_000)
        }
        XCTAssertEqual(h.node.activeVersion, "v2.0")
        XCTAssertTrue(h.rolledBack().isEmpty)
        XCTAssertEqual(try XCTUnwrap(try client.metrics().versions.first { $0.version == "v2.0" }).modelErrors, 0)
    }
}
