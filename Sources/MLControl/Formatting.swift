import Foundation

/// Number and duration text for trigger sentences and summaries, in one place so every message
/// reads the same way.
enum Formatting {
    /// "42s", "4m12s", "1h05m00s"; negative or non-finite durations read "0s".
    static func duration(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite, seconds > 0 else { return "0s" }
        let total = Int(seconds.rounded(.down))
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        if h > 0 { return "\(h)h" + two(m) + "m" + two(s) + "s" }
        if m > 0 { return "\(m)m" + two(s) + "s" }
        return "\(s)s"
    }

    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    static func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }

    /// Limits as the operator wrote them: 0.05 stays "0.05", 2000 stays "2000".
    static func limit(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    private static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
