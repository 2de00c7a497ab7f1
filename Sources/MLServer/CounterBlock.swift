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
struct CounterCells: SingleWriterCellLayout, @unchecked Sendable {
    static let requests = 0
    /// Requests the model failed (a non-finite score, INTERNAL): the only errors a rollback reads.
    static let modelErrors = 1
    static let positives = 2
    static let truePositives = 3
    static let falsePositives = 4
    static let trueNegatives = 5
    static let falseNegatives = 6
    static let latencySum = 7
    static let latencyCount = 8
    /// Labels joined to a prediction of this version, and the ones that could not be used.
    static let labels = 9
    static let labelsUnmatched = 10
    static let labelsExpired = 11
    static let labelsDuplicate = 12
    /// Requests the client got wrong, one cell per status number (0...16): their sum is
    /// `client_errors`; the split feeds `/metrics`.
    static let clientErrorBase = 13
    static let statusCells = 17
    static let latencyBase = clientErrorBase + statusCells
    static let scoreBase = latencyBase + LatencyBuckets.count
    /// Label delay (prediction to label) in milliseconds, in the latency bucket layout.
    static let labelDelayBase = scoreBase + ScoreBins.count
    static let size = labelDelayBase + LatencyBuckets.count

    let cells = SingleWriterCells(count: CounterCells.size)

    init() {}

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

    /// A refused request of the client's making, counted under its status.
    @inline(__always)
    func recordClientError(_ status: Status) {
        add(CounterCells.clientErrorBase + min(Int(status.rawValue), CounterCells.statusCells - 1))
    }

    /// A label joined to one of this version's predictions, `delayMillis` after it was made.
    @inline(__always)
    func recordLabel(predicted: UInt8, actual: UInt8, delayMillis: UInt64) {
        add(CounterCells.labels)
        recordFeedback(predicted: predicted, actual: actual)
        add(CounterCells.labelDelayBase + LatencyBuckets.index(nanos: delayMillis))
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
    func accumulate(into total: inout VersionMetrics, latency: inout [UInt64], scores: inout [UInt64],
                    delays: inout [UInt64], byStatus: inout [UInt64]) {
        total.requests &+= value(CounterCells.requests)
        total.modelErrors &+= value(CounterCells.modelErrors)
        for i in 0..<CounterCells.statusCells {
            let count = value(CounterCells.clientErrorBase + i)
            total.clientErrors &+= count
            byStatus[i] &+= count
        }
        total.labels &+= value(CounterCells.labels)
        total.labelsUnmatched &+= value(CounterCells.labelsUnmatched)
        total.labelsExpired &+= value(CounterCells.labelsExpired)
        total.labelsDuplicate &+= value(CounterCells.labelsDuplicate)
        for i in 0..<LatencyBuckets.count { delays[i] &+= value(CounterCells.labelDelayBase + i) }
        total.positives &+= value(CounterCells.positives)
        total.truePositives &+= value(CounterCells.truePositives)
        total.falsePositives &+= value(CounterCells.falsePositives)
        total.trueNegatives &+= value(CounterCells.trueNegatives)
        total.falseNegatives &+= value(CounterCells.falseNegatives)
        total.latencySumNanos &+= value(CounterCells.latencySum)
        total.latencyCount &+= value(CounterCells.latencyCount)
        for i in 0..<LatencyBuckets.count { latency[i] &+= value(CounterCells.latencyBase + i) }
        for i in 0..<ScoreBins.count { scores[i] &+= value(CounterCells.scoreBase + i) }
        total.errors = total.modelErrors &+ total.clientErrors
    }
}
