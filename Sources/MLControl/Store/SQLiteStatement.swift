import CSQLite

/// `SQLITE_TRANSIENT` is a macro casting -1 to a function pointer, so Swift does not import it.
/// It tells SQLite to copy the bytes before `bind` returns, which lets us pass Swift strings'
/// temporary buffers.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement. Parameters are bound by 1-based index (SQLite's convention); columns
/// are read by 0-based index. Owned by one thread at a time, like its database.
public final class SQLiteStatement {
    /// Keeps the connection open while the statement lives: finalizing after close is misuse.
    public let database: SQLiteDatabase
    public let sql: String
    private var handle: OpaquePointer?

    init(database: SQLiteDatabase, sql: String) throws(SQLiteError) {
        self.database = database
        self.sql = sql
        let rc = sqlite3_prepare_v2(database.handle, sql, -1, &handle, nil)
        guard rc == SQLITE_OK, handle != nil else {
            let error = SQLiteError(code: rc == SQLITE_OK ? SQLITE_MISUSE : rc, db: database.handle, sql: sql)
            sqlite3_finalize(handle)
            throw error
        }
    }

    deinit { sqlite3_finalize(handle) }

    public var parameterCount: Int32 { sqlite3_bind_parameter_count(handle) }
    public var columnCount: Int32 { sqlite3_column_count(handle) }

    public func columnName(_ index: Int32) -> String {
        sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
    }

    // MARK: Binding (1-based)

    public func bind(_ index: Int32, _ value: Int64?) throws(SQLiteError) {
        guard let value else { return try bindNull(index) }
        try check(sqlite3_bind_int64(handle, index, value))
    }

    public func bind(_ index: Int32, _ value: Int?) throws(SQLiteError) {
        try bind(index, value.map(Int64.init))
    }

    /// Non-finite doubles are stored as NULL: SQLite would turn NaN into NULL anyway, and an
    /// infinity in an average poisons every baseline computed from it.
    public func bind(_ index: Int32, _ value: Double?) throws(SQLiteError) {
        guard let value, value.isFinite else { return try bindNull(index) }
        try check(sqlite3_bind_double(handle, index, value))
    }

    public func bind(_ index: Int32, _ value: String?) throws(SQLiteError) {
        guard let value else { return try bindNull(index) }
        try check(sqlite3_bind_text(handle, index, value, -1, sqliteTransient))
    }

    public func bindNull(_ index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_null(handle, index))
    }

    public func bind(_ index: Int32, _ value: SQLiteValue) throws(SQLiteError) {
        switch value {
        case .null: try bindNull(index)
        case .integer(let v): try bind(index, v)
        case .real(let v): try bind(index, v)
        case .text(let v): try bind(index, v)
        }
    }

    /// Binds `values` to parameters 1...n, refusing a count mismatch (a silent NULL otherwise).
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        guard values.count == Int(parameterCount) else {
            throw SQLiteError(code: SQLITE_RANGE, message: "statement has \(parameterCount) parameters, \(values.count) values given", sql: sql)
        }
        for (offset, value) in values.enumerated() { try bind(Int32(offset + 1), value) }
    }

    // MARK: Stepping

    /// Advances one row: true when a row is available, false when the statement is done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(code: rc, db: database.handle, sql: sql)
        }
    }

    /// Makes the statement runnable again and forgets old bindings, for reuse in loops.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Steps to completion, collecting every row (fine for the small result sets we query).
    public func allRows() throws(SQLiteError) -> [[SQLiteValue]] {
        var rows: [[SQLiteValue]] = []
        while try step() { rows.append((0..<columnCount).map { column($0) }) }
        return rows
    }

    // MARK: Columns (0-based)

    public func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    public func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    public func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }

    public func string(_ index: Int32) -> String {
        sqlite3_column_text(handle, index).map { String(cString: $0) } ?? ""
    }

    public func optionalInt64(_ index: Int32) -> Int64? { isNull(index) ? nil : int64(index) }
    public func optionalDouble(_ index: Int32) -> Double? { isNull(index) ? nil : double(index) }
    public func optionalString(_ index: Int32) -> String? { isNull(index) ? nil : string(index) }

    public func column(_ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer(int64(index))
        case SQLITE_FLOAT: .real(double(index))
        default: .text(string(index))
        }
    }

    private func check(_ rc: Int32) throws(SQLiteError) {
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, db: database.handle, sql: sql) }
    }
}
