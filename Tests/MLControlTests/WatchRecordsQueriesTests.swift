import Foundation
import MLClient
import MLModel
import XCTest
@testable import MLControl

/// A database filled by a real `WatchLoop.run` (fake clock ending at the real now, because the
/// runbook's queries read SQLite's clock), then the README's queries run against it.
final class WatchRecordsQueriesTests: XCTestCase {
    func testRunbookQueriesWorkOnADatabaseFilledByWatch() throws {
        let clock = FakeClock(Date().addingTimeInterval(-3 * 3600))
        var policy = WatchHarness.testPolicy
        policy.pollIntervalSeconds = 600
        let h = try WatchHarness(self, policy: policy, clock: clock)
        h.perRound = 300
        // The deploy happens mid-run, two hours in: 12 rounds of v2.0, then v2.1, rolled back.
        var round = 0
        let loop = WatchLoop(configuration: WatchConfiguration(nodes: [h.node.endpoint], policy: policy, maxRounds: 19),
                             store: h.store, access: NodeAccess(token: InProcessNode.token), notifier: Notifier(printLine: { _ in }),
                             clock: { clock.now }, sleep: { seconds in
                                 round += 1
                                 if round == 12 { h.deployStandby() }
                                 try? h.traffic()
                                 clock.advance(seconds)
                             })
        loop.run()
        XCTAssertEqual(loop.rounds, 19)
        XCTAssertEqual(h.node.activeVersion, "v2.0")

        let db = h.store.database
        let recent = try db.query(RunbookQueries.recentMetrics, [.text(BuiltinModels.modelName)])
        XCTAssertFalse(recent.isEmpty, "step 1: rows from the last hour")
        XCTAssertLessThanOrEqual(recent.count, 10)
        let baseline = try db.query(RunbookQueries.baseline24h, [.text(BuiltinModels.modelName)])
        let avgF1 = try XCTUnwrap(baseline.first?.first?.double)
        XCTAssertGreaterThan(avgF1, 0.85, "the baseline day is v2.0's")
        XCTAssertNotNil(baseline.first?[1].double)
        let recovery = try db.query(RunbookQueries.recoveryCheck, [.text(BuiltinModels.modelName)])
        XCTAssertFalse(recovery.isEmpty, "step 4: the last poll is within five minutes")
        let incidents = try db.query("SELECT incident_id, alert_type, status, resolution FROM INCIDENTS")
        XCTAssertEqual(incidents.count, 1)
        XCTAssertEqual(incidents.first?[3], .text("Rolled back to previous version"))
        try db.run(RunbookQueries.insertIncident, [.text("INC-manual-1"), .text("manual"), .text("low"), .text("fraud"), .text("by hand")])
        XCTAssertEqual(try h.store.incident(id: "INC-manual-1")?.status, "resolved")
    }
}
