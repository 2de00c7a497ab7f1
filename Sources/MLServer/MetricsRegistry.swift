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
            return block(at: index, loop: loop)
        }
    }

    /// A version's registry number: what the prediction window stores instead of its name.
    /// Numbers are never reused (entries are only appended).
    func number(of version: String) -> Int? {
        lock.withLock { entries.firstIndex(where: { $0.version == version }) }
    }

    /// The counters of version number `number` owned by loop `loop`.
    func block(number: Int, loop: Int) -> CounterBlock? {
        lock.withLock { number >= 0 && number < entries.count ? block(at: number, loop: loop) : nil }
    }

    private func block(at index: Int, loop: Int) -> CounterBlock {  // lock held
        if let block = entries[index].blocks[loop] { return block }
        let block = CounterBlock()
        entries[index].blocks[loop] = block
        return block
    }

    /// Client errors per version and status (for `/metrics`), zero counts left out.
    func clientErrorsByStatus() -> [(version: String, status: Status, count: UInt64)] {
        lock.withLock {
            var out: [(version: String, status: Status, count: UInt64)] = []
            for entry in entries {
                for raw in 0..<CounterCells.statusCells {
                    let count = entry.blocks.values.reduce(UInt64(0)) { $0 &+ $1.cells.value(CounterCells.clientErrorBase + raw) }
                    if count > 0, let status = Status(rawValue: UInt8(raw)) { out.append((entry.version, status, count)) }
                }
            }
            return out
        }
    }

    /// Sums every loop's counters per version.
    func snapshot() -> [VersionMetrics] {
        lock.withLock {
            entries.map { entry in
                var total = VersionMetrics(version: entry.version, referenceBins: entry.referenceBins)
                var latency = [UInt64](repeating: 0, count: LatencyBuckets.count)
                var scores = [UInt64](repeating: 0, count: ScoreBins.count)
                var delays = [UInt64](repeating: 0, count: LatencyBuckets.count)
                var byStatus = [UInt64](repeating: 0, count: CounterCells.statusCells)
                for block in entry.blocks.values {
                    block.cells.accumulate(into: &total, latency: &latency, scores: &scores, delays: &delays, byStatus: &byStatus)
                }
                total.latencyBuckets = Self.sparse(latency)
                total.labelDelayBuckets = Self.sparse(delays)
                total.scoreBins = scores
                return total
            }
        }
    }

    private static func sparse(_ counts: [UInt64]) -> [BucketCount] {
        counts.indices.compactMap { i in counts[i] == 0 ? nil : BucketCount(index: UInt16(i), count: counts[i]) }
    }
}
