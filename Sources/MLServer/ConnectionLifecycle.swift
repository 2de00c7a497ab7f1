import MLWire

/// A binary connection's lifecycle, apart from its socket and buffers: the phase it is in, what
/// the loop may do with it next, and when its timers run out. The event loop reports what
/// happened (a HELLO accepted, bytes read, end of input, a drain, an I/O turn finished) and
/// performs the action it gets back. Nothing here touches a descriptor, so every transition is
/// tested without one (ConnectionLifecycleTests), as Hummingbird's `HTTPConnectionStateHandler`.
///
///     greeting ──HELLO──▶ serving ◀──reply── awaitingControl      (a LOAD_STANDBY runs)
///        │  └─controller HELLO on a data loop─▶ migrating ──handed off──▶ serving
///        └──────────┴── error, timeout, end of input ──▶ closing ──flushed──▶ closed
///     drain: greeting/serving, all that had arrived answered ──▶ halfClosed ──acknowledged──▶ closed
struct ConnectionLifecycle {
    enum Phase: Equatable {
        /// Accepted: only what the protocol allows before HELLO is answered.
        case greeting
        /// HELLO accepted: requests are decoded and answered in order.
        case serving
        /// A load runs on the load thread: later requests wait, so replies stay in order.
        case awaitingControl
        /// A controller's HELLO was accepted on a data loop: stop decoding; the loop hands the
        /// connection, with the frames after the HELLO unread, to the control loop.
        case migrating
        /// The stream can no longer be trusted, or the peer is gone: flush, then close.
        case closing
        /// Drain: every reply sent and our side shut down (SHUT_WR). Input is read and
        /// discarded until the peer has acknowledged all of it, then the connection closes.
        case halfClosed
    }

    /// What the loop does at the end of an I/O turn (`afterIO`).
    enum Action: Equatable {
        /// Keep the connection; ask epoll for input and/or output readiness.
        case watch(read: Bool, write: Bool)
        /// Move it to the control loop.
        case handOff
        /// Drop the partial frame left, shut down our side, then read only to discard.
        case halfClose
        case close
    }

    enum Timeout: String, Equatable {
        case hello, frame, idle
    }

    struct Limits: Equatable {
        var helloNanos: UInt64
        var frameNanos: UInt64
        /// 0: data connections never time out for idleness.
        var idleNanos: UInt64
    }

    /// Above this many unsent response bytes the loop stops decoding this connection's requests
    /// until the peer reads: a client that never reads cannot make the node buffer without bound.
    static let outputHighWater = 256 * 1024

    private(set) var phase = Phase.greeting
    /// Accepted into the controller reserve: only a controller HELLO is accepted.
    let reserveOnly: Bool
    /// HELLO was accepted; stays true in every later phase.
    private(set) var greeted = false
    private(set) var role = ConnectionRole.data
    /// The protocol version HELLO agreed on; 1 until then (errors before HELLO use v1 layouts).
    private(set) var protocolVersion: UInt8 = 1
    /// The peer's side of the stream has ended (a read returned 0).
    private(set) var peerClosed = false
    /// Drain: bytes that had arrived before it began and are still unread; nil when not draining.
    private(set) var drainBudget: Int?

    // Timers, in monotonic nanoseconds.
    private(set) var acceptedAt: UInt64
    /// Last time the loop read from the connection.
    private(set) var lastActivity: UInt64
    /// When the partial frame now buffered was first seen; 0 when none is.
    private(set) var partialSince: UInt64 = 0

    init(acceptedAt: UInt64, reserveOnly: Bool = false) {
        self.acceptedAt = acceptedAt
        self.lastActivity = acceptedAt
        self.reserveOnly = reserveOnly
    }

    // MARK: Questions the loop asks

    /// Whether buffered requests are decoded now: not while a reply is awaited, the connection
    /// is leaving or closing, or the peer has not read what it was sent.
    @inline(__always)
    func decodes(pendingOutput: Int) -> Bool {
        (phase == .greeting || phase == .serving) && pendingOutput <= Self.outputHighWater
    }

    /// Whether the loop should read: never while decoding waits (reading would only buffer),
    /// nor when a drain has read everything that had arrived before it; always once half-closed,
    /// to discard.
    func wantsInput(pendingOutput: Int) -> Bool {
        if phase == .halfClosed { return true }
        return decodes(pendingOutput: pendingOutput) && drainBudget != 0
    }

    /// How many bytes the next read may take: during a drain, only what had arrived before it.
    func readLimit(room: Int) -> Int {
        drainBudget.map { min(room, $0) } ?? room
    }

    /// Which timer has run out, if any. Only greeting and serving connections have timers: the
    /// other phases end on their own (a reply, a hand-off, a flush, the drain deadline).
    func expiredTimer(now: UInt64, buffered: Int, pendingOutput: Int, limits: Limits) -> Timeout? {
        guard phase == .greeting || phase == .serving else { return nil }
        if !greeted && now &- acceptedAt > limits.helloNanos { return .hello }
        if partialSince != 0 && now &- partialSince > limits.frameNanos { return .frame }
        // A controller may sit idle for hours between swaps; a data connection may not.
        if greeted && role != .controller && limits.idleNanos > 0 && buffered == 0 && pendingOutput == 0
            && now &- lastActivity > limits.idleNanos {
            return .idle
        }
        return nil
    }

    /// Closed with replies unsent, or before its drain completed (counted at exit).
    func isCut(pendingOutput: Int) -> Bool {
        pendingOutput > 0 || phase != .halfClosed
    }

    // MARK: Events

    /// HELLO accepted. A controller moves to the control loop when there is one (`handOff`).
    mutating func greet(role: ConnectionRole, version: UInt8, handOff: Bool) {
        guard phase == .greeting else { return }
        greeted = true
        self.role = role
        protocolVersion = version
        phase = role == .controller && handOff ? .migrating : .serving
    }

    /// The control loop has taken the connection over.
    mutating func handedOff() {
        if phase == .migrating { phase = .serving }
    }

    /// A LOAD_STANDBY went to the load thread.
    mutating func awaitControl() {
        if phase == .serving { phase = .awaitingControl }
    }

    /// The load's reply is in the output buffer: decoding resumes.
    mutating func controlReplied() {
        if phase == .awaitingControl { phase = .serving }
    }

    /// Flush what is pending, then close: a refusal that ends the connection, a broken stream,
    /// a timeout. A half-closed connection is already on its way out and stays so.
    mutating func closeAfterFlush() {
        if phase != .halfClosed { phase = .closing }
    }

    /// `count` bytes were read.
    mutating func received(_ count: Int) {
        if let budget = drainBudget { drainBudget = max(0, budget - count) }
    }

    /// A read turn at `now`, whether or not it found bytes: the idle timer starts again.
    mutating func touched(now: UInt64) {
        lastActivity = now
    }

    /// A read returned 0: no more input will come.
    mutating func peerEnded() {
        peerClosed = true
        if drainBudget != nil { drainBudget = 0 }
    }

    /// After decoding: starts the partial-frame timer on a frame begun and not finished, and
    /// clears it once none is buffered (or decoding waits, which is not the peer's delay).
    mutating func notePartialFrame(buffered: Int, pendingOutput: Int, now: UInt64) {
        if decodes(pendingOutput: pendingOutput) && buffered > 0 {
            if partialSince == 0 { partialSince = now }
        } else {
            partialSince = 0
        }
    }

    /// After decoding, with the peer's side ended: the connection closes once flushed. Returns
    /// the bytes of the incomplete frame left over (0 if none), which the loop reports as
    /// truncated; nil when the input has not ended or the connection is not serving.
    mutating func endOfInput(buffered: Int) -> Int? {
        guard peerClosed, phase == .greeting || phase == .serving else { return nil }
        phase = .closing
        return buffered
    }

    /// The node began draining: answer exactly the `unread` bytes already in the socket.
    mutating func beginDrain(unread: Int) {
        if drainBudget == nil { drainBudget = max(0, unread) }
    }

    /// The end of every I/O turn, after the output was flushed as far as the socket took it.
    mutating func afterIO(pendingOutput: Int) -> Action {
        switch phase {
        case .migrating:
            return .handOff
        case .greeting, .serving:
            if drainBudget == 0 && pendingOutput == 0 {
                // Everything that had arrived is answered; whatever remains can never complete.
                if peerClosed {
                    phase = .closing
                    return .close
                }
                phase = .halfClosed
                return .halfClose
            }
        case .closing:
            if pendingOutput == 0 { return .close }
        case .awaitingControl, .halfClosed:
            break
        }
        return .watch(read: wantsInput(pendingOutput: pendingOutput), write: pendingOutput > 0)
    }
}

extension ConnectionLifecycle.Limits {
    /// The node's `--hello-timeout`, `--frame-timeout` and `--idle-timeout`.
    init(_ config: ServerConfig) {
        self.init(helloNanos: config.helloTimeoutNanos, frameNanos: config.frameTimeoutNanos, idleNanos: config.idleTimeoutNanos)
    }
}
