import Glibc

/// Derived figures from cumulative counters. Pure functions of the message, shared by the node's
/// Prometheus export, mlctl and mlbench so every tool computes F1, p99 and PSI the same way.
extension VersionMetrics {
    /// Counter-wise difference `self - earlier` (a poll window). Counters that went backwards
    /// (node restarted) are taken whole, as Prometheus' rate() does.
    public func since(_ earlier: VersionMetrics?) -> VersionMetrics {
        guard let earlier else { return self }
        func delta(_ now: UInt64, _ then: UInt64) -> UInt64 { now >= then ? now - then : now }
        if requests < earlier.requests { return self }
        var previous = [UInt16: UInt64]()
        for bucket in earlier.latencyBuckets { previous[bucket.index] = bucket.count }
        let buckets = latencyBuckets.compactMap { bucket -> BucketCount? in
            let count = delta(bucket.count, previous[bucket.index] ?? 0)
            return count == 0 ? nil : BucketCount(index: bucket.index, count: count)
        }
        let scores = scoreBins.indices.map { delta(scoreBins[$0], $0 < earlier.scoreBins.count ? earlier.scoreBins[$0] : 0) }
        var previousDelays = [UInt16: UInt64]()
        for bucket in earlier.labelDelayBuckets { previousDelays[bucket.index] = bucket.count }
        let delays = labelDelayBuckets.compactMap { bucket -> BucketCount? in
            let count = delta(bucket.count, previousDelays[bucket.index] ?? 0)
            return count == 0 ? nil : BucketCount(index: bucket.index, count: count)
        }
        return VersionMetrics(
            version: version, requests: delta(requests, earlier.requests), errors: delta(errors, earlier.errors),
            positives: delta(positives, earlier.positives), truePositives: delta(truePositives, earlier.truePositives),
            falsePositives: delta(falsePositives, earlier.falsePositives), trueNegatives: delta(trueNegatives, earlier.trueNegatives),
            falseNegatives: delta(falseNegatives, earlier.falseNegatives), latencySumNanos: delta(latencySumNanos, earlier.latencySumNanos),
            latencyCount: delta(latencyCount, earlier.latencyCount), latencyBuckets: buckets, scoreBins: scores,
            referenceBins: referenceBins, modelErrors: delta(modelErrors, earlier.modelErrors),
            clientErrors: delta(clientErrors, earlier.clientErrors), labels: delta(labels, earlier.labels),
            labelsUnmatched: delta(labelsUnmatched, earlier.labelsUnmatched), labelsExpired: delta(labelsExpired, earlier.labelsExpired),
            labelsDuplicate: delta(labelsDuplicate, earlier.labelsDuplicate), labelDelayBuckets: delays)
    }

    /// Labelled feedback rows.
    /// Counters come from another process: sums saturate rather than trap on overflow.
    public var feedbackCount: UInt64 {
        [truePositives, falsePositives, trueNegatives, falseNegatives].reduce(UInt64(0)) { sum, x in
            let (total, overflow) = sum.addingReportingOverflow(x)
            return overflow ? .max : total
        }
    }

    /// F1 of the positive (anomaly) class; nil without feedback, or with no positives at all.
    public var f1: Double? {
        // In Double: 2·tp + fp + fn of u64 counters from the wire can overflow UInt64.
        let denominator = 2 * Double(truePositives) + Double(falsePositives) + Double(falseNegatives)
        guard denominator > 0 else { return nil }
        return 2 * Double(truePositives) / denominator
    }

    /// errors / (requests + errors); nil when nothing was asked. The v1 figure: it mixes the
    /// client's mistakes with the model's, so no rule reads it.
    public var errorRate: Double? {
        let total = Double(requests) + Double(errors)
        return total == 0 ? nil : Double(errors) / total
    }

    /// model_errors / (requests + model_errors): of the requests that reached the model, the
    /// share it failed. Requests refused for the client's fault never reached it and are not in
    /// the denominator either. nil when no request reached the model.
    public var modelErrorRate: Double? {
        let total = Double(requests) + Double(modelErrors)
        return total == 0 ? nil : Double(modelErrors) / total
    }

    /// client_errors / (requests + model_errors + client_errors): the share of all requests
    /// refused for the client's fault. nil when nothing was asked.
    public var clientErrorRate: Double? {
        let total = Double(requests) + Double(modelErrors) + Double(clientErrors)
        return total == 0 ? nil : Double(clientErrors) / total
    }

    /// Ground-truth rows (labels joined by id plus controller feedback: the confusion matrix's
    /// total) / requests over a window, capped at 1 (a label may arrive a window after its
    /// prediction): the fraction of predictions F1 rests on. nil without predictions.
    public var labelCoverage: Double? {
        requests == 0 ? nil : min(1, Double(feedbackCount) / Double(requests))
    }

    /// The q-quantile of label delay in milliseconds (upper bound of its bucket); nil without labels.
    public func labelDelayQuantileMillis(_ q: Double) -> UInt64? {
        Self.quantile(labelDelayBuckets, q)
    }

    /// Scores counted in the score histogram (the n behind PSI).
    public var scoreCount: UInt64 {
        scoreBins.reduce(UInt64(0)) { sum, x in
            let (total, overflow) = sum.addingReportingOverflow(x)
            return overflow ? .max : total
        }
    }

    /// Whether the artifact carried a reference distribution to measure drift against.
    public var hasReference: Bool {
        referenceBins.count == scoreBins.count && referenceBins.contains { $0 > 0 }
    }

    /// The PSI that sampling alone produces, in expectation, when `samples` scores are drawn
    /// from the reference itself over `bins` bins with non-zero reference mass:
    /// E[PSI] ≈ (B − 1) / n.
    ///
    /// Why: with counts multinomial(n, e), the observed share a_i = e_i + δ_i has E[δ_i] = 0 and
    /// Var(δ_i) = e_i(1 − e_i)/n. PSI = Σ δ_i · ln(1 + δ_i/e_i); to second order ln(1 + x) ≈ x,
    /// so PSI ≈ Σ δ_i²/e_i — Pearson's χ² statistic divided by n, whose expectation is
    /// Σ (1 − e_i)/n = (B − 1)/n (χ² has B − 1 degrees of freedom). A PSI near this value says
    /// "no evidence of drift at this n", however large the rule-of-thumb reading; the 1e-4
    /// smoothing of empty bins adds a little on top for tiny n. nil for n = 0 or B < 2.
    public static func driftNoiseFloor(bins: Int, samples: UInt64) -> Double? {
        guard samples > 0, bins >= 2 else { return nil }
        return Double(bins - 1) / Double(samples)
    }

    /// `driftNoiseFloor` for this window's score count and reference; nil without a reference.
    public var driftExpected: Double? {
        guard hasReference else { return nil }
        return Self.driftNoiseFloor(bins: referenceBins.filter { $0 > 0 }.count, samples: scoreCount)
    }

    /// positives / requests; nil when nothing was predicted.
    public var anomalyRate: Double? {
        requests == 0 ? nil : Double(positives) / Double(requests)
    }

    /// The q-quantile of server-side latency in nanoseconds (upper bound of the bucket holding it).
    public func latencyQuantileNanos(_ q: Double) -> UInt64? {
        Self.quantile(latencyBuckets, q)
    }

    static func quantile(_ buckets: [BucketCount], _ q: Double) -> UInt64? {
        // Counted in Double: a sum of u64 bucket counts from the wire can overflow UInt64.
        let total = buckets.reduce(0.0) { $0 + Double($1.count) }
        guard total > 0 else { return nil }
        let rank = max((q * total).rounded(.up), 1)
        var seen = 0.0
        for bucket in buckets {
            seen += Double(bucket.count)
            if seen >= rank { return LatencyBuckets.upperBound(Int(bucket.index)) - 1 }
        }
        return LatencyBuckets.upperBound(Int(buckets.last!.index)) - 1
    }

    /// Population stability index of the observed scores against the reference distribution.
    /// Bins are smoothed by 1e-4 so an empty bin does not make it infinite. nil without data.
    public var drift: Double? {
        let total = scoreBins.reduce(0.0) { $0 + Double($1) }
        guard total > 0, referenceBins.count == scoreBins.count, !referenceBins.isEmpty else { return nil }
        let epsilon = 1e-4
        var psi = 0.0
        for i in scoreBins.indices {
            let actual = max(Double(scoreBins[i]) / total, epsilon)
            let expected = max(Double(referenceBins[i]), epsilon)
            psi += (actual - expected) * log(actual / expected)
        }
        return psi
    }
}
