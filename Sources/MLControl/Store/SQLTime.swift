import Foundation
import Glibc

/// Timestamps as stored in the tables: UTC 'YYYY-MM-DD HH:MM:SS', the format SQLite's own
/// `datetime()` produces, so the runbook's `timestamp >= datetime('now','-1 hour')` compares
/// text with text correctly. Whole seconds: finer than the poll interval is noise here.
/// Implemented on `gmtime_r`/`timegm` rather than DateFormatter, which is costly to build and
/// locale-sensitive.
public enum SQLTime {
    public static func string(_ date: Date) -> String {
        string(epochSeconds: Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    public static func string(epochSeconds: Int64) -> String {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + " " + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
    }

    /// Parses 'YYYY-MM-DD HH:MM:SS' (also accepting the ISO 'T' separator and a trailing 'Z').
    public static func date(_ text: String) -> Date? {
        var text = Substring(text)
        if text.hasSuffix("Z") { text = text.dropLast() }
        let fields = text.split(whereSeparator: { "-: T".contains($0) }).map { Int($0) }
        guard fields.count == 6, let year = fields[0], let month = fields[1], let day = fields[2],
              let hour = fields[3], let minute = fields[4], let second = fields[5],
              (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
              (0...59).contains(minute), (0...60).contains(second) else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// ISO-8601 with 'T' and 'Z', as in the runbook's rollback response and our notifications.
    public static func iso8601(_ date: Date) -> String {
        string(date).replacingOccurrences(of: " ", with: "T") + "Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
