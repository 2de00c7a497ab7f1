import XCTest
@testable import MLControl

/// The runbook's SQL, as quoted in the README, against a database filled around the real
/// current time (these queries read SQLite's clock, as they would at the sqlite3 prompt).
final class RunbookQueriesTests: XCTestCase {
    private var store: ControlStore!
    /// Set in setUp: XCTest builds every test-case object when the run starts, so a property
    /// initialiser would be seconds stale by the time a test reads SQLite's clock.
    private var now = Date()

    override func setUpWithError() throws {
        now = Date()
        store = try ControlStore(path: try temporaryDatabasePath(self))
        func add(_ minutesAgo: Double, _ f1: Double, model: String = "fraud", version: String = "v1") throws {
            try store.insertMetrics(MetricsRow(timestamp: now.addingTimeInterval(-minutesAgo * 60), modelName: model,
                                               modelVersion: version, node: "a:7000", requestCount: 500, f1Score: f1,
                                               latencyP99Ms: f1 * 100, driftScore: f1 / 10))
        }
        // Twelve rows in the last hour, newest 2 minutes ago, one every 4 minutes.
        for i in 0..<12 { try add(2 + Double(i) * 4, 0.90 + Double(i) / 1000, version: "v2") }
        // The baseline day, between 24 h and 1 h ago.
        try add(2 * 60, 0.90)
        try add(12 * 60, 0.80)
        try add(23 * 60, 0.70)
        // Outside everything: 26 h ago.
        try add(26 * 60, 0.10)
        // Another model, just now.
        try add(1, 0.01, model: "other")
    }

    private func run(_ sql: String, _ parameters: [SQLiteValue]) throws -> [[SQLiteValue]] {
        try store.database.query(sql, parameters)
    }

    func testRecentMetricsReturnsTheTenNewestRowsOfTheLastHour() throws {
        let rows = try run(RunbookQueries.recentMetrics, [.text("fraud")])
        XCTAssertEqual(rows.count, 10)
        XCTAssertEqual(rows.first?[0], .text(SQLTime.string(now.addingTimeInterval(-120))))
        XCTAssertEqual(rows.first?[1].double ?? 0, 0.90, accuracy: 1e-12)
        XCTAssertEqual(rows.last?[1].double ?? 0, 0.909, accuracy: 1e-12)
        XCTAssertEqual(rows.map { $0[0].string ?? "" }, rows.map { $0[0].string ?? "" }.sorted(by: >))
        XCTAssertEqual(rows.first?.count, 4)  // timestamp, f1_score, latency_p99_ms, drift_score
    }

    func testBaselineAveragesThePreviousDayExcludingTheLastHour() throws {
        let rows = try run(RunbookQueries.baseline24h, [.text("fraud")])
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0][0].double ?? 0, 0.80, accuracy: 1e-12)  // (0.90 + 0.80 + 0.70) / 3
        XCTAssertEqual(rows[0][1].double ?? 0, 80, accuracy: 1e-9)
    }

    func testRecoveryCheckSeesOnlyTheLastFiveMinutes() throws {
        let rows = try run(RunbookQueries.recoveryCheck, [.text("fraud")])
        XCTAssertEqual(rows.map { $0[0] }, [.text(SQLTime.string(now.addingTimeInterval(-120)))])
        XCTAssertEqual(rows.first?.count, 3)
    }

    func testIncidentInsertFromTheRunbookIsReadableByTheStore() throws {
        try store.database.run(RunbookQueries.insertIncident, [
            .text("INC-manual-1"), .text("f1_drop"), .text("critical"), .text("fraud on a:7000"), .text("F1 fell after deploy"),
        ])
        let incident = try XCTUnwrap(try store.incident(id: "INC-manual-1"))
        XCTAssertEqual(incident.resolution, "Rolled back to previous version")
        XCTAssertEqual(incident.status, "resolved")
        XCTAssertEqual(incident.createdAt.timeIntervalSince1970, now.timeIntervalSince1970, accuracy: 5)
        XCTAssertEqual(incident.updatedAt, incident.createdAt)
    }
}
