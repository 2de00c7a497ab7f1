import Glibc

/// A minimal HTTP/1.1 POST over Glibc sockets, for the notification webhook only. Plain http:
/// there is no TLS in the toolchain without a dependency, and a local relay or the notify
/// command (curl) covers https. One request per connection (`Connection: close`); the answer is
/// read only as far as the status line and headers. Every wait is bounded by poll(2).
enum HTTPPost {
    struct Target: Equatable {
        var host: String
        var port: String
        var path: String
    }

    enum Failure: Error, Equatable, CustomStringConvertible {
        case unsupportedURL(String)
        case resolve(String)
        case connect(String)
        case timeout(String)
        case io(String)
        case badResponse(String)
        case status(Int, String)

        var description: String {
            switch self {
            case .unsupportedURL(let m), .resolve(let m), .connect(let m), .io(let m), .badResponse(let m): m
            case .timeout(let phase): "timed out \(phase)"
            case .status(let code, let line): "HTTP \(code) is not success (\(line))"
            }
        }
    }

    /// Splits "http://host[:port][/path]"; "[::1]:8080" style IPv6 literals are accepted.
    static func parse(_ url: String) -> Result<Target, Failure> {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") {
            return .failure(.unsupportedURL("https is not supported by the built-in webhook client (\(url)); use http:// or notify_command"))
        }
        guard lower.hasPrefix("http://") else { return .failure(.unsupportedURL("webhook URL must start with http://, got \(url)")) }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        var host = Substring(authority)
        var port = "80"
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = String(after.dropFirst()) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = String(authority[authority.index(after: colon)...])
        }
        guard !host.isEmpty, !host.contains("@"), let number = Int(port), (1...65535).contains(number) else {
            return .failure(.unsupportedURL("cannot parse host and port in webhook URL \(url)"))
        }
        return .success(Target(host: String(host), port: port, path: path))
    }

    /// Sends the request and returns the status code of a 2xx answer; anything else is a failure.
    static func post(url: String, body: [UInt8], contentType: String = "application/json",
                     connectTimeout: Double, readTimeout: Double) -> Result<Int, Failure> {
        let target: Target
        switch parse(url) {
        case .success(let t): target = t
        case .failure(let f): return .failure(f)
        }
        let fd: Int32
        switch connect(target, timeout: connectTimeout) {
        case .success(let s): fd = s
        case .failure(let f): return .failure(f)
        }
        defer { Glibc.close(fd) }
        let hostHeader = target.host.contains(":") ? "[\(target.host)]:\(target.port)" : "\(target.host):\(target.port)"
        let head = "POST \(target.path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: mlctl\r\n"
            + "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let deadline = Deadline(seconds: readTimeout)
        if let failure = sendAll(fd, Array(head.utf8) + body, deadline) { return .failure(failure) }
        return readStatus(fd, deadline)
    }

    private static func connect(_ target: Target, timeout: Double) -> Result<Int32, Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(target.host, target.port, &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(.resolve("cannot resolve \(target.host): \(String(cString: gai_strerror(rc)))"))
        }
        defer { freeaddrinfo(list) }
        let deadline = Deadline(seconds: timeout)
        var lastError = Failure.connect("no address for \(target.host)")
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let ai = node {
            node = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            guard fd >= 0 else { lastError = .connect("socket: \(errorText())"); continue }
            // Non-blocking from here on: every wait goes through poll with the deadline.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return .success(fd) }
            guard errno == EINPROGRESS else {
                lastError = .connect("cannot connect to \(target.host):\(target.port): \(errorText())")
                Glibc.close(fd)
                continue
            }
            guard wait(fd, Int16(POLLOUT), deadline) else {
                Glibc.close(fd)
                return .failure(.timeout("connecting to \(target.host):\(target.port)"))
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { return .success(fd) }
            lastError = .connect("cannot connect to \(target.host):\(target.port): \(String(cString: strerror(soError)))")
            Glibc.close(fd)
        }
        return .failure(lastError)
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8], _ deadline: Deadline) -> Failure? {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a peer that hung up must give EPIPE, not kill the controller.
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard wait(fd, Int16(POLLOUT), deadline) else { return .timeout("sending the request") }
                continue
            }
            return .io("send failed: \(errorText())")
        }
        return nil
    }

    private static func readStatus(_ fd: Int32, _ deadline: Deadline) -> Result<Int, Failure> {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let endOfHeaders: [UInt8] = Array("\r\n\r\n".utf8)
        // Headers past 16 KiB are not a webhook answer we need to understand.
        while received.count < 16_384, !contains(received, endOfHeaders) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { received += buffer[0..<n]; continue }
            if n == 0 { break }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                guard wait(fd, Int16(POLLIN), deadline) else { return .failure(.timeout("waiting for the response")) }
                continue
            }
            return .failure(.io("receive failed: \(errorText())"))
        }
        let firstLine = String(decoding: received.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let fields = firstLine.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/1."), let code = Int(fields[1]) else {
            return .failure(.badResponse(received.isEmpty ? "connection closed without a response" : "not an HTTP response: \(firstLine.prefix(80))"))
        }
        return (200..<300).contains(code) ? .success(code) : .failure(.status(code, firstLine))
    }

    /// Polls one event until the deadline; false on timeout or error.
    private static func wait(_ fd: Int32, _ events: Int16, _ deadline: Deadline) -> Bool {
        while true {
            let remaining = deadline.remainingMillis
            guard remaining > 0 else { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&entry, 1, remaining)
            if rc > 0 { return true }  // errors and hang-ups surface on the next send/recv
            if rc == 0 || errno != EINTR { return rc > 0 }
        }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}

/// A monotonic deadline for socket waits: wall-clock jumps must not stretch or cut a timeout.
struct Deadline {
    private let end: UInt64

    init(seconds: Double) {
        end = Deadline.nowNanos() + UInt64(max(0, seconds) * 1e9)
    }

    var remainingMillis: Int32 {
        let now = Deadline.nowNanos()
        guard now < end else { return 0 }
        return Int32(min(UInt64(Int32.max), (end - now + 999_999) / 1_000_000))
    }

    static func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
