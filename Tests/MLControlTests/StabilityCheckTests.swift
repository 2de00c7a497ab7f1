import MLWire
import XCTest
@testable import MLControl

final class StabilityCheckTests: XCTestCase {
    private let check = StabilityCheck()
    private let baseline = BaselineFigures(f1: 0.9, latencyP99Ms: 5, errorRate: 0.01, anomalyRate: 0.02, rows: 100)
    private let rolledBackAt = noon

    private func verdict(_ windows: [VersionMetrics], minutes: Double, baseline: BaselineFigures? = nil,
                         check: StabilityCheck? = nil) -> StabilityVerdict {
        (check ?? self.check).evaluate(windows: windows, baseline: baseline ?? self.baseline, rolledBackAt: rolledBackAt,
                                       now: rolledBackAt.addingTimeInterval(minutes * 60))
    }

    func testGoodWindowsBeforeTheEndAreStillWatching() {
        XCTAssertEqual(verdict([Window.healthy(), Window.healthy()], minutes: 10), .stillWatching(remaining: 20 * 60))
        XCTAssertEqual(verdict([], minutes: 0), .stillWatching(remaining: 30 * 60))
    }

    func testGoodWindowsThroughTheWholeWindowAreStable() {
        let v = verdict(Array(repeating: Window.healthy(), count: 6), minutes: 30)
        guard case .stable(let summary) = v else { return XCTFail("\(v)") }
        XCTAssertTrue(summary.hasPrefix("stable for 30m00s after rollback: F1 0.900 (baseline 0.900)"), summary)
        XCTAssertEqual(v.outcome, "stable")
        XCTAssertTrue(v.isFinal)
    }

    func testLatencyAtOneSecondIsAlreadyUnstable() {
        let nanos: UInt64 = 1_000_000_000
        var policy = RunbookPolicy()
        policy.stabilityLatencyP99LimitMs = Window.reportedP99Ms(nanos: nanos)  // p99 exactly at the limit
        let slow = Window.healthy(latencyNanos: nanos)
        guard case .unstable(let reason) = verdict([Window.healthy(), slow], minutes: 5, check: StabilityCheck(policy: policy)) else {
            return XCTFail()
        }
        XCTAssertTrue(reason.contains("not below"), reason)
        policy.stabilityLatencyP99LimitMs += 0.001
        XCTAssertEqual(verdict([Window.healthy(), slow], minutes: 5, check: StabilityCheck(policy: policy)).outcome, "watching")
    }

    func testErrorRateAboveBaselinePlusSlackIsUnstable() {
        var w = Window.healthy()
        w.modelErrors = 10  // 10 / 510 ≈ 1.96% against baseline 1% + 0.5% slack
        guard case .unstable(let reason) = verdict([w], minutes: 5) else { return XCTFail() }
        XCTAssertTrue(reason.contains("model error rate 2.0% in a poll window (10 of 510) above baseline 1.0% + slack 0.5%"), reason)
        w.modelErrors = 7  // 7 / 507 ≈ 1.38%: within the slack
        XCTAssertEqual(verdict([w], minutes: 5).outcome, "watching")
        w.modelErrors = 0
        w.clientErrors = 400  // a client's bad rows say nothing about the restored model
        XCTAssertEqual(verdict([w], minutes: 5).outcome, "watching")
    }

    func testSmallWindowsAreJudgedTogether() {
        // 20 windows of 20 requests: none big enough alone, 400 together at 10% errors.
        let small = Window.errors(2, of: 20, version: "v1")
        guard case .unstable(let reason) = verdict(Array(repeating: small, count: 20), minutes: 5) else { return XCTFail() }
        XCTAssertTrue(reason.contains("since rollback"), reason)
    }

    func testF1OutsideToleranceEitherWayIsUnstable() {
        let low = Window.f1(tp: 84, fp: 8, fn: 8, tn: 100, requests: 500, version: "v1")   // 168/184 ≈ 0.913, +0.013: fine
        XCTAssertEqual(verdict([low], minutes: 5).outcome, "watching")
        let worse = Window.f1(tp: 85, fp: 15, fn: 15, requests: 500, version: "v1")  // 0.85: 0.05 below
        guard case .unstable(let reason) = verdict([worse], minutes: 5) else { return XCTFail() }
        XCTAssertTrue(reason.hasPrefix("F1 0.850 since rollback is 0.050 from baseline 0.900"), reason)
        let better = Window.f1(tp: 97, fp: 1, fn: 1, tn: 10, requests: 500, version: "v1")  // ≈0.990
        XCTAssertEqual(verdict([better], minutes: 5).outcome, "unstable")
    }

    func testNoTrafficThroughTheWindowIsInconclusiveNotStable() {
        let v = verdict([VersionMetrics(version: "v1", requests: 12)], minutes: 31)
        XCTAssertEqual(v, .inconclusive("only 12 requests in 31m00s after rollback (need 200); stability not confirmed"))
        XCTAssertEqual(verdict([], minutes: 31).outcome, "inconclusive")
    }

    func testTooFewLabelsWithABaselineF1IsInconclusiveNotStable() {
        var w = Window.healthy()
        w.truePositives = 10
        w.falsePositives = 0
        w.falseNegatives = 0
        w.trueNegatives = 0
        let v = verdict([w], minutes: 31)
        XCTAssertEqual(v.outcome, "inconclusive", "\(v)")
    }

    func testWithoutABaselineF1IsSkippedAndErrorsMeetTheRollbackLimit() {
        var w = Window.healthy()
        w.modelErrors = 20  // ≈3.8%: an "increase" over nothing, but below the 5% rollback limit
        let v = verdict([w, w, w], minutes: 30, baseline: BaselineFigures.empty)
        guard case .stable(let summary) = v else { return XCTFail("\(v)") }
        XCTAssertTrue(summary.contains("F1 not checked"), summary)
        w.modelErrors = 40
        XCTAssertEqual(verdict([w], minutes: 30, baseline: .empty).outcome, "unstable")
    }
}
