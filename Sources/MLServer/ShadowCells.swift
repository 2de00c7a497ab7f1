import MLWire
import Synchronization

/// Shadow counters of one (active, standby) pair on one event loop. Same discipline as
/// `CounterCells`: one writer (the loop's thread) doing relaxed load + store, Metrics readers
/// loading relaxed from other threads; a struct of one pointer, so the hot path copies it freely.
struct ShadowCells: SingleWriterCellLayout, @unchecked Sendable {
    static let rows = 0
    static let agreements = 1
    static let standbyErrors = 2
    /// Active tp, fp, tn, fn at +0...3; standby's at +4...7.
    static let confusionBase = 3
    static let latencySum = 11
    static let latencyBase = 12
    static let differenceBase = latencyBase + LatencyBuckets.count
    static let standbyScoreBase = differenceBase + ScoreDifferenceBins.count
    static let activeScoreBase = standbyScoreBase + ScoreBins.count
    static let size = activeScoreBase + ScoreBins.count

    let cells = SingleWriterCells(count: ShadowCells.size)

    init() {}

    /// One shadowed row both models scored.
    @inline(__always)
    func recordRow(active: Float, activeLabel: UInt8, standby: Float, standbyLabel: UInt8) {
        add(ShadowCells.rows)
        if activeLabel == standbyLabel { add(ShadowCells.agreements) }
        add(ShadowCells.differenceBase + ScoreDifferenceBins.index(difference: abs(active - standby)))
        add(ShadowCells.standbyScoreBase + ScoreBins.index(score: standby))
        add(ShadowCells.activeScoreBase + ScoreBins.index(score: active))
    }

    /// A shadowed row the standby failed on (non-finite score): counted, nothing else.
    @inline(__always)
    func recordStandbyError() {
        add(ShadowCells.rows)
        add(ShadowCells.standbyErrors)
    }

    @inline(__always)
    func recordLatency(nanos: UInt64) {
        add(ShadowCells.latencySum, nanos)
        add(ShadowCells.latencyBase + LatencyBuckets.index(nanos: nanos))
    }

    /// A label for a shadowed row: both models' confusion on the same row.
    @inline(__always)
    func recordLabel(activeLabel: UInt8, standbyLabel: UInt8, actual: UInt8) {
        add(ShadowCells.confusionBase + ShadowCells.confusionOffset(predicted: activeLabel, actual: actual))
        add(ShadowCells.confusionBase + 4 + ShadowCells.confusionOffset(predicted: standbyLabel, actual: actual))
    }

    @inline(__always)
    static func confusionOffset(predicted: UInt8, actual: UInt8) -> Int {
        switch (predicted != 0, actual != 0) {
        case (true, true): 0
        case (true, false): 1
        case (false, false): 2
        case (false, true): 3
        }
    }

    func accumulate(into total: inout ShadowPairMetrics, latency: inout [UInt64]) {
        total.rows &+= value(ShadowCells.rows)
        total.agreements &+= value(ShadowCells.agreements)
        total.standbyErrors &+= value(ShadowCells.standbyErrors)
        func confusion(_ base: Int) -> ConfusionCounts {
            ConfusionCounts(truePositives: value(base), falsePositives: value(base + 1),
                            trueNegatives: value(base + 2), falseNegatives: value(base + 3))
        }
        let a = confusion(ShadowCells.confusionBase)
        let s = confusion(ShadowCells.confusionBase + 4)
        total.activeConfusion = ConfusionCounts(truePositives: total.activeConfusion.truePositives &+ a.truePositives,
                                                falsePositives: total.activeConfusion.falsePositives &+ a.falsePositives,
                                                trueNegatives: total.activeConfusion.trueNegatives &+ a.trueNegatives,
                                                falseNegatives: total.activeConfusion.falseNegatives &+ a.falseNegatives)
        total.standbyConfusion = ConfusionCounts(truePositives: total.standbyConfusion.truePositives &+ s.truePositives,
                                                 falsePositives: total.standbyConfusion.falsePositives &+ s.falsePositives,
                                                 trueNegatives: total.standbyConfusion.trueNegatives &+ s.trueNegatives,
                                                 falseNegatives: total.standbyConfusion.falseNegatives &+ s.falseNegatives)
        total.standbyLatencySumNanos &+= value(ShadowCells.latencySum)
        for i in 0..<LatencyBuckets.count { latency[i] &+= value(ShadowCells.latencyBase + i) }
        for i in 0..<ScoreDifferenceBins.count { total.differenceBins[i] &+= value(ShadowCells.differenceBase + i) }
        for i in 0..<ScoreBins.count {
            total.standbyScoreBins[i] &+= value(ShadowCells.standbyScoreBase + i)
            total.activeScoreBins[i] &+= value(ShadowCells.activeScoreBase + i)
        }
    }
}

/// Owns one loop's `ShadowCells` for one pair.
final class ShadowBlock: @unchecked Sendable {
    let cells = ShadowCells()
    deinit { cells.free() }
}
