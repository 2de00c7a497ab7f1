/// An HTTP response as the router builds it. The server adds the framing headers
/// (`Content-Length`, `Connection`) when it serializes, so a route can never get them wrong.
public struct HTTPResponse: Sendable, Equatable {
    public var statusCode: Int
    /// Extra headers, e.g. `Allow`, `WWW-Authenticate`, `Content-Type`.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(statusCode: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.statusCode = statusCode
        self.headers = headers
        self.body = body
    }

    public init(statusCode: Int, headers: [(name: String, value: String)] = [], json: String) {
        self.init(statusCode: statusCode, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8))
        body.append(HTTPResponse.newline)
    }

    private static let newline = UInt8(ascii: "\n")

    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The bytes to send. `includeBody` is false for HEAD (same headers, no body, RFC 9110 §9.3.2).
    public func serialized(keepAlive: Bool, includeBody: Bool = true) -> [UInt8] {
        var head = "HTTP/1.1 \(statusCode) \(HTTPResponse.reasonPhrase(statusCode))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        head += keepAlive ? "\r\n" : "Connection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if includeBody { bytes += body }
        return bytes
    }

    public static func reasonPhrase(_ code: Int) -> String {
        switch code {
        case 100: "Continue"
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status \(code)"
        }
    }

    public static func == (a: HTTPResponse, b: HTTPResponse) -> Bool {
        a.statusCode == b.statusCode && a.body == b.body
            && a.headers.elementsEqual(b.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}
