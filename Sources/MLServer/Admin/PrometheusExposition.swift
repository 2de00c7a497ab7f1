import MLWire

/// Renders the node's state in the Prometheus text exposition format 0.0.4. Pure: the same
/// snapshots always give the same bytes.
///
/// Families (all samples of a family are contiguous, each family has HELP and TYPE once):
/// - counters per version: `mlserve_predictions_total`, `mlserve_model_errors_total` (requests
///   the model failed: what the error-rate rollback reads), `mlserve_client_errors_total{status}`
///   (requests refused for the client's fault, by status name), `mlserve_labels_total{outcome=
///   "matched|unmatched|expired|duplicate"}`,
///   `mlserve_anomalies_total`, `mlserve_feedback_total{outcome="tp|fp|tn|fn"}`;
/// - histogram per version: `mlserve_request_duration_seconds` (see `bucketBounds`);
/// - gauges per version, only where defined (no NaN lines): `mlserve_f1_score`,
///   `mlserve_anomaly_rate`, `mlserve_drift_psi`;
/// - node gauges: `mlserve_active_generation`, `mlserve_slot_info{slot,version,model} 1`,
///   `mlserve_ready`, `mlserve_uptime_seconds`.
/// Per-version series carry `version="…"` and, when a slot still holds that version,
/// `model="…"` (a version no longer loaded keeps its counters but its model name is unknown).
public enum PrometheusExposition {
    /// The `le` boundaries of the exported histogram, in nanoseconds, with their label text.
    ///
    /// The node records 592 log-linear buckets (`LatencyBuckets`, ≤ 6.25% wide). Exporting them
    /// all would make 592 series per version; Prometheus users expect the 1-2.5-5 ladder, so we
    /// collapse to these 22 boundaries from 1 µs to 10 s (plus +Inf). A fine bucket is counted
    /// under the smallest boundary ≥ its largest value (`upperBound - 1`), the same upper-bound
    /// convention `latencyQuantileNanos` uses. A fine bucket that straddles a boundary is therefore
    /// counted at the next boundary up: each cumulative count is exact to within one fine bucket
    /// (≤ 6.25% of the boundary). The trade-off not taken: powers of two (exact, but `le="0.000524288"`
    /// is unreadable and does not line up with other services' histograms).
    public static let bucketBounds: [(nanos: UInt64, label: String)] = [
        (1_000, "1e-06"), (2_500, "2.5e-06"), (5_000, "5e-06"),
        (10_000, "1e-05"), (25_000, "2.5e-05"), (50_000, "5e-05"),
        (100_000, "0.0001"), (250_000, "0.00025"), (500_000, "0.0005"),
        (1_000_000, "0.001"), (2_500_000, "0.0025"), (5_000_000, "0.005"),
        (10_000_000, "0.01"), (25_000_000, "0.025"), (50_000_000, "0.05"),
        (100_000_000, "0.1"), (250_000_000, "0.25"), (500_000_000, "0.5"),
        (1_000_000_000, "1"), (2_500_000_000, "2.5"), (5_000_000_000, "5"),
        (10_000_000_000, "10"),
    ]

    public static func render(info: InfoReply, metrics: MetricsReply, ready: Bool,
                              clientErrors: [(version: String, status: Status, count: UInt64)] = []) -> String {
        var out = ""
        let models = modelNames(info)
        func labels(_ version: VersionMetrics, _ extra: [(String, String)] = []) -> String {
            var pairs = [("version", version.version)]
            if let model = models[version.version] { pairs.append(("model", model)) }
            return labelSet(pairs + extra)
        }
        let versions = metrics.versions

        family(&out, "mlserve_predictions_total", "counter", "Rows predicted, per model version.")
        for v in versions { sample(&out, "mlserve_predictions_total", labels(v), String(v.requests)) }
        family(&out, "mlserve_model_errors_total", "counter", "Requests the model failed (counts towards the error-rate rollback).")
        for v in versions { sample(&out, "mlserve_model_errors_total", labels(v), String(v.modelErrors)) }
        family(&out, "mlserve_client_errors_total", "counter", "Requests refused because the client sent them wrong, by status.")
        for v in versions {
            for entry in clientErrors where entry.version == v.version {
                sample(&out, "mlserve_client_errors_total", labels(v, [("status", entry.status.name)]), String(entry.count))
            }
        }
        family(&out, "mlserve_labels_total", "counter", "LABEL items by what their prediction id found.")
        for v in versions {
            for (outcome, count) in [("matched", v.labels), ("unmatched", v.labelsUnmatched), ("expired", v.labelsExpired),
                                     ("duplicate", v.labelsDuplicate)] {
                sample(&out, "mlserve_labels_total", labels(v, [("outcome", outcome)]), String(count))
            }
        }
        family(&out, "mlserve_anomalies_total", "counter", "Rows predicted positive (anomalies).")
        for v in versions { sample(&out, "mlserve_anomalies_total", labels(v), String(v.positives)) }
        family(&out, "mlserve_feedback_total", "counter", "Ground-truth feedback rows by confusion-matrix cell.")
        for v in versions {
            for (outcome, count) in [("tp", v.truePositives), ("fp", v.falsePositives), ("tn", v.trueNegatives), ("fn", v.falseNegatives)] {
                sample(&out, "mlserve_feedback_total", labels(v, [("outcome", outcome)]), String(count))
            }
        }

        family(&out, "mlserve_request_duration_seconds", "histogram", "Server-side time per request frame.")
        for v in versions {
            let cumulative = cumulativeBuckets(v.latencyBuckets)
            for (i, bound) in bucketBounds.enumerated() {
                sample(&out, "mlserve_request_duration_seconds_bucket", labels(v, [("le", bound.label)]), String(cumulative[i]))
            }
            let total = cumulative[bucketBounds.count]
            sample(&out, "mlserve_request_duration_seconds_bucket", labels(v, [("le", "+Inf")]), String(total))
            sample(&out, "mlserve_request_duration_seconds_sum", labels(v), number(Double(v.latencySumNanos) / 1e9))
            sample(&out, "mlserve_request_duration_seconds_count", labels(v), String(total))
        }

        gauge(&out, "mlserve_f1_score", "F1 of the anomaly class from feedback; absent without feedback.", versions, labels) { $0.f1 }
        gauge(&out, "mlserve_anomaly_rate", "Anomalies / predictions since start; absent without predictions.", versions, labels) { $0.anomalyRate }
        gauge(&out, "mlserve_drift_psi", "PSI of predicted scores against the artifact's reference; absent without data.", versions, labels) { $0.drift }

        family(&out, "mlserve_active_generation", "gauge", "Swap generation of the active slot.")
        sample(&out, "mlserve_active_generation", "", String(info.generation))
        family(&out, "mlserve_slot_info", "gauge", "Which version each slot holds (always 1).")
        for (name, slot) in [("active", info.active), ("standby", info.standby)] where slot.present {
            sample(&out, "mlserve_slot_info", labelSet([("slot", name), ("version", slot.version), ("model", slot.modelName)]), "1")
        }
        family(&out, "mlserve_ready", "gauge", "1 when an active model is loaded and the node is not draining.")
        sample(&out, "mlserve_ready", "", ready ? "1" : "0")
        family(&out, "mlserve_uptime_seconds", "gauge", "Seconds since the node started.")
        sample(&out, "mlserve_uptime_seconds", "", number(Double(metrics.uptimeMillis) / 1000))
        return out
    }

    /// Cumulative counts for each boundary in `bucketBounds`, then the +Inf total (the sum of
    /// all fine buckets, so +Inf and `_count` agree by construction).
    static func cumulativeBuckets(_ fine: [BucketCount]) -> [UInt64] {
        var perBound = [UInt64](repeating: 0, count: bucketBounds.count + 1)
        for bucket in fine where Int(bucket.index) < LatencyBuckets.count {
            let largest = LatencyBuckets.upperBound(Int(bucket.index)) - 1
            let slot = bucketBounds.firstIndex { largest <= $0.nanos } ?? bucketBounds.count
            perBound[slot] &+= bucket.count
        }
        var running: UInt64 = 0
        return perBound.map { running &+= $0; return running }
    }

    private static func modelNames(_ info: InfoReply) -> [String: String] {
        var names: [String: String] = [:]
        for slot in [info.standby, info.active] where slot.present && !slot.modelName.isEmpty {
            names[slot.version] = slot.modelName
        }
        return names
    }

    private static func gauge(_ out: inout String, _ name: String, _ help: String, _ versions: [VersionMetrics],
                              _ labels: (VersionMetrics, [(String, String)]) -> String, _ value: (VersionMetrics) -> Double?) {
        family(&out, name, "gauge", help)
        for v in versions {
            guard let x = value(v), x.isFinite else { continue }
            sample(&out, name, labels(v, []), number(x))
        }
    }

    private static func family(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    private static func sample(_ out: inout String, _ name: String, _ labels: String, _ value: String) {
        out += name + labels + " " + value + "\n"
    }

    static func labelSet(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// Label values escape backslash, double quote and line feed (the format's only three).
    static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// HELP text escapes backslash and line feed only.
    static func escapeHelp(_ text: String) -> String {
        text.replacingBackslashAndNewline()
    }

    /// Go's ParseFloat reads Swift's shortest round-trip form ("0.5", "1e-06").
    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }
}

extension String {
    fileprivate func replacingBackslashAndNewline() -> String {
        var out = ""
        for c in unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
