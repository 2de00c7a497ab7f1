import CEpoll
import Glibc
import MLModel
import MLWire

/// The serving node: N event loops, each on its own thread with its own SO_REUSEPORT listener.
public final class Server: @unchecked Sendable {
    public let config: ServerConfig
    public let control: ControlPlane
    private let shared: LoopShared
    private var loops: [EventLoop] = []  // set in start(), read-only afterwards
    private var threads: [pthread_t] = []

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
        let first = try Listener.open(host: config.host, port: config.port, reusePort: true)
        let port = Listener.boundPort(first)
        var listeners = [first]
        do {
            for _ in 1..<max(1, config.loops) {
                listeners.append(try Listener.open(host: config.host, port: port, reusePort: true))
            }
        } catch {
            listeners.forEach { Glibc.close($0) }
            throw error
        }
        for (index, fd) in listeners.enumerated() {
            loops.append(try EventLoop(index: index, config: config, control: control, shared: shared, listenFD: fd))
        }
        // One more loop, without a listener, for controller connections (see `controlLoop`).
        let controlLoop = try EventLoop(index: listeners.count, config: config, control: control, shared: shared, listenFD: -1)
        for loop in loops { loop.controlLoop = controlLoop }
        loops.append(controlLoop)
        for loop in loops {
            threads.append(try Thread.start(name: "mlserve-loop-\(loop.index)") { loop.run() })
        }
        return port
    }

    /// Begins the drain: not ready, stop accepting, answer what is in flight, close. Any thread.
    public func shutdown() {
        control.beginDraining()
        loops.forEach { $0.requestStop() }
    }

    /// Blocks until every loop has exited.
    public func waitUntilStopped() {
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    public var connectionCount: Int { shared.connectionCount.load(ordering: .relaxed) }
}

/// Dedicated pthreads for the loops: a Dispatch hop costs 160-250 ns that the loops never pay.
enum Thread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func start(name: String, _ body: @escaping () -> Void) throws -> pthread_t {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SocketError("pthread_create", code: result)
        }
        pthread_setname_np(thread, String(name.prefix(15)))
        return thread
    }
}
