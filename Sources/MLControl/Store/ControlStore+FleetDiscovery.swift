import Foundation

extension ControlStore {
    /// Records what fleet discovery saw, in one transaction.
    public func insertFleet(_ rows: [FleetRow]) throws(SQLiteError) {
        guard !rows.isEmpty else { return }
        do {
            try database.transaction {
                for row in rows {
                    try database.run("INSERT INTO FLEET (id, timestamp, event, node, source, detail) VALUES (NULL, ?, ?, ?, ?, ?)", [
                        .text(SQLTime.string(row.timestamp)), .text(row.event.rawValue), SQLiteValue(row.node),
                        .text(row.source), SQLiteValue(row.detail),
                    ])
                }
            }
        } catch let error as SQLiteError {
            throw error
        } catch {
            throw SQLiteError(code: 1, message: "FLEET insert failed: \(error)")
        }
    }

    /// Oldest first.
    public func fleet(limit: Int = 1_000) throws(SQLiteError) -> [FleetRow] {
        let statement = try database.prepare("SELECT timestamp, event, node, source, detail FROM FLEET ORDER BY id LIMIT \(max(0, limit))")
        var rows: [FleetRow] = []
        while try statement.step() {
            rows.append(FleetRow(timestamp: SQLTime.date(statement.string(0)) ?? Date(timeIntervalSince1970: 0),
                                 event: FleetRow.Event(rawValue: statement.string(1)) ?? .lookupFailed,
                                 node: statement.optionalString(2), source: statement.string(3), detail: statement.optionalString(4)))
        }
        return rows
    }
}
