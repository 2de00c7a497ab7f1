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
        return VersionMetrics(
            version: version, requests: delta(requests, earlier.requests), errors: delta(errors, earlier.errors),
            positives: delta(positives, earlier.positives), truePositives: delta(truePositives, earlier.truePositives),
            falsePositives: delta(falsePositives, earlier.falsePositives), trueNegatives: delta(trueNegatives, earlier.trueNegatives),
            falseNegatives: delta(falseNegatives, earlier.falseNegatives), latencySumNanos: delta(latencySumNanos, earlier.latencySumNanos),
            latencyCount: delta(latencyCount, earlier.latencyCount), latencyBuckets: buckets, scoreBins: scores,
            referenceBins: referenceBins)
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

    /// errors / (requests + errors); nil when nothing was asked.
    public var errorRate: Double? {
        let total = Double(requests) + Double(errors)
        return total == 0 ? nil : Double(errors) / total
    }

    /// positives / requests; nil when nothing was predicted.
    public var anomalyRate: Double? {
        requests == 0 ? nil : Double(positives) / Double(requests)
    }

    /// The q-quantile of server-side latency in nanoseconds (upper bound of the bucket holding it).
    public func latencyQuantileNanos(_ q: Double) -> UInt64? {
        // Counted in Double: a sum of u64 bucket counts from the wire can overflow UInt64.
        let total = latencyBuckets.reduce(0.0) { $0 + Double($1.count) }
        guard total > 0 else { return nil }
        let rank = max((q * total).rounded(.up), 1)
        var seen = 0.0
        for bucket in latencyBuckets {
            seen += Double(bucket.count)
            if seen >= rank { return LatencyBuckets.upperBound(Int(bucket.index)) - 1 }
        }
        return LatencyBuckets.upperBound(Int(latencyBuckets.last!.index)) - 1
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
