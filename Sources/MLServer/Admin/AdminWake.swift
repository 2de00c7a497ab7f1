import Glibc
import MLModel

/// The hand-off from other threads to the admin poll thread: finished backend calls, the stop
/// request and test nudges, plus the self-pipe that wakes `poll()` for them. The only admin state
/// shared between threads; everything in it is protected by `state`'s lock.
final class AdminWake: Sendable {
    /// A response produced off the poll thread, for connection `connectionID`.
    struct Completion: Sendable {
        var connectionID: UInt64
        var bytes: [UInt8]
        var keepAlive: Bool
    }

    private struct State {
        /// Write end of the pipe; -1 once closed. Writes happen under the lock so the descriptor
        /// can never be closed (and its number reused) between the check and the write.
        var writeFD: Int32
        var completions: [Completion] = []
        /// Called by the poll thread after its next timer sweep (`nudge`).
        var afterSweep: [@Sendable () -> Void] = []
        var stopRequested = false
    }

    /// Read end, polled and drained by the poll thread only.
    let readFD: Int32
    private let state: Locked<State>  // protected by its own lock

    init() throws(SocketError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SocketError("pipe") }
        for fd in ends {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = AdminSocket.setNonBlocking(fd)
        }
        readFD = ends[0]
        state = Locked(State(writeFD: ends[1]))
    }

    func post(_ completion: Completion) {
        state.withLock { state in
            guard state.writeFD >= 0 else { return }
            state.completions.append(completion)
            Self.signal(state.writeFD)
        }
    }

    func requestStop() {
        state.withLock { state in
            state.stopRequested = true
            if state.writeFD >= 0 { Self.signal(state.writeFD) }
        }
    }

    /// Wakes the poll thread with nothing to deliver, so that it re-reads the clock and sweeps its
    /// timers; `then` runs on the poll thread after that sweep. False once closed.
    func nudge(then: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard state.writeFD >= 0 else { return false }
            state.afterSweep.append(then)
            Self.signal(state.writeFD)
            return true
        }
    }

    /// Poll thread: empties the pipe and takes what was posted. The caller reads the clock after
    /// this, so a nudge taken here is answered by a sweep that saw the time it was posted at.
    func drain() -> (completions: [Completion], afterSweep: [@Sendable () -> Void], stop: Bool) {
        var sink = [UInt8](repeating: 0, count: 64)
        while sink.withUnsafeMutableBytes({ Glibc.read(readFD, $0.baseAddress, $0.count) }) > 0 {}
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
        state.withLock { state in
            if state.writeFD >= 0 { Glibc.close(state.writeFD) }
            state.writeFD = -1
        }
        Glibc.close(readFD)
    }

    private static func signal(_ fd: Int32) {
        var byte: UInt8 = 1
        // EAGAIN (pipe full) is fine: a wake-up is already pending.
        _ = Glibc.write(fd, &byte, 1)
    }
}
