/// Which rows the standby shadows (PROTOCOL.md §11.14.1). Deterministic, so a client can tell
/// which of its prediction ids were shadowed, and two nodes given the same ids shadow the same
/// rows: a row with a prediction id is sampled when `mix(id) < threshold`, where `mix` is
/// SplitMix64's finaliser and `threshold = rate × 2^64`; a row without an id is sampled by request
/// order (an accumulator that adds `threshold` per row and samples on carry: exactly `rate` of
/// them, evenly spread). Integer arithmetic only: a few ns per row.
public struct ShadowSampler: Sendable {
    /// rate × 2^64, rounded down; `all` covers rate 1, which does not fit.
    public let threshold: UInt64
    public let all: Bool
    private var accumulator: UInt64 = 0

    public static let off = ShadowSampler(rate: 0)

    /// `rate` must be in [0, 1] (the node refuses anything else before it gets here).
    public init(rate: Float) {
        if !(rate > 0) {
            threshold = 0
            all = false
        } else if rate >= 1 {
            threshold = .max
            all = true
        } else {
            // Double has 53 bits of mantissa: exact enough for a sampling fraction.
            threshold = UInt64(Double(rate) * 18446744073709551616.0)
            all = false
        }
    }

    public var isOff: Bool { threshold == 0 && !all }

    /// SplitMix64's output function: spreads consecutive ids uniformly over 64 bits.
    @inline(__always)
    public static func mix(_ id: UInt64) -> UInt64 {
        var z = id &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Whether the row with prediction id `id` is shadowed.
    @inline(__always)
    public func samples(id: UInt64) -> Bool {
        all || ShadowSampler.mix(id) < threshold
    }

    /// Whether the next row without an id is shadowed.
    @inline(__always)
    public mutating func samplesNext() -> Bool {
        if all { return true }
        let (sum, carry) = accumulator.addingReportingOverflow(threshold)
        accumulator = sum
        return carry
    }
}
