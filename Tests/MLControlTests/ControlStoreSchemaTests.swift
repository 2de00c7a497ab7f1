import XCTest
@testable import MLControl

final class ControlStoreSchemaTests: XCTestCase {
    func testNewFileGetsAllTablesAndTheLatestSchemaVersion() throws {
        let store = try ControlStore(path: try temporaryDatabasePath(self))
        let tables = try store.database.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        XCTAssertEqual(tables.map { $0[0] }, [.text("DEPLOYMENTS"), .text("FLEET_DESIRED"), .text("FLEET_LOCKS"), .text("INCIDENTS"),
                                            .text("MODEL_METRICS"), .text("schema_version")])
        XCTAssertEqual(try store.schemaVersion, ControlStore.latestSchemaVersion)
        XCTAssertEqual(ControlStore.latestSchemaVersion, 3)
    }

    func testReopeningMigratesNothingAndKeepsTheData() throws {
        let path = try temporaryDatabasePath(self)
        do {
            let store = try ControlStore(path: path)
            try store.insertIncident(IncidentRow(incidentID: "INC-1", alertType: "f1_drop", severity: "critical",
                                                 affectedComponent: "node-a", rootCause: "test", status: "resolved", createdAt: noon))
        }
        for _ in 0..<3 {
            let store = try ControlStore(path: path)
            XCTAssertEqual(try store.schemaVersion, 3)
            XCTAssertEqual(try store.database.query("SELECT COUNT(*) FROM schema_version"), [[.integer(3)]])
            XCTAssertEqual(try store.incidents().map(\.incidentID), ["INC-1"])
        }
    }

    func testLaterMigrationsApplyOnceOnAnExistingFile() throws {
        let path = try temporaryDatabasePath(self)
        _ = try ControlStore(database: SQLiteDatabase(path: path), migrations: StoreMigration.all)
        let next = StoreMigration.all + [StoreMigration(version: 4, description: "add owner",
                                                        sql: "ALTER TABLE INCIDENTS ADD COLUMN owner TEXT")]
        let upgraded = try ControlStore(database: SQLiteDatabase(path: path), migrations: next)
        XCTAssertEqual(try upgraded.schemaVersion, 4)
        // A second open with the same list must not re-run the ALTER (it would fail: duplicate column).
        let again = try ControlStore(database: SQLiteDatabase(path: path), migrations: next)
        XCTAssertEqual(try again.schemaVersion, 4)
        let columns = try again.database.query("SELECT name FROM pragma_table_info('INCIDENTS') WHERE name = 'owner'")
        XCTAssertEqual(columns.count, 1)
    }

    func testAFailingMigrationLeavesTheFileAtTheLastGoodVersion() throws {
        let path = try temporaryDatabasePath(self)
        let broken = StoreMigration.all + [StoreMigration(version: 4, description: "broken",
                                                          sql: "CREATE TABLE half (x INTEGER); ALTER TABLE nowhere ADD COLUMN y")]
        XCTAssertThrowsError(try ControlStore(database: SQLiteDatabase(path: path), migrations: broken)) { error in
            XCTAssertTrue("\(error)".contains("migration 4 (broken) failed"), "\(error)")
        }
        let store = try ControlStore(path: path)
        XCTAssertEqual(try store.schemaVersion, 3)
        XCTAssertEqual(try store.database.query("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'"), [[.integer(0)]])
    }

    /// A version-1 file (before labels and the error split) gains the new columns and keeps its rows.
    func testAVersionOneFileIsMigratedKeepingItsRows() throws {
        let path = try temporaryDatabasePath(self)
        do {
            let old = try ControlStore(database: SQLiteDatabase(path: path), migrations: Array(StoreMigration.all.prefix(1)))
            try old.database.run("INSERT INTO MODEL_METRICS (timestamp, model_name, model_version, node, error_rate) VALUES ('2026-02-28 12:00:00', 'm', 'v1', 'n', 0.2)")
        }
        let store = try ControlStore(path: path)
        XCTAssertEqual(try store.schemaVersion, 3)
        let rows = try store.metrics(modelName: "m", from: noon.addingTimeInterval(-1), to: noon.addingTimeInterval(1))
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows.first?.errorRate, 0.2)
        XCTAssertNil(rows.first?.labelCoverage)
        for table in ["INCIDENTS", "DEPLOYMENTS"] {
            let columns = try store.database.query("SELECT name FROM pragma_table_info('\(table)') WHERE name IN ('trigger_rule', 'observed_value', 'threshold', 'sample_count', 'trigger_action', 'dry_run')")
            XCTAssertEqual(columns.count, 6, table)
        }
    }

    func testAFileFromANewerMlctlIsRefused() throws {
        let path = try temporaryDatabasePath(self)
        let store = try ControlStore(path: path)
        try store.database.run("INSERT INTO schema_version (version, description) VALUES (7, 'future')")
        XCTAssertThrowsError(try ControlStore(path: path)) { error in
            XCTAssertTrue("\(error)".contains("schema version 7"), "\(error)")
            XCTAssertTrue("\(error)".contains("upgrade mlctl"), "\(error)")
        }
    }

    /// A version-1 file (as the previous mlctl wrote it) keeps its DEPLOYMENTS rows and then
    /// accepts 'reconcile' rows with an operation id.
    func testVersionOneFileUpgradesDeploymentsToAcceptReconcile() throws {
        let path = try temporaryDatabasePath(self)
        do {
            let old = try ControlStore(database: SQLiteDatabase(path: path), migrations: Array(StoreMigration.all.prefix(1)))
            try old.database.run("INSERT INTO DEPLOYMENTS (timestamp, action, actor, node, status) VALUES ('2026-01-01 00:00:00', 'deploy', 'manual', 'n1', 'ok')")
            XCTAssertThrowsError(try old.database.run("INSERT INTO DEPLOYMENTS (timestamp, action, actor, node, status) VALUES ('2026-01-01 00:00:00', 'reconcile', 'x', 'n1', 'ok')"))
        }
        let store = try ControlStore(path: path)
        XCTAssertEqual(try store.schemaVersion, ControlStore.latestSchemaVersion)
        try store.insertDeployment(DeploymentRow(timestamp: noon, action: .reconcile, actor: "reconcile", node: "n1", fromVersion: "a",
                                                 toVersion: "b", status: "ok", operationID: "op-1"))
        XCTAssertEqual(try store.deployments().map(\.action), [.reconcile, .deploy])
        XCTAssertEqual(try store.deployments().first?.operationID, "op-1")
    }
}
