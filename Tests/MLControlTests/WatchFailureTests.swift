import Foundation
import MLClient
import MLModel
import MLWire
import XCTest
@testable import MLControl

/// "If Rollback Fails", the fence, and nodes that go away, through real watch runs.
final class WatchFailureTests: XCTestCase {
    /// An earlier attempt (or another controller) already rolled back when ours arrives: the
    /// fence refuses ours, nothing flips back to the bad version, and the incident says so.
    func testRetriedRollbackIsRefusedByTheFenceAndDoesNotFlipBack() throws {
        let h = try WatchHarness(self)
        try h.seedBaseline()
        h.deployStandby()
        h.loop.beforeRollback = { endpoint in
            let c = try? NodeClient(endpoint, timeout: 5)
            _ = try? c?.hello(role: .controller, token: InProcessNode.token)
            _ = try? c?.rollback(expectedActive: "v2.1")
        }
        try h.round()
        XCTAssertEqual(h.node.activeVersion, "v2.0", "exactly one flip: v2.1 -> v2.0")
        let history = try h.store.deployments()
        XCTAssertEqual(history.first?.status, "fenced")
        XCTAssertEqual(history.first?.actor, "f1_drop")
        let incident = try XCTUnwrap(try h.store.incidents().first)
        XCTAssertEqual(incident.status, "resolved")
        XCTAssertTrue(incident.notes?.contains("refused by the fence") ?? false, incident.notes ?? "")

        // Later rounds judge v2.0 (the restored version) and never flip to v2.1 again.
        h.loop.beforeRollback = nil
        for _ in 0..<3 { try h.round() }
        XCTAssertEqual(h.node.activeVersion, "v2.0")
        XCTAssertEqual(try h.store.deployments().filter { $0.status == "ok" && $0.action == .rollback }.count, 0)
    }

    /// The node dies just before the rollback: the failure is loud, recorded, health is
    /// retried, and the loop survives.
    func testRollbackFailureIsRecordedLoudlyAndTheLoopSurvives() throws {
        let h = try WatchHarness(self)
        try h.seedBaseline()
        h.deployStandby()
        try h.traffic()
        h.loop.beforeRollback = { _ in h.node.stop() }
        h.clock.advance(10)
        h.loop.pollRound()
        let incident = try XCTUnwrap(try h.store.incidents().first { $0.alertType == "f1_drop" })
        XCTAssertEqual(incident.status, "rollback_failed")
        XCTAssertTrue(incident.resolution?.hasPrefix("Rollback failed") ?? false)
        XCTAssertTrue(incident.notes?.contains("health check: unreachable") ?? false, incident.notes ?? "")
        XCTAssertTrue(h.notifications.contains { $0.contains("ROLLBACK_FAILED") && $0.contains("STILL SERVING") }, "\(h.notifications)")
        XCTAssertTrue(try h.store.deployments().contains { $0.action == .rollback && $0.status == "failed" })
        h.clock.advance(10)
        h.loop.pollRound()  // still alive: the node is down now
        XCTAssertTrue(try h.store.incidents().contains { $0.alertType == "node_unreachable" })
    }

    func testNodeGoingAwayMidWatchOpensAnIncidentAndWatchingResumesWhenItIsBack() throws {
        let h = try WatchHarness(self)
        try h.seedBaseline(rounds: 1)
        let port = h.node.port
        h.node.stop()
        // A real run: three rounds while the node is down, bounded by maxRounds.
        for _ in 0..<3 {
            h.clock.advance(10)
            h.loop.pollRound()
        }
        let down = try h.store.incidents()
        XCTAssertEqual(down.count, 1, "one incident per outage")
        XCTAssertEqual(down.first?.alertType, "node_unreachable")
        XCTAssertEqual(down.first?.status, "investigating")
        XCTAssertTrue(down.first?.rootCause.contains("127.0.0.1:\(port)") ?? false)

        let back = try InProcessNode(port: port)
        addTeardownBlock { back.stop() }
        h.clock.advance(10)
        h.loop.pollRound()
        let resolved = try XCTUnwrap(try h.store.incident(id: down[0].incidentID))
        XCTAssertEqual(resolved.status, "resolved")
        XCTAssertTrue(h.allEvents.contains { if case .nodeBack = $0 { true } else { false } })
        // And rows flow again.
        let c = try back.dataClient()
        var data = DemoData(seed: 3)
        _ = try DemoTraffic.send(to: c, count: 300, data: &data)
        h.clock.advance(10)
        h.loop.pollRound()
        let rows = try h.store.metrics(modelName: "anomaly-detector", from: noon, to: h.clock.now)
        XCTAssertEqual(rows.first?.requestCount, 300)
    }
}
