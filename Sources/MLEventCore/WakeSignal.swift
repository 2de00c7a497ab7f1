import CEpoll
import Glibc

/// A cross-thread wake-up as a readable descriptor (eventfd): `signal()` from any thread makes
/// `fd` readable for whoever polls it (epoll in `Poller`, poll() in the admin loop) until
/// `consume()`. Signals that arrive before the consume merge into one wake-up.
public final class WakeSignal: Sendable {
    public let fd: Int32

    public init() throws(SystemCallError) {
        fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError("eventfd") }
    }

    deinit { Glibc.close(fd) }

    /// Any thread. Never blocks: the counter cannot overflow from wake-ups.
    public func signal() {
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    /// The polling thread: clears the pending wake-ups.
    public func consume() {
        var value: UInt64 = 0
        _ = Glibc.read(fd, &value, 8)
    }
}
