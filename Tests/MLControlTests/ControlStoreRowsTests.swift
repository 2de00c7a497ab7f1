import MLWire
import XCTest
@testable import MLControl

final class ControlStoreRowsTests: XCTestCase {
    private func row(_ minutesBefore: Double, version: String = "v1", node: String = "a:7000", f1: Double?,
                     p99: Double? = nil, error: Double? = nil, anomaly: Double? = nil, model: String = "fraud") -> MetricsRow {
        MetricsRow(timestamp: noon.addingTimeInterval(-minutesBefore * 60), modelName: model, modelVersion: version, node: node,
                   requestCount: 1_000, feedbackCount: 150, f1Score: f1, latencyP99Ms: p99, errorRate: error, anomalyRate: anomaly, driftScore: 0.01)
    }

    func testMetricsRowsRoundTripIncludingNulls() throws {
        let store = try ControlStore(database: SQLiteDatabase(path: ":memory:"))
        var full = row(1, f1: 0.93, p99: 12.5, error: 0.001, anomaly: 0.02)
        var sparse = row(2, f1: nil)
        sparse.driftScore = nil
        full.id = try store.insertMetrics(full)
        sparse.id = try store.insertMetrics(sparse)
        let read = try store.metrics(modelName: "fraud", from: noon.addingTimeInterval(-3600), to: noon)
        XCTAssertEqual(read, [full, sparse])
    }

    func testMetricsRowFromAWindowUsesTheWireFigures() {
        var window = Window.latency(nanos: 3_000_000, count: 400, requests: 400, version: "v2")
        window.errors = 4 + 6
        window.modelErrors = 4
        window.clientErrors = 6
        window.positives = 40
        window.truePositives = 30
        window.falsePositives = 10
        window.falseNegatives = 10
        let row = MetricsRow(window: window, modelName: "fraud", node: "a:7000", at: noon)
        XCTAssertEqual(row.modelVersion, "v2")
        XCTAssertEqual(row.requestCount, 400)
        XCTAssertEqual(row.feedbackCount, 50)
        XCTAssertEqual(row.f1Score, window.f1)
        XCTAssertEqual(row.errorRate, 4.0 / 404.0, "error_rate is the model's")
        XCTAssertEqual(row.modelErrorRate, 4.0 / 404.0)
        XCTAssertEqual(row.clientErrorRate, 6.0 / 410.0)
        XCTAssertEqual(row.labelCoverage, 50.0 / 400.0)
        XCTAssertEqual(row.anomalyRate, 0.1)
        XCTAssertEqual(row.latencyP99Ms, Window.reportedP99Ms(nanos: 3_000_000))
        XCTAssertNil(row.driftScore)
    }

    func testBaselineAveragesOnlyTheVersionsRowsInsideTheWindow() throws {
        let store = try ControlStore(database: SQLiteDatabase(path: ":memory:"))
        try store.insertMetrics([
            row(60, f1: 0.90, p99: 10, error: 0.01, anomaly: 0.02),
            row(600, f1: 0.80, p99: 30, error: 0.03, anomaly: 0.04),
            row(24 * 60, f1: 0.70, p99: nil, error: nil, anomaly: nil),  // exactly at the window's start: BETWEEN includes it
            row(24 * 60 + 1, f1: 0.10, p99: 999, error: 0.9, anomaly: 0.9),  // a minute too old
            row(-1, f1: 0.10, p99: 999, error: 0.9, anomaly: 0.9),  // after `before`
            row(30, version: "v2", f1: 0.10, p99: 999, error: 0.9, anomaly: 0.9),  // another version
            row(30, f1: 0.10, p99: 999, error: 0.9, anomaly: 0.9, model: "other"),  // another model
        ])
        let b = try store.baseline(modelName: "fraud", version: "v1", before: noon, window: 24 * 3600)
        XCTAssertEqual(b.rows, 3)
        XCTAssertEqual(b.f1!, 0.8, accuracy: 1e-12)
        XCTAssertEqual(b.latencyP99Ms!, 20, accuracy: 1e-12)  // NULLs are skipped, not averaged as 0
        XCTAssertEqual(b.errorRate!, 0.02, accuracy: 1e-12)
        XCTAssertEqual(b.anomalyRate!, 0.03, accuracy: 1e-12)
    }

    func testBaselineCanBeLimitedToOneNode() throws {
        let store = try ControlStore(database: SQLiteDatabase(path: ":memory:"))
        try store.insertMetrics([row(10, node: "a:7000", f1: 0.9), row(10, node: "b:7000", f1: 0.5)])
        XCTAssertEqual(try store.baseline(modelName: "fraud", version: "v1", node: "b:7000", before: noon).f1, 0.5)
        XCTAssertEqual(try store.baseline(modelName: "fraud", version: "v1", before: noon).f1!, 0.7, accuracy: 1e-12)
    }

    func testBaselineWithoutRowsIsAllNilNotNaN() throws {
        let store = try ControlStore(database: SQLiteDatabase(path: ":memory:"))
        try store.insertMetrics([row(10, f1: nil)])
        XCTAssertEqual(try store.baseline(modelName: "fraud", version: "v9", before: noon), BaselineFigures(rows: 0))
        let onlyNulls = try store.baseline(modelName: "fraud", version: "v1", before: noon)
        XCTAssertEqual(onlyNulls, BaselineFigures(rows: 1))
    }

    func testIncidentsRoundTripAndUpdatesKeepALog() throws {
        let store = try ControlStore(database: SQLiteDatabase(path: ":memory:"))
        let incident = IncidentRow(incidentID: "INC-1", alertType: "f1_drop", severity: "critical", affectedComponent: "fraud on a:7000",
                                   rootCause: "F1 0.712 dropped 0.214 below baseline 0.926 (limit 0.05) 4m12s after deploy",
                                   resolution: "Rolled back to previous version", status: "resolved", createdAt: noon,
                                   modelName: "fraud", node: "a:7000", fromVersion: "v2", toVersion: "v1", stabilityOutcome: "watching")
        try store.insertIncident(incident)
        let older = IncidentRow(incidentID: "INC-0", alertType: "anomaly_rate", severity: "warning", affectedComponent: "fraud",
                                rootCause: "spike", status: "investigating", createdAt: noon.addingTimeInterval(-60))
        try store.insertIncident(older)
        XCTAssertEqual(try store.incidents(), [incident, older])
        XCTAssertEqual(try store.incidents(limit: 1), [incident])
        XCTAssertEqual(try store.incidents(status: "investigating"), [older])

        let later = noon.addingTimeInterval(1800)
        XCTAssertTrue(try store.updateIncident(id: "INC-1", appendingNote: "verified health, ready, version v1", at: later))
        XCTAssertTrue(try store.updateIncident(id: "INC-1", stabilityOutcome: "stable", appendingNote: "stable for 30m00s", at: later))
        XCTAssertFalse(try store.updateIncident(id: "INC-404", status: "resolved", at: later))
        let updated = try XCTUnwrap(try store.incident(id: "INC-1"))
        XCTAssertEqual(updated.stabilityOutcome, "stable")
        XCTAssertEqual(updated.status, "resolved")
        XCTAssertEqual(updated.notes, "verified health, ready, version v1\nstable for 30m00s")
        XCTAssertEqual(updated.updatedAt, later)
        XCTAssertEqual(updated.createdAt, noon)
    }

    func testDuplicateIncidentIDIsRefusedNotOverwritten() throws {
        let store = try ControlStore(database: SQLiteDatabase(path: ":memory:"))
        let incident = IncidentRow(incidentID: "INC-1", alertType: "x", severity: "warning", affectedComponent: "c",
                                   rootCause: "first", status: "investigating", createdAt: noon)
        try store.insertIncident(incident)
        var second = incident
        second.rootCause = "second"
        XCTAssertThrowsError(try store.insertIncident(second))
        XCTAssertEqual(try store.incident(id: "INC-1")?.rootCause, "first")
    }

    func testIncidentIDsAreReadableAndDistinctPerNode() {
        let a = IncidentRow.makeID(at: noon, alertType: "f1_drop", node: "10.0.0.1:7000")
        let b = IncidentRow.makeID(at: noon, alertType: "f1_drop", node: "10.0.0.2:7000")
        XCTAssertTrue(a.hasPrefix("INC-20260228-120000-f1_drop-"), a)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a, IncidentRow.makeID(at: noon, alertType: "f1_drop", node: "10.0.0.1:7000"))
    }

    func testDeploymentsRoundTripNewestFirstAndFindTheLastActivation() throws {
        let store = try ControlStore(database: SQLiteDatabase(path: ":memory:"))
        var deploy = DeploymentRow(timestamp: noon, action: .deploy, actor: "manual", node: "a:7000", fromVersion: "v1",
                                   toVersion: "v2", generation: 2, swapMicros: 3.5, status: "ok", detail: "artifact fraud-v2.mlm")
        var rollback = DeploymentRow(timestamp: noon.addingTimeInterval(252), action: .rollback, actor: "f1_drop", node: "a:7000",
                                     fromVersion: "v2", toVersion: "v1", generation: 3, swapMicros: 2.25, status: "ok")
        var other = DeploymentRow(timestamp: noon.addingTimeInterval(10), action: .swap, actor: "manual", node: "b:7000",
                                  fromVersion: nil, toVersion: "v2", status: "failed", detail: "CAS refused")
        deploy.id = try store.insertDeployment(deploy)
        rollback.id = try store.insertDeployment(rollback)
        other.id = try store.insertDeployment(other)
        XCTAssertEqual(try store.deployments(), [rollback, other, deploy])
        XCTAssertEqual(try store.deployments(node: "a:7000"), [rollback, deploy])
        XCTAssertEqual(try store.lastActivation(node: "a:7000", version: "v2"), deploy)
        XCTAssertEqual(try store.lastActivation(node: "a:7000", version: "v1"), rollback)
        XCTAssertNil(try store.lastActivation(node: "b:7000", version: "v2"))  // failed swaps do not count
    }

    func testDeploymentActionOutsideTheListIsRejectedByTheSchema() throws {
        let store = try ControlStore(database: SQLiteDatabase(path: ":memory:"))
        XCTAssertThrowsError(try store.database.run(
            "INSERT INTO DEPLOYMENTS (timestamp, action, actor, node, status) VALUES ('2026-02-28 12:00:00', 'yolo', 'manual', 'a', 'ok')"))
    }
}
