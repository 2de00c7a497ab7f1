/// Log-linear latency buckets over nanoseconds (PROTOCOL.md §12.1): 16 linear sub-buckets per
/// power of two, so every bucket is at most 6.25% wide. Values 0...15 have a bucket each; values at
/// or above 2^40 ns (~18 min) land in the last bucket. Pure integer arithmetic: ~1 ns per record.
public enum LatencyBuckets {
    public static let subBucketBits = 4
    public static let maxExponent = 39
    public static let count = (maxExponent - 3) * 16 + 16  // 592

    @inline(__always)
    public static func index(nanos: UInt64) -> Int {
        if nanos < 16 { return Int(nanos) }
        let clamped = min(nanos, (UInt64(1) << (maxExponent + 1)) - 1)
        let exponent = 63 - clamped.leadingZeroBitCount
        let sub = Int((clamped >> UInt64(exponent - subBucketBits)) & 15)
        return (exponent - 3) * 16 + sub
    }

    /// Smallest value in bucket `index`.
    public static func lowerBound(_ index: Int) -> UInt64 {
        if index < 16 { return UInt64(index) }
        let exponent = index / 16 + 3
        let sub = UInt64(index % 16)
        return (16 + sub) << UInt64(exponent - subBucketBits)
    }

    /// One past the largest value in bucket `index`.
    public static func upperBound(_ index: Int) -> UInt64 {
        if index < 16 { return UInt64(index + 1) }
        let exponent = index / 16 + 3
        return lowerBound(index) + (UInt64(1) << UInt64(exponent - subBucketBits))
    }
}

/// Score histogram layout: 20 equal bins over [0, 1]; scores are clamped into it.
public enum ScoreBins {
    public static let count = 20

    @inline(__always)
    public static func index(score: Float) -> Int {
        // Clamp before converting: Int(_:) traps on NaN, infinities and values beyond Int.
        guard score > 0 else { return 0 }  // also NaN
        guard score < 1 else { return count - 1 }
        return min(Int(score * Float(count)), count - 1)
    }
}
