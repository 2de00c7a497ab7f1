import Foundation

/// One INCIDENTS row. The first seven fields are the runbook's own INSERT; the rest record what
/// the controller knows (which model and versions, on which node) and step 5's outcome.
public struct IncidentRow: Equatable, Sendable {
    public var incidentID: String
    /// The rule's name (`RunbookRule.rawValue`), or e.g. "node_unreachable", "manual".
    public var alertType: String
    /// "critical" for rollback triggers, "warning" for investigate-first ones.
    public var severity: String
    /// The node or model the incident is about, as a human would name it.
    public var affectedComponent: String
    /// The trigger sentence with its numbers.
    public var rootCause: String
    public var resolution: String?
    /// "investigating", "resolved", "rollback_failed", …
    public var status: String
    public var createdAt: Date
    public var updatedAt: Date
    public var modelName: String?
    public var node: String?
    public var fromVersion: String?
    public var toVersion: String?
    /// Step 5: nil before a rollback, then "watching", "stable", "unstable" or "inconclusive".
    public var stabilityOutcome: String?
    /// A running log, one line per event (see `ControlStore.updateIncident`).
    public var notes: String?
    /// The rule's numbers and the action taken; nil for incidents no rule opened.
    public var why: TriggerRecord?

    public init(incidentID: String, alertType: String, severity: String, affectedComponent: String, rootCause: String,
                resolution: String? = nil, status: String, createdAt: Date, updatedAt: Date? = nil,
                modelName: String? = nil, node: String? = nil, fromVersion: String? = nil, toVersion: String? = nil,
                stabilityOutcome: String? = nil, notes: String? = nil, why: TriggerRecord? = nil) {
        self.incidentID = incidentID
        self.alertType = alertType
        self.severity = severity
        self.affectedComponent = affectedComponent
        self.rootCause = rootCause
        self.resolution = resolution
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.modelName = modelName
        self.node = node
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.stabilityOutcome = stabilityOutcome
        self.notes = notes
        self.why = why
    }

    /// A readable, sortable id: "INC-20260228-120000-f1_drop-3fa2". The suffix hashes the node
    /// (FNV-1a, stable across runs unlike `hashValue`) so two nodes tripping the same rule in
    /// the same second get distinct ids.
    public static func makeID(at date: Date, alertType: String, node: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in node.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let stamp = SQLTime.string(date).filter { $0 != "-" && $0 != ":" }.replacingOccurrences(of: " ", with: "-")
        let suffix = String(hash & 0xffff, radix: 16)
        return "INC-\(stamp)-\(alertType)-\(String(repeating: "0", count: 4 - suffix.count))\(suffix)"
    }
}
