/// One complete, validated HTTP/1.x request as `HTTPRequestParser` hands it over.
///
/// Header names are stored lower-cased (HTTP names are case-insensitive), values with the
/// optional whitespace around them removed. Values are decoded as UTF-8 with replacement: the
/// admin routes only ever compare them with ASCII.
public struct HTTPRequest: Sendable, Equatable {
    public enum Version: Sendable, Equatable {
        case http10
        case http11

        public var text: String { self == .http10 ? "HTTP/1.0" : "HTTP/1.1" }
    }

    public var method: String
    /// The request target exactly as sent (origin-form: starts with "/").
    public var target: String
    public var version: Version
    /// In arrival order; names lower-cased.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool

    public init(method: String, target: String, version: Version = .http11,
                headers: [(name: String, value: String)] = [], body: [UInt8] = [], keepAlive: Bool = true) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers.map { (name: $0.name.lowercased(), value: $0.value) }
        self.body = body
        self.keepAlive = keepAlive
    }

    /// The target without its query string.
    public var path: Substring {
        target.firstIndex(of: "?").map { target[..<$0] } ?? target[...]
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    public static func == (a: HTTPRequest, b: HTTPRequest) -> Bool {
        a.method == b.method && a.target == b.target && a.version == b.version && a.body == b.body
            && a.keepAlive == b.keepAlive && a.headers.elementsEqual(b.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}
