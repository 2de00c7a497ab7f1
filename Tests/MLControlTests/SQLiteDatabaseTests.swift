import CSQLite
import XCTest
@testable import MLControl

final class SQLiteDatabaseTests: XCTestCase {
    func testBoundValuesOfEveryTypeReadBackUnchanged() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try db.exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, n TEXT)")
        let insert = try db.prepare("INSERT INTO t VALUES (?, ?, ?, ?)")
        try insert.bind(1, Int64.min)
        try insert.bind(2, 0.1 + 0.2)
        try insert.bind(3, "ünïcode ✓ 'quoted'")
        try insert.bind(4, nil as String?)
        XCTAssertFalse(try insert.step())
        let select = try db.prepare("SELECT i, r, s, n FROM t")
        XCTAssertTrue(try select.step())
        XCTAssertEqual(select.int64(0), Int64.min)
        XCTAssertEqual(select.double(1), 0.1 + 0.2)
        XCTAssertEqual(select.string(2), "ünïcode ✓ 'quoted'")
        XCTAssertTrue(select.isNull(3))
        XCTAssertNil(select.optionalString(3))
        XCTAssertFalse(try select.step())
    }

    func testNonFiniteDoublesAreStoredAsNull() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        let rows = try db.query("SELECT ?, ?", [.real(.nan), .real(.infinity)])
        XCTAssertEqual(rows, [[.null, .null]])
    }

    func testFileDatabaseUsesWriteAheadLog() throws {
        let db = try SQLiteDatabase(path: try temporaryDatabasePath(self))
        XCTAssertEqual(try db.query("PRAGMA journal_mode"), [[.text("wal")]])
    }

    func testErrorsCarrySQLitesMessageAndTheStatement() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        XCTAssertThrowsError(try db.prepare("SELECT * FROM no_such_table")) { error in
            let e = error as? SQLiteError
            XCTAssertEqual(e?.code, SQLITE_ERROR)
            XCTAssertEqual(e?.message, "no such table: no_such_table")
            XCTAssertTrue(e?.description.contains("SELECT * FROM no_such_table") ?? false)
        }
        try db.exec("CREATE TABLE u (k TEXT PRIMARY KEY)")
        try db.run("INSERT INTO u VALUES (?)", [.text("a")])
        XCTAssertThrowsError(try db.run("INSERT INTO u VALUES (?)", [.text("a")])) { error in
            XCTAssertTrue((error as? SQLiteError)?.isConstraintViolation ?? false)
            XCTAssertTrue("\(error)".contains("UNIQUE constraint failed: u.k"), "\(error)")
        }
    }

    func testBindingTheWrongNumberOfValuesIsRefused() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        XCTAssertThrowsError(try db.query("SELECT ?, ?", [.integer(1)])) { error in
            XCTAssertTrue("\(error)".contains("2 parameters, 1 values given"), "\(error)")
        }
    }

    func testOpeningAPathInAMissingDirectoryNamesThePath() {
        XCTAssertThrowsError(try SQLiteDatabase(path: "/nonexistent-dir/x.sqlite")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent-dir/x.sqlite"), "\(error)")
        }
    }

    func testTransactionRollsBackWhenTheBodyThrows() throws {
        struct Boom: Error {}
        let db = try SQLiteDatabase(path: ":memory:")
        try db.exec("CREATE TABLE t (v INTEGER)")
        XCTAssertThrowsError(try db.transaction {
            try db.run("INSERT INTO t VALUES (1)")
            throw Boom()
        })
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try db.query("SELECT COUNT(*) FROM t"), [[.integer(0)]])
        try db.transaction { try db.run("INSERT INTO t VALUES (2)") }
        XCTAssertEqual(try db.query("SELECT v FROM t"), [[.integer(2)]])
    }

    func testNestedTransactionIsMisuse() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        XCTAssertThrowsError(try db.transaction { try db.transaction {} }) { error in
            XCTAssertEqual((error as? SQLiteError)?.code, SQLITE_MISUSE)
        }
    }

    func testTimestampsRoundTripInSQLitesOwnFormat() throws {
        XCTAssertEqual(SQLTime.string(noon), "2026-02-28 12:00:00")
        XCTAssertEqual(SQLTime.date("2026-02-28 12:00:00"), noon)
        XCTAssertEqual(SQLTime.iso8601(noon), "2026-02-28T12:00:00Z")
        XCTAssertEqual(SQLTime.date("2026-02-28T12:00:00Z"), noon)
        XCTAssertNil(SQLTime.date("yesterday"))
        // SQLite's datetime() agrees with our formatting for the same instant.
        let db = try SQLiteDatabase(path: ":memory:")
        XCTAssertEqual(try db.query("SELECT datetime(?, 'unixepoch')", [.integer(1_772_280_000)]), [[.text("2026-02-28 12:00:00")]])
    }
}
