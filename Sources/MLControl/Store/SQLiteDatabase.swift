import CSQLite
import Glibc

/// One SQLite connection. Opened with `SQLITE_OPEN_NOMUTEX`: SQLite does no locking of its own
/// on this handle, so a connection (and its statements) belongs to one thread at a time; open
/// one per thread instead of sharing. WAL lets the watch loop write while a `mlctl incidents`
/// in another process reads, and the busy timeout makes the two wait for each other instead of
/// failing with SQLITE_BUSY.
public final class SQLiteDatabase {
    let handle: OpaquePointer?
    public let path: String

    /// - Parameters:
    ///   - path: a file path, or ":memory:" for a private in-memory database (tests).
    ///   - busyTimeoutMillis: how long a statement waits for another connection's lock.
    public init(path: String, busyTimeoutMillis: Int32 = 5_000) throws(SQLiteError) {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            // A handle is returned even on most failures and must still be closed.
            let error = SQLiteError(code: rc == SQLITE_OK ? SQLITE_CANTOPEN : rc, db: db, sql: nil)
            sqlite3_close_v2(db)
            throw SQLiteError(code: error.code, extendedCode: error.extendedCode,
                              message: "cannot open \(path): \(error.message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMillis)
        try enableWriteAheadLog(busyTimeoutMillis: busyTimeoutMillis)
        // NORMAL is durable across application crashes in WAL mode; FULL only adds power-loss
        // safety for the last transactions, not worth an fsync per metrics poll.
        try exec("PRAGMA synchronous=NORMAL")
    }

    /// Switching a new file to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
    /// (without the busy handler) when another connection is opening the same file: two
    /// controllers creating one new `--db` at the same moment. Retried here within the busy
    /// timeout; WAL is recorded in the file, so once anyone has switched it the pragma is a no-op.
    private func enableWriteAheadLog(busyTimeoutMillis: Int32) throws(SQLiteError) {
        var waited: Int32 = 0
        while true {
            do {
                // journal_mode answers with a row; an in-memory database stays "memory", which is fine.
                _ = try prepare("PRAGMA journal_mode=WAL").allRows()
                return
            } catch where error.isBusy && waited < busyTimeoutMillis {
                usleep(10_000)
                waited += 10
            }
        }
    }

    deinit {
        // close_v2 defers the close until the last statement is finalized, so order of
        // deinitialisation between statements and the database cannot misuse the handle.
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows we need (DDL, pragmas, BEGIN/COMMIT).
    public func exec(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard rc == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errorMessage)
            throw SQLiteError(code: rc & 0xff, extendedCode: sqlite3_extended_errcode(handle), message: message, sql: sql)
        }
    }

    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try SQLiteStatement(database: self, sql: sql)
    }

    /// Prepares, binds `parameters` to ?1...?n and collects every row.
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws(SQLiteError) -> [[SQLiteValue]] {
        let statement = try prepare(sql)
        try statement.bind(parameters)
        return try statement.allRows()
    }

    /// Prepares, binds `parameters` to ?1...?n and makes one value of each row with `row`, which
    /// reads the statement's current row.
    public func query<Row>(_ sql: String, _ parameters: [SQLiteValue] = [], row: (SQLiteStatement) -> Row) throws(SQLiteError) -> [Row] {
        let statement = try prepare(sql)
        try statement.bind(parameters)
        var rows: [Row] = []
        while try statement.step() { rows.append(row(statement)) }
        return rows
    }

    /// Prepares, binds and runs a statement that returns no rows; answers the rows changed.
    @discardableResult
    public func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let statement = try prepare(sql)
        try statement.bind(parameters)
        while try statement.step() {}
        return changes
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT, rolling back if it throws. IMMEDIATE takes the
    /// write lock up front, so two controllers migrating the same file serialise on the busy
    /// timeout instead of one failing half-way with SQLITE_BUSY on upgrade from a read lock.
    /// Not re-entrant: a nested call is a programming error and fails with SQLITE_MISUSE.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        guard !isInTransaction else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "transaction() called inside a transaction")
        }
        try exec("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try exec("COMMIT")
            return result
        } catch {
            // Rollback can fail only if SQLite already rolled back (e.g. after SQLITE_FULL).
            if isInTransaction { try? exec("ROLLBACK") }
            throw error
        }
    }
}
