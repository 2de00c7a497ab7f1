/// The runbook's automatic triggers ("When to Rollback"), in the table's order, which is also
/// the order they are reported in when several fire at once. Raw values are what INCIDENTS'
/// alert_type and DEPLOYMENTS' actor hold.
public enum RunbookRule: String, Sendable, Codable, CaseIterable {
    /// F1 drop > limit vs baseline, within the deploy window. Rollback.
    case f1Drop = "f1_drop"
    /// p99 > limit, within the deploy window. Rollback.
    case latencyP99 = "latency_p99"
    /// Error rate > limit, any time. Rollback.
    case errorRate = "error_rate"
    /// Anomaly rate > multiple × baseline, any time. Investigate first: a real shift in the
    /// traffic also raises it, and rolling back would hide that.
    case anomalyRate = "anomaly_rate"

    public var rollsBack: Bool { self != .anomalyRate }

    /// INCIDENTS.severity for an incident this rule opens.
    public var severity: String { rollsBack ? "critical" : "warning" }
}
