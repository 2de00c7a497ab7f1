import MLModel

/// Rows read from `--reference-data CSV`: training or held-out inputs, optionally with the
/// reference library's own score as one extra last column. An optional header line (any cell
/// that is not a number) is skipped. Empty, `nan`, `NaN` and `NA` cells are missing values.
public struct ReferenceData: Sendable {
    public static let maxRows = 1_000_000

    public let featureCount: Int
    /// rows × featureCount, row-major.
    public let features: [Float]
    /// The library's scores, one per row, when the CSV has the extra column.
    public let expected: [Float]?
    public var rowCount: Int { features.count / featureCount }

    public static func parse(_ bytes: [UInt8], featureCount: Int, source: String) throws(ImportError) -> ReferenceData {
        var features: [Float] = []
        var expected: [Float] = []
        var width: Int? = nil
        var lineNumber = 0
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            let cells = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: " ") }
            let values = cells.map(parseCell)
            if lineNumber == 1 && values.contains(where: { $0 == nil }) { continue }  // header
            guard cells.count == featureCount || cells.count == featureCount + 1 else {
                throw ImportError("\(source): line \(lineNumber) has \(cells.count) columns; the model takes \(featureCount) features (plus optionally one column of the library's scores)")
            }
            if let width, width != cells.count { throw ImportError("\(source): line \(lineNumber) has \(cells.count) columns, earlier lines \(width)") }
            width = cells.count
            for (column, value) in values.enumerated() {
                guard let value else { throw ImportError("\(source): line \(lineNumber) column \(column + 1): \"\(cells[column])\" is not a number") }
                guard !value.isInfinite else { throw ImportError("\(source): line \(lineNumber) column \(column + 1) is infinite; infinities are never valid features") }
                if column == featureCount {
                    guard value >= 0 && value <= 1 else { throw ImportError("\(source): line \(lineNumber): the library's score \(value) is outside [0, 1]") }
                    expected.append(value)
                } else {
                    features.append(value)
                }
            }
            guard features.count / featureCount <= maxRows else { throw ImportError("\(source): more than \(maxRows) rows") }
        }
        guard !features.isEmpty else { throw ImportError("\(source): no data rows") }
        return ReferenceData(featureCount: featureCount, features: features, expected: width == featureCount + 1 ? expected : nil)
    }

    /// A float32 value; NaN for a missing cell; nil when not a number at all.
    private static func parseCell(_ cell: String) -> Float? {
        if cell.isEmpty || cell == "nan" || cell == "NaN" || cell == "NA" { return .nan }
        return Float(cell)
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
