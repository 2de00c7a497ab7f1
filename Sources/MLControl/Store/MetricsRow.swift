import Foundation
import MLWire

/// One MODEL_METRICS row: a version's figures over one poll window on one node.
public struct MetricsRow: Equatable, Sendable {
    /// nil until inserted.
    public var id: Int64?
    public var timestamp: Date
    public var modelName: String
    public var modelVersion: String
    public var node: String
    public var requestCount: Int64
    /// Labels behind `f1Score`; kept so a reader can tell an F1 from 3 labels from one from 3000.
    public var feedbackCount: Int64
    public var f1Score: Double?
    public var latencyP99Ms: Double?
    /// The model's error rate (`model_errors / (requests + model_errors)`), what the rule reads.
    public var errorRate: Double?
    public var anomalyRate: Double?
    /// PSI, only with a reference and at least `min_drift_scores` scores; else NULL.
    public var driftScore: Double?
    /// Labels joined to this version's predictions in the window, and labels / requests.
    public var labelCount: Int64?
    public var labelCoverage: Double?
    public var modelErrorRate: Double?
    public var clientErrorRate: Double?
    /// The PSI sampling alone gives at this window's score count ((B − 1) / n), beside drift_score.
    public var driftExpected: Double?

    public init(id: Int64? = nil, timestamp: Date, modelName: String, modelVersion: String, node: String,
                requestCount: Int64, feedbackCount: Int64 = 0, f1Score: Double? = nil, latencyP99Ms: Double? = nil,
                errorRate: Double? = nil, anomalyRate: Double? = nil, driftScore: Double? = nil,
                labelCount: Int64? = nil, labelCoverage: Double? = nil, modelErrorRate: Double? = nil,
                clientErrorRate: Double? = nil, driftExpected: Double? = nil) {
        self.id = id
        self.timestamp = timestamp
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.node = node
        self.requestCount = requestCount
        self.feedbackCount = feedbackCount
        self.f1Score = f1Score
        self.latencyP99Ms = latencyP99Ms
        self.errorRate = errorRate
        self.anomalyRate = anomalyRate
        self.driftScore = driftScore
        self.labelCount = labelCount
        self.labelCoverage = labelCoverage
        self.modelErrorRate = modelErrorRate
        self.clientErrorRate = clientErrorRate
        self.driftExpected = driftExpected
    }

    /// The row for one poll window (`current.since(previous)`), using MLWire's derived figures
    /// so mlctl, the node's export and mlbench agree on F1 and p99.
    /// Drift is left NULL without a reference or below `minDriftScores` scores: a PSI from a
    /// handful of scores is mostly sampling noise (see `driftExpected`).
    public init(window: VersionMetrics, modelName: String, node: String, at timestamp: Date, minDriftScores: Int = 1_000) {
        let driftKnown = window.hasReference && window.scoreCount >= UInt64(max(1, minDriftScores))
        self.init(timestamp: timestamp, modelName: modelName, modelVersion: window.version, node: node,
                  requestCount: Int64(clamping: window.requests), feedbackCount: Int64(clamping: window.feedbackCount),
                  f1Score: window.f1, latencyP99Ms: window.latencyQuantileNanos(0.99).map { Double($0) / 1e6 },
                  errorRate: window.modelErrorRate, anomalyRate: window.anomalyRate, driftScore: driftKnown ? window.drift : nil,
                  labelCount: Int64(clamping: window.labels), labelCoverage: window.labelCoverage,
                  modelErrorRate: window.modelErrorRate, clientErrorRate: window.clientErrorRate,
                  driftExpected: driftKnown ? window.driftExpected : nil)
    }
}
