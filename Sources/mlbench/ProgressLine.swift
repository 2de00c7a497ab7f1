import Glibc

/// A one-line progress display on stderr while a run goes (only when stderr is a terminal):
/// phase, elapsed time and the current request rate, rewritten in place twice a second.
struct ProgressLine {
    let enabled: Bool
    let label: String

    /// Blocks the calling (main) thread until the load thread finishes, updating the line when enabled.
    func follow(driver: LoadDriver, start: UInt64, t0: UInt64, t1: UInt64) {
        var lastCount = 0
        var lastTime = start
        while !driver.finished.load(ordering: .acquiring) {
            usleep(enabled ? 500_000 : 50_000)
            guard enabled else { continue }
            let now = monotonicNanos()
            let count = driver.progress.load(ordering: .relaxed)
            let rate = Double(count - lastCount) / max(Double(now - lastTime) / 1e9, 1e-9)
            lastCount = count
            lastTime = now
            let phase = now < t0 ? "warm-up" : now < t1 ? "measuring" : "draining"
            let elapsed = Double(now - start) / 1e9
            let total = Double(t1 - start) / 1e9
            let text = "\r\(label)  \(phase)  \(String(format: "%.1f", elapsed))/\(String(format: "%.1f", total)) s  \(grouped(rate)) req/s   "
            writeStderr(text)
        }
    }

    func clear() {
        guard enabled else { return }
        writeStderr("\r\u{1B}[K")
    }
}
