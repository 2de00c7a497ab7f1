import CEpoll
import Glibc
import MLEventCore
import MLWire
import Synchronization

/// What the load thread counted. Filled by the load thread, read after it is joined.
struct LoadOutcome {
    var requestsSent = 0
    var responses = 0
    /// Responses received inside the measured period (the throughput numerator).
    var completedInWindow = 0
    var errorStatus = 0
    var malformed = 0
    var idMismatch = 0
    /// Requests never answered: their connection closed, or the drain timed out.
    var lost = 0
    var closedEarly = 0
    var generationRegressions = 0
    var linearizabilityViolations = 0
    var firstFailure: String?
    var cpuSelfMicros: Int64 = 0
    var cpuNodeMicros: Int64?
    var responsesBetweenCPUSnapshots = 0

    var failedRequests: Int { errorStatus + malformed + idMismatch + lost }
}

/// One epoll thread (the `Poller` core, as the node's loops) driving every connection, as redis-benchmark does: each connection writes
/// `depth` pre-encoded requests, reads until all are answered, checks each reply, and writes the
/// next round. Nothing on this path allocates; time is read once per write and once per read.
///
/// Thread rule: built on the main thread, then touched only by the load thread inside `run`,
/// then read by the main thread after joining it. `progress` is the one field shared live.
final class LoadDriver: @unchecked Sendable {
    let connections: UnsafeMutablePointer<BenchConnection>
    let count: Int
    let checker: ResponseCheck
    let table: GenerationTable
    let signals: SwapSignals?
    let nearMargin: UInt64
    let histogram = LatencyHistogram()
    let nearSwaps = LatencyHistogram()
    let awayFromSwaps = LatencyHistogram()
    let timeline: LatencyTimeline?
    let nodePID: Int32?
    /// Responses so far, for the progress line (relaxed; any thread).
    let progress = Atomic<Int>(0)
    /// Set when `run` returns (any thread may poll it).
    let finished = Atomic<Bool>(false)
    @exclusivity(unchecked) private(set) var outcome = LoadOutcome()

    // Load thread only, during `run`.
    @exclusivity(unchecked) private var poller: Poller!
    @exclusivity(unchecked) private var inFlight = 0
    @exclusivity(unchecked) private var openCount = 0
    @exclusivity(unchecked) private var t0: UInt64 = 0
    @exclusivity(unchecked) private var t1: UInt64 = 0

    init(connections: [BenchConnection], checker: ResponseCheck, table: GenerationTable, signals: SwapSignals?,
         nearMargin: UInt64, timeline: LatencyTimeline?, nodePID: Int32?) {
        count = connections.count
        self.connections = .allocate(capacity: count)
        self.connections.initialize(from: connections, count: count)
        self.checker = checker
        self.table = table
        self.signals = signals
        self.nearMargin = nearMargin
        self.timeline = timeline
        self.nodePID = nodePID
    }

    deinit {
        for i in 0..<count { connections[i].deallocate() }
        connections.deallocate()
        for h in [histogram, nearSwaps, awayFromSwaps] { h.deallocate() }
        timeline?.deallocate()
    }

    /// Runs the warm-up until `measureStart`, measures until `measureEnd`, then waits up to two
    /// seconds for outstanding replies. Load thread.
    func run(measureStart: UInt64, measureEnd: UInt64) {
        t0 = measureStart
        t1 = measureEnd
        do {
            poller = try Poller(capacity: 512)
        } catch {
            fail("\(error)")
            finished.store(true, ordering: .releasing)
            return
        }
        defer { poller = nil }
        openCount = count
        for i in 0..<count { poller.add(connections[i].fd, interest: .read, token: UInt64(i)) }
        for i in 0..<count { startRound(connections + i) }
        var measuring = false
        var drainDeadline: UInt64 = 0
        while openCount > 0 {
            guard let ready = poller.wait(timeoutMillis: 5) else { break }
            for e in 0..<ready {
                let event = poller.ready(e)
                let c = connections + Int(event.token)
                if event.writable && c.pointee.isOpen { writeRound(c) }
                if event.readable && c.pointee.isOpen { readable(c) }
            }
            progress.store(outcome.responses, ordering: .relaxed)
            let now = monotonicNanos()
            if !measuring && now >= t0 && drainDeadline == 0 {
                measuring = true
                snapshotCPU(start: true)
            }
            if drainDeadline == 0 && now >= t1 {
                if measuring { snapshotCPU(start: false) }
                measuring = false
                drainDeadline = now + 2_000_000_000
            }
            if drainDeadline != 0 && (inFlight == 0 || now > drainDeadline) { break }
        }
        for i in 0..<count where connections[i].isOpen { closeConnection(connections + i, early: false) }
        progress.store(outcome.responses, ordering: .relaxed)
        finished.store(true, ordering: .releasing)
    }

    private func snapshotCPU(start: Bool) {
        let selfNow = ProcessCPU.selfMicros()
        let nodeNow = nodePID.flatMap { ProcessCPU.processMicros(pid: $0) }
        if start {
            outcome.cpuSelfMicros = -selfNow
            outcome.cpuNodeMicros = nodeNow.map { -$0 }
            outcome.responsesBetweenCPUSnapshots = -outcome.responses
        } else {
            outcome.cpuSelfMicros += selfNow
            if let nodeNow, let started = outcome.cpuNodeMicros { outcome.cpuNodeMicros = started + nodeNow } else { outcome.cpuNodeMicros = nil }
            outcome.responsesBetweenCPUSnapshots += outcome.responses
        }
    }

    // MARK: Writing

    /// Stamps and writes the next round, unless the measured period is over.
    private func startRound(_ c: UnsafeMutablePointer<BenchConnection>) {
        let now = monotonicNanos()
        guard now < t1 else { return }
        let acked = signals?.ackedGeneration.load(ordering: .acquiring) ?? 0
        c.pointee.beginRound(now: now, acked: acked)
        inFlight += c.pointee.depth
        outcome.requestsSent += c.pointee.depth
        writeRound(c)
    }

    private func writeRound(_ c: UnsafeMutablePointer<BenchConnection>) {
        let total = c.pointee.roundBytes
        while c.pointee.written < total {
            let n = send(c.pointee.fd, c.pointee.frames + c.pointee.written, total - c.pointee.written, Int32(MSG_NOSIGNAL))
            if n > 0 {
                c.pointee.written += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if !c.pointee.wantsWrite { setWantsWrite(c, true) }
                return
            } else {
                fail("send: \(String(cString: strerror(errno)))")
                closeConnection(c, early: true)
                return
            }
        }
        if c.pointee.wantsWrite { setWantsWrite(c, false) }
    }

    private func setWantsWrite(_ c: UnsafeMutablePointer<BenchConnection>, _ wants: Bool) {
        c.pointee.wantsWrite = wants
        poller.modify(c.pointee.fd, interest: wants ? [.read, .write] : .read, token: UInt64(c - connections))
    }

    // MARK: Reading

    private func readable(_ c: UnsafeMutablePointer<BenchConnection>) {
        let space = c.pointee.inputCapacity - c.pointee.inputEnd
        let n = read(c.pointee.fd, c.pointee.input + c.pointee.inputEnd, space)
        if n <= 0 {
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return }
            if c.pointee.outstanding > 0 || monotonicNanos() < t1 {
                fail(n == 0 ? "the node closed a connection" : "read: \(String(cString: strerror(errno)))")
            }
            closeConnection(c, early: true)
            return
        }
        c.pointee.inputEnd += n
        let receivedAt = monotonicNanos()
        let lastSent = signals?.lastSentAt.load(ordering: .acquiring) ?? 0
        let nextPlanned = signals?.nextPlannedAt.load(ordering: .acquiring) ?? .max
        parsing: while c.pointee.inputEnd > c.pointee.inputStart {
            let buffered = UnsafeRawBufferPointer(start: c.pointee.input + c.pointee.inputStart,
                                                  count: c.pointee.inputEnd - c.pointee.inputStart)
            switch FrameParser.parse(buffered, maxPayload: FrameParser.absoluteMaxPayload) {
            case .needMore(let need):
                guard need <= c.pointee.inputCapacity else {
                    outcome.malformed += 1
                    fail("a reply of \(need) bytes does not fit the read buffer")
                    closeConnection(c, early: true)
                    return
                }
                break parsing
            case .reject(let error, _, _):
                outcome.malformed += 1
                fail("unframeable reply: \(error)")
                closeConnection(c, early: true)
                return
            case .frame(let header, let payload, let consumed):
                response(c, header, payload, receivedAt: receivedAt, lastSent: lastSent, nextPlanned: nextPlanned)
                c.pointee.inputStart += consumed
            }
        }
        // Keep the partial frame (if any) at the front: it is at most one reply long.
        let leftover = c.pointee.inputEnd - c.pointee.inputStart
        if leftover > 0 && c.pointee.inputStart > 0 {
            c.pointee.input.copyMemory(from: c.pointee.input + c.pointee.inputStart, byteCount: leftover)
        }
        c.pointee.inputStart = 0
        c.pointee.inputEnd = leftover
        if c.pointee.outstanding == 0 { startRound(c) }
    }

    @inline(__always)
    private func response(_ c: UnsafeMutablePointer<BenchConnection>, _ header: FrameHeader, _ payload: UnsafeRawBufferPointer,
                          receivedAt: UInt64, lastSent: UInt64, nextPlanned: UInt64) {
        outcome.responses += 1
        guard c.pointee.outstanding > 0 else {
            outcome.idMismatch += 1
            fail("unsolicited reply with request id \(header.requestID)")
            return
        }
        let id = c.pointee.expectedID
        c.pointee.expectedID = id &+ 1 == 0 ? 1 : id &+ 1
        c.pointee.outstanding -= 1
        inFlight -= 1
        if header.requestID != id {
            outcome.idMismatch += 1
            fail("reply carries request id \(header.requestID), expected \(id)")
        }
        let slot = Int(id & c.pointee.ringMask)
        switch checker.check(header, payload) {
        case .errorStatus(let status):
            outcome.errorStatus += 1
            if outcome.firstFailure == nil {
                let message = (try? ErrorReply.decode(payload: payload))?.message ?? "?"
                fail("\(Status(rawValue: status)?.name ?? "status \(status)"): \(message)")
            }
        case .malformed:
            outcome.malformed += 1
            fail("malformed reply of type 0x\(String(header.type, radix: 16)) and \(payload.count) payload bytes")
        case .ok(let generation, let version):
            table.record(generation: generation, version: version)
            if generation < c.pointee.lastGeneration {
                outcome.generationRegressions += 1
                fail("generation went back on a connection: \(c.pointee.lastGeneration) then \(generation)")
            } else {
                c.pointee.lastGeneration = generation
            }
            if generation < c.pointee.minGeneration[slot] {
                outcome.linearizabilityViolations += 1
                fail("request sent after the ack of generation \(c.pointee.minGeneration[slot]) served by generation \(generation)")
            }
        }
        if receivedAt >= t0 && receivedAt < t1 { outcome.completedInWindow += 1 }
        let sent = c.pointee.sentAt[slot]
        guard sent >= t0 && sent < t1 else { return }
        let latency = receivedAt &- sent
        histogram.record(nanos: latency)
        timeline?.record(offset: receivedAt &- t0, nanos: latency)
        if signals != nil {
            let near = SwapSignals.isNear(sentAt: sent, receivedAt: receivedAt, lastSent: lastSent, nextPlanned: nextPlanned, margin: nearMargin)
            (near ? nearSwaps : awayFromSwaps).record(nanos: latency)
        }
    }

    private func closeConnection(_ c: UnsafeMutablePointer<BenchConnection>, early: Bool) {
        if early { outcome.closedEarly += 1 }
        outcome.lost += c.pointee.outstanding
        inFlight -= c.pointee.outstanding
        c.pointee.outstanding = 0
        poller.remove(c.pointee.fd)
        Glibc.close(c.pointee.fd)
        c.pointee.isOpen = false
        openCount -= 1
    }

    /// Keeps the first failure's description for the report (failure path only: allocates).
    private func fail(_ description: @autoclosure () -> String) {
        if outcome.firstFailure == nil { outcome.firstFailure = description() }
    }
}
