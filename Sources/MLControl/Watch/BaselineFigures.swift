/// A version's average figures over a past window (the runbook's "previous 24h average").
/// Each field is nil when no row in the window had that figure, so a missing baseline skips
/// its rule rather than comparing against 0 or NaN.
public struct BaselineFigures: Equatable, Sendable, Codable {
    public var f1: Double?
    public var latencyP99Ms: Double?
    public var errorRate: Double?
    public var anomalyRate: Double?
    /// How many MODEL_METRICS rows the averages came from.
    public var rows: Int

    public init(f1: Double? = nil, latencyP99Ms: Double? = nil, errorRate: Double? = nil, anomalyRate: Double? = nil, rows: Int = 0) {
        self.f1 = f1
        self.latencyP99Ms = latencyP99Ms
        self.errorRate = errorRate
        self.anomalyRate = anomalyRate
        self.rows = rows
    }

    public static let empty = BaselineFigures()
}
