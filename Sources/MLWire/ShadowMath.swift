import Glibc

/// Derived figures of a shadow window, shared by the node's Prometheus export, mlctl's gate and
/// mlbench so every tool computes them the same way.
extension ShadowPairMetrics {
    /// Counter-wise `self − earlier` (a window). Counters that went backwards (restart) are
    /// taken whole.
    public func since(_ earlier: ShadowPairMetrics?) -> ShadowPairMetrics {
        guard let e = earlier, rows >= e.rows else { return self }
        func minus(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] { a.indices.map { a[$0] &- ($0 < b.count ? b[$0] : 0) } }
        var d = ShadowPairMetrics(activeVersion: activeVersion, standbyVersion: standbyVersion)
        d.rows = rows - e.rows
        d.agreements = agreements &- e.agreements
        d.standbyErrors = standbyErrors &- e.standbyErrors
        d.activeConfusion = activeConfusion.since(e.activeConfusion)
        d.standbyConfusion = standbyConfusion.since(e.standbyConfusion)
        d.standbyLatencySumNanos = standbyLatencySumNanos &- e.standbyLatencySumNanos
        var previous = [UInt16: UInt64]()
        for bucket in e.standbyLatencyBuckets { previous[bucket.index] = bucket.count }
        d.standbyLatencyBuckets = standbyLatencyBuckets.compactMap { b in
            let count = b.count &- (previous[b.index] ?? 0)
            return count == 0 ? nil : BucketCount(index: b.index, count: count)
        }
        d.differenceBins = minus(differenceBins, e.differenceBins)
        d.standbyScoreBins = minus(standbyScoreBins, e.standbyScoreBins)
        d.activeScoreBins = minus(activeScoreBins, e.activeScoreBins)
        return d
    }

    /// Rows both models scored (the standby's errors excluded).
    public var comparedRows: UInt64 { rows &- standbyErrors }

    /// Share of compared rows where the standby's label equals the active's; nil without rows.
    public var agreementRate: Double? {
        comparedRows == 0 ? nil : Double(agreements) / Double(comparedRows)
    }

    /// Labelled shadow rows (the same rows for both models).
    public var labelledRows: UInt64 { UInt64(standbyConfusion.total) }

    /// The standby's scoring-time quantile per frame, in nanoseconds (bucket upper bound).
    public func standbyLatencyQuantileNanos(_ q: Double) -> UInt64? {
        VersionMetrics(version: standbyVersion, latencyBuckets: standbyLatencyBuckets).latencyQuantileNanos(q)
    }

    /// The q-quantile of |score difference|: the upper edge of the bin that holds it.
    public func differenceQuantile(_ q: Double) -> Double? {
        let total = differenceBins.reduce(0.0) { $0 + Double($1) }
        guard total > 0 else { return nil }
        let rank = max((q * total).rounded(.up), 1)
        var seen = 0.0
        for (i, count) in differenceBins.enumerated() {
            seen += Double(count)
            if seen >= rank { return i + 1 < ScoreDifferenceBins.count ? Double(ScoreDifferenceBins.lowerEdges[i + 1]) : 1 }
        }
        return 1
    }

    /// PSI of each model's scores on these rows against its artifact's reference distribution.
    public func standbyDrift(reference: [Float]) -> Double? {
        VersionMetrics(version: standbyVersion, scoreBins: standbyScoreBins, referenceBins: reference).drift
    }

    public func activeDrift(reference: [Float]) -> Double? {
        VersionMetrics(version: activeVersion, scoreBins: activeScoreBins, referenceBins: reference).drift
    }
}
