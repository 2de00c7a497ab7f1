import Foundation
import MLModel
import MLWire
import XCTest
@testable import MLControl

/// The error-rate trigger through a live node: a deployed model whose arithmetic overflows to
/// NaN on most rows makes the node answer INTERNAL and count the errors against that version;
/// the watch loop sees the rate and rolls back.
final class WatchErrorRateTests: XCTestCase {
    func testErrorRateAboveFivePercentRollsBackAtOnce() throws {
        // Keep F1 out of it: with so few successful predictions it would fire too.
        var policy = WatchHarness.testPolicy
        policy.minFeedback = 1_000_000
        let h = try WatchHarness(self, policy: policy)
        try h.seedBaseline()

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overflow-\(UUID().uuidString).mlart").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try ArtifactWriter.write(Artifact(
            name: "anomaly-detector", version: "v9-overflow", featureCount: 32, threshold: 0.5,
            parameters: .logistic(weights: (0..<32).map { $0 % 2 == 0 ? Float(3e38) : Float(-3e38) }, bias: 0),
            referenceBins: [Float](repeating: 0.05, count: ScoreBins.count)), toPath: path)
        XCTAssertTrue(h.deployStandby(artifact: path).succeeded)
        XCTAssertEqual(h.node.activeVersion, "v9-overflow")
        try h.round()

        XCTAssertEqual(h.node.activeVersion, "v2.0", "an error rate over 5% must roll back at once")
        let incident = try XCTUnwrap(try h.store.incidents().first)
        XCTAssertEqual(incident.alertType, "error_rate")
        XCTAssertEqual(incident.status, "resolved")
        XCTAssertEqual(incident.fromVersion, "v9-overflow")
        let window = try XCTUnwrap(try h.store.metrics(modelName: "anomaly-detector", from: noon.addingTimeInterval(-1), to: h.clock.now)
            .first { $0.modelVersion == "v9-overflow" })
        XCTAssertGreaterThan(try XCTUnwrap(window.errorRate), 0.05)
        XCTAssertEqual(try h.store.deployments().first?.actor, "error_rate")
    }
}
