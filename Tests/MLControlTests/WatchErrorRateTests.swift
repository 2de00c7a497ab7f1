import Foundation
import MLModel
import MLWire
import XCTest
@testable import MLControl

/// The error-rate trigger through a live node: a deployed model that truly fails (every score
/// NaN: a kernel bug, see BrokenModel) makes the node answer INTERNAL and count the errors against
/// that version; the watch loop sees the rate and rolls back.
final class WatchErrorRateTests: XCTestCase {
    func testErrorRateAboveFivePercentRollsBackAtOnce() throws {
        // Keep F1 out of it: with so few successful predictions it would fire too.
        var policy = WatchHarness.testPolicy
        policy.minFeedback = 1_000_000
        let h = try WatchHarness(self, policy: policy)
        try h.seedBaseline()

        try BrokenModel.deploy(BrokenModel.make(version: "v9-overflow"), on: h.node.control, expectedActive: "v2.0")
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
