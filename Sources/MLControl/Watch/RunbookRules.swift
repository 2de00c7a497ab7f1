import Foundation
import MLWire

/// What the rules look at for one version on one node: the latest poll window and context.
public struct RuleInput: Sendable {
    /// The active version's counters over the window (`current.since(previous)`).
    public var window: VersionMetrics
    public var modelName: String
    /// When the active version became active, or nil if unknown (then the deploy-window rules
    /// do not apply: we cannot claim "within 30 min of deploy").
    public var deployedAt: Date?
    /// The previous version's averages (ControlStore.baseline).
    public var baseline: BaselineFigures
    public var now: Date

    public init(window: VersionMetrics, modelName: String, deployedAt: Date?, baseline: BaselineFigures, now: Date) {
        self.window = window
        self.modelName = modelName
        self.deployedAt = deployedAt
        self.baseline = baseline
        self.now = now
    }
}

/// One rule's finding on one window.
public enum RuleOutcome: Equatable, Sendable {
    case fired(Trigger)
    case passed
    /// The rule applies but cannot judge: too few samples, no baseline, a NaN.
    case inconclusive(String)
    /// The rule does not apply (outside the deploy window, or switched off in the policy).
    case notApplicable
}

/// The runbook's "When to Rollback" table as a pure function: no I/O, no clock. Comparisons
/// are strict as the runbook writes them ("> 0.05"): a figure exactly at its limit does not
/// fire. A rule whose figure or baseline is missing, or whose window holds fewer samples than
/// the policy's minimum, is `inconclusive`, never evaluated on partial data: an empty window
/// can neither produce NaN nor a decision, and is never reported as healthy either.
public struct RunbookRules: Sendable {
    public var policy: RunbookPolicy
    /// `mlctl watch --dry-run`: every rule only records what it would have done.
    public var dryRun: Bool

    public init(policy: RunbookPolicy = RunbookPolicy(), dryRun: Bool = false) {
        self.policy = policy
        self.dryRun = dryRun
    }

    /// The strongest action among the rules that fired wins (rollback > pause > notify >
    /// dry run); among equals the table's order decides which one is reported.
    public func evaluate(_ input: RuleInput) -> RunbookDecision {
        let outcomes = outcomes(for: input)
        let fired = outcomes.compactMap { if case .fired(let t) = $0 { t } else { nil } }
        guard let first = fired.first else {
            let reasons = outcomes.compactMap { if case .inconclusive(let why) = $0 { why } else { nil } }
            return reasons.isEmpty ? .healthy : .inconclusive(reasons)
        }
        func effective(_ t: Trigger) -> TriggerAction { t.dryRun ? .dryRun : t.action }
        let chosen = fired.dropFirst().reduce(first) { effective($1) > effective($0) ? $1 : $0 }
        switch effective(chosen) {
        case .rollback: return .rollback(chosen)
        case .pause: return .pause(chosen)
        case .notify: return .investigate(chosen)
        case .dryRun: return .dryRun(chosen)
        }
    }

    /// Every trigger that fires for this window, in the table's order.
    public func triggers(for input: RuleInput) -> [Trigger] {
        outcomes(for: input).compactMap { if case .fired(let t) = $0 { t } else { nil } }
    }

    /// Each rule's finding, in the table's order.
    public func outcomes(for input: RuleInput) -> [RuleOutcome] {
        let sinceDeploy = input.deployedAt.map { max(0, input.now.timeIntervalSince($0)) }
        let inDeployWindow = sinceDeploy.map { $0 <= policy.deployWindowSeconds } ?? false
        let results: [RuleOutcome] = [
            inDeployWindow ? f1Drop(input, sinceDeploy) : .notApplicable,
            inDeployWindow ? latency(input, sinceDeploy) : .notApplicable,
            errorRate(input, sinceDeploy),
            anomalyRate(input, sinceDeploy),
            clientErrorRate(input, sinceDeploy),
            drift(input, sinceDeploy),
        ]
        return results.map { outcome in
            guard case .fired(var t) = outcome else { return outcome }
            let configured = policy.action(for: t.rule)
            t.action = configured == .dryRun ? t.rule.defaultAction : configured
            t.dryRun = dryRun || configured == .dryRun
            return .fired(t)
        }
    }

    private func f1Drop(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> RuleOutcome {
        let w = input.window
        let labels = w.feedbackCount
        guard labels >= UInt64(policy.minFeedback) else {
            return .inconclusive("F1: \(labels) labels, need \(policy.minFeedback)")
        }
        // Labels for a few predictions out of many say little about the rest: require coverage.
        let coverage = w.labelCoverage ?? 0
        guard coverage >= policy.minLabelCoverage else {
            return .inconclusive("F1: label coverage \(Formatting.percent(coverage)) below \(Formatting.percent(policy.minLabelCoverage))")
        }
        guard let f1 = w.f1, f1.isFinite else { return .inconclusive("F1: undefined (no positives predicted or labelled)") }
        guard let base = input.baseline.f1, base.isFinite else { return .inconclusive("F1: no baseline") }
        let drop = base - f1
        guard Self.exceeds(drop, policy.f1DropLimit) else { return .passed }
        let sentence = "F1 \(Formatting.fixed(f1, 3)) dropped \(Formatting.fixed(drop, 3)) below baseline "
            + "\(Formatting.fixed(base, 3)) (limit \(Formatting.limit(policy.f1DropLimit)); \(labels) labels, coverage "
            + "\(Formatting.percent(coverage)))" + Self.after(sinceDeploy)
        return .fired(Trigger(rule: .f1Drop, modelName: input.modelName, version: w.version, observed: f1, baseline: base,
                              threshold: policy.f1DropLimit, samples: labels, sinceDeploy: sinceDeploy, sentence: sentence))
    }

    private func latency(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> RuleOutcome {
        let w = input.window
        // The quantile rests on the histogram, so its sample count is the histogram's total.
        let samples = w.latencyBuckets.reduce(UInt64(0)) { $0 + $1.count }
        guard samples >= UInt64(policy.minRequests), let nanos = w.latencyQuantileNanos(0.99) else {
            return .inconclusive("p99: \(samples) latency samples, need \(policy.minRequests)")
        }
        // p99 is the upper bound of its bucket (≤ 6.25% wide): it errs towards "slower".
        let p99 = Double(nanos) / 1e6
        guard Self.exceeds(p99, policy.latencyP99LimitMs) else { return .passed }
        let base = input.baseline.latencyP99Ms.flatMap { $0.isFinite ? $0 : nil }
        let sentence = "p99 \(Self.ms(p99)) above limit \(Formatting.limit(policy.latencyP99LimitMs)) ms"
            + Self.after(sinceDeploy) + (base.map { " (baseline \(Self.ms($0)))" } ?? " (no baseline)")
        return .fired(Trigger(rule: .latencyP99, modelName: input.modelName, version: w.version, observed: p99, baseline: base,
                              threshold: policy.latencyP99LimitMs, samples: samples, sinceDeploy: sinceDeploy, sentence: sentence))
    }

    /// The model's errors only: a client sending NaN or the wrong width cannot move it.
    private func errorRate(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> RuleOutcome {
        let w = input.window
        let asked = w.requests + w.modelErrors
        guard asked >= UInt64(policy.minRequests), let rate = w.modelErrorRate, rate.isFinite else {
            return .inconclusive("model error rate: \(asked) requests reached the model, need \(policy.minRequests)")
        }
        guard Self.exceeds(rate, policy.errorRateLimit) else { return .passed }
        let base = input.baseline.errorRate.flatMap { $0.isFinite ? $0 : nil }
        let sentence = "model error rate \(Formatting.percent(rate)) above limit \(Formatting.percent(policy.errorRateLimit)) "
            + "(\(w.modelErrors) failed of \(asked) requests; \(w.clientErrors) client errors not counted)"
            + (base.map { ", baseline \(Formatting.percent($0))" } ?? "")
        return .fired(Trigger(rule: .errorRate, modelName: input.modelName, version: w.version, observed: rate, baseline: base,
                              threshold: policy.errorRateLimit, samples: asked, sinceDeploy: sinceDeploy, sentence: sentence))
    }

    private func anomalyRate(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> RuleOutcome {
        let w = input.window
        guard w.requests >= UInt64(policy.minRequests), let rate = w.anomalyRate, rate.isFinite else {
            return .inconclusive("anomaly rate: \(w.requests) predictions, need \(policy.minRequests)")
        }
        // A zero baseline makes any positive a "spike" of infinite size: no judgement rather than a page.
        guard let base = input.baseline.anomalyRate, base.isFinite, base > 0 else {
            return .inconclusive("anomaly rate: no (non-zero) baseline")
        }
        guard Self.exceeds(rate, policy.anomalyRateMultiplier * base) else { return .passed }
        let multiple = Formatting.limit(policy.anomalyRateMultiplier)
        let sentence = "anomaly rate \(Formatting.percent(rate)) is \(Formatting.fixed(rate / base, 1))× baseline "
            + "\(Formatting.percent(base)) (limit \(multiple)×); investigate, no rollback"
        return .fired(Trigger(rule: .anomalyRate, modelName: input.modelName, version: w.version, observed: rate, baseline: base,
                              threshold: policy.anomalyRateMultiplier, samples: w.requests, sinceDeploy: sinceDeploy, sentence: sentence))
    }

    private func clientErrorRate(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> RuleOutcome {
        guard let limit = policy.clientErrorRateLimit else { return .notApplicable }
        let w = input.window
        let asked = w.requests + w.modelErrors + w.clientErrors
        guard asked >= UInt64(policy.minRequests), let rate = w.clientErrorRate, rate.isFinite else {
            return .inconclusive("client error rate: \(asked) requests, need \(policy.minRequests)")
        }
        guard Self.exceeds(rate, limit) else { return .passed }
        let sentence = "client error rate \(Formatting.percent(rate)) above limit \(Formatting.percent(limit)) "
            + "(\(w.clientErrors) refused of \(asked) requests); clients are sending bad requests, the model is not at fault"
        return .fired(Trigger(rule: .clientErrorRate, modelName: input.modelName, version: w.version, observed: rate, baseline: nil,
                              threshold: limit, samples: asked, sinceDeploy: sinceDeploy, sentence: sentence))
    }

    /// PSI fires only above both the limit and twice the PSI sampling alone would give at this n.
    private func drift(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> RuleOutcome {
        guard let limit = policy.driftLimit else { return .notApplicable }
        let w = input.window
        guard w.hasReference else { return .inconclusive("drift: the artifact has no reference distribution") }
        let n = w.scoreCount
        guard n >= UInt64(policy.minDriftScores), let psi = w.drift, psi.isFinite, let floor = w.driftExpected else {
            return .inconclusive("drift: \(n) scores, need \(policy.minDriftScores)")
        }
        guard Self.exceeds(psi, max(limit, 2 * floor)) else { return .passed }
        let sentence = "drift PSI \(Formatting.fixed(psi, 3)) above limit \(Formatting.limit(limit)) over \(n) scores "
            + "(sampling alone gives ≈ \(Formatting.fixed(floor, 4)) at this n)"
        return .fired(Trigger(rule: .drift, modelName: input.modelName, version: w.version, observed: psi, baseline: floor,
                              threshold: limit, samples: n, sinceDeploy: sinceDeploy, sentence: sentence))
    }

    /// Strictly greater, ignoring the last few ulps. The figures are ratios of counters and
    /// averages of those; a difference that equals the limit on paper (0.926 − 0.876) can come
    /// out as 0.05000000000000004 in binary, and the runbook says "greater than".
    static func exceeds(_ value: Double, _ limit: Double) -> Bool {
        value - limit > 1e-9 * max(1, abs(limit))
    }

    private static func after(_ sinceDeploy: TimeInterval?) -> String {
        sinceDeploy.map { " \(Formatting.duration($0)) after deploy" } ?? ""
    }

    private static func ms(_ value: Double) -> String {
        value >= 100 ? "\(Formatting.fixed(value, 0)) ms" : "\(Formatting.fixed(value, 1)) ms"
    }
}
