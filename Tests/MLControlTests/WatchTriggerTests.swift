import Foundation
import MLClient
import MLWire
import XCTest
@testable import MLControl

/// Each trigger through a real watch run against an in-process node: traffic with feedback
/// between polls, a fake clock, and the database checked afterwards.
final class WatchTriggerTests: XCTestCase {
    func testF1DropAfterDeployRollsBackVerifiesRecordsAndWatchesStability() throws {
        let h = try WatchHarness(self)
        try h.seedBaseline()
        XCTAssertTrue(h.deployStandby().succeeded)
        XCTAssertEqual(h.node.activeVersion, "v2.1")
        try h.round()

        XCTAssertEqual(h.node.activeVersion, "v2.0", "the F1 drop must roll back at once")
        XCTAssertEqual(h.rolledBack().count, 1)
        let incidents = try h.store.incidents()
        XCTAssertEqual(incidents.count, 1)
        let incident = try XCTUnwrap(incidents.first)
        XCTAssertEqual(incident.alertType, "f1_drop")
        XCTAssertEqual(incident.severity, "critical")
        XCTAssertEqual(incident.status, "resolved")
        XCTAssertEqual(incident.resolution, "Rolled back to previous version")
        XCTAssertEqual(incident.fromVersion, "v2.1")
        XCTAssertEqual(incident.toVersion, "v2.0")
        XCTAssertTrue(incident.rootCause.hasPrefix("F1 0."), incident.rootCause)
        XCTAssertTrue(incident.rootCause.contains("below baseline 0.9"), incident.rootCause)
        XCTAssertTrue(incident.notes?.contains("step 3 verified: health OK, ready, active v2.0") ?? false, incident.notes ?? "")

        let history = try h.store.deployments()
        XCTAssertEqual(history.map(\.action), [.rollback, .deploy])
        XCTAssertEqual(history[0].actor, "f1_drop")
        XCTAssertEqual(history[0].fromVersion, "v2.1")
        XCTAssertEqual(history[0].toVersion, "v2.0")
        XCTAssertEqual(history[0].status, "ok")
        XCTAssertNotNil(history[0].swapMicros)
        XCTAssertEqual(history[1].actor, "manual")

        // The baseline rows are v2.0's, the judged window v2.1's.
        let rows = try h.store.metrics(modelName: "anomaly-detector", from: noon.addingTimeInterval(-1), to: h.clock.now)
        XCTAssertEqual(rows.filter { $0.modelVersion == "v2.0" }.count, 3)
        XCTAssertEqual(rows.filter { $0.modelVersion == "v2.1" }.count, 1)
        XCTAssertLessThan(try XCTUnwrap(rows.first { $0.modelVersion == "v2.1" }?.f1Score), 0.8)

        // Step 5: keep polling until the (compressed) stability window is over.
        for _ in 0..<6 where !h.loop.stabilitySettled { try h.round(2_000) }
        XCTAssertTrue(h.loop.stabilitySettled)
        let settled = try XCTUnwrap(try h.store.incident(id: incident.incidentID))
        XCTAssertEqual(settled.stabilityOutcome, "stable", settled.notes ?? "")
        XCTAssertEqual(h.node.activeVersion, "v2.0", "stability watching never flips again")
        XCTAssertTrue(h.notifications.contains { $0.contains("ROLLBACK [critical] f1_drop") })
    }

    func testAnomalySpikeOpensAnInvestigatingIncidentWithoutRollback() throws {
        let h = try WatchHarness(self)
        try h.seedBaseline()
        // mlp-v1 is as good as v2.0, so no F1 drop: only the traffic changes (half anomalies).
        XCTAssertTrue(h.deployStandby(artifact: "builtin:mlp-v1").succeeded)
        h.feedback = false
        var wantAnomaly = true
        h.labelFilter = { label in
            guard (label == 1) == wantAnomaly else { return false }
            wantAnomaly.toggle()
            return true
        }
        try h.round()
        try h.round()

        XCTAssertEqual(h.node.activeVersion, "mlp-v1", "the anomaly rule investigates first, never rolls back")
        XCTAssertTrue(h.rolledBack().isEmpty)
        let incidents = try h.store.incidents()
        XCTAssertEqual(incidents.count, 1, "one incident while it stays open, not one per poll")
        XCTAssertEqual(incidents.first?.alertType, "anomaly_rate")
        XCTAssertEqual(incidents.first?.status, "investigating")
        XCTAssertEqual(incidents.first?.severity, "warning")
        XCTAssertTrue(incidents.first?.rootCause.contains("× baseline") ?? false)
        XCTAssertEqual(try h.store.deployments().map(\.action), [.deploy])
    }

    func testMinimumSampleGuardHoldsWithLittleTraffic() throws {
        let h = try WatchHarness(self)
        try h.seedBaseline()
        XCTAssertTrue(h.deployStandby().succeeded)
        // 60 labels per window: v2.1 is just as bad, but below min_feedback (100) nothing judges.
        for _ in 0..<3 { try h.round(60) }
        XCTAssertEqual(h.node.activeVersion, "v2.1")
        XCTAssertTrue(try h.store.incidents().isEmpty)
        let rows = try h.store.metrics(modelName: "anomaly-detector", version: "v2.1", from: noon, to: h.clock.now)
        XCTAssertEqual(rows.count, 3, "rows are still recorded")
        // The same traffic at the threshold does trigger.
        try h.round(100)
        XCTAssertEqual(h.node.activeVersion, "v2.0")
    }

    func testF1DropOutsideTheDeployWindowDoesNotRollBack() throws {
        var policy = WatchHarness.testPolicy
        policy.deployWindowSeconds = 15
        let h = try WatchHarness(self, policy: policy)
        try h.seedBaseline()
        XCTAssertTrue(h.deployStandby().succeeded)
        h.clock.advance(60)
        try h.round()
        XCTAssertEqual(h.node.activeVersion, "v2.1", "past the deploy window the F1 rule no longer applies")
    }

    func testWebhookReceivesTheRollbackJSON() throws {
        let listener = try LoopbackHTTPServer()
        var policy = WatchHarness.testPolicy
        policy.webhookURL = listener.url
        policy.notifyTimeoutSeconds = 2
        let h = try WatchHarness(self, policy: policy)
        try h.seedBaseline()
        h.deployStandby()
        try h.round()
        let request = try XCTUnwrap(listener.request(timeout: 5))
        XCTAssertTrue(request.requestLine.hasPrefix("POST /hooks/ml-alerts"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        XCTAssertEqual(json["alert_type"] as? String, "f1_drop")
        XCTAssertEqual(json["action"] as? String, "rollback")
        XCTAssertEqual(json["from_version"] as? String, "v2.1")
        XCTAssertEqual(json["to_version"] as? String, "v2.0")
        XCTAssertEqual(json["incident_id"] as? String, try h.store.incidents().first?.incidentID)
        let notes = try XCTUnwrap(try h.store.incidents().first?.notes)
        XCTAssertTrue(notes.contains("webhook: ok (HTTP 200)"), notes)
    }
}
