import Foundation

/// A rule that fired, with the numbers behind it, so the incident's root_cause and the
/// notification say exactly what was seen and against what.
public struct Trigger: Equatable, Sendable, Codable {
    public var rule: RunbookRule
    public var modelName: String
    public var version: String
    /// The window's figure: F1, p99 in ms, an error rate, the anomaly rate or PSI.
    public var observed: Double
    /// The previous version's average for the same figure, when the rule uses one.
    public var baseline: Double?
    /// The limit it was compared with, in the rule's own terms: the allowed F1 drop, the p99
    /// limit in ms, the error-rate limit, the anomaly multiple or the PSI limit.
    public var threshold: Double
    /// Requests, latency samples, labels or scores the figure rests on.
    public var samples: UInt64
    /// Seconds from the deploy to the evaluation, when the deploy time is known.
    public var sinceDeploy: TimeInterval?
    /// One line for people: "F1 0.712 dropped 0.214 below baseline 0.926 (limit 0.05) 4m12s after deploy".
    public var sentence: String
    /// What the policy says this rule does (for a dry run: what it would have done).
    public var action: TriggerAction
    /// Recorded only: nothing is done on the node.
    public var dryRun: Bool

    public init(rule: RunbookRule, modelName: String, version: String, observed: Double, baseline: Double?,
                threshold: Double, samples: UInt64, sinceDeploy: TimeInterval?, sentence: String,
                action: TriggerAction? = nil, dryRun: Bool = false) {
        self.rule = rule
        self.modelName = modelName
        self.version = version
        self.observed = observed
        self.baseline = baseline
        self.threshold = threshold
        self.samples = samples
        self.sinceDeploy = sinceDeploy
        self.sentence = sentence
        self.action = action ?? rule.defaultAction
        self.dryRun = dryRun
    }
}

/// What the rules conclude about one window.
public enum RunbookDecision: Equatable, Sendable {
    /// Every rule that applies had enough data and none fired.
    case healthy
    /// No rule fired, but some could not judge (too few samples or labels, no baseline, NaN):
    /// neither healthy nor a trigger. The reasons say which and why.
    case inconclusive([String])
    /// Roll back now (runbook urgency "Immediate").
    case rollback(Trigger)
    /// An incident and a notification, then hands off until a person acts.
    case pause(Trigger)
    /// Open an incident with status "investigating"; do not roll back.
    case investigate(Trigger)
    /// Record what would have been done; do nothing.
    case dryRun(Trigger)

    public var trigger: Trigger? {
        switch self {
        case .healthy, .inconclusive: nil
        case .rollback(let t), .pause(let t), .investigate(let t), .dryRun(let t): t
        }
    }
}
