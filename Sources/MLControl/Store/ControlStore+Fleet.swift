import Foundation

/// What one node of a fleet should serve, as the controller last decided it.
public struct DesiredState: Equatable, Sendable {
    public var fleet: String
    public var node: String
    public var version: String
    /// SHA-256 of the artifact, lowercase hex (all zeros when unknown).
    public var checksum: String
    /// Where to load it from when the node's standby does not hold it.
    public var artifact: String?
    public var operationID: String?
    public var updatedAt: Date

    public init(fleet: String, node: String, version: String, checksum: String, artifact: String?, operationID: String?, updatedAt: Date) {
        self.fleet = fleet
        self.node = node
        self.version = version
        self.checksum = checksum
        self.artifact = artifact
        self.operationID = operationID
        self.updatedAt = updatedAt
    }
}

/// Who holds a fleet's operation lock.
public struct FleetLock: Equatable, Sendable, CustomStringConvertible {
    public var fleet: String
    public var operationID: String
    public var action: String
    /// "user@host pid N".
    public var holder: String
    public var acquiredAt: Date
    public var heartbeat: Date

    public var description: String {
        "\(action) \(operationID) by \(holder) since \(SQLTime.string(acquiredAt)) (last heartbeat \(SQLTime.string(heartbeat)))"
    }
}

/// FLEET_DESIRED and FLEET_LOCKS: the desired state watch converges to, and the lock that keeps
/// fleet operations (and reconciliation) one at a time across controllers sharing this file.
extension ControlStore {
    /// Writes the rows in one transaction (a fleet's desired state never half-changes).
    public func setDesired(_ rows: [DesiredState]) throws {
        try database.transaction {
            for row in rows {
                try database.run("""
                    INSERT INTO FLEET_DESIRED (fleet, node, version, checksum, artifact, operation_id, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (fleet, node) DO UPDATE SET version = excluded.version, checksum = excluded.checksum,
                        artifact = excluded.artifact, operation_id = excluded.operation_id,
                        updated_at = excluded.updated_at
                    """, [.text(row.fleet), .text(row.node), .text(row.version), .text(row.checksum), SQLiteValue(row.artifact),
                          SQLiteValue(row.operationID), .text(SQLTime.string(row.updatedAt))])
            }
        }
    }

    /// The fleet's desired state, keyed by node.
    public func desired(fleet: String) throws(SQLiteError) -> [String: DesiredState] {
        let rows = try database.query("""
            SELECT node, version, checksum, artifact, operation_id, updated_at FROM FLEET_DESIRED WHERE fleet = ? ORDER BY node
            """, [.text(fleet)])
        var result: [String: DesiredState] = [:]
        for row in rows {
            let node = row[0].string ?? ""
            result[node] = DesiredState(fleet: fleet, node: node, version: row[1].string ?? "", checksum: row[2].string ?? "",
                                        artifact: row[3].string, operationID: row[4].string,
                                        updatedAt: SQLTime.date(row[5].string ?? "") ?? Date(timeIntervalSince1970: 0))
        }
        return result
    }

    /// Takes the fleet's lock for `operationID`, or answers who holds it. A lock whose heartbeat
    /// is older than `staleAfter` belongs to a controller that died (or hung) mid-operation and is
    /// taken over; the nodes themselves are never trusted to be as it left them (see reconcile).
    public func acquireFleetLock(fleet: String, operationID: String, action: String, holder: String,
                                 now: Date, staleAfter: TimeInterval) throws -> FleetLock? {
        try database.transaction { () throws -> FleetLock? in
            if let current = try fleetLock(fleet: fleet), current.operationID != operationID,
               now.timeIntervalSince(current.heartbeat) <= staleAfter {
                return current
            }
            try database.run("""
                INSERT OR REPLACE INTO FLEET_LOCKS (fleet, operation_id, action, holder, acquired_at, heartbeat_unix)
                VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(fleet), .text(operationID), .text(action), .text(holder), .text(SQLTime.string(now)),
                      .real(now.timeIntervalSince1970)])
            return nil
        }
    }

    /// Proves the holder is alive; false when the lock is no longer ours (taken over as stale).
    @discardableResult
    public func heartbeatFleetLock(fleet: String, operationID: String, now: Date) throws(SQLiteError) -> Bool {
        try database.run("UPDATE FLEET_LOCKS SET heartbeat_unix = ? WHERE fleet = ? AND operation_id = ?",
                         [.real(now.timeIntervalSince1970), .text(fleet), .text(operationID)]) == 1
    }

    public func releaseFleetLock(fleet: String, operationID: String) throws(SQLiteError) {
        try database.run("DELETE FROM FLEET_LOCKS WHERE fleet = ? AND operation_id = ?", [.text(fleet), .text(operationID)])
    }

    public func fleetLock(fleet: String) throws(SQLiteError) -> FleetLock? {
        let rows = try database.query("""
            SELECT operation_id, action, holder, acquired_at, heartbeat_unix FROM FLEET_LOCKS WHERE fleet = ?
            """, [.text(fleet)])
        guard let row = rows.first else { return nil }
        return FleetLock(fleet: fleet, operationID: row[0].string ?? "", action: row[1].string ?? "", holder: row[2].string ?? "",
                         acquiredAt: SQLTime.date(row[3].string ?? "") ?? Date(timeIntervalSince1970: 0),
                         heartbeat: Date(timeIntervalSince1970: row[4].double ?? 0))
    }
}
