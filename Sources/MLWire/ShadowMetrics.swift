/// |active score − standby score| histogram layout: 11 bins with these lower edges, the first
/// holding exact agreement (PROTOCOL.md §12.6). Log-spaced, because "differs in the 6th digit"
/// (a recompiled kernel) and "differs by 0.3" (a retrained model) both matter.
public enum ScoreDifferenceBins {
    public static let lowerEdges: [Float] = [0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.5]
    public static let count = 11

    @inline(__always)
    public static func index(difference d: Float) -> Int {
        // Unrolled on purpose: the shadow path calls this per row.
        if !(d > 0) { return 0 }
        if d < 1e-4 { return d < 1e-6 ? (d < 1e-7 ? 1 : 2) : (d < 1e-5 ? 3 : 4) }
        if d < 0.05 { return d < 1e-3 ? 5 : (d < 0.01 ? 6 : 7) }
        return d < 0.1 ? 8 : (d < 0.2 ? 9 : 10)
    }
}

/// Confusion counts from labels: true/false positives/negatives.
public struct ConfusionCounts: Equatable, Sendable {
    public var truePositives: UInt64 = 0
    public var falsePositives: UInt64 = 0
    public var trueNegatives: UInt64 = 0
    public var falseNegatives: UInt64 = 0

    public init(truePositives: UInt64 = 0, falsePositives: UInt64 = 0, trueNegatives: UInt64 = 0, falseNegatives: UInt64 = 0) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives
        self.falseNegatives = falseNegatives
    }

    public var total: Double { Double(truePositives) + Double(falsePositives) + Double(trueNegatives) + Double(falseNegatives) }

    /// F1 of the positive class; nil with nothing to score.
    public var f1: Double? {
        let denominator = 2 * Double(truePositives) + Double(falsePositives) + Double(falseNegatives)
        return denominator > 0 ? 2 * Double(truePositives) / denominator : nil
    }

    func since(_ e: ConfusionCounts) -> ConfusionCounts {
        ConfusionCounts(truePositives: truePositives &- e.truePositives, falsePositives: falsePositives &- e.falsePositives,
                        trueNegatives: trueNegatives &- e.trueNegatives, falseNegatives: falseNegatives &- e.falseNegatives)
    }

    static let size = 32

    func write(to w: inout ByteWriter) {
        for c in [truePositives, falsePositives, trueNegatives, falseNegatives] { w.write(c) }
    }

    init(from r: inout ByteReader) throws(WireError) {
        truePositives = try r.readUInt64("tp")
        falsePositives = try r.readUInt64("fp")
        trueNegatives = try r.readUInt64("tn")
        falseNegatives = try r.readUInt64("fn")
    }
}

/// Cumulative shadow counters of one (active, standby) pair since the node started
/// (PROTOCOL.md §11.8, the v2 shadow block). Rows are counted once each, errors included.
public struct ShadowPairMetrics: Equatable, Sendable {
    public var activeVersion: String
    public var standbyVersion: String
    /// Rows the standby was asked to score.
    public var rows: UInt64 = 0
    /// Rows where the standby's label equals the active's.
    public var agreements: UInt64 = 0
    /// Rows where the standby produced a non-finite score (not in any other counter).
    public var standbyErrors: UInt64 = 0
    /// Both models on the same shadowed rows whose labels arrived by prediction id.
    public var activeConfusion = ConfusionCounts()
    public var standbyConfusion = ConfusionCounts()
    /// Standby scoring time per request frame (its sampled rows), nanoseconds.
    public var standbyLatencySumNanos: UInt64 = 0
    public var standbyLatencyBuckets: [BucketCount] = []
    /// `ScoreDifferenceBins.count` counts of |active − standby|.
    public var differenceBins: [UInt64] = []
    /// `ScoreBins.count` counts each, of the two models' scores on the shadowed rows.
    public var standbyScoreBins: [UInt64] = []
    public var activeScoreBins: [UInt64] = []

    public init(activeVersion: String, standbyVersion: String) {
        self.activeVersion = activeVersion
        self.standbyVersion = standbyVersion
    }

    var size: Int {
        ByteWriter.size(of: activeVersion) + ByteWriter.size(of: standbyVersion) + 3 * 8 + 2 * ConfusionCounts.size + 8
            + 2 + 10 * standbyLatencyBuckets.count + 3 * 2 + 8 * (differenceBins.count + standbyScoreBins.count + activeScoreBins.count)
    }

    func write(to w: inout ByteWriter) {
        w.write(string: activeVersion)
        w.write(string: standbyVersion)
        w.write(rows)
        w.write(agreements)
        w.write(standbyErrors)
        activeConfusion.write(to: &w)
        standbyConfusion.write(to: &w)
        w.write(standbyLatencySumNanos)
        w.write(UInt16(standbyLatencyBuckets.count))
        for bucket in standbyLatencyBuckets {
            w.write(bucket.index)
            w.write(bucket.count)
        }
        for bins in [differenceBins, standbyScoreBins, activeScoreBins] {
            w.write(UInt16(bins.count))
            for bin in bins { w.write(bin) }
        }
    }

    init(from r: inout ByteReader) throws(WireError) {
        activeVersion = try r.readString("shadow active_version", limit: Limits.version)
        standbyVersion = try r.readString("shadow standby_version", limit: Limits.version)
        rows = try r.readUInt64("shadow rows")
        agreements = try r.readUInt64("shadow agreements")
        standbyErrors = try r.readUInt64("shadow standby errors")
        activeConfusion = try ConfusionCounts(from: &r)
        standbyConfusion = try ConfusionCounts(from: &r)
        standbyLatencySumNanos = try r.readUInt64("shadow latency sum")
        let bucketCount = Int(try r.readUInt16("shadow latency bucket count"))
        guard bucketCount <= LatencyBuckets.count else {
            throw .malformed(.metricsReply, "\(bucketCount) shadow latency buckets, at most \(LatencyBuckets.count)")
        }
        for _ in 0..<bucketCount {
            let index = try r.readUInt16("shadow bucket index")
            guard Int(index) < LatencyBuckets.count else { throw .malformed(.metricsReply, "shadow latency bucket index \(index) out of range") }
            standbyLatencyBuckets.append(BucketCount(index: index, count: try r.readUInt64("shadow bucket count")))
        }
        func bins(_ what: StaticString) throws(WireError) -> [UInt64] {
            let count = Int(try r.readUInt16(what))
            guard count <= 1024 else { throw .malformed(.metricsReply, "\(count) shadow bins") }
            var values: [UInt64] = []
            for _ in 0..<count { values.append(try r.readUInt64(what)) }
            return values
        }
        differenceBins = try bins("shadow difference bins")
        standbyScoreBins = try bins("shadow standby score bins")
        activeScoreBins = try bins("shadow active score bins")
    }
}

/// The node-wide shadow block appended to METRICS_REPLY v2: what is shadowed now, and every
/// pair ever shadowed since the node started.
public struct ShadowStatus: Equatable, Sendable {
    /// The rate in effect now (0: off).
    public var rate: Float = 0
    /// Names the current SET_SHADOW setting; 0 when off. A new setting, a swap, a load or a
    /// restart all change it, which is how a controller tells its window was interrupted.
    public var session: UInt64 = 0
    /// The pair shadowed now; empty when off.
    public var activeVersion = ""
    public var standbyVersion = ""
    public var pairs: [ShadowPairMetrics] = []

    public init(rate: Float = 0, session: UInt64 = 0, activeVersion: String = "", standbyVersion: String = "", pairs: [ShadowPairMetrics] = []) {
        self.rate = rate
        self.session = session
        self.activeVersion = activeVersion
        self.standbyVersion = standbyVersion
        self.pairs = pairs
    }

    public var size: Int {
        16 + ByteWriter.size(of: activeVersion) + ByteWriter.size(of: standbyVersion) + 2 + pairs.reduce(0) { $0 + $1.size }
    }

    public func write(to w: inout ByteWriter) {
        w.write(rate)
        w.write(UInt32(0))
        w.write(session)
        w.write(string: activeVersion)
        w.write(string: standbyVersion)
        w.write(UInt16(pairs.count))
        for pair in pairs { pair.write(to: &w) }
    }

    public init(from r: inout ByteReader) throws(WireError) {
        rate = try r.readFloat("shadow rate")
        try r.readReserved(4)
        session = try r.readUInt64("shadow session")
        activeVersion = try r.readString("shadow active_version", limit: Limits.version)
        standbyVersion = try r.readString("shadow standby_version", limit: Limits.version)
        let count = Int(try r.readUInt16("shadow pair count"))
        for _ in 0..<count { pairs.append(try ShadowPairMetrics(from: &r)) }
    }

    /// The counters of the pair (active, standby), if it was ever shadowed.
    public func pair(active: String, standby: String) -> ShadowPairMetrics? {
        pairs.first { $0.activeVersion == active && $0.standbyVersion == standby }
    }
}
