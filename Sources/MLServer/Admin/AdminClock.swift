/// The admin server's two time sources, injected through `AdminServer.Configuration` so tests can
/// move its timers by hand instead of waiting for them. Every timer decision of the poll loop and
/// every `Date` header reads this, never `Clock` directly.
///
/// A clock that jumps does not wake `poll()`, which sleeps in real time until its own deadline (at
/// most a second); tests wake it with `AdminServer.runTimersForTests()`.
public struct AdminClock: Sendable {
    /// Nanoseconds on a clock that never goes back; only differences mean anything.
    public var monotonicNanos: @Sendable () -> UInt64
    /// Unix time in microseconds, for the `Date` header.
    public var wallMicros: @Sendable () -> Int64

    public init(monotonicNanos: @escaping @Sendable () -> UInt64, wallMicros: @escaping @Sendable () -> Int64) {
        self.monotonicNanos = monotonicNanos
        self.wallMicros = wallMicros
    }

    /// The real clocks: the default, and what production uses.
    public static let system = AdminClock(monotonicNanos: { Clock.monotonicNanos() }, wallMicros: { Clock.wallMicros() })
}
