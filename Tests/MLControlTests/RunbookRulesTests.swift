import MLWire
import XCTest
@testable import MLControl

final class RunbookRulesTests: XCTestCase {
    private let rules = RunbookRules()
    private let deployedAt = noon.addingTimeInterval(-252)  // 4m12s before `noon`

    private func input(_ window: VersionMetrics, baseline: BaselineFigures = BaselineFigures(f1: 0.9, latencyP99Ms: 50, errorRate: 0.01, anomalyRate: 0.02, rows: 100),
                       deployedAt: Date? = nil, now: Date = noon) -> RuleInput {
        RuleInput(window: window, modelName: "fraud", deployedAt: deployedAt ?? self.deployedAt, baseline: baseline, now: now)
    }

    private func decide(_ window: VersionMetrics, f1Baseline: Double) -> RunbookDecision {
        rules.evaluate(input(window, baseline: BaselineFigures(f1: f1Baseline)))
    }

    // MARK: F1 drop

    func testF1DropTriggerSentenceCarriesItsNumbers() throws {
        let w = Window.f1(tp: 89, fp: 36, fn: 36)  // F1 = 178 / 250 = 0.712
        guard case .rollback(let t) = decide(w, f1Baseline: 0.926) else { return XCTFail("expected rollback") }
        XCTAssertEqual(t.rule, .f1Drop)
        XCTAssertEqual(t.observed, 0.712, accuracy: 1e-12)
        XCTAssertEqual(t.baseline, 0.926)
        XCTAssertEqual(t.threshold, 0.05)
        XCTAssertEqual(t.samples, 161)
        XCTAssertEqual(t.sinceDeploy, 252)
        XCTAssertEqual(t.version, "v2")
        XCTAssertEqual(t.sentence, "F1 0.712 dropped 0.214 below baseline 0.926 (limit 0.05) 4m12s after deploy")
    }

    func testF1DropFiresJustAboveTheLimitButNotAtOrBelowIt() {
        let w = Window.f1(tp: 85, fp: 15, fn: 15)  // F1 = 170 / 200 = 0.85
        // 0.90 − 0.85 is 0.05000000000000004 in binary: still "at" the limit, must not fire.
        XCTAssertEqual(decide(w, f1Baseline: 0.90), .healthy)
        XCTAssertEqual(decide(w, f1Baseline: 0.8999), .healthy)
        XCTAssertEqual(decide(w, f1Baseline: 0.9001).trigger?.rule, .f1Drop)
    }

    func testF1NeedsTheMinimumNumberOfLabels() {
        let terrible = Window.f1(tp: 1, fp: 49, fn: 49)  // 99 labels, F1 0.02
        XCTAssertEqual(decide(terrible, f1Baseline: 0.9), .healthy)
        let enough = Window.f1(tp: 1, fp: 49, fn: 49, tn: 1)  // 100 labels
        XCTAssertEqual(decide(enough, f1Baseline: 0.9).trigger?.rule, .f1Drop)
    }

    func testF1WithoutABaselineIsSkipped() {
        let w = Window.f1(tp: 1, fp: 99, fn: 99)
        XCTAssertEqual(rules.evaluate(input(w, baseline: .empty)), .healthy)
    }

    // MARK: Latency

    func testLatencyFiresJustAboveTheLimitButNotAtIt() {
        let nanos: UInt64 = 2_000_000_000
        let p99 = Window.reportedP99Ms(nanos: nanos)
        var policy = RunbookPolicy()
        policy.latencyP99LimitMs = p99
        XCTAssertEqual(RunbookRules(policy: policy).evaluate(input(Window.latency(nanos: nanos))), .healthy)
        policy.latencyP99LimitMs = p99 - 0.001
        let decision = RunbookRules(policy: policy).evaluate(input(Window.latency(nanos: nanos)))
        XCTAssertEqual(decision.trigger?.rule, .latencyP99)
        XCTAssertEqual(decision.trigger?.observed, p99)
    }

    func testLatencyAgainstTheRunbooksTwoSeconds() {
        // p99 is its bucket's upper bound: 1.9 s reports ≈1.97 s, 2.0 s reports ≈2.01 s.
        XCTAssertEqual(rules.evaluate(input(Window.latency(nanos: 1_900_000_000))), .healthy)
        guard case .rollback(let t) = rules.evaluate(input(Window.latency(nanos: 2_000_000_000))) else { return XCTFail() }
        XCTAssertEqual(t.rule, .latencyP99)
        XCTAssertTrue(t.sentence.hasPrefix("p99 2013 ms above limit 2000 ms 4m12s after deploy (baseline 50.0 ms)"), t.sentence)
    }

    func testLatencyNeedsTheMinimumNumberOfSamples() {
        XCTAssertEqual(rules.evaluate(input(Window.latency(nanos: 9_000_000_000, count: 199))), .healthy)
        XCTAssertEqual(rules.evaluate(input(Window.latency(nanos: 9_000_000_000, count: 200))).trigger?.rule, .latencyP99)
    }

    // MARK: Error rate

    func testErrorRateFiresJustAboveFivePercentButNotAtIt() {
        XCTAssertEqual(rules.evaluate(input(Window.errors(49, of: 1_000))), .healthy)
        XCTAssertEqual(rules.evaluate(input(Window.errors(50, of: 1_000))), .healthy)
        guard case .rollback(let t) = rules.evaluate(input(Window.errors(51, of: 1_000))) else { return XCTFail() }
        XCTAssertEqual(t.rule, .errorRate)
        XCTAssertEqual(t.observed, 0.051, accuracy: 1e-12)
        XCTAssertEqual(t.sentence, "error rate 5.1% above limit 5.0% (51 errors in 1000 requests), baseline 1.0%")
    }

    func testErrorRateNeedsTheMinimumNumberOfRequests() {
        XCTAssertEqual(rules.evaluate(input(Window.errors(199, of: 199))), .healthy)
        XCTAssertEqual(rules.evaluate(input(Window.errors(200, of: 200))).trigger?.rule, .errorRate)
    }

    // MARK: Anomaly rate

    func testAnomalySpikeOpensAnInvestigationAndNeverRollsBack() {
        // Baseline 2%: the limit is 3 × 2% = 6%.
        XCTAssertEqual(rules.evaluate(input(Window.anomalies(60, of: 1_000))), .healthy)
        guard case .investigate(let t) = rules.evaluate(input(Window.anomalies(61, of: 1_000))) else { return XCTFail() }
        XCTAssertEqual(t.rule, .anomalyRate)
        XCTAssertEqual(t.threshold, 3)
        XCTAssertEqual(t.sentence, "anomaly rate 6.1% is 3.0× baseline 2.0% (limit 3×); investigate, no rollback")
        XCTAssertFalse(RunbookRule.anomalyRate.rollsBack)
        XCTAssertEqual(RunbookRule.anomalyRate.severity, "warning")
        // Even an extreme spike only investigates.
        guard case .investigate = rules.evaluate(input(Window.anomalies(1_000, of: 1_000))) else { return XCTFail() }
    }

    func testAnomalyNeedsSamplesAndANonZeroBaseline() {
        XCTAssertEqual(rules.evaluate(input(Window.anomalies(199, of: 199))), .healthy)
        let zero = BaselineFigures(anomalyRate: 0, rows: 10)
        XCTAssertEqual(rules.evaluate(input(Window.anomalies(500, of: 1_000), baseline: zero)), .healthy)
    }

    func testRollbackWinsOverInvestigateWhenBothFire() {
        var w = Window.anomalies(500, of: 1_000)
        w.errors = 100
        guard case .rollback(let t) = rules.evaluate(input(w)) else { return XCTFail() }
        XCTAssertEqual(t.rule, .errorRate)
        XCTAssertEqual(rules.triggers(for: input(w)).map(\.rule), [.errorRate, .anomalyRate])
    }

    // MARK: Windows and time

    func testEmptyWindowGivesNoDecisionAndNoNaN() {
        let empty = VersionMetrics(version: "v2")
        XCTAssertNil(empty.f1)
        XCTAssertNil(empty.errorRate)
        XCTAssertEqual(rules.triggers(for: input(empty)), [])
        XCTAssertEqual(rules.triggers(for: input(empty, baseline: .empty)), [])
        let nanBaseline = BaselineFigures(f1: .nan, latencyP99Ms: .nan, errorRate: .nan, anomalyRate: .nan, rows: 1)
        XCTAssertEqual(rules.evaluate(input(Window.f1(tp: 1, fp: 99, fn: 99), baseline: nanBaseline)), .healthy)
    }

    func testDeployWindowRulesStopAfterThirtyMinutesButErrorRateStillApplies() {
        var bad = Window.f1(tp: 1, fp: 99, fn: 99)
        bad.latencyBuckets = Window.latency(nanos: 9_000_000_000).latencyBuckets
        let atLimit = input(bad, deployedAt: noon.addingTimeInterval(-1_800))
        XCTAssertEqual(rules.triggers(for: atLimit).map(\.rule), [.f1Drop, .latencyP99])
        let after = input(bad, deployedAt: noon.addingTimeInterval(-1_801))
        XCTAssertEqual(rules.triggers(for: after), [])
        var failing = bad
        failing.errors = 500
        XCTAssertEqual(rules.triggers(for: input(failing, deployedAt: noon.addingTimeInterval(-86_400))).map(\.rule), [.errorRate])
        // Unknown deploy time: cannot be "within 30 min of deploy".
        let unknown = RuleInput(window: failing, modelName: "fraud", deployedAt: nil, baseline: BaselineFigures(f1: 0.9), now: noon)
        guard case .rollback(let t) = rules.evaluate(unknown) else { return XCTFail() }
        XCTAssertEqual(t.rule, .errorRate)
        XCTAssertNil(t.sinceDeploy)
    }

    func testDeployTimeInTheFutureCountsAsJustDeployed() {
        let skewed = input(Window.f1(tp: 1, fp: 99, fn: 99), baseline: BaselineFigures(f1: 0.9), deployedAt: noon.addingTimeInterval(5))
        XCTAssertEqual(rules.evaluate(skewed).trigger?.sinceDeploy, 0)
    }
}
