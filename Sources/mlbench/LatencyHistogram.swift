import MLWire

/// A latency histogram over MLWire's log-linear `LatencyBuckets` (every bucket ≤ 6.25% wide),
/// plus the exact maximum. Allocated once; `record` is a few integer operations and never
/// allocates. A value type holding one pointer: copies share storage, `deallocate` once.
struct LatencyHistogram {
    private static let totalSlot = LatencyBuckets.count
    private static let maxSlot = LatencyBuckets.count + 1
    private let slots: UnsafeMutablePointer<UInt64>

    init() {
        slots = .allocate(capacity: LatencyBuckets.count + 2)
        slots.initialize(repeating: 0, count: LatencyBuckets.count + 2)
    }

    func deallocate() { slots.deallocate() }

    @inline(__always)
    func record(nanos: UInt64) {
        slots[LatencyBuckets.index(nanos: nanos)] &+= 1
        slots[Self.totalSlot] &+= 1
        if nanos > slots[Self.maxSlot] { slots[Self.maxSlot] = nanos }
    }

    var count: UInt64 { slots[Self.totalSlot] }
    var maxNanos: UInt64 { slots[Self.maxSlot] }

    func add(_ other: LatencyHistogram) {
        for i in 0..<(LatencyBuckets.count + 1) { slots[i] &+= other.slots[i] }
        slots[Self.maxSlot] = max(slots[Self.maxSlot], other.slots[Self.maxSlot])
    }

    /// The value below which `quantile` of the recorded values fall, interpolated linearly inside
    /// its bucket and never above the exact maximum. 0 when empty.
    func percentile(_ quantile: Double) -> UInt64 {
        let total = count
        guard total > 0 else { return 0 }
        let rank = max(1, min(Double(total), (quantile * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for i in 0..<LatencyBuckets.count {
            let inBucket = slots[i]
            guard inBucket > 0 else { continue }
            if Double(seen + inBucket) >= rank {
                let lower = Double(LatencyBuckets.lowerBound(i))
                let upper = Double(LatencyBuckets.upperBound(i))
                let fraction = (rank - Double(seen)) / Double(inBucket)
                return min(UInt64(lower + (upper - lower) * fraction), maxNanos)
            }
            seen += inBucket
        }
        return maxNanos
    }

    /// The usual summary, in milliseconds.
    func summary() -> LatencySummary {
        LatencySummary(count: Int(count),
                       p50: millis(percentile(0.50)), p90: millis(percentile(0.90)), p99: millis(percentile(0.99)),
                       p999: millis(percentile(0.999)), max: millis(maxNanos))
    }
}

@inline(__always)
func millis(_ nanos: UInt64) -> Double { Double(nanos) / 1_000_000 }

/// Percentiles in milliseconds, as printed and as written to JSON.
struct LatencySummary: Codable {
    var count: Int
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
}
