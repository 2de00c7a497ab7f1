import MLModel
import MLServer

/// A clock for the admin server that moves only when a test says so, so its timers are tested at
/// the exact instant they fall due instead of by waiting. Any thread: the poll thread reads it
/// while the test advances it.
final class ManualAdminClock: Sendable {
    private let startNanos: UInt64
    private let startWallMicros: Int64
    private let nanos: Locked<UInt64>  // protected by its lock

    /// Starts far from zero (nothing may assume the clock starts at 0) and at the fake backend's
    /// swap instant, so `Date` headers are predictable.
    init(nanos: UInt64 = 1_000_000_000_000, wallMicros: Int64 = FakeAdminBackend.swapMicros) {
        startNanos = nanos
        startWallMicros = wallMicros
        self.nanos = Locked(nanos)
    }

    /// Moves both clocks forward together: the wall clock is derived from the monotonic one, so
    /// many small steps add up to whole microseconds.
    func advance(nanos step: UInt64) {
        nanos.withLock { $0 += step }
    }

    var adminClock: AdminClock {
        AdminClock(monotonicNanos: { [nanos] in nanos.current },
                   wallMicros: { [nanos, startNanos, startWallMicros] in startWallMicros + Int64((nanos.current - startNanos) / 1000) })
    }
}
