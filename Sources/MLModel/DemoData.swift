import Glibc

/// A synthetic, deterministic anomaly-detection data set: 32 float32 features, ~10% anomalies.
///
/// Normal rows are standard normal in every feature. Anomalies are shifted by ±1 (alternating
/// sign) in features 0..<16 and are plain noise in 16..<32, so the classes are 4 standard
/// deviations apart along one direction (Bayes-optimal F1 ≈ 0.93) and half the features carry
/// no signal. The same seed always gives the same rows, on any machine with IEEE floats.
public struct DemoData: Sendable {
    public static let featureCount = 32
    public static let anomalyRate = 0.1
    /// Features 0..<signalFeatures carry the anomaly shift.
    public static let signalFeatures = 16

    private var rng: Xoshiro256
    /// The polar method yields normals in pairs; the second waits here.
    private var spare: Float = 0
    private var hasSpare = false

    public init(seed: UInt64) {
        rng = Xoshiro256(seed: seed)
    }

    /// The mean shift of an anomaly in feature `index`.
    @inline(__always)
    public static func anomalyShift(feature index: Int) -> Float {
        index < signalFeatures ? (index & 1 == 0 ? 1 : -1) : 0
    }

    /// Writes one row of `featureCount` floats and returns its label (1 = anomaly). No allocation:
    /// this is what load generators call per request.
    @inline(__always)
    public mutating func fill(row: UnsafeMutablePointer<Float>) -> UInt8 {
        let anomaly = rng.nextUnit() < DemoData.anomalyRate
        for i in 0..<DemoData.featureCount {
            let shift = anomaly ? DemoData.anomalyShift(feature: i) : 0
            row[i] = nextGaussian() + shift
        }
        return anomaly ? 1 : 0
    }

    /// Fills `count` rows back to back; `labels`, when given, receives one label per row.
    public mutating func fill(rows: UnsafeMutablePointer<Float>, count: Int, labels: UnsafeMutablePointer<UInt8>? = nil) {
        for r in 0..<count {
            let label = fill(row: rows + r * DemoData.featureCount)
            labels?[r] = label
        }
    }

    /// One sample as arrays (allocates; for tests and tools).
    public mutating func next() -> (features: [Float], label: UInt8) {
        var label: UInt8 = 0
        let features = [Float](unsafeUninitializedCapacity: DemoData.featureCount) { buffer, count in
            label = fill(row: buffer.baseAddress!)
            count = DemoData.featureCount
        }
        return (features, label)
    }

    /// `count` samples: features row-major (count × 32) and their labels.
    public static func samples(seed: UInt64, count: Int) -> (features: [Float], labels: [UInt8]) {
        var data = DemoData(seed: seed)
        var labels = [UInt8](repeating: 0, count: count)
        var features = [Float](repeating: 0, count: count * featureCount)
        features.withUnsafeMutableBufferPointer { rows in
            labels.withUnsafeMutableBufferPointer { data.fill(rows: rows.baseAddress!, count: count, labels: $0.baseAddress!) }
        }
        return (features, labels)
    }

    /// Marsaglia's polar method in Float: one log and one square root per pair, no trig, and
    /// both uniforms come from one 64-bit draw. ~5x cheaper than Box–Muller in Double, which
    /// matters because load generators call `fill` per request.
    @inline(__always)
    private mutating func nextGaussian() -> Float {
        if hasSpare {
            hasSpare = false
            return spare
        }
        while true {
            let bits = rng.next()
            let u = Float(UInt32(truncatingIfNeeded: bits) >> 8) * 0x1.0p-23 - 1
            let v = Float(UInt32(truncatingIfNeeded: bits >> 32) >> 8) * 0x1.0p-23 - 1
            let s = u * u + v * v
            if s >= 1 || s == 0 { continue }
            let factor = (-2 * logf(s) / s).squareRoot()
            spare = v * factor
            hasSpare = true
            return u * factor
        }
    }
}
