import Foundation

/// What the controller tells people about an incident: printed as one line, POSTed as JSON to
/// the webhook, piped as JSON into the notify command. Field names are the JSON keys, stable
/// for whoever writes a Slack relay against them; README "Notification schema" documents them.
/// `schema_version` 2 added the rule's numbers (`rule` … `dry_run`) and `summary`; a change
/// that removes or retypes a key bumps it.
public struct AlertNotification: Codable, Equatable, Sendable {
    public static let schemaVersion = 2

    public var schemaVersion: Int = AlertNotification.schemaVersion
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
    /// The rule that fired and its numbers (null for alerts no rule raised, e.g. node_unreachable).
    public var rule: String?
    public var observed: Double?
    public var baseline: Double?
    public var threshold: Double?
    public var samples: Int64?
    /// True when nothing was done on the node: `action` says what would have been.
    public var dryRun: Bool = false
    /// One line for people, the same as the stdout line.
    public var summary: String = ""

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case incidentID = "incident_id", alertType = "alert_type", severity, action, status, node, model
        case fromVersion = "from_version", toVersion = "to_version", trigger, timestamp
        case rule, observed, baseline, threshold, samples, dryRun = "dry_run", summary
    }

    public init(incidentID: String, alertType: String, severity: String, action: String, status: String,
                node: String, model: String, fromVersion: String?, toVersion: String?, trigger: String, at date: Date,
                why: TriggerRecord? = nil) {
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
        if let why {
            rule = why.rule
            observed = why.observed
            baseline = why.baseline
            threshold = why.threshold
            samples = why.samples
            dryRun = why.dryRun
        }
        summary = summaryLine
    }

    /// The notification for a fired rule, by the action taken: rollback "rollback"/"resolved",
    /// pause "pause"/"paused", notify "investigate"/"investigating", a dry run "dry_run:<action>"/"dry_run".
    public init(incidentID: String, trigger: Trigger, node: String, restoredVersion: String?, at date: Date) {
        let (action, status): (String, String)
        if trigger.dryRun {
            (action, status) = ("dry_run:\(trigger.action.rawValue)", "dry_run")
        } else {
            switch trigger.action {
            case .rollback: (action, status) = ("rollback", "resolved")
            case .pause: (action, status) = ("pause", "paused")
            case .notify, .dryRun: (action, status) = ("investigate", "investigating")
            }
        }
        self.init(incidentID: incidentID, alertType: trigger.rule.rawValue, severity: trigger.rule.severity,
                  action: action, status: status, node: node, model: trigger.modelName,
                  fromVersion: trigger.version, toVersion: trigger.action == .rollback ? restoredVersion : nil,
                  trigger: trigger.sentence, at: date, why: TriggerRecord(trigger))
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
