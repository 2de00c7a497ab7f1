import MLWire
import Synchronization

/// Owns the counters of one model version on one event loop (see `CounterCells`).
final class CounterBlock: @unchecked Sendable {
    let cells: CounterCells

    init() { cells = CounterCells() }

    deinit { cells.free() }
}

/// Cumulative counters for one model version on one event loop. Exactly one writer (the loop's
/// thread) does relaxed load + store per bump — plain moves on x86, no locked instruction and no
/// cache line shared with another loop — and Metrics readers on other threads load them relaxed.
/// That keeps the prediction path free of locks and shared atomics, and TSan-clean. A struct of
/// one pointer, so the hot path copies it without touching a reference count.
struct CounterCells: @unchecked Sendable {
    static let requests = 0
    static let errors = 1
    static let positives = 2
    static let truePositives = 3
    static let falsePositives = 4
    static let trueNegatives = 5
    static let falseNegatives = 6
    static let latencySum = 7
    static let latencyCount = 8
    static let latencyBase = 9
    static let scoreBase = latencyBase + LatencyBuckets.count
    static let size = scoreBase + ScoreBins.count

    private let cells: UnsafeMutablePointer<Atomic<UInt64>>

    init() {
        cells = .allocate(capacity: CounterCells.size)
        for i in 0..<CounterCells.size { (cells + i).initialize(to: Atomic(0)) }
    }

    func free() {
        cells.deinitialize(count: CounterCells.size)
        cells.deallocate()
    }

    /// Single-writer increment: only the owning loop calls this.
    @inline(__always)
    func add(_ index: Int, _ amount: UInt64 = 1) {
        let cell = cells + index
        cell.pointee.store(cell.pointee.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    @inline(__always)
    func value(_ index: Int) -> UInt64 { (cells + index).pointee.load(ordering: .relaxed) }

    /// One request's worth of accounting for a predicted row.
    @inline(__always)
    func recordPrediction(score: Float, label: UInt8) {
        add(CounterCells.requests)
        if label != 0 { add(CounterCells.positives) }
        add(CounterCells.scoreBase + ScoreBins.index(score: score))
    }

    @inline(__always)
    func recordLatency(nanos: UInt64) {
        add(CounterCells.latencySum, nanos)
        add(CounterCells.latencyCount)
        add(CounterCells.latencyBase + LatencyBuckets.index(nanos: nanos))
    }

    @inline(__always)
    func recordFeedback(predicted: UInt8, actual: UInt8) {
        switch (predicted, actual) {
        case (1, 1): add(CounterCells.truePositives)
        case (1, _): add(CounterCells.falsePositives)
        case (_, 1): add(CounterCells.falseNegatives)
        default: add(CounterCells.trueNegatives)
        }
    }

    /// Adds this block's counters into `total`.
    func accumulate(into total: inout VersionMetrics, latency: inout [UInt64], scores: inout [UInt64]) {
        total.requests &+= value(CounterCells.requests)
        total.errors &+= value(CounterCells.errors)
        total.positives &+= value(CounterCells.positives)
        total.truePositives &+= value(CounterCells.truePositives)
        total.falsePositives &+= value(CounterCells.falsePositives)
        total.trueNegatives &+= value(CounterCells.trueNegatives)
        total.falseNegatives &+= value(CounterCells.falseNegatives)
        total.latencySumNanos &+= value(CounterCells.latencySum)
        total.latencyCount &+= value(CounterCells.latencyCount)
        for i in 0..<LatencyBuckets.count { latency[i] &+= value(CounterCells.latencyBase + i) }
        for i in 0..<ScoreBins.count { scores[i] &+= value(CounterCells.scoreBase + i) }
    }
}
