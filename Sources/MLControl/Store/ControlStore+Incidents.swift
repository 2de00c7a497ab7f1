import Foundation

extension ControlStore {
    private static let incidentColumns = """
        incident_id, alert_type, severity, affected_component, root_cause, resolution, status,
        created_at, updated_at, model_name, node, from_version, to_version, stability_outcome, notes,
        \(TriggerRecord.columns)
        """

    /// Inserts an incident; a duplicate id fails with a constraint error rather than overwriting.
    public func insertIncident(_ row: IncidentRow) throws(SQLiteError) {
        try database.run("INSERT INTO INCIDENTS (\(Self.incidentColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            .text(row.incidentID), .text(row.alertType), .text(row.severity), .text(row.affectedComponent),
            .text(row.rootCause), SQLiteValue(row.resolution), .text(row.status),
            .text(SQLTime.string(row.createdAt)), .text(SQLTime.string(row.updatedAt)), SQLiteValue(row.modelName),
            SQLiteValue(row.node), SQLiteValue(row.fromVersion), SQLiteValue(row.toVersion),
            SQLiteValue(row.stabilityOutcome), SQLiteValue(row.notes),
        ] + (row.why?.values ?? TriggerRecord.nullValues))
    }

    public func incident(id: String) throws(SQLiteError) -> IncidentRow? {
        try incidents(where: "incident_id = ?1", [.text(id)], limit: 1).first
    }

    /// Newest first; optionally only those with `status`.
    public func incidents(limit: Int = 50, status: String? = nil) throws(SQLiteError) -> [IncidentRow] {
        try incidents(where: "(?1 IS NULL OR status = ?1)", [SQLiteValue(status)], limit: limit)
    }

    /// Changes the given fields (nil leaves a field as it is), sets `updated_at`, and appends
    /// `note` as a new line of `notes` so the incident keeps a log of what the controller did
    /// (rollback, verification, step 5's outcome). Returns false when no such incident exists.
    @discardableResult
    public func updateIncident(id: String, status: String? = nil, resolution: String? = nil,
                               stabilityOutcome: String? = nil, appendingNote note: String? = nil,
                               at updatedAt: Date) throws(SQLiteError) -> Bool {
        let changed = try database.run("""
            UPDATE INCIDENTS SET
                status = COALESCE(?2, status),
                resolution = COALESCE(?3, resolution),
                stability_outcome = COALESCE(?4, stability_outcome),
                notes = CASE WHEN ?5 IS NULL THEN notes
                             WHEN notes IS NULL OR notes = '' THEN ?5
                             ELSE notes || char(10) || ?5 END,
                updated_at = ?6
            WHERE incident_id = ?1
            """, [.text(id), SQLiteValue(status), SQLiteValue(resolution), SQLiteValue(stabilityOutcome),
                  SQLiteValue(note), .text(SQLTime.string(updatedAt))])
        return changed > 0
    }

    private func incidents(where condition: String, _ parameters: [SQLiteValue], limit: Int) throws(SQLiteError) -> [IncidentRow] {
        try database.query("""
            SELECT \(Self.incidentColumns) FROM INCIDENTS WHERE \(condition)
            ORDER BY created_at DESC, rowid DESC LIMIT \(max(0, limit))
            """, parameters) { statement in
            // Rows inserted by hand with the runbook's SQL get datetime('now') defaults, still parseable.
            let created = SQLTime.date(statement.string(7)) ?? Date(timeIntervalSince1970: 0)
            return IncidentRow(
                incidentID: statement.string(0), alertType: statement.string(1), severity: statement.string(2),
                affectedComponent: statement.string(3), rootCause: statement.string(4),
                resolution: statement.optionalString(5), status: statement.string(6), createdAt: created,
                updatedAt: SQLTime.date(statement.string(8)) ?? created, modelName: statement.optionalString(9),
                node: statement.optionalString(10), fromVersion: statement.optionalString(11),
                toVersion: statement.optionalString(12), stabilityOutcome: statement.optionalString(13),
                notes: statement.optionalString(14), why: TriggerRecord.read(statement, from: 15))
        }
    }
}
