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
    /// Requests this version could not answer: `modelErrors + clientErrors` (the v1 field).
    public var errors: UInt64
    /// v2: requests the model failed (a non-finite score, INTERNAL). Only these can trigger a
    /// rollback. From a v1 node (which cannot tell) every error is taken as the model's.
    public var modelErrors: UInt64
    /// v2: requests refused for the client's fault (INVALID_ARGUMENT: NaN, wrong width, …).
    public var clientErrors: UInt64
    /// v2: labels joined by prediction id to one of this version's predictions.
    public var labels: UInt64
    /// v2: labels whose id matched no remembered prediction (counted on the version active
    /// when the label arrived), whose prediction had left the window by age, or that repeated
    /// a label already given.
    public var labelsUnmatched: UInt64
    public var labelsExpired: UInt64
    public var labelsDuplicate: UInt64
    /// v2: prediction-to-label delay in milliseconds, sparse, in the latency bucket layout.
    public var labelDelayBuckets: [BucketCount]
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
                scoreBins: [UInt64] = [], referenceBins: [Float] = [],
                modelErrors: UInt64 = 0, clientErrors: UInt64 = 0, labels: UInt64 = 0, labelsUnmatched: UInt64 = 0,
                labelsExpired: UInt64 = 0, labelsDuplicate: UInt64 = 0, labelDelayBuckets: [BucketCount] = []) {
        self.version = version
        self.requests = requests
        self.errors = errors
        self.modelErrors = modelErrors
        self.clientErrors = clientErrors
        self.labels = labels
        self.labelsUnmatched = labelsUnmatched
        self.labelsExpired = labelsExpired
        self.labelsDuplicate = labelsDuplicate
        self.labelDelayBuckets = labelDelayBuckets
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

    func size(version protocolVersion: UInt8) -> Int {
        let v1 = ByteWriter.size(of: version) + 9 * 8 + 2 + 10 * latencyBuckets.count + 2 + 8 * scoreBins.count + 2 + 4 * referenceBins.count
        return protocolVersion >= 2 ? v1 + 6 * 8 + 2 + 10 * labelDelayBuckets.count : v1
    }

    func write(to w: inout ByteWriter, version protocolVersion: UInt8) {
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
        guard protocolVersion >= 2 else { return }
        for counter in [modelErrors, clientErrors, labels, labelsUnmatched, labelsExpired, labelsDuplicate] { w.write(counter) }
        Self.write(labelDelayBuckets, to: &w)
    }

    static func write(_ buckets: [BucketCount], to w: inout ByteWriter) {
        w.write(UInt16(buckets.count))
        for bucket in buckets {
            w.write(bucket.index)
            w.write(bucket.count)
        }
    }

    static func readBuckets(_ r: inout ByteReader, _ what: String) throws(WireError) -> [BucketCount] {
        let bucketCount = Int(try r.readUInt16("bucket count"))
        guard bucketCount <= LatencyBuckets.count else {
            throw .malformed(.metricsReply, "\(bucketCount) \(what) buckets, at most \(LatencyBuckets.count)")
        }
        var buckets: [BucketCount] = []
        var last = -1
        for _ in 0..<bucketCount {
            let index = try r.readUInt16("bucket index")
            guard Int(index) < LatencyBuckets.count else { throw .malformed(.metricsReply, "\(what) bucket index \(index) out of range") }
            guard Int(index) > last else { throw .malformed(.metricsReply, "\(what) bucket indices not ascending") }
            last = Int(index)
            buckets.append(BucketCount(index: index, count: try r.readUInt64("bucket count")))
        }
        return buckets
    }

    init(from r: inout ByteReader, version protocolVersion: UInt8) throws(WireError) {
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
        if protocolVersion >= 2 {
            modelErrors = try r.readUInt64("model_errors")
            clientErrors = try r.readUInt64("client_errors")
            labels = try r.readUInt64("labels")
            labelsUnmatched = try r.readUInt64("labels_unmatched")
            labelsExpired = try r.readUInt64("labels_expired")
            labelsDuplicate = try r.readUInt64("labels_duplicate")
            labelDelayBuckets = try Self.readBuckets(&r, "label delay")
        } else {
            // A v1 node cannot tell the two apart: its errors are all taken as the model's, as v1 did.
            modelErrors = errors
            clientErrors = 0
            labels = 0
            labelsUnmatched = 0
            labelsExpired = 0
            labelsDuplicate = 0
            labelDelayBuckets = []
        }
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

    /// The layout this reply is written in: the connection's protocol version (v2 appends fields).
    public var layoutVersion: UInt8 = 1

    public var payloadSize: Int {
        24 + ByteWriter.size(of: activeVersion) + 2 + versions.reduce(0) { $0 + $1.size(version: layoutVersion) }
    }

    public func write(to w: inout ByteWriter) {
        w.write(generation)
        w.write(uptimeMillis)
        w.write(timestampMicros)
        w.write(string: activeVersion)
        w.write(UInt16(versions.count))
        for version in versions { version.write(to: &w, version: layoutVersion) }
    }

    public init(from r: inout ByteReader) throws(WireError) {
        layoutVersion = r.version
        generation = try r.readUInt64("generation")
        uptimeMillis = try r.readUInt64("uptime")
        timestampMicros = try r.readInt64("timestamp")
        activeVersion = try r.readString("active_version", limit: Limits.version)
        let count = Int(try r.readUInt16("version count"))
        versions = []
        for _ in 0..<count { versions.append(try VersionMetrics(from: &r, version: layoutVersion)) }
    }
}
