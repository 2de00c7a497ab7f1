import MLEventCore
import MLModel

/// The hand-off from other threads to the admin poll thread: finished backend calls, the stop
/// request and test nudges, plus the wake-up signal (the event-loop core's eventfd) that wakes `poll()` for them. The only admin state
/// shared between threads; everything in it is protected by `state`'s lock.
final class AdminWake: Sendable {
    /// A response produced off the poll thread, for connection `connectionID`.
    struct Completion: Sendable {
        var connectionID: UInt64
        var bytes: [UInt8]
        var keepAlive: Bool
    }

    private struct State {
        /// Set once the poll thread has exited: later posts are dropped.
        var closed = false
        var completions: [Completion] = []
        /// Called by the poll thread after its next timer sweep (`nudge`).
        var afterSweep: [@Sendable () -> Void] = []
        var stopRequested = false
    }

    /// Polled and consumed by the poll thread only. Owned here, so its descriptor stays open
    /// (and its number unused by anything else) while any thread may still signal it.
    private let signal: WakeSignal
    private let state: Locked<State>  // protected by its own lock

    var fd: Int32 { signal.fd }

    init() throws(SocketError) {
        signal = try WakeSignal()
        state = Locked(State())
    }

    func post(_ completion: Completion) {
        state.withLock { state in
            guard !state.closed else { return }
            state.completions.append(completion)
            signal.signal()
        }
    }

    func requestStop() {
        state.withLock { state in
            state.stopRequested = true
            if !state.closed { signal.signal() }
        }
    }

    /// Wakes the poll thread with nothing to deliver, so that it re-reads the clock and sweeps its
    /// timers; `then` runs on the poll thread after that sweep. False once closed.
    func nudge(then: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.afterSweep.append(then)
            signal.signal()
            return true
        }
    }

    /// Poll thread: clears the wake-up and takes what was posted. The caller reads the clock after
    /// this, so a nudge taken here is answered by a sweep that saw the time it was posted at.
    func drain() -> (completions: [Completion], afterSweep: [@Sendable () -> Void], stop: Bool) {
        signal.consume()
        return state.withLock { state in
            defer {
                state.completions.removeAll()
                state.afterSweep.removeAll()
            }
            return (state.completions, state.afterSweep, state.stopRequested)
        }
    }

    /// After the poll thread has exited: later posts (a reload still running) are dropped.
    func close() {
        state.withLock { $0.closed = true }
    }
}
