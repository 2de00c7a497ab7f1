import CEpoll
import Dispatch
import Glibc
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

/// One epoll loop on its own thread, owning its listener, its connections and its counters.
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
    private let epollFD: Int32
    private let wakeFD: Int32
    private var listenFD: Int32
    private var connections: [Connection?] = []
    private var openConnections = 0
    /// Held open so that, out of descriptors, one can be freed to accept a connection and tell
    /// it so, instead of leaving it in the backlog (where the listener reports it ready forever).
    private var spareFD: Int32 = -1
    /// Out of descriptors with no spare: the listener is off until then.
    private var listenerPausedUntil: UInt64 = 0
    private var nextSweep: UInt64 = 0
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
        isControlLoop = listenFD < 0
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SocketError("epoll_create1") }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw SocketError("eventfd") }
        let floats = config.maxPayload / 4 + 1
        featureScratch = .allocate(capacity: floats)
        scoreScratch = .allocate(capacity: Limits.rows)
        predictionTable = shared.window.table(loop: index)
        shadowTable = shared.shadowWindow.table(loop: index)
        pair = control.slots.current()
        cachedGeneration = pair.generation
        activeBlock = pair.active.flatMap { control.registry.block(version: $0.version, loop: index) }
        activeKernel = pair.active?.kernel
        activeCounters = activeBlock?.cells
        activeNumber = pair.active.flatMap { control.registry.number(of: $0.version) } ?? 0
        // The listener is shared by every loop: EPOLLEXCLUSIVE wakes one of them per connection.
        if listenFD >= 0 {
            register(listenFD, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
            spareFD = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        register(wakeFD, events: EPOLLIN.rawValue)
    }

    deinit {
        featureScratch.deallocate()
        scoreScratch.deallocate()
        Glibc.close(epollFD)
        Glibc.close(wakeFD)
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
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: The loop

    func run() {
        if isControlLoop {
            // Swaps must not wait out a busy data loop's time slice: ask for a short one, so the
            // scheduler runs this thread as soon as a controller's request wakes it.
            _ = cepoll_request_short_slice(100_000)
        }
        if index == 0, let fault = getenv("MLSERVE_TEST_FAULT"), String(cString: fault) == "epoll" {
            Glibc.close(epollFD)  // test hook: the next epoll_wait fails as a broken loop's would
        }
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var drainDeadline: UInt64? = nil
        while true {
            let timeout: Int32 = drainDeadline == nil ? 1000 : 50
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
            if count < 0 && errno != EINTR {
                // A loop that stops silently would leave its connections hanging and its share of
                // new connections unanswered: the node exits so that a supervisor restarts it.
                let why = String(cString: strerror(errno))
                NodeLog.event("loop_failed", level: "error", [("loop", String(index)), ("call", "epoll_wait"), ("error", why)])
                NodeLog.plain("mlserve: event loop \(index) failed: epoll_wait: \(why); exiting")
                _exit(70)
            }
            for i in 0..<max(0, Int(count)) {
                let fd = Int32(truncatingIfNeeded: events[i].data.u64)
                let flags = events[i].events
                if fd == listenFD {
                    acceptAll()
                } else if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = Glibc.read(wakeFD, &value, 8)
                    drainArrivals()
                    drainCompletions()
                } else if let connection = connection(fd) {
                    if flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                        readable(connection)
                    }
                    if flags & EPOLLOUT.rawValue != 0, self.connection(fd) === connection {
                        writable(connection)
                    }
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
            if connection.pendingOutput > 0 || !connection.halfClosed {
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
            epoll_ctl(epollFD, EPOLL_CTL_DEL, listenFD, nil)
            listenFD = -1
        }
        for case let connection? in connections {
            connection.drainBudget = max(0, Int(cepoll_unread_bytes(connection.fd)))
            readable(connection)
        }
    }

    /// Drain: once everything that had arrived is answered and flushed, half-close.
    private func finishDrainIfAnswered(_ connection: Connection) {
        guard connection.drainBudget == 0, !connection.halfClosed, !connection.awaitingControl, !connection.migrating,
              connection.pendingOutput == 0 else { return }
        // Whatever remains is a partial frame that can never complete within the budget.
        connection.inputStart = connection.inputEnd
        if connection.peerClosed {
            connection.closeAfterFlush = true
            return
        }
        Glibc.shutdown(connection.fd, Int32(SHUT_WR))
        connection.halfClosed = true
    }

    /// Half-closed connections whose replies the peer has all acknowledged can close: a close
    /// before that, with input arriving, would reset the connection and lose them.
    private func lingerHalfClosed() {
        for case let connection? in connections where connection.halfClosed {
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
            if n == 0 { connection.peerClosed = true }
            if n <= 0 { return }
        }
    }

    /// Timeouts, every quarter second: no HELLO in time, a partial frame held open, an idle data
    /// connection; and the listener back on after running out of descriptors.
    private func sweep(now: UInt64) {
        if listenerPausedUntil != 0 && now >= listenerPausedUntil && listenFD >= 0 {
            listenerPausedUntil = 0
            register(listenFD, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
        }
        for case let connection? in connections where !connection.closeAfterFlush && !connection.awaitingControl {
            let kind: String
            if !connection.greeted && now &- connection.acceptedAt > config.helloTimeoutNanos {
                kind = "hello"
            } else if connection.partialSince != 0 && now &- connection.partialSince > config.frameTimeoutNanos {
                kind = "frame"
            } else if connection.greeted && connection.role != .controller && config.idleTimeoutNanos > 0
                        && connection.inputEnd == connection.inputStart && connection.pendingOutput == 0
                        && now &- connection.lastActivity > config.idleTimeoutNanos {
                kind = "idle"
            } else {
                continue
            }
            if logLimit.admit(now: now) {
                NodeLog.event("connection_timeout", level: "warn", [("peer", NodeLog.peer(connection.fd)), ("kind", kind),
                                                                    ("buffered", String(connection.inputEnd - connection.inputStart))])
            }
            reject(connection, .unavailable, .idleTimeout, kind == "idle" ? "idle connection closed" : "\(kind == "hello" ? "HELLO" : "frame") not completed in time; closing", requestID: 0)
            connection.closeAfterFlush = true
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
            let connection = Connection(fd: fd, serial: shared.nextSerial.wrappingAdd(1, ordering: .relaxed).oldValue)
            let now = Clock.monotonicNanos()
            connection.acceptedAt = now
            connection.lastActivity = now
            connection.reserveOnly = count > config.maxConnections - config.controllerReserve
            while connections.count <= Int(fd) { connections.append(nil) }
            connections[Int(fd)] = connection
            openConnections += 1
            connection.registeredEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
            register(fd, events: connection.registeredEvents)
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
            epoll_ctl(epollFD, EPOLL_CTL_DEL, listenFD, nil)
            listenerPausedUntil = now + 100_000_000
        }
    }

    private func register(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = UInt64(UInt32(bitPattern: fd))
        epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event)
    }

    /// Reads while paused would only buffer; writes are wanted only while output is pending.
    private func updateInterest(_ connection: Connection) {
        // Draining with everything that had arrived read: more input would only be discarded later.
        let reading = !connection.paused && (connection.drainBudget != 0 || connection.halfClosed)
        var wanted: UInt32 = reading ? (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) : 0
        if connection.pendingOutput > 0 { wanted |= EPOLLOUT.rawValue }
        guard wanted != connection.registeredEvents else { return }
        var event = epoll_event()
        event.events = wanted
        event.data.u64 = UInt64(UInt32(bitPattern: connection.fd))
        epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, &event)
        connection.registeredEvents = wanted
    }

    private func close(_ connection: Connection) {
        guard self.connection(connection.fd) === connection else { return }
        epoll_ctl(epollFD, EPOLL_CTL_DEL, connection.fd, nil)
        Glibc.close(connection.fd)
        connections[Int(connection.fd)] = nil
        openConnections -= 1
        shared.connectionCount.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Hands a freshly authenticated controller connection to the control loop, buffers and all,
    /// with the frames after its HELLO still unread so they keep their order.
    private func handOff(_ connection: Connection, to target: EventLoop) {
        epoll_ctl(epollFD, EPOLL_CTL_DEL, connection.fd, nil)
        connections[Int(connection.fd)] = nil
        openConnections -= 1
        connection.migrating = false
        connection.registeredEvents = 0
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
            register(connection.fd, events: 0)
            if stopRequested.load(ordering: .acquiring) && connection.drainBudget < 0 {
                connection.drainBudget = max(0, Int(cepoll_unread_bytes(connection.fd)))
            }
            refreshSlots()
            process(connection, receivedAt: Clock.monotonicNanos())
            finishIO(connection)
        }
    }

    // MARK: I/O events

    private func readable(_ connection: Connection) {
        if connection.halfClosed {
            discardInput(connection)
            if connection.peerClosed { close(connection) }
            return
        }
        if !connection.paused {
            let (space, room) = connection.readSpace()
            let wanted = connection.drainBudget >= 0 ? min(room, connection.drainBudget) : room
            if wanted > 0 {
                let n = Glibc.read(connection.fd, space, wanted)
                if n > 0 {
                    connection.inputEnd += n
                    if connection.drainBudget > 0 { connection.drainBudget -= n }
                } else if n == 0 {
                    connection.peerClosed = true
                    if connection.drainBudget > 0 { connection.drainBudget = 0 }
                } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    close(connection)
                    return
                }
            }
        }
        // After each read: a request that arrived after a swap's acknowledgement must see it.
        refreshSlots()
        let now = Clock.monotonicNanos()
        connection.lastActivity = now
        process(connection, receivedAt: now)
        notePartialFrame(connection, now: now)
        if connection.peerClosed && !connection.closeAfterFlush && !connection.awaitingControl {
            let leftover = connection.inputEnd - connection.inputStart
            if leftover > 0 {
                var decoder = FrameDecoder(maxPayload: config.maxPayload)
                decoder.feed(connection.bufferedInput)
                let error = decoder.finish() ?? .truncated(have: leftover, need: leftover + 1)
                protocolError(connection, error, requestID: 0)
            }
            connection.closeAfterFlush = true
        }
        finishIO(connection)
    }

    /// Starts (or clears) the partial-frame timer: a frame begun and not finished.
    private func notePartialFrame(_ connection: Connection, now: UInt64) {
        if !connection.paused && connection.inputEnd > connection.inputStart {
            if connection.partialSince == 0 { connection.partialSince = now }
        } else {
            connection.partialSince = 0
        }
    }

    private func writable(_ connection: Connection) {
        guard connection.flush() else { close(connection); return }
        if connection.pendingOutput == 0 && !connection.paused && connection.inputEnd > connection.inputStart {
            refreshSlots()
            let now = Clock.monotonicNanos()
            process(connection, receivedAt: now)
            notePartialFrame(connection, now: now)
        }
        finishIO(connection)
    }

    /// Flush, then either close (when asked and drained) or update the epoll interest.
    private func finishIO(_ connection: Connection) {
        guard connection.flush() else { close(connection); return }
        if connection.migrating, let target = controlLoop {
            return handOff(connection, to: target)
        }
        if connection.drainBudget >= 0 { finishDrainIfAnswered(connection) }
        if connection.closeAfterFlush && connection.pendingOutput == 0 && !connection.awaitingControl {
            close(connection)
            return
        }
        updateInterest(connection)
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
            connection.awaitingControl = false
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
        pair = control.slots.current()
        cachedGeneration = pair.generation
        activeBlock = pair.active.flatMap { control.registry.block(version: $0.version, loop: index) }
        activeKernel = pair.active?.kernel
        activeCounters = activeBlock?.cells
        activeNumber = pair.active.flatMap { control.registry.number(of: $0.version) } ?? 0
        cachedShadowSerial = serial
        refreshShadow()
    }

    /// Submits a load to the load thread; its reply comes back through `post`.
    func submitLoad(_ request: LoadStandby, connection: Connection, requestID: UInt32) {
        connection.awaitingControl = true
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
