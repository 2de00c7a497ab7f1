import Foundation
import Glibc

/// A one-shot HTTP listener on 127.0.0.1, port chosen by the kernel, for webhook tests. It
/// accepts one connection on a background thread, reads one request (headers + Content-Length
/// body), answers with `status`, and closes. Every wait is bounded so a broken client under
/// test cannot hang the suite.
final class LoopbackHTTPServer: @unchecked Sendable {
    struct Request {
        var requestLine: String
        var headers: [String: String]
        var body: Data
    }

    let port: UInt16
    private let fd: Int32
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var captured: Request?  // protected by lock

    /// - Parameter respond: false leaves the connection unanswered (for client timeouts).
    init(status: Int = 200, respond: Bool = true) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 4) == 0 else { Glibc.close(fd); throw POSIXError(.EADDRINUSE) }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
        guard respond else { return }  // connections then sit in the backlog, never answered
        Thread.detachNewThread { [self] in serveOne(status: status) }
    }

    deinit { Glibc.close(fd) }

    var url: String { "http://127.0.0.1:\(port)/hooks/ml-alerts" }

    /// The request received, once the server has answered it (nil after `timeout` seconds).
    func request(timeout: Double = 5) -> Request? {
        guard done.wait(timeout: .now() + timeout) == .success else { return nil }
        return lock.withLock { captured }
    }

    private func serveOne(status: Int) {
        defer { done.signal() }
        var listener = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&listener, 1, 5_000) == 1 else { return }
        let client = accept(fd, nil, nil)
        guard client >= 0 else { return }
        defer { Glibc.close(client) }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while parse(received) == nil {
            var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 5_000) == 1 else { return }
            let n = recv(client, &buffer, buffer.count, 0)
            guard n > 0 else { return }
            received.append(contentsOf: buffer[0..<n])
        }
        lock.withLock { captured = parse(received) }
        let reason = status == 200 ? "OK" : "Error"
        let answer = Array("HTTP/1.1 \(status) \(reason)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        _ = send(client, answer, answer.count, Int32(MSG_NOSIGNAL))
    }

    /// The request once headers and the whole body have arrived, else nil.
    private func parse(_ data: Data) -> Request? {
        guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let lines = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let body = data[end.upperBound...]
        guard body.count >= length else { return nil }
        return Request(requestLine: lines[0], headers: headers, body: Data(body.prefix(length)))
    }
}
