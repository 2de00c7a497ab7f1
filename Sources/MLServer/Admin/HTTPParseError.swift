/// Why a request's bytes were refused, and the HTTP status to answer with. After any of these the
/// byte stream can no longer be trusted (we do not know where the next request starts), so the
/// server answers once with `Connection: close` and closes: the one protocol-error path.
public struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 400, 411, 413, 414, 431, 501 or 505.
    public var statusCode: Int
    /// Short, for the operator reading the response body; never echoes more than a few bytes.
    public var message: String

    public init(_ statusCode: Int, _ message: String) {
        self.statusCode = statusCode
        self.message = message
    }

    public var description: String { "\(statusCode) \(message)" }

    static func malformed(_ message: String) -> HTTPParseError { HTTPParseError(400, message) }
}
