import Dispatch
import Glibc
import MLEventCore
import MLModel

/// The node's admin HTTP server: its own listener and one `poll()` thread, independent of the
/// serving event loops, so a stuck operator connection can never delay a prediction and a busy
/// data path can never starve a probe.
///
/// Loopback by default (`127.0.0.1`): rollback and reload are guarded by the controller token, but
/// the read-only routes (/model/info, /metrics) are not, and they describe the fleet's models.
/// Exposing them is an explicit decision (`--admin-host 0.0.0.0` behind a network policy).
///
/// ```swift
/// let admin = AdminServer(port: 9090, backend: node)
/// let port = try admin.start()
/// ...
/// admin.stop()
/// ```
public final class AdminServer: Sendable {
    public struct Configuration: Sendable {
        /// Beyond this, a new connection gets a 503 and is closed.
        public var maxConnections = 64
        /// Time allowed from a request's first byte to its last (slowloris → 408, close).
        public var requestTimeoutNanos: UInt64 = 10_000_000_000
        /// A keep-alive connection with nothing in flight is closed after this.
        public var idleTimeoutNanos: UInt64 = 60_000_000_000
        /// Pending output that makes no progress for this long (the client stopped reading): close.
        public var writeTimeoutNanos: UInt64 = 10_000_000_000
        /// After an error response, how long to drain the client's remaining bytes before closing.
        public var lingerTimeoutNanos: UInt64 = 2_000_000_000
        /// Per connection: stop answering pipelined requests while this much output is unsent.
        public var maxOutputBytes = 1 << 20
        public var limits = HTTPRequestParser.Limits()
        /// What every timer above and the `Date` header read; tests pass a manual one.
        public var clock = AdminClock.system

        public init() {}
    }

    private struct Running {
        var thread: LoopThread
        var wake: AdminWake
        var port: UInt16
    }

    public let host: String
    public let port: UInt16
    public let configuration: Configuration
    private let backend: any AdminBackend & Sendable
    private let running = Locked<Running?>(nil)  // protected by its lock; start/stop only

    public init(host: String = "127.0.0.1", port: UInt16, backend: any AdminBackend & Sendable,
                configuration: Configuration = Configuration()) {
        self.host = host
        self.port = port
        self.backend = backend
        self.configuration = configuration
    }

    deinit { stop() }

    /// Binds, starts the poll thread and returns the bound port (useful with port 0). Calling it
    /// again while running returns the same port.
    @discardableResult
    public func start() throws -> UInt16 {
        try running.withLock { running throws -> UInt16 in
            if let running { return running.port }
            let listenFD = try Listener.open(host: host, port: port, backlog: 64)
            let wake: AdminWake
            do { wake = try AdminWake() } catch {
                Glibc.close(listenFD)
                throw error
            }
            let bound = Listener.boundPort(listenFD)
            let loop = AdminPollLoop(listenFD: listenFD, wake: wake, backend: backend, configuration: configuration)
            let thread: LoopThread
            do {
                thread = try LoopThread.start(name: "mlserve-admin") { loop.run() }
            } catch {
                wake.close()
                Glibc.close(listenFD)
                throw error
            }
            running = Running(thread: thread, wake: wake, port: bound)
            return bound
        }
    }

    /// Stops accepting, closes every admin connection and joins the poll thread. A rollback or
    /// reload already handed to the backend still completes; its answer is dropped. Idempotent.
    public func stop() {
        guard let stopped = running.withLock({ running -> Running? in
            defer { running = nil }
            return running
        }) else { return }
        stopped.wake.requestStop()
        stopped.thread.join()
        stopped.wake.close()
    }

    /// Tests: makes the poll loop re-read the injected clock and run every timer against it, and
    /// returns once it has (true), or false if the server is not running or the loop did not get
    /// round to it within 5 s. A manual clock that jumps does not wake `poll()` by itself.
    func runTimersForTests() -> Bool {
        guard let wake = running.withLock({ $0?.wake }) else { return false }
        let done = DispatchSemaphore(value: 0)
        guard wake.nudge(then: { done.signal() }) else { return false }
        return done.wait(timeout: .now() + 5) == .success
    }
}
