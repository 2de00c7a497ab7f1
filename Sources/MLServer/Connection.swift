import Glibc
import MLWire

/// One client connection's buffers and protocol state. Event-loop thread only: every field is
/// touched by the owning loop and nothing else, so nothing here is locked.
final class Connection {
    static let initialBufferSize = 16 * 1024
    /// Above this many unsent response bytes the loop stops decoding this connection's requests
    /// until the peer reads: a client that never reads cannot make the node buffer without bound.
    static let outputHighWater = 256 * 1024

    let fd: Int32
    /// Distinguishes this connection from a later one that reuses the same fd.
    let serial: UInt64

    // Input: bytes [inputStart, inputEnd) are received and not yet consumed.
    @exclusivity(unchecked) private(set) var input: UnsafeMutableRawPointer
    @exclusivity(unchecked) private(set) var inputCapacity: Int
    @exclusivity(unchecked) var inputStart = 0
    @exclusivity(unchecked) var inputEnd = 0

    // Output: bytes [outputSent, outputEnd) are encoded and not yet written.
    @exclusivity(unchecked) private(set) var output: UnsafeMutableRawPointer
    @exclusivity(unchecked) private(set) var outputCapacity: Int
    @exclusivity(unchecked) var outputEnd = 0
    @exclusivity(unchecked) var outputSent = 0

    var greeted = false
    var role = ConnectionRole.data
    /// The protocol version HELLO agreed on; 1 until then (errors before HELLO use v1 layouts).
    var protocolVersion: UInt8 = 1
    /// A load is running on the control thread; later requests wait so replies stay in order.
    var awaitingControl = false
    /// The stream can no longer be trusted (or the peer is gone): flush, then close.
    var closeAfterFlush = false
    var peerClosed = false
    /// Became a controller: stop decoding here; the loop hands it to the control loop.
    var migrating = false
    /// The epoll events currently registered for this fd.
    var registeredEvents: UInt32 = 0

    // Timers (monotonic nanos; see EventLoop.sweep).
    var acceptedAt: UInt64 = 0
    /// Last time bytes arrived or a reply was sent in full.
    var lastActivity: UInt64 = 0
    /// When the partial frame now buffered was first seen; 0 when none is.
    var partialSince: UInt64 = 0
    /// Accepted into the controller reserve: only a controller HELLO is accepted.
    var reserveOnly = false

    // Drain (SIGTERM): answer what had arrived, then half-close and wait for the peer.
    /// Bytes still to read that had arrived before the drain began; -1 when not draining.
    var drainBudget = -1
    /// Our side is shut down (SHUT_WR) after the last reply: input is now read and discarded.
    var halfClosed = false

    init(fd: Int32, serial: UInt64) {
        self.fd = fd
        self.serial = serial
        input = .allocate(byteCount: Connection.initialBufferSize, alignment: 16)
        inputCapacity = Connection.initialBufferSize
        output = .allocate(byteCount: Connection.initialBufferSize, alignment: 16)
        outputCapacity = Connection.initialBufferSize
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }

    var bufferedInput: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: input + inputStart, count: inputEnd - inputStart)
    }

    var pendingOutput: Int { outputEnd - outputSent }

    /// Whether the loop should stop decoding requests from this connection for now.
    var paused: Bool { awaitingControl || closeAfterFlush || migrating || pendingOutput > Connection.outputHighWater }

    /// Room to read into: moves unconsumed bytes to the front when that frees space.
    func readSpace() -> (UnsafeMutableRawPointer, Int) {
        if inputStart == inputEnd {
            inputStart = 0
            inputEnd = 0
        } else if inputEnd == inputCapacity && inputStart > 0 {
            (input).copyMemory(from: input + inputStart, byteCount: inputEnd - inputStart)
            inputEnd -= inputStart
            inputStart = 0
        }
        return (input + inputEnd, inputCapacity - inputEnd)
    }

    /// Makes room for a frame of `total` bytes starting at `inputStart`. The frame parser has
    /// already checked the declared length against the limit, so `total` is bounded.
    func ensureInputCapacity(_ total: Int) {
        if inputStart > 0 {
            input.copyMemory(from: input + inputStart, byteCount: inputEnd - inputStart)
            inputEnd -= inputStart
            inputStart = 0
        }
        guard total > inputCapacity else { return }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 16)
        grown.copyMemory(from: input, byteCount: inputEnd)
        input.deallocate()
        input = grown
        inputCapacity = total
    }

    /// A pointer where up to `count` bytes of response may be written; `commitOutput` them after.
    @inline(__always)
    func reserveOutput(_ count: Int) -> UnsafeMutableRawPointer {
        if outputEnd + count > outputCapacity { growOutput(count) }
        return output + outputEnd
    }

    @inline(__always)
    func commitOutput(_ count: Int) { outputEnd += count }

    private func growOutput(_ count: Int) {
        if outputSent > 0 {
            output.copyMemory(from: output + outputSent, byteCount: outputEnd - outputSent)
            outputEnd -= outputSent
            outputSent = 0
        }
        guard outputEnd + count > outputCapacity else { return }
        var capacity = outputCapacity * 2
        while capacity < outputEnd + count { capacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        grown.copyMemory(from: output, byteCount: outputEnd)
        output.deallocate()
        output = grown
        outputCapacity = capacity
    }

    /// Appends a whole encoded message.
    func append<M: WireMessage>(_ message: M, requestID: UInt32, status: Status = .ok) {
        let size = FrameHeader.size + message.payloadSize
        let base = reserveOutput(size)
        commitOutput(message.writeFrame(to: base, requestID: requestID, status: status))
    }

    func append(bytes: [UInt8]) {
        let base = reserveOutput(bytes.count)
        bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        commitOutput(bytes.count)
    }

    /// Writes what is pending. Returns false when the connection failed and must be closed.
    func flush() -> Bool {
        while outputSent < outputEnd {
            let n = send(fd, output + outputSent, outputEnd - outputSent, Int32(MSG_NOSIGNAL))
            if n > 0 {
                outputSent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return true
            } else {
                return false
            }
        }
        outputSent = 0
        outputEnd = 0
        return true
    }
}
