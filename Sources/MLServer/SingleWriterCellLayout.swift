/// An index layout over `SingleWriterCells` (`CounterCells`, `ShadowCells`): the layout names the
/// cells, this extension gives every layout the same access. Plain extension methods, not
/// requirements, so a call on the concrete layout is direct and inlines into the hot path.
protocol SingleWriterCellLayout {
    static var size: Int { get }
    var cells: SingleWriterCells { get }
}

extension SingleWriterCellLayout {
    /// Called once, by the owner, when no reader can reach the cells any more.
    func free() { cells.free() }

    /// Single-writer increment: only the owning loop calls this.
    @inline(__always)
    func add(_ index: Int, _ amount: UInt64 = 1) { cells.add(index, amount) }

    @inline(__always)
    func value(_ index: Int) -> UInt64 { cells.value(index) }
}
