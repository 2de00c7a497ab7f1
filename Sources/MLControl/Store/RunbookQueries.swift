/// The runbook's SQL (runbook-model-rollback.md), rewritten from Snowflake's DATEADD into
/// SQLite's date functions, with `?` for the model name and incident fields. These exact strings
/// are quoted in the README and run by the tests against a filled database; they read SQLite's
/// clock ('now'), as a person at the sqlite3 prompt would. The controller itself uses
/// `ControlStore`'s methods, which take their times from the caller.
public enum RunbookQueries {
    /// Step 1: recent metrics for a model, newest first. Parameter: model name.
    public static let recentMetrics = """
        SELECT timestamp, f1_score, latency_p99_ms, drift_score FROM MODEL_METRICS \
        WHERE model_name = ? AND timestamp >= datetime('now','-1 hour') \
        ORDER BY timestamp DESC LIMIT 10
        """

    /// Step 1: the baseline, previous 24 h excluding the last hour. Parameter: model name.
    public static let baseline24h = """
        SELECT AVG(f1_score) AS avg_f1, AVG(latency_p99_ms) AS avg_p99 FROM MODEL_METRICS \
        WHERE model_name = ? AND timestamp BETWEEN datetime('now','-1 day') AND datetime('now','-1 hour')
        """

    /// Step 4: the last five minutes after a rollback, newest first. Parameter: model name.
    public static let recoveryCheck = """
        SELECT timestamp, f1_score, latency_p99_ms FROM MODEL_METRICS \
        WHERE model_name = ? AND timestamp >= datetime('now','-5 minutes') \
        ORDER BY timestamp DESC
        """

    /// Post-rollback action 1. Parameters: incident_id, alert_type, severity,
    /// affected_component, root_cause. created_at/updated_at take their column defaults.
    public static let insertIncident = """
        INSERT INTO INCIDENTS (incident_id, alert_type, severity, affected_component, root_cause, resolution, status) \
        VALUES (?, ?, ?, ?, ?, 'Rolled back to previous version', 'resolved')
        """
}
