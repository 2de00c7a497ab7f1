import Glibc
import Synchronization

/// The node's structured log: one line per event on stderr, `text` (`key=value`, values with
/// spaces or quotes quoted) or `json` (one object per line). Events: startup, control operations
/// (actor, result, µs), loads, refusals, protocol errors (rate-limited), drains, state recovery,
/// fatal errors. Never on the prediction path: nothing here is called per successful request.
///
/// One `write(2)` per line, so lines from different threads never interleave.
public enum NodeLog {
    public enum Format: Int, Sendable {
        case text = 0
        case json = 1
        case off = 2
    }

    /// Off until the executable configures it: a node embedded in tests or tools stays quiet.
    private static let format = Atomic<Int>(Format.off.rawValue)

    public static func configure(format value: Format) { format.store(value.rawValue, ordering: .relaxed) }

    /// One event. `fields` keep their order; the timestamp and event name come first.
    public static func event(_ name: String, level: String = "info", _ fields: [(String, String)] = []) {
        let chosen = Format(rawValue: format.load(ordering: .relaxed)) ?? .text
        guard chosen != .off else { return }
        let line = render(name, level: level, fields, format: chosen,
                          timestamp: AdminTime.iso8601Micros(Clock.wallMicros()))
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress!, $0.count) }
    }

    /// A plain line on stderr whatever the format (fatal errors, for people reading a terminal).
    public static func plain(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress!, $0.count) }
    }

    static func render(_ name: String, level: String, _ fields: [(String, String)], format: Format, timestamp: String) -> String {
        let all = [("ts", timestamp), ("level", level), ("event", name)] + fields
        switch format {
        case .json:
            return AdminJSON.object(all.map { ($0.0, .string($0.1)) })
        case .text, .off:
            return all.map { "\($0.0)=\(textValue($0.1))" }.joined(separator: " ")
        }
    }

    /// Bare when it is plain; otherwise JSON-quoted, so a line always splits back into its fields.
    static func textValue(_ value: String) -> String {
        let plain = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") }
        return plain ? value : AdminJSON.quoted(value)
    }

    /// Up to `limit` bytes as hex: a sample of a peer's bytes that cannot break the log line.
    public static func sample(_ bytes: UnsafeRawBufferPointer, limit: Int = 16) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes.prefix(limit) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self) + (bytes.count > limit ? "…" : "")
    }

    /// The peer of a connected socket as `host:port`, for log lines (not on the prediction path).
    public static func peer(_ fd: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard ok == 0 else { return "?" }
        return withUnsafePointer(to: &storage) { pointer -> String in
            var text = [CChar](repeating: 0, count: 64)
            if Int32(pointer.pointee.ss_family) == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var ip = address.pointee.sin6_addr
                    inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count))
                    return "[\(Self.text(text))]:\(UInt16(bigEndian: address.pointee.sin6_port))"
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                var ip = address.pointee.sin_addr
                inet_ntop(AF_INET, &ip, &text, socklen_t(text.count))
                return "\(Self.text(text)):\(UInt16(bigEndian: address.pointee.sin_port))"
            }
        }
    }

    /// A NUL-terminated C buffer as text (what inet_ntop wrote).
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Protocol-error lines from one event loop: at most `burst` per second, then one line saying
/// how many were left out. Event-loop thread only.
struct LogRateLimit {
    let burst: Int
    private var windowStart: UInt64 = 0
    private var used = 0
    private var suppressed = 0

    init(burst: Int = 10) { self.burst = burst }

    /// Whether to log this one; reports (once) how many the previous window suppressed.
    mutating func admit(now: UInt64) -> Bool {
        if now &- windowStart >= 1_000_000_000 {
            if suppressed > 0 {
                NodeLog.event("protocol_errors_suppressed", level: "warn", [("count", String(suppressed))])
            }
            windowStart = now
            used = 0
            suppressed = 0
        }
        guard used < burst else {
            suppressed += 1
            return false
        }
        used += 1
        return true
    }
}
