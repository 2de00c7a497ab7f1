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

/// The runbook's "When to Rollback" table as a pure function: no I/O, no clock. Comparisons
/// are strict as the runbook writes them ("> 0.05"): a figure exactly at its limit does not
/// fire. A rule whose figure or baseline is missing, or whose window holds fewer samples than
/// the policy's minimum, is skipped, never evaluated on partial data, so an empty window
/// can neither produce NaN nor a decision.
public struct RunbookRules: Sendable {
    public var policy: RunbookPolicy

    public init(policy: RunbookPolicy = RunbookPolicy()) {
        self.policy = policy
    }

    /// Rollback beats investigate; among rollback triggers the table's order decides which one
    /// is reported (the others are in `triggers(for:)`).
    public func evaluate(_ input: RuleInput) -> RunbookDecision {
        let fired = triggers(for: input)
        if let first = fired.first(where: { $0.rule.rollsBack }) { return .rollback(first) }
        if let first = fired.first { return .investigate(first) }
        return .healthy
    }

    /// Every trigger that fires for this window, in the runbook table's order.
    public func triggers(for input: RuleInput) -> [Trigger] {
        let sinceDeploy = input.deployedAt.map { max(0, input.now.timeIntervalSince($0)) }
        let inDeployWindow = sinceDeploy.map { $0 <= policy.deployWindowSeconds } ?? false
        var fired: [Trigger] = []
        if inDeployWindow, let t = f1Drop(input, sinceDeploy) { fired.append(t) }
        if inDeployWindow, let t = latency(input, sinceDeploy) { fired.append(t) }
        if let t = errorRate(input, sinceDeploy) { fired.append(t) }
        if let t = anomalyRate(input, sinceDeploy) { fired.append(t) }
        return fired
    }

    private func f1Drop(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> Trigger? {
        let w = input.window
        guard w.feedbackCount >= UInt64(policy.minFeedback), let f1 = w.f1, f1.isFinite,
              let base = input.baseline.f1, base.isFinite else { return nil }
        let drop = base - f1
        guard Self.exceeds(drop, policy.f1DropLimit) else { return nil }
        let sentence = "F1 \(Formatting.fixed(f1, 3)) dropped \(Formatting.fixed(drop, 3)) below baseline "
            + "\(Formatting.fixed(base, 3)) (limit \(Formatting.limit(policy.f1DropLimit)))" + Self.after(sinceDeploy)
        return Trigger(rule: .f1Drop, modelName: input.modelName, version: w.version, observed: f1, baseline: base,
                       threshold: policy.f1DropLimit, samples: w.feedbackCount, sinceDeploy: sinceDeploy, sentence: sentence)
    }

    private func latency(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> Trigger? {
        let w = input.window
        // The quantile rests on the histogram, so its sample count is the histogram's total.
        let samples = w.latencyBuckets.reduce(UInt64(0)) { $0 + $1.count }
        // p99 is the upper bound of its bucket (≤ 6.25% wide): it errs towards "slower".
        guard samples >= UInt64(policy.minRequests), let nanos = w.latencyQuantileNanos(0.99) else { return nil }
        let p99 = Double(nanos) / 1e6
        guard Self.exceeds(p99, policy.latencyP99LimitMs) else { return nil }
        let base = input.baseline.latencyP99Ms.flatMap { $0.isFinite ? $0 : nil }
        let sentence = "p99 \(Self.ms(p99)) above limit \(Formatting.limit(policy.latencyP99LimitMs)) ms"
            + Self.after(sinceDeploy) + (base.map { " (baseline \(Self.ms($0)))" } ?? " (no baseline)")
        return Trigger(rule: .latencyP99, modelName: input.modelName, version: w.version, observed: p99, baseline: base,
                       threshold: policy.latencyP99LimitMs, samples: samples, sinceDeploy: sinceDeploy, sentence: sentence)
    }

    private func errorRate(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> Trigger? {
        let w = input.window
        let asked = w.requests + w.errors
        guard asked >= UInt64(policy.minRequests), let rate = w.errorRate, rate.isFinite,
              Self.exceeds(rate, policy.errorRateLimit) else { return nil }
        let base = input.baseline.errorRate.flatMap { $0.isFinite ? $0 : nil }
        let sentence = "error rate \(Formatting.percent(rate)) above limit \(Formatting.percent(policy.errorRateLimit)) "
            + "(\(w.errors) errors in \(asked) requests)" + (base.map { ", baseline \(Formatting.percent($0))" } ?? "")
        return Trigger(rule: .errorRate, modelName: input.modelName, version: w.version, observed: rate, baseline: base,
                       threshold: policy.errorRateLimit, samples: asked, sinceDeploy: sinceDeploy, sentence: sentence)
    }

    private func anomalyRate(_ input: RuleInput, _ sinceDeploy: TimeInterval?) -> Trigger? {
        let w = input.window
        // A zero baseline makes any positive a "spike" of infinite size: skip rather than page.
        guard w.requests >= UInt64(policy.minRequests), let rate = w.anomalyRate, rate.isFinite,
              let base = input.baseline.anomalyRate, base.isFinite, base > 0,
              Self.exceeds(rate, policy.anomalyRateMultiplier * base) else { return nil }
        let multiple = Formatting.limit(policy.anomalyRateMultiplier)
        let sentence = "anomaly rate \(Formatting.percent(rate)) is \(Formatting.fixed(rate / base, 1))× baseline "
            + "\(Formatting.percent(base)) (limit \(multiple)×); investigate, no rollback"
        return Trigger(rule: .anomalyRate, modelName: input.modelName, version: w.version, observed: rate, baseline: base,
                       threshold: policy.anomalyRateMultiplier, samples: w.requests, sinceDeploy: sinceDeploy, sentence: sentence)
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
