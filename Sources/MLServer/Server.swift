import Glibc
import MLEventCore
import MLModel
import MLWire

/// The serving node: N event loops, each on its own thread, sharing one listening socket (each
/// loop's epoll holds it with EPOLLEXCLUSIVE, so a new connection wakes one loop, not all).
public final class Server: @unchecked Sendable {
    public let config: ServerConfig
    public let control: ControlPlane
    private let shared: LoopShared
    private var loops: [EventLoop] = []  // set in start(), read-only afterwards
    private var threads: [LoopThread] = []
    private var listenFD: Int32 = -1  // set in start(), closed once every loop has stopped
    private let state = Locked(Lifecycle.idle)  // protected by its lock; serialises start/stop

    /// Where the server is in its life. It starts once: a second `start()` while running returns
    /// the same port (it used to append a second set of loops), and a stopped server stays stopped.
    public enum Lifecycle: Equatable, Sendable {
        case idle
        case running(port: UInt16)
        case draining
        case stopped
    }

    public var lifecycle: Lifecycle { state.current }

    public init(config: ServerConfig, control: ControlPlane) {
        self.config = config
        self.control = control
        shared = LoopShared(window: PredictionWindow(entries: config.predictionWindowEntries,
                                                     seconds: config.predictionWindowSeconds, dataLoops: config.loops),
                            // Shadowed rows are a sample of the predicted ones: a quarter of the room.
                            shadowWindow: PredictionWindow(entries: config.predictionWindowEntries / 4,
                                                           seconds: config.predictionWindowSeconds, dataLoops: config.loops))
    }

    /// Binds and starts the loops; returns the bound port (useful with port 0).
    @discardableResult
    public func start() throws -> UInt16 {
        try state.withLock { lifecycle throws -> UInt16 in
            switch lifecycle {
            case .running(let port): return port
            case .draining, .stopped: throw SocketError("start (the server was already shut down)", code: EINVAL)
            case .idle:
                let port = try startLoops()
                lifecycle = .running(port: port)
                return port
            }
        }
    }

    private func startLoops() throws -> UInt16 {
        let fd = try Listener.open(host: config.host, port: config.port)
        let port = Listener.boundPort(fd)
        listenFD = fd
        let count = max(1, config.loops)
        for index in 0..<count {
            loops.append(try EventLoop(index: index, config: config, control: control, shared: shared, listenFD: fd))
        }
        // One more loop, without a listener, for controller connections (see `controlLoop`).
        let controlLoop = try EventLoop(index: count, config: config, control: control, shared: shared, listenFD: -1)
        for loop in loops { loop.controlLoop = controlLoop }
        loops.append(controlLoop)
        for loop in loops {
            threads.append(try LoopThread.start(name: "mlserve-loop-\(loop.index)") { loop.run() })
        }
        return port
    }

    /// Begins the drain: not ready, stop accepting, answer what is in flight, close. Any thread.
    public func shutdown() {
        state.withLock { if case .running = $0 { $0 = .draining } }
        control.beginDraining()
        loops.forEach { $0.requestStop() }
        // Stop listening now, for every loop at once: new connections are refused instead of
        // waiting in a backlog nobody will accept from. The descriptor is closed after the loops
        // have let go of it (waitUntilStopped), so its number cannot be reused under them.
        if listenFD >= 0 { Glibc.shutdown(listenFD, Int32(SHUT_RDWR)) }
    }

    /// Blocks until every loop has exited.
    public func waitUntilStopped() {
        for thread in threads { thread.join() }
        threads.removeAll()
        if listenFD >= 0 { Glibc.close(listenFD) }
        listenFD = -1
        state.withLock { if $0 == .draining { $0 = .stopped } }
    }

    public var connectionCount: Int { shared.connectionCount.load(ordering: .relaxed) }

    /// Connections the drain deadline closed before their replies were all delivered.
    public var connectionsCutAtDrainDeadline: Int { shared.cutAtDrainDeadline.load(ordering: .relaxed) }
}
