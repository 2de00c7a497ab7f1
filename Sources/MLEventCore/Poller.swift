import CEpoll
import Glibc

/// The event-loop core every epoll loop of the project runs on (the node's data and control
/// loops, mlbench's load driver): one epoll instance with its own wake-up signal built in.
/// Registrations carry a caller-chosen token (a descriptor, an index) that `wait` hands back.
///
/// Thread rule: `wake()` from any thread; everything else from the loop's own thread.
public final class Poller: @unchecked Sendable {
    /// What a registration asks to hear about.
    public struct Interest: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Input, and the peer's end of input (EPOLLRDHUP), which reads as input.
        public static let read = Interest(rawValue: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
        public static let write = Interest(rawValue: EPOLLOUT.rawValue)
        /// A listener shared by several pollers: a new connection wakes one of them, not all.
        /// (EPOLLEXCLUSIVE admits EPOLLIN but not EPOLLRDHUP: with `.read` it is EINVAL.)
        public static let acceptOne = Interest(rawValue: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
    }

    /// One ready registration, as `wait` reports it.
    public struct Ready {
        public let token: UInt64
        @usableFromInline let flags: UInt32
        @inlinable init(token: UInt64, flags: UInt32) {
            self.token = token
            self.flags = flags
        }
        /// Input, end of input, or an error: a read tells which.
        @inlinable public var readable: Bool { flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 }
        @inlinable public var writable: Bool { flags & EPOLLOUT.rawValue != 0 }
    }

    /// The token `wait` reports for a `wake()`; never use it for a registration.
    public static let wakeToken = UInt64.max

    private var epollFD: Int32
    private let wakeSignal: WakeSignal
    @usableFromInline let events: UnsafeMutablePointer<epoll_event>
    private let capacity: Int

    /// `capacity`: the most registrations one `wait` reports.
    public init(capacity: Int = 256) throws(SystemCallError) {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemCallError("epoll_create1") }
        do {
            wakeSignal = try WakeSignal()
        } catch {
            Glibc.close(epollFD)
            throw error
        }
        self.capacity = capacity
        events = .allocate(capacity: capacity)
        add(wakeSignal.fd, interest: .read, token: Self.wakeToken)
    }

    deinit {
        events.deallocate()
        if epollFD >= 0 { Glibc.close(epollFD) }
    }

    /// Registers `fd`. false (errno says why) when epoll refused it.
    @discardableResult
    public func add(_ fd: Int32, interest: Interest, token: UInt64) -> Bool {
        control(EPOLL_CTL_ADD, fd, interest, token)
    }

    @discardableResult
    public func modify(_ fd: Int32, interest: Interest, token: UInt64) -> Bool {
        control(EPOLL_CTL_MOD, fd, interest, token)
    }

    public func remove(_ fd: Int32) {
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
    }

    /// Waits up to `timeoutMillis` (-1: no limit) and returns how many registrations are ready
    /// (read them with `ready(_:)`); 0 on a timeout or a signal. A pending wake-up is consumed
    /// here and reported once with `wakeToken`. nil: epoll itself failed (errno says why).
    public func wait(timeoutMillis: Int32) -> Int? {
        let count = epoll_wait(epollFD, events, Int32(capacity), timeoutMillis)
        if count < 0 { return errno == EINTR ? 0 : nil }
        for i in 0..<Int(count) where events[i].data.u64 == Self.wakeToken {
            wakeSignal.consume()
        }
        return Int(count)
    }

    /// The `index`th registration the last `wait` reported.
    @inlinable
    public func ready(_ index: Int) -> Ready {
        Ready(token: events[index].data.u64, flags: events[index].events)
    }

    /// Makes the loop's current or next `wait` return. Any thread.
    public func wake() {
        wakeSignal.signal()
    }

    /// Test hook: closes the epoll descriptor so that the next `wait` fails, as a broken
    /// loop's would.
    public func breakForFaultInjection() {
        Glibc.close(epollFD)
    }

    private func control(_ operation: Int32, _ fd: Int32, _ interest: Interest, _ token: UInt64) -> Bool {
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.u64 = token
        return epoll_ctl(epollFD, operation, fd, &event) == 0
    }
}
