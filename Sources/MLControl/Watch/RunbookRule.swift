/// The runbook's automatic triggers ("When to Rollback") and the alerts added beside them, in
/// the order they are reported in when several fire at once. Raw values are what INCIDENTS'
/// alert_type / trigger_rule and DEPLOYMENTS' actor hold, and the keys of the policy's `actions`.
public enum RunbookRule: String, Sendable, Codable, CaseIterable {
    /// F1 drop > limit vs baseline, within the deploy window. Rollback.
    case f1Drop = "f1_drop"
    /// p99 > limit, within the deploy window. Rollback.
    case latencyP99 = "latency_p99"
    /// The model's error rate > limit, any time: only requests the model failed count, never
    /// requests a client got wrong. Rollback.
    case errorRate = "error_rate"
    /// Anomaly rate > multiple × baseline, any time. Investigate first: a real shift in the
    /// traffic also raises it, and rolling back would hide that.
    case anomalyRate = "anomaly_rate"
    /// The clients' error rate > limit (off unless the policy sets `client_error_rate_limit`):
    /// someone is sending bad rows. Nothing a model can fix, so it notifies.
    case clientErrorRate = "client_error_rate"
    /// PSI above `drift_limit` and above the noise floor (off unless set). Notifies.
    case drift = "drift"

    /// What the rule does unless the policy's `actions` says otherwise.
    public var defaultAction: TriggerAction {
        switch self {
        case .f1Drop, .latencyP99, .errorRate: .rollback
        case .anomalyRate, .clientErrorRate, .drift: .notify
        }
    }

    public var rollsBack: Bool { defaultAction == .rollback }

    /// INCIDENTS.severity for an incident this rule opens.
    public var severity: String { rollsBack ? "critical" : "warning" }
}

/// What the controller does when a rule fires.
public enum TriggerAction: String, Sendable, Codable, CaseIterable, Comparable {
    /// The runbook's rollback: fenced swap, verify, incident, notification, step 5.
    case rollback
    /// An incident (status `paused`) and a notification, no swap; the node is left alone until
    /// someone runs `mlctl rollback` or `mlctl resolve INCIDENT`.
    case pause
    /// An `investigating` incident and a notification, no swap.
    case notify
    /// Records what the rule's action would have done (incident and, for a rollback, a
    /// DEPLOYMENTS row with status `dry_run`); changes nothing on the node.
    case dryRun = "dry_run"

    /// Stronger actions win when several rules fire in one window.
    private var strength: Int {
        switch self {
        case .rollback: 3
        case .pause: 2
        case .notify: 1
        case .dryRun: 0
        }
    }

    public static func < (a: TriggerAction, b: TriggerAction) -> Bool { a.strength < b.strength }
}
