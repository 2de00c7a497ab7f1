import Foundation

/// mlctl's records: MODEL_METRICS, INCIDENTS and DEPLOYMENTS in one SQLite file, with the
/// schema created and migrated on open. Every time is passed in by the caller (the watch loop's
/// injected clock), never read here, so tests and the compressed-time demo control it fully.
/// Like its connection, a store belongs to one thread at a time; open one per thread.
public final class ControlStore {
    public let database: SQLiteDatabase

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    public convenience init(path: String) throws(SQLiteError) {
        try self.init(database: SQLiteDatabase(path: path))
    }

    public convenience init(database: SQLiteDatabase) throws(SQLiteError) {
        try self.init(database: database, migrations: StoreMigration.all)
    }

    /// Tests pass their own migration list to exercise the upgrade path.
    init(database: SQLiteDatabase, migrations: [StoreMigration]) throws(SQLiteError) {
        self.database = database
        try Self.migrate(database, to: migrations)
    }

    /// The highest migration applied to this file (0 for a new file).
    public var schemaVersion: Int {
        get throws(SQLiteError) { try Self.currentVersion(database) }
    }

    /// The schema version this build writes.
    public static var latestSchemaVersion: Int { StoreMigration.all.last?.version ?? 0 }

    static func migrate(_ db: SQLiteDatabase, to migrations: [StoreMigration]) throws(SQLiteError) {
        // Under the write lock (BEGIN IMMEDIATE), so two controllers creating the same new file
        // queue on the busy timeout instead of racing.
        do {
            try db.transaction {
                try db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL)")
            }
        } catch let error as SQLiteError {
            throw error
        } catch {
            throw SQLiteError(code: 1, message: "creating schema_version failed: \(error)")
        }
        let known = migrations.last?.version ?? 0
        let found = try currentVersion(db)
        // Writing into a schema we do not understand could corrupt a newer mlctl's data.
        guard found <= known else {
            throw SQLiteError(code: 1, message: "database \(db.path) has schema version \(found); this mlctl understands up to \(known) — upgrade mlctl")
        }
        for migration in migrations where migration.version > found {
            do {
                try db.transaction {
                    // Re-check under the write lock: another controller may have migrated meanwhile.
                    guard try currentVersion(db) < migration.version else { return }
                    try db.exec(migration.sql)
                    try db.run("INSERT INTO schema_version (version, description) VALUES (?, ?)",
                               [.integer(Int64(migration.version)), .text(migration.description)])
                }
            } catch let error as SQLiteError {
                throw SQLiteError(code: error.code, extendedCode: error.extendedCode,
                                  message: "migration \(migration.version) (\(migration.description)) failed: \(error.message)", sql: error.sql)
            } catch {
                throw SQLiteError(code: 1, message: "migration \(migration.version) failed: \(error)")
            }
        }
    }

    static func currentVersion(_ db: SQLiteDatabase) throws(SQLiteError) -> Int {
        let rows = try db.query("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        return Int(rows.first?.first?.int64 ?? 0)
    }
}
