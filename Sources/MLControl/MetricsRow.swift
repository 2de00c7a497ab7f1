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
    public var errorRate: Double?
    public var anomalyRate: Double?
    public var driftScore: Double?

    public init(id: Int64? = nil, timestamp: Date, modelName: String, modelVersion: String, node: String,
                requestCount: Int64, feedbackCount: Int64 = 0, f1Score: Double? = nil, latencyP99Ms: Double? = nil,
                errorRate: Double? = nil, anomalyRate: Double? = nil, driftScore: Double? = nil) {
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
    }

    /// The row for one poll window (`current.since(previous)`), using MLWire's derived figures
    /// so mlctl, the node's export and mlbench agree on F1 and p99.
    public init(window: VersionMetrics, modelName: String, node: String, at timestamp: Date) {
        self.init(timestamp: timestamp, modelName: modelName, modelVersion: window.version, node: node,
                  requestCount: Int64(clamping: window.requests), feedbackCount: Int64(clamping: window.feedbackCount),
                  f1Score: window.f1, latencyP99Ms: window.latencyQuantileNanos(0.99).map { Double($0) / 1e6 },
                  errorRate: window.errorRate, anomalyRate: window.anomalyRate, driftScore: window.drift)
    }
}
