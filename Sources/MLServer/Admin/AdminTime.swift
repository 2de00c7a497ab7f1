/// Wall-clock formatting for the admin routes, from Unix microseconds, in UTC. Pure integer
/// arithmetic (Howard Hinnant's days-to-civil), so no locale, time zone or Foundation formatter
/// can change the output.
enum AdminTime {
    /// ISO-8601 / RFC 3339 in UTC with second precision, as in the runbook: `2026-02-28T12:00:00Z`.
    static func iso8601(micros: Int64) -> String {
        let (year, month, day, seconds) = civil(micros: micros)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))Z"
    }

    /// ISO-8601 in UTC with microseconds, for log lines: `2026-02-28T12:00:00.123456Z`.
    static func iso8601Micros(_ micros: Int64) -> String {
        let fraction = Int(((micros % 1_000_000) + 1_000_000) % 1_000_000)
        return String(iso8601(micros: micros).dropLast()) + "." + pad(fraction, 6) + "Z"
    }

    /// The HTTP `Date` header's IMF-fixdate (RFC 9110 §5.6.7): `Sat, 28 Feb 2026 12:00:00 GMT`.
    static func httpDate(micros: Int64) -> String {
        let (year, month, day, seconds) = civil(micros: micros)
        let days = floorDiv(floorDiv(micros, 1_000_000), 86_400)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        return "\(weekday), \(pad(day, 2)) \(months[month - 1]) \(pad(year, 4)) \(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)) GMT"
    }

    /// (year, month 1...12, day 1...31, second of day).
    private static func civil(micros: Int64) -> (Int, Int, Int, Int) {
        let totalSeconds = floorDiv(micros, 1_000_000)
        let days = floorDiv(totalSeconds, 86_400)
        let secondOfDay = Int(totalSeconds - days * 86_400)
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day, secondOfDay)
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
