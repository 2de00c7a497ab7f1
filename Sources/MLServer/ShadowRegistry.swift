import MLModel
import MLWire

/// Every (active, standby) pair the node has shadowed, with one `ShadowBlock` per event loop.
/// Loops look blocks up only when the shadow setting changes; never per request.
final class ShadowRegistry: @unchecked Sendable {
    private struct Entry {
        let active: String
        let standby: String
        var blocks: [Int: ShadowBlock]
    }

    private let lock = Lock()
    private var entries: [Entry] = []  // protected by lock

    init() {}

    /// The pair's number (its index, stable for the node's life), registering it if new.
    func number(active: String, standby: String) -> Int {
        lock.withLock {
            if let found = entries.firstIndex(where: { $0.active == active && $0.standby == standby }) { return found }
            entries.append(Entry(active: active, standby: standby, blocks: [:]))
            return entries.count - 1
        }
    }

    /// Loop `loop`'s counters for pair number `number`; nil for a number never given out.
    func block(number: Int, loop: Int) -> ShadowBlock? {
        lock.withLock {
            guard number >= 0, number < entries.count else { return nil }
            if let block = entries[number].blocks[loop] { return block }
            let block = ShadowBlock()
            entries[number].blocks[loop] = block
            return block
        }
    }

    /// Loop `loop`'s counters for the pair, created on first use.
    func block(active: String, standby: String, loop: Int) -> ShadowBlock {
        lock.withLock {
            let index: Int
            if let found = entries.firstIndex(where: { $0.active == active && $0.standby == standby }) {
                index = found
            } else {
                entries.append(Entry(active: active, standby: standby, blocks: [:]))
                index = entries.count - 1
            }
            if let block = entries[index].blocks[loop] { return block }
            let block = ShadowBlock()
            entries[index].blocks[loop] = block
            return block
        }
    }

    /// Sums every loop's counters per pair.
    func snapshot() -> [ShadowPairMetrics] {
        lock.withLock {
            entries.map { entry in
                var total = ShadowPairMetrics(activeVersion: entry.active, standbyVersion: entry.standby)
                total.differenceBins = [UInt64](repeating: 0, count: ScoreDifferenceBins.count)
                total.standbyScoreBins = [UInt64](repeating: 0, count: ScoreBins.count)
                total.activeScoreBins = [UInt64](repeating: 0, count: ScoreBins.count)
                var latency = [UInt64](repeating: 0, count: LatencyBuckets.count)
                for block in entry.blocks.values { block.cells.accumulate(into: &total, latency: &latency) }
                total.standbyLatencyBuckets = latency.indices.compactMap { i in
                    latency[i] == 0 ? nil : BucketCount(index: UInt16(i), count: latency[i])
                }
                return total
            }
        }
    }
}
