/// A non-empty latency bucket: its index in `LatencyBuckets` and its count.
public struct BucketCount: Equatable, Sendable {
    public var index: UInt16
    public var count: UInt64
    public init(index: UInt16, count: UInt64) {
        self.index = index
        self.count = count
    }
}

/// Cumulative counters for one model version since the node started (PROTOCOL.md §11.8).
/// Like Prometheus counters they only grow; a controller takes differences between polls.
public struct VersionMetrics: Equatable, Sendable {
    public var version: String
    /// Rows predicted (a batch of N rows counts N).
    public var requests: UInt64
    /// Requests this version could not answer (e.g. wrong feature count for it).
    public var errors: UInt64
    /// Rows labelled positive (anomalies).
    public var positives: UInt64
    /// Confusion matrix from Feedback.
    public var truePositives: UInt64
    public var falsePositives: UInt64
    public var trueNegatives: UInt64
    public var falseNegatives: UInt64
    /// Server-side time per request frame, from decode to response encoded.
    public var latencySumNanos: UInt64
    public var latencyCount: UInt64
    /// Sparse: non-empty buckets only, ascending index.
    public var latencyBuckets: [BucketCount]
    /// `ScoreBins.count` counts of predicted scores.
    public var scoreBins: [UInt64]
    /// The artifact's reference score distribution (proportions), the drift baseline.
    public var referenceBins: [Float]

    public init(version: String, requests: UInt64 = 0, errors: UInt64 = 0, positives: UInt64 = 0,
                truePositives: UInt64 = 0, falsePositives: UInt64 = 0, trueNegatives: UInt64 = 0, falseNegatives: UInt64 = 0,
                latencySumNanos: UInt64 = 0, latencyCount: UInt64 = 0, latencyBuckets: [BucketCount] = [],
                scoreBins: [UInt64] = [], referenceBins: [Float] = []) {
        self.version = version
        self.requests = requests
        self.errors = errors
        self.positives = positives
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives
        self.falseNegatives = falseNegatives
        self.latencySumNanos = latencySumNanos
        self.latencyCount = latencyCount
        self.latencyBuckets = latencyBuckets
        self.scoreBins = scoreBins
        self.referenceBins = referenceBins
    }

    var size: Int {
        ByteWriter.size(of: version) + 9 * 8 + 2 + 10 * latencyBuckets.count + 2 + 8 * scoreBins.count + 2 + 4 * referenceBins.count
    }

    func write(to w: inout ByteWriter) {
        w.write(string: version)
        for counter in [requests, errors, positives, truePositives, falsePositives, trueNegatives, falseNegatives,
                        latencySumNanos, latencyCount] {
            w.write(counter)
        }
        w.write(UInt16(latencyBuckets.count))
        for bucket in latencyBuckets {
            w.write(bucket.index)
            w.write(bucket.count)
        }
        w.write(UInt16(scoreBins.count))
        for bin in scoreBins { w.write(bin) }
        w.write(UInt16(referenceBins.count))
        for bin in referenceBins { w.write(bin) }
    }

    init(from r: inout ByteReader) throws(WireError) {
        version = try r.readString("version", limit: Limits.version)
        requests = try r.readUInt64()
        errors = try r.readUInt64()
        positives = try r.readUInt64()
        truePositives = try r.readUInt64()
        falsePositives = try r.readUInt64()
        trueNegatives = try r.readUInt64()
        falseNegatives = try r.readUInt64()
        latencySumNanos = try r.readUInt64()
        latencyCount = try r.readUInt64()
        let bucketCount = Int(try r.readUInt16("latency bucket count"))
        guard bucketCount <= LatencyBuckets.count else {
            throw .malformed(.metricsReply, "\(bucketCount) latency buckets, at most \(LatencyBuckets.count)")
        }
        latencyBuckets = []
        for _ in 0..<bucketCount {
            let index = try r.readUInt16("bucket index")
            guard Int(index) < LatencyBuckets.count else { throw .malformed(.metricsReply, "latency bucket index \(index) out of range") }
            latencyBuckets.append(BucketCount(index: index, count: try r.readUInt64("bucket count")))
        }
        let scoreCount = Int(try r.readUInt16("score bin count"))
        guard scoreCount <= 1024 else { throw .malformed(.metricsReply, "\(scoreCount) score bins") }
        scoreBins = []
        for _ in 0..<scoreCount { scoreBins.append(try r.readUInt64("score bin")) }
        let referenceCount = Int(try r.readUInt16("reference bin count"))
        guard referenceCount <= 1024 else { throw .malformed(.metricsReply, "\(referenceCount) reference bins") }
        referenceBins = []
        for _ in 0..<referenceCount { referenceBins.append(try r.readFloat("reference bin")) }
    }
}

/// Answer to Metrics: a snapshot of every version the node has served since it started.
public struct MetricsReply: WireMessage {
    public static let messageType = MessageType.metricsReply

    public var generation: UInt64
    public var uptimeMillis: UInt64
    /// When the snapshot was taken, microseconds since the Unix epoch.
    public var timestampMicros: Int64
    public var activeVersion: String
    public var versions: [VersionMetrics]

    public init(generation: UInt64, uptimeMillis: UInt64, timestampMicros: Int64, activeVersion: String, versions: [VersionMetrics]) {
        self.generation = generation
        self.uptimeMillis = uptimeMillis
        self.timestampMicros = timestampMicros
        self.activeVersion = activeVersion
        self.versions = versions
    }

    public var payloadSize: Int { 24 + ByteWriter.size(of: activeVersion) + 2 + versions.reduce(0) { $0 + $1.size } }

    public func write(to w: inout ByteWriter) {
        w.write(generation)
        w.write(uptimeMillis)
        w.write(timestampMicros)
        w.write(string: activeVersion)
        w.write(UInt16(versions.count))
        for version in versions { version.write(to: &w) }
    }

    public init(from r: inout ByteReader) throws(WireError) {
        generation = try r.readUInt64("generation")
        uptimeMillis = try r.readUInt64("uptime")
        timestampMicros = try r.readInt64("timestamp")
        activeVersion = try r.readString("active_version", limit: Limits.version)
        let count = Int(try r.readUInt16("version count"))
        versions = []
        for _ in 0..<count { versions.append(try VersionMetrics(from: &r)) }
    }
}
