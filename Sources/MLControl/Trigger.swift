import Foundation

/// A rule that fired, with the numbers behind it, so the incident's root_cause and the
/// notification say exactly what was seen and against what.
public struct Trigger: Equatable, Sendable, Codable {
    public var rule: RunbookRule
    public var modelName: String
    public var version: String
    /// The window's figure: F1, p99 in ms, error rate or anomaly rate.
    public var observed: Double
    /// The previous version's average for the same figure, when the rule uses one.
    public var baseline: Double?
    /// The limit it was compared with, in the rule's own terms: the allowed F1 drop, the p99
    /// limit in ms, the error-rate limit, or the anomaly multiple.
    public var threshold: Double
    /// Requests, latency samples or feedback labels the figure rests on.
    public var samples: UInt64
    /// Seconds from the deploy to the evaluation, when the deploy time is known.
    public var sinceDeploy: TimeInterval?
    /// One line for people: "F1 0.712 dropped 0.214 below baseline 0.926 (limit 0.05) 4m12s after deploy".
    public var sentence: String

    public init(rule: RunbookRule, modelName: String, version: String, observed: Double, baseline: Double?,
                threshold: Double, samples: UInt64, sinceDeploy: TimeInterval?, sentence: String) {
        self.rule = rule
        self.modelName = modelName
        self.version = version
        self.observed = observed
        self.baseline = baseline
        self.threshold = threshold
        self.samples = samples
        self.sinceDeploy = sinceDeploy
        self.sentence = sentence
    }
}

/// What the rules conclude about one window.
public enum RunbookDecision: Equatable, Sendable {
    case healthy
    /// Roll back now (runbook urgency "Immediate").
    case rollback(Trigger)
    /// Open an incident with status "investigating"; do not roll back.
    case investigate(Trigger)

    public var trigger: Trigger? {
        switch self {
        case .healthy: nil
        case .rollback(let t), .investigate(let t): t
        }
    }
}
