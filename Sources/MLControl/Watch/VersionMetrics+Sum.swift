import MLWire

extension VersionMetrics {
    /// Counter-wise sum of two windows of the same version, to judge several polls together
    /// (step 5 looks at everything since the rollback, not just the last poll).
    func adding(_ other: VersionMetrics) -> VersionMetrics {
        var buckets = [UInt16: UInt64]()
        for b in latencyBuckets + other.latencyBuckets { buckets[b.index, default: 0] += b.count }
        let binCount = max(scoreBins.count, other.scoreBins.count)
        let scores = (0..<binCount).map {
            ($0 < scoreBins.count ? scoreBins[$0] : 0) + ($0 < other.scoreBins.count ? other.scoreBins[$0] : 0)
        }
        return VersionMetrics(
            version: version, requests: requests + other.requests, errors: errors + other.errors,
            positives: positives + other.positives, truePositives: truePositives + other.truePositives,
            falsePositives: falsePositives + other.falsePositives, trueNegatives: trueNegatives + other.trueNegatives,
            falseNegatives: falseNegatives + other.falseNegatives, latencySumNanos: latencySumNanos + other.latencySumNanos,
            latencyCount: latencyCount + other.latencyCount,
            latencyBuckets: buckets.keys.sorted().map { BucketCount(index: $0, count: buckets[$0]!) },
            scoreBins: scores, referenceBins: referenceBins.isEmpty ? other.referenceBins : referenceBins,
            modelErrors: modelErrors + other.modelErrors, clientErrors: clientErrors + other.clientErrors,
            labels: labels + other.labels, labelsUnmatched: labelsUnmatched + other.labelsUnmatched,
            labelsExpired: labelsExpired + other.labelsExpired, labelsDuplicate: labelsDuplicate + other.labelsDuplicate,
            labelDelayBuckets: Self.merge(labelDelayBuckets, other.labelDelayBuckets))
    }

    private static func merge(_ a: [BucketCount], _ b: [BucketCount]) -> [BucketCount] {
        var buckets = [UInt16: UInt64]()
        for bucket in a + b { buckets[bucket.index, default: 0] += bucket.count }
        return buckets.keys.sorted().map { BucketCount(index: $0, count: buckets[$0]!) }
    }

    var latencySamples: UInt64 { latencyBuckets.reduce(0) { $0 + $1.count } }
}
