import Synchronization

/// A fixed array of u64 counters with one writer (the event loop that owns it) and any number of
/// readers (Metrics, `/metrics`). The writer adds with a relaxed load + store, not a read-modify-
/// write: nobody else writes, so no increment is lost and none costs a locked instruction on the
/// prediction path. Readers may see a snapshot a few increments old, never a torn value.
/// `CounterCells` and `ShadowCells` name the indices; this is only the storage.
struct SingleWriterCells: @unchecked Sendable {
    private let cells: UnsafeMutablePointer<Atomic<UInt64>>
    private let count: Int

    init(count: Int) {
        self.count = count
        cells = .allocate(capacity: count)
        for i in 0..<count { (cells + i).initialize(to: Atomic(0)) }
    }

    /// Called once, by the owner, when no reader can reach the cells any more.
    func free() {
        cells.deinitialize(count: count)
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
}
