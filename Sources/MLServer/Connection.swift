import Glibc
import MLEventCore
import MLWire

/// One client connection's buffers and lifecycle. Event-loop thread only: every field is
/// touched by the owning loop and nothing else, so nothing here is locked.
final class Connection {
    static let initialBufferSize = 16 * 1024

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

    /// Phase, role, timers and drain budget: the loop asks it what to do (ConnectionLifecycle).
    @exclusivity(unchecked) var lifecycle: ConnectionLifecycle
    /// What the loop's poller is currently asked to report for this fd.
    var registeredInterest: Poller.Interest = []

    init(fd: Int32, serial: UInt64, acceptedAt: UInt64, reserveOnly: Bool = false) {
        self.fd = fd
        self.serial = serial
        lifecycle = ConnectionLifecycle(acceptedAt: acceptedAt, reserveOnly: reserveOnly)
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
    var bufferedCount: Int { inputEnd - inputStart }

    /// Whether the loop decodes this connection's buffered requests now.
    var decodes: Bool { lifecycle.decodes(pendingOutput: pendingOutput) }
    var greeted: Bool { lifecycle.greeted }
    var role: ConnectionRole { lifecycle.role }
    var protocolVersion: UInt8 { lifecycle.protocolVersion }

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
