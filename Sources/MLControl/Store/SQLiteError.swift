import CSQLite

/// A failed SQLite call, carrying SQLite's own message (which names the table, column or
/// constraint) and the statement that failed, so an operator reading a log can act on it.
public struct SQLiteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT`, …).
    public var code: Int32
    /// The extended result code when SQLite gave one (e.g. `SQLITE_CONSTRAINT_PRIMARYKEY`).
    public var extendedCode: Int32
    /// `sqlite3_errmsg` at the time of failure, or our own text for misuse we detect first.
    public var message: String
    /// The SQL being prepared or run, when there was one.
    public var sql: String?

    public init(code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil) {
        self.code = code
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.sql = sql
    }

    /// Reads the message from the connection right after a failed call: SQLite overwrites it on
    /// the next call, so this must run before anything else touches the handle.
    init(code: Int32, db: OpaquePointer?, sql: String? = nil) {
        let message = db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            ?? String(cString: sqlite3_errstr(code))
        let extended = db.map { sqlite3_extended_errcode($0) } ?? code
        self.init(code: code & 0xff, extendedCode: extended, message: message, sql: sql)
    }

    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
    public var isConstraintViolation: Bool { code == SQLITE_CONSTRAINT }

    public var description: String {
        let name = String(cString: sqlite3_errstr(code))
        var text = "SQLite error \(code) (\(name)): \(message)"
        if let sql { text += " — in: \(sql.split(whereSeparator: \.isNewline).joined(separator: " "))" }
        return text
    }
}
