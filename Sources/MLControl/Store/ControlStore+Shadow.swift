import Foundation

/// SHADOW_METRICS: the gate's figures per node and shadow window, so the verdicts a deploy was
/// judged on can be queried next to MODEL_METRICS (the active's own figures).
extension ControlStore {
    @discardableResult
    public func insertShadowMetrics(_ v: GateVerdict, at date: Date, windowSeconds: Double, outcome: String) throws(SQLiteError) -> Int64 {
        try database.run("""
            INSERT INTO SHADOW_METRICS (timestamp, node, active_version, standby_version, window_seconds, rows_shadowed, agreement,
                labelled_rows, active_f1, standby_f1, standby_p99_ms, standby_errors, active_drift, standby_drift, score_diff_p99,
                passed, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [
            .text(SQLTime.string(date)), .text(v.node), .text(v.activeVersion), .text(v.standbyVersion), .real(windowSeconds),
            .integer(Int64(clamping: v.rows)), SQLiteValue(v.agreement), .integer(Int64(clamping: v.labels)),
            SQLiteValue(v.activeF1), SQLiteValue(v.standbyF1), SQLiteValue(v.standbyP99Ms), .integer(Int64(clamping: v.standbyErrors)),
            SQLiteValue(v.activeDrift), SQLiteValue(v.standbyDrift), SQLiteValue(v.differenceP99), .integer(v.passed ? 1 : 0),
            .text(outcome),
        ])
        return database.lastInsertRowID
    }

    /// (standby_version, passed, agreement, standby_f1) of the newest rows, for tests and `mlctl history`.
    public func shadowVerdicts(limit: Int = 20) throws(SQLiteError) -> [(standby: String, passed: Bool, agreement: Double?, standbyF1: Double?)] {
        try database.query("SELECT standby_version, passed, agreement, standby_f1 FROM SHADOW_METRICS ORDER BY id DESC LIMIT ?",
                           [.integer(Int64(limit))]).map { row in
            (row[0].string ?? "", row[1].int64 == 1, row[2].double, row[3].double)
        }
    }
}
