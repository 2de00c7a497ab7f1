import MLWire

/// The shadow block in Prometheus form. Series per (active, standby) pair carry
/// `active="…",standby="…"`; labelled-row counts also carry `role="active|standby"` (which model
/// the confusion cell is for) and `outcome`.
///
/// - `mlserve_shadow_rate` (gauge): the rate in force, 0 when off;
/// - `mlserve_shadow_rows_total`, `mlserve_shadow_agreements_total`,
///   `mlserve_shadow_standby_errors_total` (counters);
/// - `mlserve_shadow_labels_total{role,outcome}` (counter): both models on the same labelled rows;
/// - `mlserve_shadow_standby_duration_seconds` (histogram): standby scoring time per frame;
/// - `mlserve_shadow_agreement_ratio` (gauge, only where defined).
extension PrometheusExposition {
    static func renderShadow(_ out: inout String, _ shadow: ShadowStatus) {
        family(&out, "mlserve_shadow_rate", "gauge", "Fraction of rows the standby also scores now (0: off).")
        sample(&out, "mlserve_shadow_rate", "", number(Double(shadow.rate)))
        let pairs = shadow.pairs
        func labels(_ p: ShadowPairMetrics, _ extra: [(String, String)] = []) -> String {
            labelSet([("active", p.activeVersion), ("standby", p.standbyVersion)] + extra)
        }
        let counters: [(String, String, (ShadowPairMetrics) -> UInt64)] = [
            ("mlserve_shadow_rows_total", "Rows the standby scored in shadow, per (active, standby) pair.", { $0.rows }),
            ("mlserve_shadow_agreements_total", "Shadowed rows where the standby's label equals the active's.", { $0.agreements }),
            ("mlserve_shadow_standby_errors_total", "Shadowed rows the standby scored as non-finite (a standby model error).", { $0.standbyErrors }),
        ]
        for (name, help, value) in counters {
            family(&out, name, "counter", help)
            for p in pairs { sample(&out, name, labels(p), String(value(p))) }
        }
        family(&out, "mlserve_shadow_labels_total", "counter", "Labelled shadowed rows by model role and confusion cell.")
        for p in pairs {
            for (role, c) in [("active", p.activeConfusion), ("standby", p.standbyConfusion)] {
                for (outcome, count) in [("tp", c.truePositives), ("fp", c.falsePositives), ("tn", c.trueNegatives), ("fn", c.falseNegatives)] {
                    sample(&out, "mlserve_shadow_labels_total", labels(p, [("role", role), ("outcome", outcome)]), String(count))
                }
            }
        }
        family(&out, "mlserve_shadow_standby_duration_seconds", "histogram", "Standby scoring time per shadowed request frame.")
        for p in pairs {
            let cumulative = cumulativeBuckets(p.standbyLatencyBuckets)
            for (i, bound) in bucketBounds.enumerated() {
                sample(&out, "mlserve_shadow_standby_duration_seconds_bucket", labels(p, [("le", bound.label)]), String(cumulative[i]))
            }
            let total = cumulative[bucketBounds.count]
            sample(&out, "mlserve_shadow_standby_duration_seconds_bucket", labels(p, [("le", "+Inf")]), String(total))
            sample(&out, "mlserve_shadow_standby_duration_seconds_sum", labels(p), number(Double(p.standbyLatencySumNanos) / 1e9))
            sample(&out, "mlserve_shadow_standby_duration_seconds_count", labels(p), String(total))
        }
        family(&out, "mlserve_shadow_agreement_ratio", "gauge", "Agreements / compared shadowed rows since start; absent without rows.")
        for p in pairs { if let a = p.agreementRate { sample(&out, "mlserve_shadow_agreement_ratio", labels(p), number(a)) } }
    }
}
