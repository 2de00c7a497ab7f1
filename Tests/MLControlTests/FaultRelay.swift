import Foundation
import Glibc
import MLClient
import MLWire

/// A TCP relay in front of one node that forwards whole frames both ways and acts on the n-th
/// request of a given type (counted over all connections): run something before forwarding it
/// (SIGSTOP the node, change it behind the controller's back), and/or swallow its reply and run
/// something instead (SIGKILL the node, restart it), then cut the connection. Faults land at an
/// exact protocol instant, not after a sleep. The relay's port is the node's stable address:
/// `upstream` can be repointed at a restarted node.
struct RelayFailure: Error {}

final class FaultRelay: @unchecked Sendable {
    struct Fault {
        var type: MessageType
        var nth: Int
        /// Runs before the request is forwarded.
        var before: (() -> Void)?
        /// When set, the request's reply is not forwarded: this runs instead, and the client's
        /// connection is closed.
        var insteadOfReply: (() -> Void)?
    }

    private let lock = NSLock()
    private var upstreamPort: UInt16  // protected by lock
    private var faults: [Fault] = []  // protected by lock
    private var seen: [UInt8: Int] = [:]  // protected by lock
    private var stopped = false  // protected by lock
    private let listener: Int32
    let port: UInt16

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    init(upstream: Endpoint) throws {
        upstreamPort = upstream.port
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw RelayFailure() }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func repoint(_ upstream: Endpoint) {
        lock.lock()
        upstreamPort = upstream.port
        lock.unlock()
    }

    func add(_ fault: Fault) {
        lock.lock()
        faults.append(fault)
        lock.unlock()
    }

    /// How many requests of `type` have passed (tests poll this).
    func count(_ type: MessageType) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return seen[type.rawValue] ?? 0
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                lock.lock()
                let done = stopped
                lock.unlock()
                if done { return }
                continue
            }
            lock.lock()
            let target = upstreamPort
            lock.unlock()
            let server = Self.connect(port: target)
            guard server >= 0 else {
                close(client)  // the node is down: the client sees the connection closed
                continue
            }
            let pair = Pair(client: client, server: server)
            Thread { [self] in forwardRequests(pair) }.start()
            Thread { [self] in forwardReplies(pair) }.start()
        }
    }

    /// One relayed connection. `armed` holds the action that replaces the next reply.
    private final class Pair: @unchecked Sendable {
        let client: Int32
        let server: Int32
        let lock = NSLock()
        var armed: (() -> Void)?  // protected by lock
        var finished = 0  // protected by lock
        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }

        /// Each direction's thread calls this once when it ends: the first wakes the other (shutdown),
        /// the second closes the descriptors, so neither is closed while a thread still reads it.
        func closeBoth() {
            lock.lock()
            defer { lock.unlock() }
            finished += 1
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(server, Int32(SHUT_RDWR))
            if finished == 2 {
                close(client)
                close(server)
            }
        }
    }

    private func forwardRequests(_ pair: Pair) {
        defer { pair.closeBoth() }
        while let frame = Self.readFrame(pair.client) {
            let type = frame[3]
            lock.lock()
            seen[type, default: 0] += 1
            let n = seen[type]!
            let fault = faults.first { $0.type.rawValue == type && $0.nth == n }
            lock.unlock()
            if let fault {
                fault.before?()
                if let instead = fault.insteadOfReply {
                    pair.lock.lock()
                    pair.armed = instead
                    pair.lock.unlock()
                }
            }
            guard Self.writeAll(pair.server, frame) else { return }
        }
    }

    private func forwardReplies(_ pair: Pair) {
        defer { pair.closeBoth() }
        while let frame = Self.readFrame(pair.server) {
            pair.lock.lock()
            let instead = pair.armed
            pair.armed = nil
            pair.lock.unlock()
            if let instead {
                instead()
                return
            }
            guard Self.writeAll(pair.client, frame) else { return }
        }
    }

    private static func connect(port: UInt16) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    private static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            got += n
        }
        return bytes
    }

    private static func readFrame(_ fd: Int32) -> [UInt8]? {
        guard let header = readExactly(fd, FrameHeader.size) else { return nil }
        let length = Int(header[12]) | Int(header[13]) << 8 | Int(header[14]) << 16 | Int(header[15]) << 24
        guard length <= 16 << 20 else { return nil }
        if length == 0 { return header }
        guard let payload = readExactly(fd, length) else { return nil }
        return header + payload
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }
}
