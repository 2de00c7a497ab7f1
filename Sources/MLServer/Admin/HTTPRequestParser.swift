/// An incremental, strict HTTP/1.1 request parser (RFC 9112) for the admin port. Pure: bytes in,
/// requests or one error out; no sockets, no clocks, no Foundation.
///
/// Feed bytes with `append`, then call `next()` until it returns nil (needs more bytes). Pipelined
/// requests are returned one by one. After an error every later call throws the same error: the
/// stream has lost its framing and the caller must answer and close.
///
/// Strictness, and why (an admin port talks to curl, probes and Prometheus, never to odd clients;
/// being strict means no request-smuggling ambiguity if a proxy is ever put in front):
/// - Lines must end in CRLF. A bare LF or bare CR is 400 (RFC 9112 §2.2 allows tolerating bare LF;
///   we do not, so we never frame a message differently from a proxy that does not).
/// - Empty lines before the request line are skipped, within the request-line budget (§2.2).
/// - Request line: `METHOD SP origin-form SP HTTP/1.x`, single spaces. Absolute-form and
///   asterisk-form targets are 400 (no proxying here); other HTTP versions are 505.
/// - Header lines: `token ":" OWS value OWS`; whitespace before the colon, obs-fold and control
///   bytes in values are 400. HTTP/1.1 requires exactly one Host (§3.2).
/// - Bodies only with Content-Length. Transfer-Encoding (chunked) is 411 "send Content-Length";
///   both together is 400 (the classic smuggling vector). Differing duplicate lengths are 400.
/// - Limits: request line 8 KiB → 414, header block 16 KiB or > 64 headers → 431, body 64 KiB → 413
///   (checked on the declared length, before a byte of the body is buffered).
public struct HTTPRequestParser: Sendable {
    public struct Limits: Sendable, Equatable {
        public var requestLine: Int
        public var headerCount: Int
        public var headerBlock: Int
        public var body: Int

        public init(requestLine: Int = 8 * 1024, headerCount: Int = 64, headerBlock: Int = 16 * 1024, body: Int = 64 * 1024) {
            self.requestLine = requestLine
            self.headerCount = headerCount
            self.headerBlock = headerBlock
            self.body = body
        }

        /// The most bytes one request can occupy; a caller that stops reading beyond this bounds
        /// the parser's buffer.
        public var maxRequestBytes: Int { requestLine + 2 + headerBlock + body }
    }

    /// A parsed head waiting for its body.
    private struct Head: Sendable {
        var request: HTTPRequest
        var contentLength: Int
    }

    public let limits: Limits
    /// Unconsumed bytes; index 0 is the start of the current request.
    private var buffer: [UInt8] = []
    /// Next byte to examine while looking for the end of the head.
    private var scan = 0
    private var lineStart = 0
    /// Lines of the current head (request line first), CRLF excluded.
    private var lines: [Range<Int>] = []
    private var head: Head?
    private var failure: HTTPParseError?

    /// True while a complete head announced `Expect: 100-continue` and its body has not arrived;
    /// the server sends `100 Continue` once and calls `continueSent()`.
    public private(set) var expectsContinue = false

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Bytes received but not yet returned as part of a request.
    public var bufferedCount: Int { buffer.count }

    /// Whether part of a request has arrived (the slow-request timer runs while this is true).
    public var hasPartialRequest: Bool { !buffer.isEmpty || head != nil }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        guard failure == nil else { return }
        buffer.append(contentsOf: bytes)
    }

    public mutating func continueSent() { expectsContinue = false }

    /// The next complete request, nil if more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        if let failure { throw failure }
        do {
            if head == nil {
                guard let lines = try scanHead() else { return nil }
                head = try parseHead(lines)
                expectsContinue = head!.contentLength > 0 && expectsContinueHeader(head!.request)
            }
            guard let ready = head, buffer.count - scan >= ready.contentLength else { return nil }
            var request = ready.request
            request.body = Array(buffer[scan..<scan + ready.contentLength])
            // Compaction at request boundaries only: an O(remaining) copy per request, which for an
            // admin port is cheaper to reason about than a ring buffer.
            buffer.removeSubrange(0..<scan + ready.contentLength)
            scan = 0
            lineStart = 0
            self.lines.removeAll(keepingCapacity: true)
            head = nil
            expectsContinue = false
            return request
        } catch {
            failure = error
            buffer = []
            throw error
        }
    }

    // MARK: - Head framing

    /// Advances over newly arrived bytes; returns the head's lines once the empty line is seen.
    private mutating func scanHead() throws(HTTPParseError) -> [Range<Int>]? {
        while scan < buffer.count {
            let byte = buffer[scan]
            if byte == HTTPBytes.cr {
                guard scan + 1 < buffer.count else { return nil }  // wait for the byte after CR
                guard buffer[scan + 1] == HTTPBytes.lf else { throw .malformed("bare CR in request head") }
                let line = lineStart..<scan
                scan += 2
                lineStart = scan
                if lines.isEmpty {
                    // Leading empty lines are skipped but stay in the request-line budget.
                    if !line.isEmpty { lines.append(line) }
                } else if line.isEmpty {
                    return lines
                } else {
                    lines.append(line)
                    if lines.count - 1 > limits.headerCount {
                        throw HTTPParseError(431, "more than \(limits.headerCount) header fields")
                    }
                }
            } else if byte == HTTPBytes.lf {
                throw .malformed("bare LF line ending; lines must end in CRLF")
            } else {
                scan += 1
            }
            try checkHeadBudget()
        }
        try checkHeadBudget()
        return nil
    }

    private func checkHeadBudget() throws(HTTPParseError) {
        if let requestLine = lines.first {
            if scan - (requestLine.upperBound + 2) > limits.headerBlock {
                throw HTTPParseError(431, "header block larger than \(limits.headerBlock) bytes")
            }
        } else if scan > limits.requestLine + 2 {
            throw HTTPParseError(414, "request line longer than \(limits.requestLine) bytes")
        }
    }

    // MARK: - Head syntax and semantics

    private func parseHead(_ lines: [Range<Int>]) throws(HTTPParseError) -> Head {
        var request = try parseRequestLine(buffer[lines[0]])
        var hostCount = 0
        var contentLength: String?
        var transferEncoding = false
        var connectionTokens: [String] = []
        for range in lines.dropFirst() {
            let (name, value) = try parseHeaderLine(buffer[range])
            switch name {
            case "host": hostCount += 1
            case "content-length":
                guard contentLength == nil || contentLength == value else { throw .malformed("conflicting Content-Length values") }
                contentLength = value
            case "transfer-encoding": transferEncoding = true
            case "connection":
                connectionTokens += value.split(separator: ",").map { String($0).trimmingOWS().lowercased() }
            default: break
            }
            request.headers.append((name: name, value: value))
        }
        if request.version == .http11 && hostCount != 1 || hostCount > 1 {
            throw .malformed(hostCount == 0 ? "HTTP/1.1 request without Host" : "more than one Host header")
        }
        if transferEncoding {
            if contentLength != nil { throw .malformed("both Transfer-Encoding and Content-Length") }
            throw HTTPParseError(411, "Transfer-Encoding (chunked) is not supported; send the body with Content-Length")
        }
        var length = 0
        if let contentLength {
            let digits = Array(contentLength.utf8)
            guard !digits.isEmpty, digits.allSatisfy(HTTPBytes.isDigit) else { throw .malformed("Content-Length is not a number") }
            for digit in digits {
                length = length * 10 + Int(digit - HTTPBytes.zero)
                if length > limits.body { throw HTTPParseError(413, "body larger than \(limits.body) bytes") }
            }
        }
        if connectionTokens.contains("close") {
            request.keepAlive = false
        } else {
            request.keepAlive = request.version == .http11 || connectionTokens.contains("keep-alive")
        }
        if let expect = request.header("expect"), expect.lowercased() != "100-continue" {
            throw HTTPParseError(417, "unsupported Expect value")
        }
        return Head(request: request, contentLength: length)
    }

    private func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequest {
        let parts = line.split(separator: HTTPBytes.space, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw .malformed("request line must be METHOD SP target SP HTTP-version")
        }
        guard parts[0].allSatisfy(HTTPBytes.isTokenByte) else { throw .malformed("method is not a token") }
        guard parts[1].first == HTTPBytes.slash, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .malformed("request target must be an origin-form path of visible ASCII")
        }
        let version: HTTPRequest.Version
        switch Array(parts[2]) {
        case Array("HTTP/1.1".utf8): version = .http11
        case Array("HTTP/1.0".utf8): version = .http10
        case let other where other.count == 8 && other.starts(with: "HTTP/".utf8)
            && HTTPBytes.isDigit(other[5]) && other[6] == HTTPBytes.dot && HTTPBytes.isDigit(other[7]):
            throw HTTPParseError(505, "only HTTP/1.1 and HTTP/1.0 are supported")
        default: throw .malformed("malformed HTTP version")
        }
        return HTTPRequest(method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
                           version: version, keepAlive: version == .http11)
    }

    private func parseHeaderLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (String, String) {
        guard let first = line.first, first != HTTPBytes.space, first != HTTPBytes.tab else {
            throw .malformed("obsolete header line folding")
        }
        guard let colon = line.firstIndex(of: HTTPBytes.colon), colon > line.startIndex else { throw .malformed("header line without a name") }
        let name = line[..<colon]
        guard name.allSatisfy(HTTPBytes.isTokenByte) else { throw .malformed("header name is not a token") }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == HTTPBytes.space || byte == HTTPBytes.tab { value = value.dropFirst() }
        while let byte = value.last, byte == HTTPBytes.space || byte == HTTPBytes.tab { value = value.dropLast() }
        guard value.allSatisfy({ $0 == HTTPBytes.tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw .malformed("control byte in header value")
        }
        return (String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self))
    }

    private func expectsContinueHeader(_ request: HTTPRequest) -> Bool {
        request.header("expect")?.lowercased() == "100-continue"
    }
}

/// Byte constants and classes used by the parser.
private enum HTTPBytes {
    static let cr: UInt8 = 13, lf: UInt8 = 10, space: UInt8 = 32, tab: UInt8 = 9
    static let colon = UInt8(ascii: ":"), slash = UInt8(ascii: "/"), dot = UInt8(ascii: "."), zero = UInt8(ascii: "0")

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// RFC 9110 tchar: the bytes allowed in methods and header names.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), 0x30...0x39: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }
}

extension String {
    /// Drops HTTP optional whitespace (SP, HTAB) at both ends.
    fileprivate func trimmingOWS() -> String {
        var scalars = Substring(self)
        while let c = scalars.first, c == " " || c == "\t" { scalars = scalars.dropFirst() }
        while let c = scalars.last, c == " " || c == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
