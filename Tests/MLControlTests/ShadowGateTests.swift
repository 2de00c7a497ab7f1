import Foundation
import MLWire
import XCTest
@testable import MLControl

/// The gate file's strictness and the judge's decisions on window counters.
final class ShadowGateTests: XCTestCase {
    func testDefaultsAndAnySubsetOfKeys() throws {
        XCTAssertEqual(try ShadowGate.decode(Data("{}".utf8)), ShadowGate())
        let gate = try ShadowGate.decode(Data(#"{"min_agreement": 0.9, "require_labels": true}"#.utf8))
        XCTAssertEqual(gate.minAgreement, 0.9)
        XCTAssertTrue(gate.requireLabels)
        XCTAssertEqual(gate.f1DropLimit, ShadowGate().f1DropLimit)
    }

    func testUnknownKeysAndMeaninglessValuesAreRefusedNamingTheKey() {
        XCTAssertThrowsError(try ShadowGate.decode(Data(#"{"min_agrement": 0.9}"#.utf8))) { error in
            guard case PolicyError.unknownKeys(let keys, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(keys, ["min_agrement"])
        }
        for (json, key) in [(#"{"min_agreement": 1.5}"#, "min_agreement"), (#"{"standby_p99_limit_ms": 0}"#, "standby_p99_limit_ms"),
                            (#"{"min_rows": 0}"#, "min_rows"), (#"{"max_standby_errors": -1}"#, "max_standby_errors"),
                            (#"{"min_labels": "many"}"#, "min_labels")] {
            XCTAssertThrowsError(try ShadowGate.decode(Data(json.utf8)), json) { error in
                guard case PolicyError.invalid(let named, _) = error else { return XCTFail("\(json): \(error)") }
                XCTAssertEqual(named, key)
            }
        }
    }

    /// A window of `rows` compared rows, `agree` of them agreeing, with the given confusions.
    private func window(rows: UInt64, agree: UInt64, errors: UInt64 = 0, active: ConfusionCounts = .init(),
                        standby: ConfusionCounts = .init(), latencyNanos: UInt64 = 10_000) -> ShadowPairMetrics {
        var w = ShadowPairMetrics(activeVersion: "a", standbyVersion: "s")
        w.rows = rows + errors
        w.agreements = agree
        w.standbyErrors = errors
        w.activeConfusion = active
        w.standbyConfusion = standby
        w.standbyLatencyBuckets = [BucketCount(index: UInt16(LatencyBuckets.index(nanos: latencyNanos)), count: rows)]
        w.standbyScoreBins = [UInt64](repeating: rows / 20, count: 20)
        w.activeScoreBins = [UInt64](repeating: rows / 20, count: 20)
        w.differenceBins = [rows] + [UInt64](repeating: 0, count: 10)
        return w
    }

    private let uniform = [Float](repeating: 0.05, count: 20)

    private func outcome(_ v: GateVerdict, _ name: String) -> GateVerdict.Outcome? { v.checks.first { $0.name == name }?.outcome }

    func testEachThresholdDecidesItsCheck() {
        let gate = ShadowGate()
        let good = ConfusionCounts(truePositives: 40, falsePositives: 5, trueNegatives: 150, falseNegatives: 5)
        let pass = gate.judge(window(rows: 1000, agree: 990, active: good, standby: good), node: "n",
                              activeReference: uniform, standbyReference: uniform)
        XCTAssertTrue(pass.passed, pass.summary)
        XCTAssertEqual(outcome(pass, "f1_drop"), .passed)

        let disagree = gate.judge(window(rows: 1000, agree: 900, active: good, standby: good), node: "n",
                                  activeReference: uniform, standbyReference: uniform)
        XCTAssertEqual(disagree.failedChecks.map(\.name), ["agreement"])

        let worse = ConfusionCounts(truePositives: 25, falsePositives: 20, trueNegatives: 135, falseNegatives: 20)
        let f1 = gate.judge(window(rows: 1000, agree: 990, active: good, standby: worse), node: "n",
                            activeReference: uniform, standbyReference: uniform)
        XCTAssertEqual(f1.failedChecks.map(\.name), ["f1_drop"])

        let errors = gate.judge(window(rows: 1000, agree: 990, errors: 1), node: "n", activeReference: uniform, standbyReference: uniform)
        XCTAssertEqual(errors.failedChecks.map(\.name), ["standby_errors"])

        let slow = gate.judge(window(rows: 1000, agree: 990, latencyNanos: 3_000_000_000), node: "n",
                              activeReference: uniform, standbyReference: uniform)
        XCTAssertEqual(slow.failedChecks.map(\.name), ["standby_p99"])

        // The standby's reference says scores should sit low; the rows are uniform: its drift grows.
        var skewed = [Float](repeating: 0.001, count: 20)
        skewed[0] = 1 - 0.001 * 19
        let drift = gate.judge(window(rows: 1000, agree: 990), node: "n", activeReference: uniform, standbyReference: skewed)
        XCTAssertEqual(drift.failedChecks.map(\.name), ["drift_increase"])
    }

    func testTooFewRowsFailsAndTooFewLabelsIsNotJudgedUnlessRequired() {
        let few = ShadowGate().judge(window(rows: 50, agree: 50), node: "n", activeReference: uniform, standbyReference: uniform)
        XCTAssertFalse(few.passed)
        XCTAssertEqual(outcome(few, "rows"), .failed)

        let labels = ConfusionCounts(truePositives: 5, falsePositives: 1, trueNegatives: 3, falseNegatives: 1)
        let unlabelled = ShadowGate().judge(window(rows: 1000, agree: 990, active: labels, standby: labels), node: "n",
                                            activeReference: uniform, standbyReference: uniform)
        XCTAssertEqual(outcome(unlabelled, "f1_drop"), .notJudged)
        XCTAssertTrue(unlabelled.passed)
        var strict = ShadowGate()
        strict.requireLabels = true
        XCTAssertEqual(strict.judge(window(rows: 1000, agree: 990, active: labels, standby: labels), node: "n",
                                    activeReference: uniform, standbyReference: uniform).failedChecks.map(\.name), ["f1_drop"])
    }
}
