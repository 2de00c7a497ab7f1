import Synchronization

/// What the swap controller thread tells the load thread, through atomics only (the load thread
/// reads them once per read/write batch, never takes a lock).
final class SwapSignals: Sendable {
    /// The generation of the latest acknowledged swap (initially the generation from Info).
    /// Stored after the ack is received; the load thread reads it just before each write, so a
    /// request written afterwards must be served by at least this generation.
    let ackedGeneration: Atomic<UInt64>
    /// Monotonic time the latest swap was written (0 = none yet).
    let lastSentAt = Atomic<UInt64>(0)
    /// Planned send time of the next swap (UInt64.max = none planned). Moved on as soon as a
    /// swap is written, so a window's width never depends on how long that swap took.
    let nextPlannedAt = Atomic<UInt64>(.max)

    init(initialGeneration: UInt64) {
        ackedGeneration = Atomic(initialGeneration)
    }

    /// Whether a request sent at `sentAt` and answered at `receivedAt` overlaps the fixed window
    /// of ±`margin` around a swap: from `margin` before its planned send time to `margin` after it
    /// was written. Fixed width on purpose: a window stretched to the swap's acknowledgement
    /// would grow exactly when the node stalls, and so select the stalls it then reports.
    /// `lastSent`/`nextPlanned` are the values loaded once for the current read.
    @inline(__always)
    static func isNear(sentAt: UInt64, receivedAt: UInt64, lastSent: UInt64, nextPlanned: UInt64, margin: UInt64) -> Bool {
        (lastSent != 0 && sentAt <= lastSent &+ margin) || (nextPlanned != .max && receivedAt &+ margin >= nextPlanned)
    }
}
