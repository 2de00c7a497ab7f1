import Foundation

/// What the controller tells people about an incident: printed as one line, POSTed as JSON to
/// the webhook, piped as JSON into the notify command. Field names are the JSON keys, stable
/// for whoever writes a Slack relay against them.
public struct AlertNotification: Codable, Equatable, Sendable {
    public var incidentID: String
    /// The rule (`RunbookRule.rawValue`) or another alert kind ("node_unreachable", …).
    public var alertType: String
    public var severity: String
    /// What the controller did: "rollback", "investigate", "rollback_failed", "stability", …
    public var action: String
    /// The incident's status after the action ("resolved", "investigating", …).
    public var status: String
    public var node: String
    public var model: String
    /// The version judged bad (active when the rule fired).
    public var fromVersion: String?
    /// The version restored, for a rollback.
    public var toVersion: String?
    /// The trigger sentence with its numbers.
    public var trigger: String
    /// ISO-8601 UTC, e.g. "2026-02-28T12:00:00Z".
    public var timestamp: String

    enum CodingKeys: String, CodingKey {
        case incidentID = "incident_id", alertType = "alert_type", severity, action, status, node, model
        case fromVersion = "from_version", toVersion = "to_version", trigger, timestamp
    }

    public init(incidentID: String, alertType: String, severity: String, action: String, status: String,
                node: String, model: String, fromVersion: String?, toVersion: String?, trigger: String, at date: Date) {
        self.incidentID = incidentID
        self.alertType = alertType
        self.severity = severity
        self.action = action
        self.status = status
        self.node = node
        self.model = model
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.trigger = trigger
        self.timestamp = SQLTime.iso8601(date)
    }

    /// The notification for a fired rule: rollback triggers are "rollback"/"resolved",
    /// the anomaly rule is "investigate"/"investigating".
    public init(incidentID: String, trigger: Trigger, node: String, restoredVersion: String?, at date: Date) {
        self.init(incidentID: incidentID, alertType: trigger.rule.rawValue, severity: trigger.rule.severity,
                  action: trigger.rule.rollsBack ? "rollback" : "investigate",
                  status: trigger.rule.rollsBack ? "resolved" : "investigating", node: node, model: trigger.modelName,
                  fromVersion: trigger.version, toVersion: trigger.rule.rollsBack ? restoredVersion : nil,
                  trigger: trigger.sentence, at: date)
    }

    /// Compact JSON with sorted keys: the same notification always has the same bytes.
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of strings cannot fail; an empty object would still be valid JSON.
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    /// The stdout line: time, action, where, what, why.
    public var summaryLine: String {
        let versions = [fromVersion, toVersion].compactMap { $0 }.joined(separator: " -> ")
        return "\(timestamp) \(action.uppercased()) [\(severity)] \(alertType) node=\(node) model=\(model)"
            + (versions.isEmpty ? "" : " \(versions)") + " incident=\(incidentID): \(trigger)"
    }
}
