import Foundation
import MLWire

/// The deploy gate's judgement of one node's shadow window, with every figure it used, so the
/// DEPLOYMENTS row and the notification say exactly why a standby was or was not swapped in.
public struct GateVerdict: Equatable, Sendable {
    public enum Outcome: String, Sendable { case passed, failed, notJudged = "not_judged" }

    /// One threshold: the figure measured, the limit, and what came of it.
    public struct Check: Equatable, Sendable {
        public var name: String
        public var value: Double?
        public var limit: Double
        public var outcome: Outcome
        /// e.g. "agreement 0.861 < 0.95".
        public var sentence: String
    }

    public var node: String
    public var activeVersion: String
    public var standbyVersion: String
    public var rows: UInt64
    public var comparedRows: UInt64
    public var agreement: Double?
    public var labels: UInt64
    public var activeF1: Double?
    public var standbyF1: Double?
    public var standbyP99Ms: Double?
    public var standbyErrors: UInt64
    public var activeDrift: Double?
    public var standbyDrift: Double?
    /// p99 of |active − standby| score (bin upper edge).
    public var differenceP99: Double?
    public var checks: [Check]

    public var passed: Bool { !checks.contains { $0.outcome == .failed } }
    public var failedChecks: [Check] { checks.filter { $0.outcome == .failed } }

    /// One line with every figure, for DEPLOYMENTS.detail, the notification and stdout.
    public var summary: String {
        func f(_ v: Double?, _ digits: Int = 3) -> String { v.map { Formatting.fixed($0, digits) } ?? "-" }
        let head = "gate \(passed ? "PASSED" : "FAILED") on \(node) (\(activeVersion) active, \(standbyVersion) shadowed): "
        let figures = "rows \(rows), agreement \(f(agreement)), labels \(labels), F1 active \(f(activeF1)) / standby \(f(standbyF1)), "
            + "standby p99 \(f(standbyP99Ms, 3)) ms, standby errors \(standbyErrors), drift active \(f(activeDrift)) / standby \(f(standbyDrift)), "
            + "|score diff| p99 \(f(differenceP99, 6))"
        let failed = failedChecks.map(\.sentence)
        let unjudged = checks.filter { $0.outcome == .notJudged }.map(\.sentence)
        return head + figures + (failed.isEmpty ? "" : "; failed: " + failed.joined(separator: "; "))
            + (unjudged.isEmpty ? "" : "; not judged: " + unjudged.joined(separator: "; "))
    }

    /// For `--json` and the notification.
    public var json: [String: Any] {
        var o: [String: Any] = ["node": node, "active_version": activeVersion, "standby_version": standbyVersion,
                                "passed": passed, "rows": rows, "compared_rows": comparedRows, "labels": labels,
                                "standby_errors": standbyErrors]
        let optional: [(String, Double?)] = [("agreement", agreement), ("active_f1", activeF1), ("standby_f1", standbyF1),
                                             ("standby_p99_ms", standbyP99Ms), ("active_drift", activeDrift),
                                             ("standby_drift", standbyDrift), ("score_difference_p99", differenceP99)]
        for (key, value) in optional { o[key] = value.map { $0 as Any } ?? NSNull() }
        o["checks"] = checks.map { c -> [String: Any] in
            ["name": c.name, "value": c.value.map { $0 as Any } ?? NSNull(), "limit": c.limit, "outcome": c.outcome.rawValue, "sentence": c.sentence]
        }
        return o
    }
}

extension ShadowGate {
    /// Judges a window's counters (`ShadowPairMetrics.since`), with each model's reference
    /// score distribution for drift.
    public func judge(_ w: ShadowPairMetrics, node: String, activeReference: [Float], standbyReference: [Float]) -> GateVerdict {
        func f(_ v: Double?, _ digits: Int = 3) -> String { v.map { Formatting.fixed($0, digits) } ?? "-" }
        var checks: [GateVerdict.Check] = []
        let enoughRows = w.rows >= UInt64(minRows)

        checks.append(.init(name: "rows", value: Double(w.rows), limit: Double(minRows), outcome: enoughRows ? .passed : .failed,
                            sentence: "\(w.rows) shadowed rows \(enoughRows ? "≥" : "<") \(minRows) needed"))

        let agreement = w.agreementRate
        let agreementOutcome: GateVerdict.Outcome = !enoughRows || agreement == nil ? .notJudged : (agreement! >= minAgreement ? .passed : .failed)
        checks.append(.init(name: "agreement", value: agreement, limit: minAgreement, outcome: agreementOutcome,
                            sentence: "label agreement \(f(agreement)) \(agreementOutcome == .failed ? "<" : "≥") \(f(minAgreement))"))

        let labels = w.labelledRows
        let activeF1 = w.activeConfusion.f1
        let standbyF1 = w.standbyConfusion.f1
        let f1Outcome: GateVerdict.Outcome
        let f1Sentence: String
        if labels < UInt64(minLabels) || activeF1 == nil || standbyF1 == nil {
            f1Outcome = requireLabels ? .failed : .notJudged
            f1Sentence = "F1: \(labels) labelled shadow rows < \(minLabels) needed"
        } else {
            let drop = activeF1! - standbyF1!
            f1Outcome = drop <= f1DropLimit ? .passed : .failed
            f1Sentence = "standby F1 \(f(standbyF1)) vs active \(f(activeF1)) on the same \(labels) rows: drop \(f(drop)) "
                + "\(f1Outcome == .failed ? ">" : "≤") \(f(f1DropLimit))"
        }
        checks.append(.init(name: "f1_drop", value: activeF1.flatMap { a in standbyF1.map { a - $0 } }, limit: f1DropLimit,
                            outcome: f1Outcome, sentence: f1Sentence))

        let p99 = w.standbyLatencyQuantileNanos(0.99).map { Double($0) / 1e6 }
        let p99Outcome: GateVerdict.Outcome = p99 == nil ? .notJudged : (p99! <= standbyP99LimitMs ? .passed : .failed)
        checks.append(.init(name: "standby_p99", value: p99, limit: standbyP99LimitMs, outcome: p99Outcome,
                            sentence: "standby p99 \(f(p99, 3)) ms \(p99Outcome == .failed ? ">" : "≤") \(Formatting.limit(standbyP99LimitMs)) ms"))

        let errorsOK = w.standbyErrors <= UInt64(maxStandbyErrors)
        checks.append(.init(name: "standby_errors", value: Double(w.standbyErrors), limit: Double(maxStandbyErrors),
                            outcome: errorsOK ? .passed : .failed,
                            sentence: "\(w.standbyErrors) standby model errors \(errorsOK ? "≤" : ">") \(maxStandbyErrors)"))

        let activeDrift = w.activeDrift(reference: activeReference)
        let standbyDrift = w.standbyDrift(reference: standbyReference)
        let driftOutcome: GateVerdict.Outcome
        var increase: Double? = nil
        if let a = activeDrift, let s = standbyDrift, enoughRows {
            increase = s - a
            driftOutcome = s - a <= driftIncreaseLimit ? .passed : .failed
        } else {
            driftOutcome = .notJudged
        }
        checks.append(.init(name: "drift_increase", value: increase, limit: driftIncreaseLimit, outcome: driftOutcome,
                            sentence: "standby drift \(f(standbyDrift)) − active drift \(f(activeDrift)) = \(f(increase)) "
                                + "\(driftOutcome == .failed ? ">" : "≤") \(f(driftIncreaseLimit))"))

        return GateVerdict(node: node, activeVersion: w.activeVersion, standbyVersion: w.standbyVersion, rows: w.rows,
                           comparedRows: w.comparedRows, agreement: agreement, labels: labels, activeF1: activeF1,
                           standbyF1: standbyF1, standbyP99Ms: p99, standbyErrors: w.standbyErrors, activeDrift: activeDrift,
                           standbyDrift: standbyDrift, differenceP99: w.differenceQuantile(0.99), checks: checks)
    }
}
