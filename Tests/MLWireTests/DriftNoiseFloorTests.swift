import MLWire
import XCTest

/// PROTOCOL.md §12.3: scores drawn from the reference itself give PSI ≈ (B − 1) / n. Checked
/// by sampling, against MLWire's own PSI, for a uniform and a skewed reference.
final class DriftNoiseFloorTests: XCTestCase {
    private struct SplitMix {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
    }

    private func meanPSI(reference: [Float], samples n: Int, trials: Int, seed: UInt64) -> Double {
        var rng = SplitMix(state: seed)
        var cumulative: [Double] = []
        var sum = 0.0
        for p in reference { sum += Double(p); cumulative.append(sum) }
        var total = 0.0
        for _ in 0..<trials {
            var bins = [UInt64](repeating: 0, count: reference.count)
            for _ in 0..<n {
                let u = rng.next() * sum
                bins[cumulative.firstIndex { u < $0 } ?? reference.count - 1] += 1
            }
            total += VersionMetrics(version: "v", requests: UInt64(n), scoreBins: bins, referenceBins: reference).drift!
        }
        return total / Double(trials)
    }

    func testSamplingFromTheReferenceGivesTheNoiseFloor() {
        let uniform = [Float](repeating: 0.05, count: 20)
        let skewed: [Float] = (0..<20).map { Float(20 - $0) / 210 }
        for (reference, n) in [(uniform, 1_000), (uniform, 5_000), (skewed, 2_000)] {
            let floor = VersionMetrics.driftNoiseFloor(bins: 20, samples: UInt64(n))!
            let observed = meanPSI(reference: reference, samples: n, trials: 300, seed: UInt64(n))
            XCTAssertEqual(observed, floor, accuracy: 0.1 * floor, "n=\(n): mean PSI \(observed) vs (B-1)/n \(floor)")
        }
        XCTAssertNil(VersionMetrics.driftNoiseFloor(bins: 20, samples: 0))
    }
}
