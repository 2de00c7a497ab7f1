import Foundation
import MLClient
import MLModel
import MLWire
import XCTest
@testable import MLControl

/// What a trigger does is the operator's: `pause` and `dry_run` record and notify and leave
/// the node exactly as it was; `mlctl resolve` (the store update) ends a pause.
final class WatchActionsTests: XCTestCase {
    /// A model that truly fails. A valid artifact cannot any more (finite in, finite out), so the
    /// deploy goes through the fleet path with a valid v9-failing (recorded in DEPLOYMENTS), then a
    /// BrokenModel of the same version (every score NaN: a kernel bug) takes the active slot.
    private func deployFailingModel(_ h: WatchHarness) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("failing-\(UUID().uuidString).mlart").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        _ = try ArtifactWriter.write(Artifact(
            name: "anomaly-detector", version: "v9-failing", featureCount: 32, threshold: 0.5,
            parameters: .logistic(weights: (0..<32).map { $0 % 2 == 0 ? Float(3e38) : Float(-3e38) }, bias: 0),
            referenceBins: [Float](repeating: 0.05, count: ScoreBins.count)), toPath: path)
        XCTAssertTrue(h.deployStandby(artifact: path).succeeded)
        // Flip back (v2.0 active), put the broken twin in standby, flip again: v2.0 stays the
        // standby a rollback would return to.
        _ = try h.node.control.swap(expectedActive: "v9-failing").get()
        try BrokenModel.deploy(BrokenModel.make(version: "v9-failing"), on: h.node.control, expectedActive: "v2.0")
        // The error trigger needs a model that really fails: probe it.
        var data = DemoData(seed: 5)
        let replies = try h.node.dataClient().pipeline((0..<20).map { _ in .predict(Predict(features: data.next().features)) })
        let failed = replies.filter { if case .error(.internal, let body) = $0 { body.reason == .modelFailed } else { false } }
        XCTAssertFalse(failed.isEmpty, "the broken model did not fail")
    }

    private func policy() -> RunbookPolicy {
        var p = WatchHarness.testPolicy
        p.minFeedback = 1_000_000  // keep F1 out of it: only the error rule
        return p
    }

    func testPauseOpensAPausedIncidentNotifiesAndChangesNothingUntilResolved() throws {
        var p = policy()
        p.actions[.errorRate] = .pause
        let h = try WatchHarness(self, policy: p)
        try h.seedBaseline()
        try deployFailingModel(h)
        let before = h.node.control.info()
        try h.round()
        try h.round()
        let after = h.node.control.info()
        XCTAssertEqual(after.active.version, "v9-failing", "pause never swaps")
        XCTAssertEqual(after.generation, before.generation)
        let incidents = try h.store.incidents()
        XCTAssertEqual(incidents.count, 1, "one pause, then the loop waits")
        let incident = try XCTUnwrap(incidents.first)
        XCTAssertEqual(incident.status, "paused")
        XCTAssertEqual(incident.why?.rule, "error_rate")
        XCTAssertEqual(incident.why?.action, "pause")
        XCTAssertEqual(incident.why?.dryRun, false)
        XCTAssertGreaterThan(try XCTUnwrap(incident.why?.observed), 0.05)
        XCTAssertEqual(incident.why?.threshold, 0.05)
        XCTAssertTrue(h.allEvents.contains { if case .waiting = $0 { true } else { false } })
        XCTAssertTrue(h.notifications.contains { $0.contains("PAUSE [critical] error_rate") }, "\(h.notifications)")
        XCTAssertFalse(try h.store.deployments().contains { $0.action == .rollback }, "no rollback recorded")

        // Resolving by hand ends the hold; the rule then acts again (and pauses again).
        try h.store.updateIncident(id: incident.incidentID, status: "resolved", at: h.clock.now)
        try h.round()
        XCTAssertEqual(try h.store.incidents(status: "paused").count, 1)
        XCTAssertEqual(h.node.activeVersion, "v9-failing")
    }

    func testDryRunRecordsWhatWouldHaveBeenDoneAndChangesNothing() throws {
        let h = try WatchHarness(self, policy: policy(), dryRun: true)
        try h.seedBaseline()
        try deployFailingModel(h)
        let before = h.node.control.info()
        try h.round()
        try h.round()
        XCTAssertEqual(h.node.control.info().active.version, "v9-failing")
        XCTAssertEqual(h.node.control.info().generation, before.generation)
        let incident = try XCTUnwrap(try h.store.incidents().first)
        XCTAssertEqual(try h.store.incidents().count, 1, "recorded once while open")
        XCTAssertEqual(incident.status, "dry_run")
        XCTAssertEqual(incident.why?.action, "rollback")
        XCTAssertEqual(incident.why?.dryRun, true)
        XCTAssertEqual(incident.toVersion, "v2.0")
        let wouldBe = try XCTUnwrap(try h.store.deployments().first)
        XCTAssertEqual(wouldBe.status, "dry_run")
        XCTAssertEqual(wouldBe.action, .rollback)
        XCTAssertEqual(wouldBe.why?.dryRun, true)
        XCTAssertNotEqual(try h.store.lastActivation(node: h.node.endpoint.description, version: "v2.0")?.status, "dry_run",
                          "a dry run is never taken for an activation")
        let json = try JSONSerialization.jsonObject(with: AlertNotification(incidentID: incident.incidentID, trigger: Trigger(
            rule: .errorRate, modelName: "m", version: "v9", observed: 0.5, baseline: nil, threshold: 0.05, samples: 10,
            sinceDeploy: nil, sentence: "s", action: .rollback, dryRun: true), node: "n", restoredVersion: "v2.0", at: noon).jsonData()) as? [String: Any]
        XCTAssertEqual(json?["schema_version"] as? Int, AlertNotification.schemaVersion)
        XCTAssertEqual(json?["dry_run"] as? Bool, true)
        XCTAssertEqual(json?["rule"] as? String, "error_rate")
        XCTAssertNotNil(json?["summary"] as? String)
    }
}
