import MLWire
import XCTest

/// The metrics layout every tool shares (PROTOCOL.md §12): bucket arithmetic and derived figures.
final class MetricsLayoutTests: XCTestCase {
    private func sampleValues() -> [UInt64] {
        var values = Array(UInt64(0)...4096)
        for shift in 0..<64 {
            let p = UInt64(1) << UInt64(shift)
            values += [p &- 1, p, p &+ 1, p + p / 2]
        }
        var rng = SeededRandom(seed: 7)
        values += (0..<20_000).map { _ in rng.next() >> UInt64.random(in: 0...63, using: &rng) }
        values.append(.max)
        return Array(Set(values)).sorted()
    }

    func testLatencyBucketIndexIsMonotoneAndEveryValueLiesInsideItsBucket() {
        XCTAssertEqual(LatencyBuckets.count, 592)
        let limit = UInt64(1) << 40
        var previous = -1
        for value in sampleValues() {
            let index = LatencyBuckets.index(nanos: value)
            XCTAssertGreaterThanOrEqual(index, previous, "index must not decrease (value \(value))")
            XCTAssertTrue((0..<LatencyBuckets.count).contains(index), "value \(value) -> index \(index)")
            previous = index
            if value < limit {
                XCTAssertLessThanOrEqual(LatencyBuckets.lowerBound(index), value, "value \(value)")
                XCTAssertLessThan(value, LatencyBuckets.upperBound(index), "value \(value)")
            } else {
                XCTAssertEqual(index, LatencyBuckets.count - 1, "values at or above 2^40 ns land in the last bucket")
            }
        }
    }

    func testLatencyBucketBoundsTileTheRangeWithin6Point25Percent() {
        XCTAssertEqual(LatencyBuckets.lowerBound(0), 0)
        for index in 0..<LatencyBuckets.count {
            let lower = LatencyBuckets.lowerBound(index), upper = LatencyBuckets.upperBound(index)
            XCTAssertLessThan(lower, upper)
            XCTAssertEqual(LatencyBuckets.index(nanos: lower), index)
            XCTAssertEqual(LatencyBuckets.index(nanos: upper - 1), index)
            if index + 1 < LatencyBuckets.count { XCTAssertEqual(upper, LatencyBuckets.lowerBound(index + 1), "gap after \(index)") }
            if index >= 16 { XCTAssertLessThanOrEqual(Double(upper - lower) / Double(lower), 0.0625) }
        }
        XCTAssertEqual(LatencyBuckets.upperBound(LatencyBuckets.count - 1), UInt64(1) << 40)
        // Spot checks of the formula in PROTOCOL.md.
        XCTAssertEqual(LatencyBuckets.index(nanos: 15), 15)
        XCTAssertEqual(LatencyBuckets.index(nanos: 16), 16)
        XCTAssertEqual(LatencyBuckets.index(nanos: 1_000_000), 16 * (19 - 3) + 14)  // 2^19 = 524288; (1e6 >> 15) & 15 = 14
        XCTAssertEqual(LatencyBuckets.lowerBound(16 * 16 + 14), 983_040)
    }

    func testScoreBinsClampEveryFloatIntoRange() {
        XCTAssertEqual(ScoreBins.count, 20)
        let cases: [(Float, Int)] = [(0, 0), (0.0499, 0), (0.05, 1), (0.5, 10), (0.95, 19), (0.999, 19), (1, 19),
                                     (-0.5, 0), (2, 19), (.infinity, 19), (-.infinity, 0), (.nan, 0),
                                     (1e30, 19), (-1e30, 0), (.greatestFiniteMagnitude, 19)]
        for (score, bin) in cases {
            XCTAssertEqual(ScoreBins.index(score: score), bin, "score \(score)")
        }
    }

    func testF1ErrorRateAndAnomalyRateOnKnownCounts() throws {
        let v = VersionMetrics(version: "v", requests: 1000, errors: 2, positives: 31, truePositives: 20, falsePositives: 5,
                               trueNegatives: 60, falseNegatives: 3)
        XCTAssertEqual(try XCTUnwrap(v.f1), 40.0 / 48.0, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(v.errorRate), 2.0 / 1002.0, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(v.anomalyRate), 0.031, accuracy: 1e-12)
        XCTAssertEqual(v.feedbackCount, 88)
        XCTAssertNil(VersionMetrics(version: "v", trueNegatives: 10).f1, "no positives anywhere: F1 undefined")
        XCTAssertEqual(VersionMetrics(version: "v", falsePositives: 1, trueNegatives: 10).f1, 0)
        XCTAssertNil(VersionMetrics(version: "v").errorRate)
        XCTAssertNil(VersionMetrics(version: "v").anomalyRate)
    }

    func testLatencyQuantileReturnsTheUpperEdgeOfTheBucketHoldingTheRank() throws {
        let a = LatencyBuckets.index(nanos: 100_000), b = LatencyBuckets.index(nanos: 1_000_000), c = LatencyBuckets.index(nanos: 50_000_000)
        let v = VersionMetrics(version: "v", latencyBuckets: [BucketCount(index: UInt16(a), count: 90),
                                                              BucketCount(index: UInt16(b), count: 9),
                                                              BucketCount(index: UInt16(c), count: 1)])
        XCTAssertEqual(v.latencyQuantileNanos(0.5), LatencyBuckets.upperBound(a) - 1)
        XCTAssertEqual(v.latencyQuantileNanos(0.9), LatencyBuckets.upperBound(a) - 1)
        XCTAssertEqual(v.latencyQuantileNanos(0.99), LatencyBuckets.upperBound(b) - 1)
        XCTAssertEqual(v.latencyQuantileNanos(0.999), LatencyBuckets.upperBound(c) - 1)
        XCTAssertEqual(v.latencyQuantileNanos(0), LatencyBuckets.upperBound(a) - 1)
        XCTAssertNil(VersionMetrics(version: "v").latencyQuantileNanos(0.99))
        // The quantile is an upper bound within one bucket width of the true value.
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(v.latencyQuantileNanos(0.99)), 1_000_000)
        XCTAssertLessThan(Double(try XCTUnwrap(v.latencyQuantileNanos(0.99))), 1_000_000 * 1.0625)
    }

    func testPSIOnKnownDistributions() throws {
        let same = VersionMetrics(version: "v", scoreBins: [25, 75], referenceBins: [0.25, 0.75])
        XCTAssertEqual(try XCTUnwrap(same.drift), 0, accuracy: 1e-12)
        let shifted = VersionMetrics(version: "v", scoreBins: [50, 50], referenceBins: [0.25, 0.75])
        let expected = 0.25 * log(2.0) + (-0.25) * log(0.5 / 0.75)
        XCTAssertEqual(try XCTUnwrap(shifted.drift), expected, accuracy: 1e-9)
        // An empty bin is smoothed to 1e-4 instead of making PSI infinite.
        let emptyBin = VersionMetrics(version: "v", scoreBins: [100, 0], referenceBins: [0.5, 0.5])
        XCTAssertEqual(try XCTUnwrap(emptyBin.drift), 0.5 * log(2.0) + (1e-4 - 0.5) * log(1e-4 / 0.5), accuracy: 1e-9)
        XCTAssertNil(VersionMetrics(version: "v", scoreBins: [0, 0], referenceBins: [0.5, 0.5]).drift)
        XCTAssertNil(VersionMetrics(version: "v", scoreBins: [1, 1], referenceBins: [1]).drift, "layouts differ")
    }

    func testSinceTakesCounterDifferencesAndRestartsWhole() {
        let earlier = VersionMetrics(version: "v", requests: 100, errors: 1, truePositives: 4, latencyBuckets: [BucketCount(index: 20, count: 10)],
                                     scoreBins: [5, 5])
        let now = VersionMetrics(version: "v", requests: 150, errors: 3, truePositives: 9,
                                 latencyBuckets: [BucketCount(index: 20, count: 10), BucketCount(index: 30, count: 7)], scoreBins: [6, 9])
        let window = now.since(earlier)
        XCTAssertEqual(window.requests, 50)
        XCTAssertEqual(window.errors, 2)
        XCTAssertEqual(window.truePositives, 5)
        XCTAssertEqual(window.latencyBuckets, [BucketCount(index: 30, count: 7)])
        XCTAssertEqual(window.scoreBins, [1, 4])
        XCTAssertEqual(earlier.since(now), earlier, "counters went backwards: the node restarted, take them whole")
        XCTAssertEqual(now.since(nil), now)
    }

    /// A MetricsReply comes from another process; whatever counters it carries, deriving figures
    /// from them must not trap (sums of u64 counters overflow).
    func testDerivedFiguresNeverTrapOnHugeCounters() {
        let huge = VersionMetrics(version: "v", requests: .max, errors: .max, positives: .max, truePositives: .max,
                                  falsePositives: .max, trueNegatives: .max, falseNegatives: .max, latencySumNanos: .max,
                                  latencyCount: .max, latencyBuckets: [BucketCount(index: 3, count: .max), BucketCount(index: 591, count: .max)],
                                  scoreBins: [.max, .max], referenceBins: [.nan, .infinity])
        _ = huge.f1
        _ = huge.errorRate
        _ = huge.anomalyRate
        _ = huge.feedbackCount
        _ = huge.drift
        for q in [0.0, 0.5, 0.99, 1.0] { XCTAssertNotNil(huge.latencyQuantileNanos(q)) }
        _ = huge.since(VersionMetrics(version: "v", requests: 1))
        XCTAssertEqual(try XCTUnwrap(huge.f1), 2.0 / 4.0, accuracy: 1e-9)
    }
}
