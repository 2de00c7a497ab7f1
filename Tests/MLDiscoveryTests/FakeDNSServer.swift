import Foundation
import Glibc
@testable import MLDiscovery

/// A UDP "DNS server" on 127.0.0.1, port 0, that answers each query with whatever `answer`
/// builds from the query's bytes (nil: stay silent). It exists to send the replies a real
/// server never would: truncated, looping, overrunning. Stopped by `stop()` (or deinit).
final class FakeDNSServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    private let answer: @Sendable ([UInt8]) -> [[UInt8]]
    private let lock = NSLock()
    private var received = 0  // protected by lock
    private var stopped = false  // protected by lock
    private let done = DispatchSemaphore(value: 0)

    /// `answer` returns the datagrams to send back, in order (empty: silence).
    init(answer: @escaping @Sendable ([UInt8]) -> [[UInt8]]) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw NSError(domain: "FakeDNSServer", code: Int(errno)) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
        self.answer = answer
        Thread.detachNewThread { [self] in serve() }
    }

    deinit { stop() }

    var server: DNSServerAddress { DNSServerAddress(host: "127.0.0.1", port: port) }

    var queriesReceived: Int { lock.withLock { received } }

    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        done.wait()
        close(fd)
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 50)
            if lock.withLock({ stopped }) { break }
            guard ready > 0 else { continue }
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &peerLength) }
            }
            guard n > 0 else { continue }
            lock.withLock { received += 1 }
            for datagram in answer(Array(buffer[0..<n])) {
                _ = withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, datagram, datagram.count, 0, $0, peerLength) }
                }
            }
        }
        done.signal()
    }
}

/// Builds replies from a query's bytes: the header with the query's id and chosen flags and
/// counts, the question echoed, then the records given as raw bytes.
enum Reply {
    static let noError: UInt16 = 0x8180  // QR, RD, RA

    static func build(to query: [UInt8], flags: UInt16 = noError, id: UInt16? = nil, answers: Int, authority: Int = 0,
                      additional: Int = 0, body: [UInt8]) -> [UInt8] {
        let queryID = UInt16(query[0]) << 8 | UInt16(query[1])
        var out = u16(id ?? queryID) + u16(flags) + u16(1) + u16(UInt16(answers)) + u16(UInt16(authority)) + u16(UInt16(additional))
        out += query[12...]  // the question, as asked
        return out + body
    }

    /// One A record whose owner is a pointer to the question name (offset 12).
    static func aRecord(_ address: [UInt8], owner: [UInt8] = [0xC0, 12]) -> [UInt8] {
        owner + u16(1) + u16(1) + [0, 0, 0, 30] + u16(UInt16(address.count)) + address
    }

    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
}
