import Dispatch
import Glibc

/// The admin server's event loop: one thread, `poll()` over the listener, the wake signal and every
/// connection. Level-triggered, one `read` per readiness, responses written as soon as they exist.
/// All fields are poll-thread only, except what goes through `wake` (see `AdminWake`); the loop
/// is built on the starting thread and handed to the poll thread once, hence `@unchecked`.
///
/// `poll` rather than the data path's epoll: a few dozen operator connections, no C shim, and the
/// whole interest set is rebuilt from connection state each turn, which leaves no registration
/// to get out of sync.
final class AdminPollLoop: @unchecked Sendable {
    private let listenFD: Int32
    private let wake: AdminWake
    private let backend: any AdminBackend & Sendable
    private let configuration: AdminServer.Configuration
    /// `configuration.clock`: the only time this loop reads.
    private let clock: AdminClock
    /// Rollback and reload run here, one at a time, so probes stay answered during a slow load.
    private let controlQueue = DispatchQueue(label: "mlserve.admin.control")
    private var connections: [UInt64: AdminConnection] = [:]
    private var nextID: UInt64 = 1
    /// Accept failed for lack of descriptors: stop polling the listener until then, or poll would
    /// report it readable forever and the thread would spin.
    private var listenerPausedUntil: UInt64 = 0
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)

    init(listenFD: Int32, wake: AdminWake, backend: any AdminBackend & Sendable, configuration: AdminServer.Configuration) {
        self.listenFD = listenFD
        self.wake = wake
        self.backend = backend
        self.configuration = configuration
        self.clock = configuration.clock
    }

    deinit { readBuffer.deallocate() }

    /// Runs until `wake.requestStop()`; closes every connection and the listener on the way out.
    func run() {
        var fds: [pollfd] = []
        var ids: [UInt64] = []
        while true {
            fds.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
            let before = clock.monotonicNanos()
            fds.append(pollfd(fd: wake.fd, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: before >= listenerPausedUntil ? listenFD : -1, events: Int16(POLLIN), revents: 0))
            for connection in connections.values {
                var events: Int16 = 0
                if connection.wantsRead(maxOutput: configuration.maxOutputBytes) { events |= Int16(POLLIN) }
                if connection.pendingOutput > 0 { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: connection.fd, events: events, revents: 0))
                ids.append(connection.id)
            }
            _ = poll(&fds, nfds_t(fds.count), pollTimeoutMillis(now: before))  // EINTR: just go round
            var completions: [AdminWake.Completion] = [], afterSweep: [@Sendable () -> Void] = []
            if fds[0].revents != 0 {
                let drained = wake.drain()
                if drained.stop { break }
                (completions, afterSweep) = (drained.completions, drained.afterSweep)
            }
            // Read after draining: a test that moved the clock and then nudged is swept at the new time.
            let now = clock.monotonicNanos()
            for completion in completions { complete(completion, now: now) }
            if fds[1].revents & Int16(POLLIN) != 0 { acceptPending(now: now) }
            for (i, id) in ids.enumerated() {
                let revents = fds[i + 2].revents
                guard revents != 0, let connection = connections[id] else { continue }
                handle(connection, revents: revents, now: now)
            }
            sweepTimeouts(now: now)
            for done in afterSweep { done() }
        }
        for connection in Array(connections.values) { close(connection) }
        Glibc.close(listenFD)
    }

    // MARK: - Events

    private func acceptPending(now: UInt64) {
        for _ in 0..<64 {
            guard let fd = AdminSocket.accept(listenFD) else {
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    listenerPausedUntil = now + 100_000_000
                }
                return
            }
            if connections.count >= configuration.maxConnections, let idle = longestIdle() {
                // Full of connections doing nothing: a probe or a rollback must still get in.
                close(idle)
            }
            guard connections.count < configuration.maxConnections else {
                // Answer rather than leave the peer hanging in the backlog; best effort, then close.
                AdminSocket.sendOnce(fd, AdminRouter.respond(to: HTTPParseError(503, "too many admin connections"),
                                                             nowMicros: clock.wallMicros()).serialized(keepAlive: false))
                Glibc.close(fd)
                continue
            }
            let connection = AdminConnection(id: nextID, fd: fd, limits: configuration.limits, now: now)
            nextID += 1
            connections[connection.id] = connection
        }
    }

    /// The idle connection that has been idle the longest, if any.
    private func longestIdle() -> AdminConnection? {
        connections.values.filter(\.isIdle).min { $0.lastActivity < $1.lastActivity }
    }

    private func handle(_ connection: AdminConnection, revents: Int16, now: UInt64) {
        if revents & Int16(POLLERR | POLLNVAL) != 0 { return close(connection) }
        if revents & Int16(POLLOUT) != 0 {
            flush(connection, now: now)
            if connection.closed { return }
            // Output drained below its bound: answer pipelined requests that were held back, which
            // may already be complete in the buffer with no further bytes (so no POLLIN) to come.
            if connection.phase == .reading && connection.parser.hasPartialRequest { process(connection, now: now) }
            if connection.closed { return }
        }
        if revents & Int16(POLLIN) != 0 {
            readable(connection, now: now)
        } else if revents & Int16(POLLHUP) != 0 {
            // Both directions are gone (RST, or our SHUT_WR plus their FIN): nothing left to do.
            close(connection)
        }
    }

    private func readable(_ connection: AdminConnection, now: UInt64) {
        let n = Glibc.read(connection.fd, readBuffer.baseAddress, readBuffer.count)
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            return close(connection)
        }
        if case .lingering = connection.phase {
            if n == 0 { close(connection) }  // discard what a refused client still sends
            return
        }
        guard connection.phase == .reading else { return }
        if n == 0 {
            connection.peerClosed = true
        } else {
            connection.parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
            connection.lastActivity = now
        }
        process(connection, now: now)
    }

    /// Answers every complete request that is buffered, in order, until one needs the backend
    /// queue, the connection is to close, or the peer stops taking output. Output is bounded per
    /// round (`maxOutputBytes`); when a round's output is fully sent at once, the next round
    /// starts, because held-back requests may already be complete with no further bytes (and so
    /// no further POLLIN) to come.
    private func process(_ connection: AdminConnection, now: UInt64) {
        while answerBuffered(connection, now: now) {
            flush(connection, now: now)
            guard !connection.closed, connection.phase == .reading, connection.pendingOutput == 0 else { return }
        }
        if connection.phase == .reading && connection.parser.expectsContinue {
            connection.enqueue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), now: now)
            connection.parser.continueSent()
        }
        connection.noteProgress(now: now)
        flush(connection, now: now)
        // The peer has finished sending and everything answerable is answered: a partial request
        // left over can never complete.
        if !connection.closed, connection.phase == .reading, connection.peerClosed, connection.pendingOutput == 0 {
            close(connection)
        }
    }

    /// One round: answers buffered requests while output is under its bound. Returns whether it
    /// answered at least one.
    private func answerBuffered(_ connection: AdminConnection, now: UInt64) -> Bool {
        var answered = false
        while connection.phase == .reading && connection.pendingOutput < configuration.maxOutputBytes {
            let request: HTTPRequest
            do {
                guard let next = try connection.parser.next() else { break }
                request = next
            } catch {
                refuse(connection, AdminRouter.respond(to: error, nowMicros: clock.wallMicros()), now: now)
                return true
            }
            answered = true
            connection.requestCompleted(now: now)
            let keepAlive = request.keepAlive
            if AdminRouter.isMutation(request) {
                connection.phase = .awaitingBackend
                let backend = self.backend, wake = self.wake, clock = self.clock, id = connection.id
                controlQueue.async {
                    let response = AdminRouter.respond(to: request, backend: backend, nowMicros: clock.wallMicros())
                    wake.post(AdminWake.Completion(connectionID: id, bytes: response.serialized(keepAlive: keepAlive), keepAlive: keepAlive))
                }
                break
            }
            let response = AdminRouter.respond(to: request, backend: backend, nowMicros: clock.wallMicros())
            connection.enqueue(response.serialized(keepAlive: keepAlive, includeBody: request.method != "HEAD"), now: now)
            if !keepAlive { connection.phase = .closingAfterWrite }
        }
        return answered
    }

    private func complete(_ completion: AdminWake.Completion, now: UInt64) {
        // The connection may have closed (and its descriptor been reused) meanwhile: ids never repeat.
        guard let connection = connections[completion.connectionID], connection.phase == .awaitingBackend else { return }
        connection.enqueue(completion.bytes, now: now)
        connection.phase = completion.keepAlive ? .reading : .closingAfterWrite
        connection.lastActivity = now
        process(connection, now: now)
    }

    /// The one protocol-error path: queue the error with `Connection: close`, then linger and close.
    private func refuse(_ connection: AdminConnection, _ response: HTTPResponse, now: UInt64) {
        connection.enqueue(response.serialized(keepAlive: false), now: now)
        connection.phase = .closingAfterWrite
    }

    private func flush(_ connection: AdminConnection, now: UInt64) {
        while connection.pendingOutput > 0 {
            let offset = connection.outputSent, count = connection.pendingOutput
            let n = connection.output.withUnsafeBytes { send(connection.fd, $0.baseAddress! + offset, count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                connection.outputSent += n
                connection.lastWriteProgress = now
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return
            } else {
                return close(connection)
            }
        }
        switch connection.phase {
        case .closingAfterWrite:
            shutdown(connection.fd, Int32(SHUT_WR))
            connection.phase = .lingering(until: now + configuration.lingerTimeoutNanos)
        case .reading where connection.peerClosed && !connection.parser.hasPartialRequest:
            close(connection)
        default:
            break
        }
    }

    private func close(_ connection: AdminConnection) {
        guard !connection.closed else { return }
        connection.closed = true
        Glibc.close(connection.fd)
        connections[connection.id] = nil
    }

    // MARK: - Time

    private func sweepTimeouts(now: UInt64) {
        for connection in Array(connections.values) {
            switch connection.phase {
            case .lingering(let until):
                if now >= until { close(connection); continue }
            case .reading:
                if let started = connection.requestStartedAt, now >= started + configuration.requestTimeoutNanos {
                    // Slowloris: the request did not finish in time. Say so, then close.
                    refuse(connection, AdminRouter.respond(to: HTTPParseError(408, "request not completed in time"),
                                                           nowMicros: clock.wallMicros()), now: now)
                    flush(connection, now: now)
                    continue
                }
                if connection.pendingOutput == 0, !connection.parser.hasPartialRequest,
                   now >= connection.lastActivity + configuration.idleTimeoutNanos {
                    close(connection)
                    continue
                }
            case .awaitingBackend, .closingAfterWrite:
                break
            }
            if connection.pendingOutput > 0, now >= connection.lastWriteProgress + configuration.writeTimeoutNanos {
                close(connection)  // the client stopped reading; don't hold its output forever
            }
        }
    }

    private func pollTimeoutMillis(now: UInt64) -> Int32 {
        var deadline = now + 1_000_000_000  // wake at least once a second
        if listenerPausedUntil > now { deadline = min(deadline, listenerPausedUntil) }
        for connection in connections.values {
            switch connection.phase {
            case .lingering(let until): deadline = min(deadline, until)
            case .reading:
                if let started = connection.requestStartedAt {
                    deadline = min(deadline, started + configuration.requestTimeoutNanos)
                } else {
                    deadline = min(deadline, connection.lastActivity + configuration.idleTimeoutNanos)
                }
            case .awaitingBackend, .closingAfterWrite: break
            }
            if connection.pendingOutput > 0 { deadline = min(deadline, connection.lastWriteProgress + configuration.writeTimeoutNanos) }
        }
        return deadline <= now ? 0 : Int32((deadline - now + 999_999) / 1_000_000)
    }
}
