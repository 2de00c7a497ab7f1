import MLModel
import MLWire

/// Every version the node has held, with one `CounterBlock` per event loop. Loops look blocks up
/// here only when their slot snapshot changes or feedback names a version they have not seen;
/// the lock is never taken per request.
final class MetricsRegistry: @unchecked Sendable {
    private struct Entry {
        let version: String
        let referenceBins: [Float]
        /// By loop index; a loop gets its block the first time it needs one.
        var blocks: [Int: CounterBlock]
    }

    private let lock = Lock()
    private var entries: [Entry] = []  // protected by lock
    init() {}

    /// Makes `model`'s version known so that feedback and metrics can name it.
    func register(_ model: Model) {
        lock.withLock {
            guard !entries.contains(where: { $0.version == model.version }) else { return }
            entries.append(Entry(version: model.version, referenceBins: model.referenceBins, blocks: [:]))
        }
    }

    /// The counters of `version` owned by loop `loop`; nil for a version never loaded.
    func block(version: String, loop: Int) -> CounterBlock? {
        lock.withLock {
            guard let index = entries.firstIndex(where: { $0.version == version }) else { return nil }
            if let block = entries[index].blocks[loop] { return block }
            let block = CounterBlock()
            entries[index].blocks[loop] = block
            return block
        }
    }

    /// Sums every loop's counters per version.
    func snapshot() -> [VersionMetrics] {
        lock.withLock {
            entries.map { entry in
                var total = VersionMetrics(version: entry.version, referenceBins: entry.referenceBins)
                var latency = [UInt64](repeating: 0, count: LatencyBuckets.count)
                var scores = [UInt64](repeating: 0, count: ScoreBins.count)
                for block in entry.blocks.values {
                    block.cells.accumulate(into: &total, latency: &latency, scores: &scores)
                }
                total.latencyBuckets = latency.indices.compactMap { i in
                    latency[i] == 0 ? nil : BucketCount(index: UInt16(i), count: latency[i])
                }
                total.scoreBins = scores
                return total
            }
        }
    }
}
