import Foundation

/// What `mlctl report` draws, read from the store: the MODEL_METRICS rows of the incident's
/// model around it, the DEPLOYMENTS rows of that span and the INCIDENTS row. Columns that
/// this store does not have yet (client error rate, label coverage) are nil, shown as "n/a".
public struct IncidentReport {
    public struct Point {
        public var id: Int64
        public var timestamp: String
        public var version: String
        public var node: String
        public var requests: Int64
        public var f1: Double?
        public var p99Ms: Double?
        public var modelErrorRate: Double?
        public var clientErrorRate: Double?
        public var labelCoverage: Double?
    }

    public var incident: IncidentRow?
    public var points: [Point]
    public var deployments: [DeploymentRow]
    /// Which optional columns exist in this file.
    public var hasClientErrors: Bool
    public var hasLabelCoverage: Bool

    /// The incident `id` (nil: the newest incident, or everything when there is none) and
    /// the hour before it to an hour after its last update. Unknown id → `nil` result.
    public static func load(store: ControlStore, incidentID: String?, limit: Int = 5_000) throws(SQLiteError) -> IncidentReport? {
        let db = store.database
        var incident: IncidentRow?
        if let incidentID {
            guard let found = try store.incident(id: incidentID) else { return nil }
            incident = found
        } else {
            incident = try store.incidents(limit: 1).first
        }
        let columns = Set(try db.query("SELECT name FROM pragma_table_info('MODEL_METRICS')").compactMap { $0.first?.string })
        func column(_ name: String, or fallback: String = "NULL") -> String { columns.contains(name) ? name : fallback }
        // Rows written before the error split have only error_rate (then the model's and the client's).
        let modelErrors = columns.contains("model_error_rate") ? "COALESCE(model_error_rate, error_rate)" : "error_rate"
        let select = """
            SELECT id, timestamp, model_version, node, request_count, f1_score, latency_p99_ms, \(modelErrors),
                   \(column("client_error_rate")), \(column("label_coverage")) FROM MODEL_METRICS
            WHERE (?1 IS NULL OR model_name = ?1) AND (?2 IS NULL OR timestamp >= ?2) AND (?3 IS NULL OR timestamp <= ?3)
            ORDER BY timestamp, id LIMIT \(limit)
            """
        let from = incident.map { SQLTime.string($0.createdAt.addingTimeInterval(-3600)) }
        let to = incident.map { SQLTime.string($0.updatedAt.addingTimeInterval(3600)) }
        let rows = try db.query(select, [SQLiteValue(incident?.modelName), SQLiteValue(from), SQLiteValue(to)])
        let points = rows.map { r in
            Point(id: r[0].int64 ?? 0, timestamp: r[1].string ?? "", version: r[2].string ?? "?", node: r[3].string ?? "",
                  requests: r[4].int64 ?? 0, f1: r[5].double, p99Ms: r[6].double, modelErrorRate: r[7].double,
                  clientErrorRate: r[8].double, labelCoverage: r[9].double)
        }
        let deployments = try store.deployments(limit: 1_000).reversed().filter { row in
            let t = SQLTime.string(row.timestamp)
            return (from.map { t >= $0 } ?? true) && (to.map { t <= $0 } ?? true)
        }
        return IncidentReport(incident: incident, points: points, deployments: deployments,
                              hasClientErrors: columns.contains("client_error_rate"), hasLabelCoverage: columns.contains("label_coverage"))
    }
}
