import Foundation

extension ControlStore {
    private static let deploymentColumns = """
        id, timestamp, action, actor, node, from_version, to_version, generation, swap_micros, status, detail, operation_id,
        \(TriggerRecord.columns)
        """

    /// Records a deploy, swap or rollback and returns its id.
    @discardableResult
    public func insertDeployment(_ row: DeploymentRow) throws(SQLiteError) -> Int64 {
        try database.run("INSERT INTO DEPLOYMENTS (\(Self.deploymentColumns)) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            .text(SQLTime.string(row.timestamp)), .text(row.action.rawValue), .text(row.actor), .text(row.node),
            SQLiteValue(row.fromVersion), SQLiteValue(row.toVersion), SQLiteValue(row.generation),
            SQLiteValue(row.swapMicros), .text(row.status), SQLiteValue(row.detail), SQLiteValue(row.operationID),
        ] + (row.why?.values ?? TriggerRecord.nullValues))
        return database.lastInsertRowID
    }

    /// Settles a row recorded as 'unknown' once the node's Info has told what happened.
    public func updateDeployment(id: Int64, status: String, toVersion: String?, generation: Int64?, appendingDetail note: String) throws(SQLiteError) {
        try database.run("""
            UPDATE DEPLOYMENTS SET status = ?1, to_version = COALESCE(?2, to_version), generation = COALESCE(?3, generation),
                detail = CASE WHEN detail IS NULL OR detail = '' THEN ?4 ELSE detail || '; ' || ?4 END
            WHERE id = ?5
            """, [.text(status), SQLiteValue(toVersion), SQLiteValue(generation), .text(note), .integer(id)])
    }

    /// Newest first; optionally one node's.
    public func deployments(limit: Int = 50, node: String? = nil) throws(SQLiteError) -> [DeploymentRow] {
        try deployments(where: "(?1 IS NULL OR node = ?1)", [SQLiteValue(node)], limit: limit)
    }

    /// The latest successful change that made `version` active on `node` (deploy, swap or
    /// rollback). Its timestamp is the "deploy time" the 30-minute rules count from; nil when
    /// the controller never saw the version arrive (it was active before watching began).
    public func lastActivation(node: String, version: String) throws(SQLiteError) -> DeploymentRow? {
        try deployments(where: "node = ?1 AND to_version = ?2 AND status = 'ok'", [.text(node), .text(version)], limit: 1).first
    }

    private func deployments(where condition: String, _ parameters: [SQLiteValue], limit: Int) throws(SQLiteError) -> [DeploymentRow] {
        try database.query("""
            SELECT \(Self.deploymentColumns) FROM DEPLOYMENTS WHERE \(condition)
            ORDER BY timestamp DESC, id DESC LIMIT \(max(0, limit))
            """, parameters) { statement in
            DeploymentRow(
                id: statement.int64(0), timestamp: SQLTime.date(statement.string(1)) ?? Date(timeIntervalSince1970: 0),
                // The CHECK constraint keeps other values out; a hand-edited row degrades to swap.
                action: DeploymentAction(rawValue: statement.string(2)) ?? .swap, actor: statement.string(3),
                node: statement.string(4), fromVersion: statement.optionalString(5), toVersion: statement.optionalString(6),
                generation: statement.optionalInt64(7), swapMicros: statement.optionalDouble(8),
                status: statement.string(9), detail: statement.optionalString(10), operationID: statement.optionalString(11),
                why: TriggerRecord.read(statement, from: 12))
        }
    }
}
