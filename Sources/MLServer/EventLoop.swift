import CEpoll
import Dispatch
import Glibc
import MLEventCore
import MLModel
import MLWire
import Synchronization

/// State every loop shares: the connection count (touched on accept and close only).
final class LoopShared: Sendable {
    /// Every loop's remembered predictions, for the label path (which may run on any loop).
    let window: PredictionWindow
    /// Shadowed rows with a prediction id (pair, both labels), so LABEL also scores the standby.
    let shadowWindow: PredictionWindow
    init(window: PredictionWindow, shadowWindow: PredictionWindow) {
        self.window = window
        self.shadowWindow = shadowWindow
    }
    let connectionCount = Atomic<Int>(0)
    /// Connections the drain deadline cut with replies still unsent (reported at exit).
    let cutAtDrainDeadline = Atomic<Int>(0)
    let nextSerial = Atomic<UInt64>(1)
    /// Loads run here, off the loops: reading and hashing an artifact may take milliseconds.
    let loadQueue = DispatchQueue(label: "mlserve.load")
}

/// One epoll loop (the `Poller` core) on its own thread, owning its listener, its connections
/// and its counters; each connection's phase and timers are its `ConnectionLifecycle`.
/// Thread rule: everything not marked otherwise is touched by this loop's thread only.
final class EventLoop: @unchecked Sendable {
    struct Completion {
        let fd: Int32
        let serial: UInt64
        let bytes: [UInt8]
    }

    let index: Int
    let config: ServerConfig
    let control: ControlPlane
    let shared: LoopShared
    /// The loop without a listener that serves controller connections.
    let isControlLoop: Bool
    private let poller: Poller
    private var listenFD: Int32
    private var connections: [Connection?] = []
    private var openConnections = 0
    /// Held open so that, out of descriptors, one can be freed to accept a connection and tell
    /// it so, instead of leaving it in the backlog (where the listener reports it ready forever).
    private var spareFD: Int32 = -1
    /// Out of descriptors with no spare: the listener is off until then.
    private var listenerPausedUntil: UInt64 = 0
    private var nextSweep: UInt64 = 0
    private let timeoutLimits: ConnectionLifecycle.Limits
    /// Protocol-error and timeout log lines, rate-limited per loop.
    var logLimit = LogRateLimit()

    // The slot snapshot this loop serves from, refreshed when the generation moves.
    @exclusivity(unchecked) var pair: SlotPair
    @exclusivity(unchecked) var cachedGeneration: UInt64
    @exclusivity(unchecked) var activeBlock: CounterBlock?
    /// Copies of the active model's kernel and counters for the hot path: no reference counting
    /// per request. `pair` and `activeBlock` keep what they point into alive.
    @exclusivity(unchecked) var activeKernel: ModelKernel?
    @exclusivity(unchecked) var activeCounters: CounterCells?
    /// The active version's registry number, as the prediction window stores it.
    @exclusivity(unchecked) var activeNumber = 0
    /// This loop's table in the prediction window (nil when the window is off).
    let predictionTable: PredictionTable?
    var feedbackBlocks: [(version: [UInt8], block: CounterBlock)] = []
    /// This loop's counters by registry number, for labels (filled on first use).
    var labelBlocks: [CounterBlock?] = []
    /// Shadow scoring (RequestDispatch+Shadow): the standby's kernel and the pair's counters
    /// while a setting applies to `pair`, nil otherwise. `shadowSetting` keeps the models alive.
    @exclusivity(unchecked) var shadowKernel: ModelKernel?
    @exclusivity(unchecked) var shadowCells: ShadowCells?
    @exclusivity(unchecked) var shadowSampler = ShadowSampler.off
    /// The active takes NaN as missing and the standby does not: rows with NaN are not shadowed.
    @exclusivity(unchecked) var shadowSkipsMissing = false
    @exclusivity(unchecked) var cachedShadowSerial: UInt64 = 0
    var shadowSetting: ShadowSetting?
    /// The pair's number in `ShadowRegistry`, as `shadowTable` stores it.
    @exclusivity(unchecked) var shadowPairNumber = 0
    let shadowTable: PredictionTable?
    /// This loop's shadow counters by pair number, for labels (filled on first use).
    var shadowLabelBlocks: [ShadowBlock?] = []
    var shadowBlock: ShadowBlock?

    // Scratch for decoded features and computed scores: sized once for the largest frame.
    let featureScratch: UnsafeMutablePointer<Float>
    let scoreScratch: UnsafeMutablePointer<Float>

    /// Where controller connections move after their HELLO: a loop with no listener that is
    /// idle almost always, so the scheduler runs it the moment a swap arrives instead of queueing
    /// it behind a busy data loop. nil on the control loop itself. Set before the threads start.
    var controlLoop: EventLoop?

    // Cross-thread: filled by the load thread, drained by this loop after a wake-up.
    private let completions = Locked<[Completion]>([])
    // Cross-thread: controller connections handed over by the data loops.
    private let arrivals = Locked<[Connection]>([])
    private let stopRequested = Atomic<Bool>(false)

    init(index: Int, config: ServerConfig, control: ControlPlane, shared: LoopShared, listenFD: Int32) throws {
        self.index = index
        self.config = config
        self.control = control
        self.shared = shared
        self.listenFD = listenFD
        timeoutLimits = ConnectionLifecycle.Limits(config)
        isControlLoop = listenFD < 0
        poller = try Poller()
        let floats = config.maxPayload / 4 + 1
        featureScratch = .allocate(capacity: floats)
        scoreScratch = .allocate(capacity: Limits.rows)
        predictionTable = shared.window.table(loop: index)
        shadowTable = shared.shadowWindow.table(loop: index)
        pair = control.slots.current()
        cachedGeneration = pair.generation
        // The listener is shared by every loop: EPOLLEXCLUSIVE wakes one of them per connection.
        if listenFD >= 0 {
            poller.add(listenFD, interest: .acceptOne, token: Self.token(listenFD))
            spareFD = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        adoptSlots(shadowSerial: control.shadow.serial.load(ordering: .acquiring))
    }

    deinit {
        featureScratch.deallocate()
        scoreScratch.deallocate()
        if spareFD >= 0 { Glibc.close(spareFD) }
    }

    // MARK: Cross-thread entry points

    /// Asks the loop to drain and exit. Any thread.
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        wake()
    }

    /// Hands a finished control reply back to the loop. Any thread.
    func post(_ completion: Completion) {
        completions.withLock { $0.append(completion) }
        wake()
    }

    /// Takes over a connection from another loop. Any thread.
    func adopt(_ connection: Connection) {
        arrivals.withLock { $0.append(connection) }
        wake()
    }

    private func wake() {
        poller.wake()
    }

    /// A descriptor as its registration's token.
    private static func token(_ fd: Int32) -> UInt64 { UInt64(UInt32(bitPattern: fd)) }

    // MARK: The loop

    func run() {
        if isControlLoop {
            // Swaps must not wait out a busy data loop's time slice: ask for a short one, so the
            // scheduler runs this thread as soon as a controller's request wakes it.
            _ = cepoll_request_short_slice(100_000)
        }
        if index == 0, let fault = getenv("MLSERVE_TEST_FAULT"), String(cString: fault) == "epoll" {
            poller.breakForFaultInjection()  // test hook: the next wait fails as a broken loop's would
        }
        var drainDeadline: UInt64? = nil
        while true {
            let timeout: Int32 = drainDeadline == nil ? 1000 : 50
            guard let count = poller.wait(timeoutMillis: timeout) else {
                // A loop that stops silently would leave its connections hanging and its share of
                // new connections unanswered: the node exits so that a supervisor restarts it.
                let why = String(cString: strerror(errno))
                NodeLog.event("loop_failed", level: "error", [("loop", String(index)), ("call", "epoll_wait"), ("error", why)])
                NodeLog.plain("mlserve: event loop \(index) failed: epoll_wait: \(why); exiting")
                _exit(70)
            }
            for i in 0..<count {
                let ready = poller.ready(i)
                if ready.token == Poller.wakeToken {
                    drainArrivals()
                    drainCompletions()
                    continue
                }
                let fd = Int32(truncatingIfNeeded: ready.token)
                if fd == listenFD {
                    acceptAll()
                } else if let connection = connection(fd) {
                    if ready.readable { readable(connection) }
                    if ready.writable, self.connection(fd) === connection { writable(connection) }
                }
            }
            if drainDeadline == nil && stopRequested.load(ordering: .acquiring) {
                drainDeadline = Clock.monotonicNanos() + config.drainTimeoutNanos
                beginDrain()
            }
            let now = Clock.monotonicNanos()
            if drainDeadline != nil {
                lingerHalfClosed()
            } else if now >= nextSweep {
                sweep(now: now)
                nextSweep = now + 250_000_000
            }
            if let deadline = drainDeadline, openConnections == 0 || now > deadline {
                break
            }
        }
        for case let connection? in connections {
            if connection.lifecycle.isCut(pendingOutput: connection.pendingOutput) {
                shared.cutAtDrainDeadline.wrappingAdd(1, ordering: .relaxed)
            }
            close(connection)
        }
    }

    /// Stop accepting; note how many bytes each connection had received but not yet read, and
    /// answer exactly those. Later bytes are read and discarded, and each connection is shut
    /// down (SHUT_WR) after its last reply, then closed once the peer has it all.
    private func beginDrain() {
        if listenFD >= 0 {
            // Shared with the other loops: the server closes it once all have stopped.
            poller.remove(listenFD)
            listenFD = -1
        }
        for case let connection? in connections {
            connection.lifecycle.beginDrain(unread: Int(cepoll_unread_bytes(connection.fd)))
            readable(connection)
        }
    }

    /// Half-closed connections whose replies the peer has all acknowledged can close: a close
    /// before that, with input arriving, would reset the connection and lose them.
    private func lingerHalfClosed() {
        for case let connection? in connections where connection.lifecycle.phase == .halfClosed {
            if cepoll_unacknowledged_bytes(connection.fd) == 0 {
                discardInput(connection)
                close(connection)
            }
        }
    }

    private func discardInput(_ connection: Connection) {
        let (space, room) = connection.readSpace()
        connection.inputStart = 0
        connection.inputEnd = 0
        while true {
            let n = Glibc.read(connection.fd, space, room)
            if n == 0 { connection.lifecycle.peerEnded() }
            if n <= 0 { return }
        }
    }

    /// Timeouts, every quarter second: no HELLO in time, a partial frame held open, an idle data
    /// connection; and the listener back on after running out of descriptors.
    private func sweep(now: UInt64) {
        if listenerPausedUntil != 0 && now >= listenerPausedUntil && listenFD >= 0 {
            listenerPausedUntil = 0
            poller.add(listenFD, interest: .acceptOne, token: Self.token(listenFD))
        }
        for case let connection? in connections {
            guard let timeout = connection.lifecycle.expiredTimer(now: now, buffered: connection.bufferedCount,
                                                                  pendingOutput: connection.pendingOutput, limits: timeoutLimits) else { continue }
            if logLimit.admit(now: now) {
                NodeLog.event("connection_timeout", level: "warn", [("peer", NodeLog.peer(connection.fd)), ("kind", timeout.rawValue),
                                                                    ("buffered", String(connection.bufferedCount))])
            }
            let message = switch timeout {
            case .hello: "HELLO not completed in time; closing"
            case .frame: "frame not completed in time; closing"
            case .idle: "idle connection closed"
            }
            reject(connection, .unavailable, .idleTimeout, message, requestID: 0)
            connection.lifecycle.closeAfterFlush()
            finishIO(connection)
        }
    }

    // MARK: Connections

    private func connection(_ fd: Int32) -> Connection? {
        Int(fd) < connections.count ? connections[Int(fd)] : nil
    }

    private func acceptAll() {
        while listenFD >= 0 {
            guard let fd = Listener.accept(listenFD) else {
                if errno == EMFILE || errno == ENFILE { outOfDescriptors() }
                return
            }
            let count = shared.connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
            if count > config.maxConnections {
                shared.connectionCount.wrappingSubtract(1, ordering: .relaxed)
                refuseAtLimit(fd)
                continue
            }
            let connection = Connection(fd: fd, serial: shared.nextSerial.wrappingAdd(1, ordering: .relaxed).oldValue,
                                        acceptedAt: Clock.monotonicNanos(),
                                        reserveOnly: count > config.maxConnections - config.controllerReserve)
            while connections.count <= Int(fd) { connections.append(nil) }
            connections[Int(fd)] = connection
            openConnections += 1
            connection.registeredInterest = .read
            poller.add(fd, interest: .read, token: Self.token(fd))
        }
    }

    /// RESOURCE_EXHAUSTED before HELLO (v1 layout), then close.
    private func refuseAtLimit(_ fd: Int32) {
        // Before HELLO no version is agreed: the v1 layout, which every client reads.
        let bytes = ErrorReply(message: "connection limit of \(config.maxConnections) reached; retry later")
            .frameBytes(requestID: 0, status: .resourceExhausted)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
        Glibc.close(fd)
    }

    /// EMFILE/ENFILE: the pending connection stays in the backlog and the listener stays ready.
    /// Free the spare descriptor, accept with it, refuse, and take the spare back; without one,
    /// stop listening for 100 ms. Either way the loop does not spin.
    private func outOfDescriptors() {
        let now = Clock.monotonicNanos()
        if logLimit.admit(now: now) {
            NodeLog.event("out_of_descriptors", level: "warn", [("loop", String(index)), ("connections", String(shared.connectionCount.load(ordering: .relaxed)))])
        }
        for _ in 0..<64 where spareFD >= 0 {
            Glibc.close(spareFD)
            spareFD = -1
            let fd = Listener.accept(listenFD)
            if let fd { refuseAtLimit(fd) }
            spareFD = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
            if fd == nil { break }
        }
        if spareFD < 0 {
            poller.remove(listenFD)
            listenerPausedUntil = now + 100_000_000
        }
    }

    /// Registers the readiness the lifecycle asked for (`ConnectionLifecycle.wantsInput`).
    private func updateInterest(_ connection: Connection, read: Bool, write: Bool) {
        var wanted: Poller.Interest = read ? .read : []
        if write { wanted.insert(.write) }
        guard wanted != connection.registeredInterest else { return }
        poller.modify(connection.fd, interest: wanted, token: Self.token(connection.fd))
        connection.registeredInterest = wanted
    }

    private func close(_ connection: Connection) {
        guard self.connection(connection.fd) === connection else { return }
        poller.remove(connection.fd)
        Glibc.close(connection.fd)
        connections[Int(connection.fd)] = nil
        openConnections -= 1
        shared.connectionCount.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Hands a freshly authenticated controller connection to the control loop, buffers and all,
    /// with the frames after its HELLO still unread so they keep their order.
    private func handOff(_ connection: Connection, to target: EventLoop) {
        poller.remove(connection.fd)
        connections[Int(connection.fd)] = nil
        openConnections -= 1
        connection.lifecycle.handedOff()
        connection.registeredInterest = []
        target.adopt(connection)
    }

    private func drainArrivals() {
        let arrived = arrivals.withLock { list -> [Connection] in
            let taken = list
            list.removeAll()
            return taken
        }
        for connection in arrived {
            while connections.count <= Int(connection.fd) { connections.append(nil) }
            connections[Int(connection.fd)] = connection
            openConnections += 1
            poller.add(connection.fd, interest: [], token: Self.token(connection.fd))
            if stopRequested.load(ordering: .acquiring) {
                connection.lifecycle.beginDrain(unread: Int(cepoll_unread_bytes(connection.fd)))
            }
            refreshSlots()
            process(connection, receivedAt: Clock.monotonicNanos())
            finishIO(connection)
        }
    }

    // MARK: I/O events

    private func readable(_ connection: Connection) {
        if connection.lifecycle.phase == .halfClosed {
            discardInput(connection)
            if connection.lifecycle.peerClosed { close(connection) }
            return
        }
        if connection.decodes {
            let (space, room) = connection.readSpace()
            let wanted = connection.lifecycle.readLimit(room: room)
            if wanted > 0 {
                let n = Glibc.read(connection.fd, space, wanted)
                if n > 0 {
                    connection.inputEnd += n
                    connection.lifecycle.received(n)
                } else if n == 0 {
                    connection.lifecycle.peerEnded()
                } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    close(connection)
                    return
                }
            }
        }
        // After each read: a request that arrived after a swap's acknowledgement must see it.
        refreshSlots()
        let now = Clock.monotonicNanos()
        connection.lifecycle.touched(now: now)
        process(connection, receivedAt: now)
        connection.lifecycle.notePartialFrame(buffered: connection.bufferedCount, pendingOutput: connection.pendingOutput, now: now)
        if let leftover = connection.lifecycle.endOfInput(buffered: connection.bufferedCount), leftover > 0 {
            var decoder = FrameDecoder(maxPayload: config.maxPayload)
            decoder.feed(connection.bufferedInput)
            let error = decoder.finish() ?? .truncated(have: leftover, need: leftover + 1)
            protocolError(connection, error, requestID: 0)
        }
        finishIO(connection)
    }

    private func writable(_ connection: Connection) {
        guard connection.flush() else { close(connection); return }
        if connection.pendingOutput == 0 && connection.decodes && connection.bufferedCount > 0 {
            refreshSlots()
            let now = Clock.monotonicNanos()
            process(connection, receivedAt: now)
            connection.lifecycle.notePartialFrame(buffered: connection.bufferedCount, pendingOutput: connection.pendingOutput, now: now)
        }
        finishIO(connection)
    }

    /// Flush, then do what the lifecycle says: hand off, half-close, close or watch.
    private func finishIO(_ connection: Connection) {
        guard connection.flush() else { close(connection); return }
        switch connection.lifecycle.afterIO(pendingOutput: connection.pendingOutput) {
        case .handOff:
            if let target = controlLoop { handOff(connection, to: target) }
        case .halfClose:
            connection.inputStart = connection.inputEnd
            Glibc.shutdown(connection.fd, Int32(SHUT_WR))
            updateInterest(connection, read: true, write: false)
        case .close:
            close(connection)
        case .watch(let read, let write):
            updateInterest(connection, read: read, write: write)
        }
    }

    private func drainCompletions() {
        let ready = completions.withLock { list -> [Completion] in
            let taken = list
            list.removeAll(keepingCapacity: true)
            return taken
        }
        guard !ready.isEmpty else { return }
        refreshSlots()
        for completion in ready {
            guard let connection = connection(completion.fd), connection.serial == completion.serial else { continue }
            connection.append(bytes: completion.bytes)
            connection.lifecycle.controlReplied()
            process(connection, receivedAt: Clock.monotonicNanos())
            finishIO(connection)
        }
    }

    // MARK: Slots

    @inline(__always)
    func refreshSlots() {
        let serial = control.shadow.serial.load(ordering: .acquiring)
        let generation = control.slots.generation
        guard generation != cachedGeneration || serial != cachedShadowSerial else { return }
        adoptSlots(shadowSerial: serial)
    }

    /// Takes the current slot pair and everything the hot path derives from it.
    private func adoptSlots(shadowSerial: UInt64) {
        pair = control.slots.current()
        cachedGeneration = pair.generation
        activeBlock = pair.active.flatMap { control.registry.block(version: $0.version, loop: index) }
        activeKernel = pair.active?.kernel
        activeCounters = activeBlock?.cells
        activeNumber = pair.active.flatMap { control.registry.number(of: $0.version) } ?? 0
        cachedShadowSerial = shadowSerial
        refreshShadow()
    }

    /// Submits a load to the load thread; its reply comes back through `post`.
    func submitLoad(_ request: LoadStandby, connection: Connection, requestID: UInt32) {
        connection.lifecycle.awaitControl()
        let fd = connection.fd
        let serial = connection.serial
        let version = connection.protocolVersion
        let control = self.control
        shared.loadQueue.async { [self] in
            let bytes: [UInt8]
            let actor = "rpc:" + NodeLog.peer(fd)
            switch control.loadStandby(artifact: request.artifact, expectedChecksum: request.expectedChecksum,
                                       options: request.options, actor: actor) {
            case .success(let reply):
                bytes = reply.frameBytes(requestID: requestID)
            case .failure(let error):
                bytes = ErrorReply(error.reason, error.message, version: version).frameBytes(requestID: requestID, status: error.status)
            }
            post(Completion(fd: fd, serial: serial, bytes: bytes))
        }
    }
}
