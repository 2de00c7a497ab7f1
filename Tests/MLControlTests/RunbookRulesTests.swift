import Foundation
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
        XCTAssertEqual(t.sentence, "F1 0.712 dropped 0.214 below baseline 0.926 (limit 0.05; 161 labels, coverage 16.1%) 4m12s after deploy")
    }

    func testF1DropFiresJustAboveTheLimitButNotAtOrBelowIt() {
        let w = Window.f1(tp: 85, fp: 15, fn: 15)  // F1 = 170 / 200 = 0.85
        // 0.90 − 0.85 is 0.05000000000000004 in binary: still "at" the limit, must not fire.
        XCTAssertNil(decide(w, f1Baseline: 0.90).trigger)
        XCTAssertNil(decide(w, f1Baseline: 0.8999).trigger)
        XCTAssertEqual(decide(w, f1Baseline: 0.9001).trigger?.rule, .f1Drop)
    }

    func testF1NeedsTheMinimumNumberOfLabels() {
        let terrible = Window.f1(tp: 1, fp: 49, fn: 49)  // 99 labels, F1 0.02
        XCTAssertNil(decide(terrible, f1Baseline: 0.9).trigger)
        XCTAssertTrue(rules.outcomes(for: input(terrible, baseline: BaselineFigures(f1: 0.9))).contains(.inconclusive("F1: 99 labels, need 100")))
        let enough = Window.f1(tp: 1, fp: 49, fn: 49, tn: 1)  // 100 labels
        XCTAssertEqual(decide(enough, f1Baseline: 0.9).trigger?.rule, .f1Drop)
    }

    func testF1WithoutABaselineIsInconclusiveNotHealthy() {
        let w = Window.f1(tp: 1, fp: 99, fn: 99)
        guard case .inconclusive(let reasons) = rules.evaluate(input(w, baseline: .empty)) else { return XCTFail("expected inconclusive") }
        XCTAssertTrue(reasons.contains("F1: no baseline"), "\(reasons)")
    }

    func testF1NeedsMinimumLabelCoverageToo() {
        // 200 labels, F1 0.01, but over 100000 predictions: 0.2% coverage, below the 5% minimum.
        let sparse = Window.f1(tp: 1, fp: 99, fn: 99, tn: 1, requests: 100_000)
        XCTAssertNil(decide(sparse, f1Baseline: 0.9).trigger)
        XCTAssertTrue(rules.outcomes(for: input(sparse, baseline: BaselineFigures(f1: 0.9))).contains(.inconclusive("F1: label coverage 0.2% below 5.0%")))
        var policy = RunbookPolicy()
        policy.minLabelCoverage = 0.001
        XCTAssertEqual(RunbookRules(policy: policy).evaluate(input(sparse, baseline: BaselineFigures(f1: 0.9))).trigger?.rule, .f1Drop)
    }

    // MARK: Client errors

    func testClientErrorsNeverTripTheErrorRateRule() {
        // 900 refused rows (NaN, wrong width) beside 100 good ones: 90% of requests failed, all the client's fault.
        let w = Window.clientErrors(900, served: 100)
        XCTAssertEqual(w.modelErrorRate, 0)
        XCTAssertEqual(try XCTUnwrap(w.clientErrorRate), 0.9, accuracy: 1e-12)
        XCTAssertFalse(rules.triggers(for: input(w)).contains { $0.rule == .errorRate })
        XCTAssertTrue(rules.outcomes(for: input(w)).contains(.inconclusive("model error rate: 100 requests reached the model, need 200")))
        // Served enough: the model's rate is 0 and the rule passes.
        XCTAssertNil(rules.evaluate(input(Window.clientErrors(900, served: 1_000))).trigger)
    }

    func testClientErrorAlertIsOffByDefaultAndNotifiesWhenSet() {
        let w = Window.clientErrors(600, served: 1_000)
        XCTAssertEqual(rules.outcomes(for: input(w))[4], .notApplicable)
        var policy = RunbookPolicy()
        policy.clientErrorRateLimit = 0.2
        guard case .investigate(let t) = RunbookRules(policy: policy).evaluate(input(w)) else { return XCTFail("expected a notify") }
        XCTAssertEqual(t.rule, .clientErrorRate)
        XCTAssertEqual(t.action, .notify)
        XCTAssertEqual(t.samples, 1_600)
    }

    // MARK: Actions

    func testPolicyActionsChooseWhatARuleDoes() throws {
        let failing = Window.errors(100, of: 1_000)
        var policy = RunbookPolicy()
        policy.actions[.errorRate] = .pause
        guard case .pause(let t) = RunbookRules(policy: policy).evaluate(input(failing)) else { return XCTFail("expected pause") }
        XCTAssertEqual(t.action, .pause)
        XCTAssertFalse(t.dryRun)
        policy.actions[.errorRate] = .dryRun
        guard case .dryRun(let d) = RunbookRules(policy: policy).evaluate(input(failing)) else { return XCTFail("expected dry run") }
        XCTAssertEqual(d.action, .rollback, "a dry run records what the rule's own action would have been")
        XCTAssertTrue(d.dryRun)
        guard case .dryRun(let all) = RunbookRules(policy: RunbookPolicy(), dryRun: true).evaluate(input(failing)) else { return XCTFail() }
        XCTAssertEqual(all.action, .rollback)
        let decoded = try RunbookPolicy.decode(Data(#"{"actions": {"f1_drop": "notify", "error_rate": "dry_run"}}"#.utf8))
        XCTAssertEqual(decoded.action(for: .f1Drop), .notify)
        XCTAssertEqual(decoded.action(for: .errorRate), .dryRun)
        XCTAssertEqual(decoded.action(for: .latencyP99), .rollback)
        XCTAssertThrowsError(try RunbookPolicy.decode(Data(#"{"actions": {"f1_drop": "explode"}}"#.utf8)))
        XCTAssertThrowsError(try RunbookPolicy.decode(Data(#"{"actions": {"f1_dorp": "notify"}}"#.utf8)))
    }

    // MARK: Drift

    func testDriftNeedsAReferenceAndEnoughScoresAndClearsItsNoiseFloor() {
        var policy = RunbookPolicy()
        policy.driftLimit = 0.1
        let driftRules = RunbookRules(policy: policy)
        let uniform = [Float](repeating: 0.05, count: ScoreBins.count)
        // All scores in one bin: PSI is large.
        var shifted = VersionMetrics(version: "v2", requests: 2_000, scoreBins: [2_000] + [UInt64](repeating: 0, count: 19), referenceBins: uniform)
        XCTAssertEqual(driftRules.evaluate(input(shifted)).trigger?.rule, .drift)
        XCTAssertEqual(shifted.driftExpected, 19.0 / 2_000)
        shifted.referenceBins = []
        XCTAssertTrue(driftRules.outcomes(for: input(shifted)).contains(.inconclusive("drift: the artifact has no reference distribution")))
        let few = VersionMetrics(version: "v2", requests: 50, scoreBins: [50] + [UInt64](repeating: 0, count: 19), referenceBins: uniform)
        XCTAssertTrue(driftRules.outcomes(for: input(few)).contains(.inconclusive("drift: 50 scores, need 1000")))
        XCTAssertEqual(rules.outcomes(for: input(few))[5], .notApplicable, "drift_limit is off by default")
    }

    // MARK: Latency

    func testLatencyFiresJustAboveTheLimitButNotAtIt() {
        let nanos: UInt64 = 2_000_000_000
        let p99 = Window.reportedP99Ms(nanos: nanos)
        var policy = RunbookPolicy()
        policy.latencyP99LimitMs = p99
        XCTAssertNil(RunbookRules(policy: policy).evaluate(input(Window.latency(nanos: nanos))).trigger)
        policy.latencyP99LimitMs = p99 - 0.001
        let decision = RunbookRules(policy: policy).evaluate(input(Window.latency(nanos: nanos)))
        XCTAssertEqual(decision.trigger?.rule, .latencyP99)
        XCTAssertEqual(decision.trigger?.observed, p99)
    }

    func testLatencyAgainstTheRunbooksTwoSeconds() {
        // p99 is its bucket's upper bound: 1.9 s reports ≈1.97 s, 2.0 s reports ≈2.01 s.
        XCTAssertNil(rules.evaluate(input(Window.latency(nanos: 1_900_000_000))).trigger)
        guard case .rollback(let t) = rules.evaluate(input(Window.latency(nanos: 2_000_000_000))) else { return XCTFail() }
        XCTAssertEqual(t.rule, .latencyP99)
        XCTAssertTrue(t.sentence.hasPrefix("p99 2013 ms above limit 2000 ms 4m12s after deploy (baseline 50.0 ms)"), t.sentence)
    }

    func testLatencyNeedsTheMinimumNumberOfSamples() {
        XCTAssertNil(rules.evaluate(input(Window.latency(nanos: 9_000_000_000, count: 199))).trigger)
        XCTAssertEqual(rules.evaluate(input(Window.latency(nanos: 9_000_000_000, count: 200))).trigger?.rule, .latencyP99)
    }

    // MARK: Error rate

    func testErrorRateFiresJustAboveFivePercentButNotAtIt() {
        XCTAssertNil(rules.evaluate(input(Window.errors(49, of: 1_000))).trigger)
        XCTAssertNil(rules.evaluate(input(Window.errors(50, of: 1_000))).trigger)
        guard case .rollback(let t) = rules.evaluate(input(Window.errors(51, of: 1_000))) else { return XCTFail() }
        XCTAssertEqual(t.rule, .errorRate)
        XCTAssertEqual(t.observed, 0.051, accuracy: 1e-12)
        XCTAssertEqual(t.sentence, "model error rate 5.1% above limit 5.0% (51 failed of 1000 requests; 0 client errors not counted), baseline 1.0%")
    }

    func testErrorRateNeedsTheMinimumNumberOfRequests() {
        XCTAssertNil(rules.evaluate(input(Window.errors(199, of: 199))).trigger)
        XCTAssertEqual(rules.evaluate(input(Window.errors(200, of: 200))).trigger?.rule, .errorRate)
    }

    // MARK: Anomaly rate

    func testAnomalySpikeOpensAnInvestigationAndNeverRollsBack() {
        // Baseline 2%: the limit is 3 × 2% = 6%.
        XCTAssertNil(rules.evaluate(input(Window.anomalies(60, of: 1_000))).trigger)
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
        XCTAssertNil(rules.evaluate(input(Window.anomalies(199, of: 199))).trigger)
        let zero = BaselineFigures(anomalyRate: 0, rows: 10)
        XCTAssertNil(rules.evaluate(input(Window.anomalies(500, of: 1_000), baseline: zero)).trigger)
    }

    func testRollbackWinsOverInvestigateWhenBothFire() {
        var w = Window.anomalies(500, of: 1_000)
        w.errors = 100
        w.modelErrors = 100
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
        XCTAssertNil(rules.evaluate(input(Window.f1(tp: 1, fp: 99, fn: 99), baseline: nanBaseline)).trigger)
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
        failing.modelErrors = 500
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
