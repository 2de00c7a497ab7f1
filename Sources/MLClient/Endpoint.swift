/// A node address, "host:port". Only numeric hosts and "localhost" are accepted: the tools talk
/// to nodes by address (IPv4, or "[IPv6]:port"); names are found by `--nodes dns:`/`srv:`
/// discovery (MLDiscovery), never by the system resolver.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = port
    }

    /// Parses "host:port" or ":port" / "port" (host 127.0.0.1).
    public init?(_ text: String) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()), port > 0 else { return nil }
            self.init(host: String(text[text.index(after: text.startIndex)..<close]), port: port)
            return
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let port = UInt16(parts[0]), port > 0 else { return nil }
            self.init(host: "127.0.0.1", port: port)
        case 2:
            guard let port = UInt16(parts[1]), port > 0 else { return nil }
            self.init(host: parts[0].isEmpty ? "127.0.0.1" : String(parts[0]), port: port)
        default:
            return nil
        }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
