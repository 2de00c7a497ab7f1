/// Plain-text tables for terminals: a header, a rule, left-aligned columns sized to content.
/// Cells are cut at `maxWidth` with "…" so a long root cause cannot wrap a whole table.
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]]
    public var maxWidth: Int

    public init(headers: [String], rows: [[String]] = [], maxWidth: Int = 60) {
        self.headers = headers
        self.rows = rows
        self.maxWidth = maxWidth
    }

    public var rendered: String {
        let cut = rows.map { $0.map { $0.count > maxWidth ? String($0.prefix(maxWidth - 1)) + "…" : $0 } }
        var widths = headers.map(\.count)
        for row in cut {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[i] - cell.count))
            }.joined(separator: "  ")
        }
        var out = [line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += cut.map(line)
        return out.joined(separator: "\n")
    }
}
