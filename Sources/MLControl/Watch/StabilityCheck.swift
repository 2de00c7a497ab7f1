import Foundation
import MLWire

/// Step 5's answer about the version rolled back to.
public enum StabilityVerdict: Equatable, Sendable {
    /// Nothing wrong so far; the window is not over.
    case stillWatching(remaining: TimeInterval)
    /// The window is over and every check that had enough data passed.
    case stable(String)
    /// A check failed; the reason has the numbers.
    case unstable(String)
    /// The window is over but too little traffic arrived to judge: neither "fine" nor "broken",
    /// and calling it either would mislead whoever reads the incident.
    case inconclusive(String)

    /// INCIDENTS.stability_outcome.
    public var outcome: String {
        switch self {
        case .stillWatching: "watching"
        case .stable: "stable"
        case .unstable: "unstable"
        case .inconclusive: "inconclusive"
        }
    }

    public var isFinal: Bool { if case .stillWatching = self { false } else { true } }
}

/// Runbook step 5 as a pure function: after a rollback, watch for the stability window that
/// F1 stays within tolerance of baseline, p99 stays below the limit and the error rate does not
/// increase. A failure ends the watch at once; success needs the whole window.
public struct StabilityCheck: Sendable {
    public var policy: RunbookPolicy

    public init(policy: RunbookPolicy = RunbookPolicy()) {
        self.policy = policy
    }

    /// - Parameters:
    ///   - windows: the restored version's poll windows since the rollback, oldest first.
    ///   - baseline: its averages before the bad deploy (what it is expected to return to).
    public func evaluate(windows: [VersionMetrics], baseline: BaselineFigures, rolledBackAt: Date, now: Date) -> StabilityVerdict {
        // Each window on its own catches a spike; their sum catches a slow leak spread over
        // polls too small to judge one by one, and is the only place F1 gets enough labels.
        for window in windows {
            if let reason = latencyProblem(window, "in a poll window") ?? errorProblem(window, baseline, "in a poll window") {
                return .unstable(reason)
            }
        }
        guard let first = windows.first else {
            return finish(nil, baseline, rolledBackAt: rolledBackAt, now: now)
        }
        let total = windows.dropFirst().reduce(first) { $0.adding($1) }
        if let reason = latencyProblem(total, "since rollback") ?? errorProblem(total, baseline, "since rollback")
            ?? f1Problem(total, baseline) {
            return .unstable(reason)
        }
        return finish(total, baseline, rolledBackAt: rolledBackAt, now: now)
    }

    private func finish(_ total: VersionMetrics?, _ baseline: BaselineFigures, rolledBackAt: Date, now: Date) -> StabilityVerdict {
        let elapsed = now.timeIntervalSince(rolledBackAt)
        if elapsed < policy.stabilityWindowSeconds {
            return .stillWatching(remaining: policy.stabilityWindowSeconds - max(0, elapsed))
        }
        let asked = total.map { $0.requests + $0.modelErrors } ?? 0
        guard let total, asked >= UInt64(policy.minRequests) else {
            return .inconclusive("only \(asked) requests in \(Formatting.duration(elapsed)) after rollback "
                + "(need \(policy.minRequests)); stability not confirmed")
        }
        var parts: [String] = []
        if total.feedbackCount >= UInt64(policy.minFeedback), let f1 = total.f1, let base = baseline.f1 {
            parts.append("F1 \(Formatting.fixed(f1, 3)) (baseline \(Formatting.fixed(base, 3)))")
        } else if baseline.f1 != nil {
            // "F1 back within tolerance" is half of step 5: unchecked, it is not confirmed.
            return .inconclusive("F1 not checked: \(total.feedbackCount) labels since rollback (need \(policy.minFeedback)); "
                + "stability not confirmed")
        } else {
            parts.append("F1 not checked (no baseline F1)")
        }
        if total.latencySamples >= UInt64(policy.minRequests), let nanos = total.latencyQuantileNanos(0.99) {
            parts.append("p99 \(Formatting.fixed(Double(nanos) / 1e6, 1)) ms")
        }
        if let rate = total.modelErrorRate { parts.append("model error rate \(Formatting.percent(rate))") }
        return .stable("stable for \(Formatting.duration(elapsed)) after rollback: " + parts.joined(separator: ", "))
    }

    /// The runbook asks for p99 "< 1s": at the limit is already a failure.
    private func latencyProblem(_ w: VersionMetrics, _ scope: String) -> String? {
        guard w.latencySamples >= UInt64(policy.minRequests), let nanos = w.latencyQuantileNanos(0.99) else { return nil }
        let p99 = Double(nanos) / 1e6
        guard !(p99 < policy.stabilityLatencyP99LimitMs) else { return nil }
        return "p99 \(Formatting.fixed(p99, 1)) ms \(scope), not below \(Formatting.limit(policy.stabilityLatencyP99LimitMs)) ms"
    }

    /// "No error rate increase" over the baseline, with the policy's slack. Without a baseline
    /// there is nothing to compare an increase with, so the rollback trigger's limit stands in.
    private func errorProblem(_ w: VersionMetrics, _ baseline: BaselineFigures, _ scope: String) -> String? {
        guard w.requests + w.modelErrors >= UInt64(policy.minRequests), let rate = w.modelErrorRate else { return nil }
        let reference = baseline.errorRate.map { $0 + policy.stabilityErrorRateSlack } ?? policy.errorRateLimit
        guard RunbookRules.exceeds(rate, reference) else { return nil }
        let against = baseline.errorRate.map { "baseline \(Formatting.percent($0)) + slack \(Formatting.percent(policy.stabilityErrorRateSlack))" }
            ?? "limit \(Formatting.percent(policy.errorRateLimit)) (no baseline)"
        return "model error rate \(Formatting.percent(rate)) \(scope) (\(w.modelErrors) of \(w.requests + w.modelErrors)) above \(against)"
    }

    /// "Stable within 0.02 of baseline": either direction, as the runbook writes it.
    private func f1Problem(_ w: VersionMetrics, _ baseline: BaselineFigures) -> String? {
        guard w.feedbackCount >= UInt64(policy.minFeedback), let f1 = w.f1, let base = baseline.f1, base.isFinite else { return nil }
        guard RunbookRules.exceeds(abs(f1 - base), policy.stabilityF1Tolerance) else { return nil }
        return "F1 \(Formatting.fixed(f1, 3)) since rollback is \(Formatting.fixed(abs(f1 - base), 3)) from baseline "
            + "\(Formatting.fixed(base, 3)) (tolerance \(Formatting.limit(policy.stabilityF1Tolerance)))"
    }
}
