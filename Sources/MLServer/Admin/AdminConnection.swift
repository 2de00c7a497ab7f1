/// One admin connection's state. Poll thread only: no field is touched from anywhere else.
///
/// Lifecycle:
/// ```
///  reading ──POST parsed──▶ awaitingBackend ──answer──▶ reading (keep-alive)
///     │                                        └──────▶ closingAfterWrite (Connection: close)
///     ├─ Connection: close / parse error / 408 ──▶ closingAfterWrite ──flushed──▶ lingering ──EOF or timeout──▶ closed
///     └─ idle timeout, peer EOF with nothing to answer, write stall, I/O error ──▶ closed
/// ```
/// Lingering (shut down our side, read and discard for a moment) is there so that a client whose
/// request we refused mid-body still receives the error: closing with unread bytes in the kernel
/// buffer makes TCP send RST, which can destroy the response before the client reads it.
final class AdminConnection {
    enum Phase: Equatable {
        case reading
        case awaitingBackend
        case closingAfterWrite
        case lingering(until: UInt64)
    }

    let id: UInt64
    let fd: Int32
    var phase: Phase = .reading
    var parser: HTTPRequestParser
    /// Bytes to send; `output[outputSent...]` is still pending. Bounded by the server: it stops
    /// parsing requests (and so reading) while more than `maxOutputBytes` are pending.
    var output: [UInt8] = []
    var outputSent = 0
    /// Monotonic nanos when the request being received began; nil between requests.
    var requestStartedAt: UInt64?
    /// Last time a byte arrived or a request completed (the idle timer).
    var lastActivity: UInt64
    /// When pending output last made progress (the write-stall timer).
    var lastWriteProgress: UInt64
    /// The peer sent FIN: answer what is complete, then close.
    var peerClosed = false
    /// Set once the descriptor is closed; the poll loop drops its last reference soon after.
    var closed = false

    init(id: UInt64, fd: Int32, limits: HTTPRequestParser.Limits, now: UInt64) {
        self.id = id
        self.fd = fd
        self.parser = HTTPRequestParser(limits: limits)
        self.lastActivity = now
        self.lastWriteProgress = now
        // The request deadline runs from accept, not from the first byte: a connection that
        // never sends anything is closed (408) like one that sends too slowly.
        self.requestStartedAt = now
    }

    /// Nothing received, nothing in flight, nothing to send: closing it loses no request.
    var isIdle: Bool {
        phase == .reading && pendingOutput == 0 && !parser.hasPartialRequest
    }

    var pendingOutput: Int { output.count - outputSent }

    func enqueue(_ bytes: [UInt8], now: UInt64) {
        if pendingOutput == 0 {
            output.removeAll(keepingCapacity: true)
            outputSent = 0
            lastWriteProgress = now
        }
        output += bytes
    }

    /// Marks a request as complete: the slow-request timer restarts only if more bytes are already
    /// buffered (a pipelined request has begun).
    func requestCompleted(now: UInt64) {
        requestStartedAt = nil
        lastActivity = now
    }

    /// Starts the slow-request timer when the first byte of a request is buffered.
    func noteProgress(now: UInt64) {
        if parser.hasPartialRequest {
            if requestStartedAt == nil { requestStartedAt = now }
        } else {
            requestStartedAt = nil
        }
    }

    /// Whether to ask poll for readability. Not while a backend call is in flight (responses must
    /// stay in order), nor while output or the parser buffer is at its bound (back-pressure: a
    /// client that pipelines without reading answers stops being read).
    func wantsRead(maxOutput: Int) -> Bool {
        switch phase {
        case .reading: !peerClosed && pendingOutput < maxOutput && parser.bufferedCount < parser.limits.maxRequestBytes
        case .lingering: true
        case .awaitingBackend, .closingAfterWrite: false
        }
    }
}
