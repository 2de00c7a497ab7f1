import MLWire

/// Prediction latency over time: one small histogram per fixed window (10 ms by default, wider
/// for long runs so there are at most `maxWindows`), allocated up front. For the SVG plot.
struct LatencyTimeline {
    static let maxWindows = 6_000
    let windowNanos: UInt64
    let windows: Int
    private let counts: UnsafeMutablePointer<UInt32>
    private let maxima: UnsafeMutablePointer<UInt64>

    init(durationNanos: UInt64, preferredWindowNanos: UInt64 = 10_000_000) {
        var window = preferredWindowNanos
        while durationNanos / window + 1 > UInt64(Self.maxWindows) { window *= 2 }
        windowNanos = window
        windows = Int(durationNanos / window) + 1
        counts = .allocate(capacity: windows * LatencyBuckets.count)
        counts.initialize(repeating: 0, count: windows * LatencyBuckets.count)
        maxima = .allocate(capacity: windows)
        maxima.initialize(repeating: 0, count: windows)
    }

    func deallocate() {
        counts.deallocate()
        maxima.deallocate()
    }

    /// `offset` is nanoseconds since the start of the measured period (the response's arrival).
    @inline(__always)
    func record(offset: UInt64, nanos: UInt64) {
        let window = Int(offset / windowNanos)
        guard window < windows else { return }
        counts[window * LatencyBuckets.count + LatencyBuckets.index(nanos: nanos)] &+= 1
        if nanos > maxima[window] { maxima[window] = nanos }
    }

    struct Point {
        var startSeconds: Double
        var count: Int
        var p99Millis: Double
        var maxMillis: Double
    }

    /// Per window: the p99 (upper edge of its bucket) and the exact maximum.
    func points() -> [Point] {
        var result: [Point] = []
        for w in 0..<windows {
            let base = counts + w * LatencyBuckets.count
            var total = 0
            for i in 0..<LatencyBuckets.count { total += Int(base[i]) }
            guard total > 0 else { continue }
            let rank = max(1, Int((Double(total) * 0.99).rounded(.up)))
            var seen = 0
            var p99: UInt64 = 0
            for i in 0..<LatencyBuckets.count where base[i] > 0 {
                seen += Int(base[i])
                if seen >= rank { p99 = min(LatencyBuckets.upperBound(i), maxima[w]); break }
            }
            result.append(Point(startSeconds: Double(UInt64(w) * windowNanos) / 1e9, count: total,
                                p99Millis: millis(p99), maxMillis: millis(maxima[w])))
        }
        return result
    }
}
