import Foundation
import Glibc

/// One query, one server: UDP first, the same question again over TCP when the UDP answer is
/// truncated (RFC 7766). Every wait is bounded: `timeout` per attempt, `attempts` UDP tries,
/// one TCP exchange under the same per-attempt timeout.
public struct DNSTransport: Sendable {
    public var server: DNSServerAddress
    public var timeout: Double
    public var attempts: Int

    public init(server: DNSServerAddress, timeout: Double = 2, attempts: Int = 3) {
        self.server = server
        self.timeout = timeout
        self.attempts = max(1, attempts)
    }

    /// The parsed reply to (`name`, `type`), or why there is none.
    public func exchange(name: String, type: DNSRecordType) throws(DNSError) -> DNSReply {
        var lastFailure: DNSError?
        for _ in 0..<attempts {
            let id = UInt16.random(in: 0...UInt16.max)
            let query = try DNSQuery.encode(id: id, name: name, type: type)
            do throws(DNSError) {
                guard let bytes = try udp(query, id: id) else { continue }
                let reply = try parse(bytes, id: id, name: name, type: type)
                guard reply.truncated else { return reply }
                let tcpID = UInt16.random(in: 0...UInt16.max)
                let tcpReply = try parse(try tcp(try DNSQuery.encode(id: tcpID, name: name, type: type)), id: tcpID, name: name, type: type)
                guard !tcpReply.truncated else { throw DNSError.malformed(server: server.description, reason: "TC bit set on a TCP reply") }
                return tcpReply
            } catch {
                // A refused or unreachable UDP port may be a moment's restart: try again, bounded.
                guard case .transport = error else { throw error }
                lastFailure = error
            }
        }
        throw lastFailure ?? .timeout(server: server.description, attempts: attempts, seconds: timeout)
    }

    private func parse(_ bytes: [UInt8], id: UInt16, name: String, type: DNSRecordType) throws(DNSError) -> DNSReply {
        do { return try DNSReplyParser.parse(bytes, id: id, name: name, type: type) } catch {
            throw .malformed(server: server.description, reason: error.reason)
        }
    }

    /// Sends once and waits up to `timeout` for a datagram with our id (strays are dropped:
    /// a late answer to an earlier attempt must not be read as this one). nil: no answer.
    private func udp(_ query: [UInt8], id: UInt16) throws(DNSError) -> [UInt8]? {
        let fd = try connectedSocket(type: Int32(SOCK_DGRAM.rawValue))
        defer { close(fd) }
        guard send(fd, query, query.count, Int32(MSG_NOSIGNAL)) == query.count else { throw failure("send") }
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65_535)
        while true {
            guard try wait(fd, events: Int16(POLLIN), until: deadline) else { return nil }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw failure("receive")
            }
            guard n >= 2, UInt16(buffer[0]) << 8 | UInt16(buffer[1]) == id else { continue }
            return Array(buffer[0..<n])
        }
    }

    /// RFC 1035 §4.2.2: a two-byte length before each message, both ways.
    private func tcp(_ query: [UInt8]) throws(DNSError) -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        let fd = try connectedSocket(type: Int32(SOCK_STREAM.rawValue), deadline: deadline)
        defer { close(fd) }
        let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
        var sent = 0
        while sent < framed.count {
            guard try wait(fd, events: Int16(POLLOUT), until: deadline) else { throw timedOut() }
            let n = framed[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; throw failure("TCP send") }
            sent += n
        }
        let header = try read(fd, count: 2, until: deadline)
        let length = Int(header[0]) << 8 | Int(header[1])
        guard length >= 12 else { throw .malformed(server: server.description, reason: "TCP length prefix \(length), shorter than a header") }
        return try read(fd, count: length, until: deadline)
    }

    private func read(_ fd: Int32, count: Int, until deadline: Date) throws(DNSError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            guard try wait(fd, events: Int16(POLLIN), until: deadline) else { throw timedOut() }
            let n = out[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; throw failure("TCP receive") }
            guard n > 0 else {
                throw .malformed(server: server.description, reason: "TCP connection closed after \(got) of \(count) bytes")
            }
            got += n
        }
        return out
    }

    /// A non-blocking socket connected to the server (UDP: immediate; TCP: within the deadline).
    private func connectedSocket(type: Int32, deadline: Date? = nil) throws(DNSError) -> Int32 {
        guard let family = DNSServerAddress.family(of: server.host) else {
            throw .badInput("DNS server \(server.host) is not a numeric address")
        }
        let fd = socket(family, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("socket") }
        var storage = sockaddr_storage()
        // Copies a sockaddr_in or sockaddr_in6 into `storage`; its size is the length connect takes.
        func store<Address>(_ address: inout Address) -> socklen_t {
            withUnsafeBytes(of: &address) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            return socklen_t(MemoryLayout<Address>.size)
        }
        let length: socklen_t
        if family == AF_INET {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = server.port.bigEndian
            inet_pton(AF_INET, server.host, &address.sin_addr)
            length = store(&address)
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = server.port.bigEndian
            inet_pton(AF_INET6, server.host, &address.sin6_addr)
            length = store(&address)
        }
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        if result != 0 {
            guard errno == EINPROGRESS, let deadline else { let e = failure("connect"); close(fd); throw e }
            let writable: Bool
            do throws(DNSError) { writable = try wait(fd, events: Int16(POLLOUT), until: deadline) } catch { close(fd); throw error }
            guard writable else { close(fd); throw timedOut() }
            var code: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &size)
            if code != 0 {
                close(fd)
                throw .transport(server: server.description, reason: "TCP connect: \(String(cString: strerror(code)))")
            }
        }
        return fd
    }

    /// poll() until `events` or the deadline; false on timeout.
    private func wait(_ fd: Int32, events: Int16, until deadline: Date) throws(DNSError) -> Bool {
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&entry, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
            if n < 0 { if errno == EINTR { continue }; throw failure("poll") }
            if n > 0 { return true }
        }
    }

    private func failure(_ call: String) -> DNSError {
        let code = errno
        if code == ECONNREFUSED { return .transport(server: server.description, reason: "connection refused (nothing listens there)") }
        return .transport(server: server.description, reason: "\(call): \(String(cString: strerror(code)))")
    }

    private func timedOut() -> DNSError { .timeout(server: server.description, attempts: 1, seconds: timeout) }
}
