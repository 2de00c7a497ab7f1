import Glibc

/// CPU time (user + system) of this process and of the child node, in microseconds, so a report
/// can say who spent what per request. Read at the measurement boundaries only.
enum ProcessCPU {
    /// This process, every thread: getrusage(RUSAGE_SELF).
    static func selfMicros() -> Int64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return micros(usage.ru_utime) + micros(usage.ru_stime)
    }

    /// Another process: utime + stime from /proc/<pid>/stat (clock ticks, usually 10 ms). nil when
    /// unreadable (the process is gone).
    static func processMicros(pid: Int32) -> Int64? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        // The command name (field 2) may contain spaces; fields after its ')' are plain.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        let ticks = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) * 1_000_000 / max(ticks, 1)
    }

    private static func micros(_ value: timeval) -> Int64 {
        Int64(value.tv_sec) * 1_000_000 + Int64(value.tv_usec)
    }
}

/// Writes to standard error unbuffered (Swift 6 forbids touching the C `stderr` global).
func writeStderr(_ text: String) {
    var copy = text
    copy.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// Monotonic time in nanoseconds (vDSO clock_gettime, ~20 ns).
@inline(__always)
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// Sleeps until the monotonic clock reads `deadline` (absolute, so schedules do not drift).
func sleepUntil(_ deadline: UInt64) {
    var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
}
