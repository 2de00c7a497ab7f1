import Foundation

extension ControlStore {
    private static let metricsColumns = """
        id, timestamp, model_name, model_version, node, request_count, feedback_count,
        f1_score, latency_p99_ms, error_rate, anomaly_rate, drift_score,
        label_count, label_coverage, model_error_rate, client_error_rate, drift_expected
        """

    /// Inserts one row and returns its id.
    @discardableResult
    public func insertMetrics(_ row: MetricsRow) throws(SQLiteError) -> Int64 {
        let statement = try database.prepare("INSERT INTO MODEL_METRICS (\(Self.metricsColumns)) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        try bind(row, to: statement)
        try statement.step()
        return database.lastInsertRowID
    }

    /// Inserts a poll's rows (one per node and version) atomically: a reader never sees half a poll.
    public func insertMetrics(_ rows: [MetricsRow]) throws {
        try database.transaction {
            let statement = try database.prepare("INSERT INTO MODEL_METRICS (\(Self.metricsColumns)) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for row in rows {
                statement.reset()
                try bind(row, to: statement)
                try statement.step()
            }
        }
    }

    /// Rows for a model in [from, to] (inclusive), newest first; optionally one version/node.
    public func metrics(modelName: String, version: String? = nil, node: String? = nil,
                        from: Date, to: Date, limit: Int = 1_000) throws(SQLiteError) -> [MetricsRow] {
        let statement = try database.prepare("""
            SELECT \(Self.metricsColumns) FROM MODEL_METRICS
            WHERE model_name = ?1 AND (?2 IS NULL OR model_version = ?2) AND (?3 IS NULL OR node = ?3)
              AND timestamp BETWEEN ?4 AND ?5
            ORDER BY timestamp DESC, id DESC LIMIT ?6
            """)
        try statement.bind([.text(modelName), SQLiteValue(version), SQLiteValue(node),
                            .text(SQLTime.string(from)), .text(SQLTime.string(to)), .integer(Int64(limit))])
        var rows: [MetricsRow] = []
        while try statement.step() {
            rows.append(MetricsRow(
                id: statement.int64(0), timestamp: SQLTime.date(statement.string(1)) ?? Date(timeIntervalSince1970: 0),
                modelName: statement.string(2), modelVersion: statement.string(3), node: statement.string(4),
                requestCount: statement.int64(5), feedbackCount: statement.int64(6), f1Score: statement.optionalDouble(7),
                latencyP99Ms: statement.optionalDouble(8), errorRate: statement.optionalDouble(9),
                anomalyRate: statement.optionalDouble(10), driftScore: statement.optionalDouble(11),
                labelCount: statement.optionalInt64(12), labelCoverage: statement.optionalDouble(13),
                modelErrorRate: statement.optionalDouble(14), clientErrorRate: statement.optionalDouble(15),
                driftExpected: statement.optionalDouble(16)))
        }
        return rows
    }

    /// The runbook's "previous 24h average" for one version: plain AVG of each figure over the
    /// rows with `before - window <= timestamp <= before` (BETWEEN, as the runbook writes it).
    /// AVG skips NULLs, so a figure is nil only when no row in the window had it.
    ///
    /// Unweighted like the runbook's query; a request-weighted mean would let one busy minute
    /// dominate a day, which is not what "baseline" means to the people reading it.
    /// - Parameter node: nil averages over every node serving the version.
    public func baseline(modelName: String, version: String, node: String? = nil,
                         before: Date, window: TimeInterval = 24 * 3600) throws(SQLiteError) -> BaselineFigures {
        let statement = try database.prepare("""
            SELECT AVG(f1_score), AVG(latency_p99_ms), AVG(error_rate), AVG(anomaly_rate), COUNT(*)
            FROM MODEL_METRICS
            WHERE model_name = ?1 AND model_version = ?2 AND (?3 IS NULL OR node = ?3)
              AND timestamp BETWEEN ?4 AND ?5
            """)
        try statement.bind([.text(modelName), .text(version), SQLiteValue(node),
                            .text(SQLTime.string(before.addingTimeInterval(-window))), .text(SQLTime.string(before))])
        guard try statement.step() else { return .empty }
        return BaselineFigures(f1: statement.optionalDouble(0), latencyP99Ms: statement.optionalDouble(1),
                               errorRate: statement.optionalDouble(2), anomalyRate: statement.optionalDouble(3),
                               rows: Int(statement.int64(4)))
    }

    private func bind(_ row: MetricsRow, to statement: SQLiteStatement) throws(SQLiteError) {
        try statement.bind([.text(SQLTime.string(row.timestamp)), .text(row.modelName), .text(row.modelVersion), .text(row.node),
                            .integer(row.requestCount), .integer(row.feedbackCount), SQLiteValue(row.f1Score),
                            SQLiteValue(row.latencyP99Ms), SQLiteValue(row.errorRate), SQLiteValue(row.anomalyRate),
                            SQLiteValue(row.driftScore), SQLiteValue(row.labelCount), SQLiteValue(row.labelCoverage),
                            SQLiteValue(row.modelErrorRate), SQLiteValue(row.clientErrorRate), SQLiteValue(row.driftExpected)])
    }
}
