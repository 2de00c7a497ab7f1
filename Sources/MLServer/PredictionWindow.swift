/// The node's memory of recent predictions that carried a prediction id, bounded in entries and
/// in age (`--prediction-window-entries`, `--prediction-window-seconds`): one `PredictionTable`
/// per event loop, each written only by its loop. A label is looked up in every table, since the
/// prediction may have come in on any connection.
///
/// The API other parts use is small on purpose:
/// - `table(loop:)` → the loop's own table, whose `remember(...)` the loop calls per row;
/// - `claim(id:nowNanos:)` → what a label's id finds (matched / expired / duplicate / unmatched),
///   marking a matched prediction labelled so a second label for it is a duplicate.
/// Memory: `PredictionTable.bytesPerEntry` (40) bytes per entry, allocated once at start.
public final class PredictionWindow: Sendable {
    public static let defaultEntries = 1 << 20
    public static let defaultSeconds = 3_600.0
    public static let bytesPerEntry = PredictionTable.bytesPerEntry

    /// By loop index; the control loop (last) gets a small share: controllers rarely predict.
    private let tables: [PredictionTable]
    let maxAgeNanos: UInt64
    let entries: Int

    /// `dataLoops` loops share `entries`; the control loop gets 1/64 of it on top (at least 64).
    init(entries: Int, seconds: Double, dataLoops: Int) {
        let loops = max(1, dataLoops)
        var tables: [PredictionTable] = []
        if entries > 0 {
            for _ in 0..<loops { tables.append(PredictionTable(entries: (entries + loops - 1) / loops)) }
            tables.append(PredictionTable(entries: max(64, entries / 64)))
        }
        self.tables = tables
        self.entries = tables.reduce(0) { $0 + $1.capacity }
        maxAgeNanos = UInt64(max(0, seconds) * 1e9)
    }

    /// nil when the window is off (0 entries): ids are then accepted and not remembered.
    func table(loop: Int) -> PredictionTable? {
        tables.isEmpty ? nil : tables[min(loop, tables.count - 1)]
    }

    func claim(id: UInt64, nowNanos: UInt64) -> LabelMatch {
        var found = LabelMatch.unmatched
        for table in tables {
            let match = table.claim(id: id, nowNanos: nowNanos, maxAgeNanos: maxAgeNanos)
            if case .matched = match { return match }
            if found == .unmatched { found = match }
        }
        return found
    }
}
