import Foundation
import MLWire

/// How records read on a terminal and in `--json`: one place, shared by the CLI and the demo.
/// JSON keys are the SQL column names, so a script reads the same names as a query.
public enum RecordViews {
    public static func deploymentsTable(_ rows: [DeploymentRow]) -> TextTable {
        TextTable(headers: ["id", "timestamp (UTC)", "action", "actor", "node", "from", "to", "gen", "swap µs", "status", "detail"],
                  rows: rows.map { r in
                      [r.id.map(String.init) ?? "", SQLTime.string(r.timestamp), r.action.rawValue, r.actor, r.node,
                       r.fromVersion ?? "", r.toVersion ?? "", r.generation.map(String.init) ?? "",
                       r.swapMicros.map { Formatting.fixed($0, 1) } ?? "", r.status, r.detail ?? ""]
                  }, maxWidth: 48)
    }

    public static func incidentsTable(_ rows: [IncidentRow]) -> TextTable {
        TextTable(headers: ["incident_id", "created (UTC)", "type", "severity", "status", "stability", "node", "versions", "root_cause"],
                  rows: rows.map { r in
                      [r.incidentID, SQLTime.string(r.createdAt), r.alertType, r.severity, r.status, r.stabilityOutcome ?? "",
                       r.node ?? "", [r.fromVersion, r.toVersion].compactMap { $0 }.joined(separator: " -> "), r.rootCause]
                  }, maxWidth: 70)
    }

    /// One incident, every field on its own line (the demo and `incidents --id`).
    public static func incidentDetail(_ r: IncidentRow) -> String {
        let fields: [(String, String?)] = [
            ("incident_id", r.incidentID), ("alert_type", r.alertType), ("severity", r.severity),
            ("affected_component", r.affectedComponent), ("root_cause", r.rootCause), ("resolution", r.resolution),
            ("status", r.status), ("created_at", SQLTime.string(r.createdAt)), ("updated_at", SQLTime.string(r.updatedAt)),
            ("model_name", r.modelName), ("node", r.node), ("from_version", r.fromVersion), ("to_version", r.toVersion),
            ("stability_outcome", r.stabilityOutcome),
        ]
        var lines = fields.map { "  \($0.0.padding(toLength: 19, withPad: " ", startingAt: 0)) \($0.1 ?? "NULL")" }
        if let notes = r.notes {
            lines.append("  notes:")
            lines += notes.split(separator: "\n").map { "    \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ r: DeploymentRow) -> [String: Any] {
        var o: [String: Any] = ["timestamp": SQLTime.string(r.timestamp), "action": r.action.rawValue, "actor": r.actor,
                                "node": r.node, "status": r.status]
        o["id"] = r.id
        o["from_version"] = r.fromVersion
        o["to_version"] = r.toVersion
        o["generation"] = r.generation
        o["swap_micros"] = r.swapMicros
        o["detail"] = r.detail
        why(r.why, into: &o)
        return o
    }

    public static func json(_ r: IncidentRow) -> [String: Any] {
        var o: [String: Any] = ["incident_id": r.incidentID, "alert_type": r.alertType, "severity": r.severity,
                                "affected_component": r.affectedComponent, "root_cause": r.rootCause, "status": r.status,
                                "created_at": SQLTime.string(r.createdAt), "updated_at": SQLTime.string(r.updatedAt)]
        o["resolution"] = r.resolution
        o["model_name"] = r.modelName
        o["node"] = r.node
        o["from_version"] = r.fromVersion
        o["to_version"] = r.toVersion
        o["stability_outcome"] = r.stabilityOutcome
        o["notes"] = r.notes
        why(r.why, into: &o)
        return o
    }

    /// The rule's numbers, under the SQL column names.
    private static func why(_ record: TriggerRecord?, into o: inout [String: Any]) {
        guard let record else { return }
        o["trigger_rule"] = record.rule
        o["observed_value"] = record.observed
        o["baseline_value"] = record.baseline
        o["threshold"] = record.threshold
        o["sample_count"] = record.samples
        o["trigger_action"] = record.action
        o["dry_run"] = record.dryRun
    }

    /// `mlctl metrics`: cumulative figures per version since the node started.
    public static func metricsTable(node: String, reply: MetricsReply) -> TextTable {
        TextTable(headers: ["node", "version", "slot", "requests", "model err", "client err", "p50 ms", "p99 ms", "anomaly", "F1", "labels", "drift"],
                  rows: reply.versions.map { v in
                      [node, v.version, v.version == reply.activeVersion ? "active" : "", String(v.requests),
                       v.modelErrorRate.map(Formatting.percent) ?? "-", v.clientErrorRate.map(Formatting.percent) ?? "-",
                       ms(v.latencyQuantileNanos(0.5)), ms(v.latencyQuantileNanos(0.99)),
                       v.anomalyRate.map(Formatting.percent) ?? "-", v.f1.map { Formatting.fixed($0, 3) } ?? "-",
                       String(v.feedbackCount), v.drift.map { Formatting.fixed($0, 4) } ?? "-"]
                  })
    }

    public static func json(_ v: VersionMetrics, active: Bool) -> [String: Any] {
        var o: [String: Any] = ["version": v.version, "active": active, "requests": v.requests, "errors": v.errors,
                                "feedback_count": v.feedbackCount]
        o["error_rate"] = v.errorRate
        o["latency_p50_ms"] = v.latencyQuantileNanos(0.5).map { Double($0) / 1e6 }
        o["latency_p99_ms"] = v.latencyQuantileNanos(0.99).map { Double($0) / 1e6 }
        o["anomaly_rate"] = v.anomalyRate
        o["f1_score"] = v.f1
        o["drift_score"] = v.drift
        o["drift_expected"] = v.driftExpected
        o["model_errors"] = v.modelErrors
        o["client_errors"] = v.clientErrors
        o["model_error_rate"] = v.modelErrorRate
        o["client_error_rate"] = v.clientErrorRate
        o["labels"] = v.labels
        o["labels_unmatched"] = v.labelsUnmatched
        o["labels_expired"] = v.labelsExpired
        o["labels_duplicate"] = v.labelsDuplicate
        o["label_coverage"] = v.labelCoverage
        o["label_delay_p50_ms"] = v.labelDelayQuantileMillis(0.5)
        o["label_delay_p99_ms"] = v.labelDelayQuantileMillis(0.99)
        return o
    }

    private static func ms(_ nanos: UInt64?) -> String {
        guard let nanos else { return "-" }
        let value = Double(nanos) / 1e6
        return value < 10 ? Formatting.fixed(value, 3) : Formatting.fixed(value, 1)
    }
}
