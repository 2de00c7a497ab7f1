import Foundation
import Glibc

/// Where queries go: a numeric IPv4 or IPv6 address and a port (53 unless given).
/// Accepts "10.0.0.2", "10.0.0.2:5353", "fd00::2", "[fd00::2]:5353".
public struct DNSServerAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16 = 53) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(DNSError) {
        let bad = DNSError.badInput("DNS server \(text) is not ADDR[:PORT] with a numeric IPv4 or [IPv6] address")
        var host = text
        var port: UInt16 = 53
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()), p > 0 else { throw bad }
                port = p
            }
        } else if text.filter({ $0 == ":" }).count == 1 {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let p = UInt16(parts[1]), p > 0 else { throw bad }
            host = String(parts[0])
            port = p
        }
        guard Self.family(of: host) != nil else { throw bad }
        self.init(host: host, port: port)
    }

    /// The first `nameserver` line of a resolv.conf (a zone suffix such as "%eth0" is dropped).
    public static func fromResolvConf(path: String = "/etc/resolv.conf") throws(DNSError) -> DNSServerAddress {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .noServer("cannot read \(path) to find a DNS server; pass --dns-server ADDR:PORT")
        }
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { continue }
            let host = String(fields[1].split(separator: "%", maxSplits: 1)[0])
            guard family(of: host) != nil else {
                throw .noServer("\(path): nameserver \(fields[1]) is not a numeric address; pass --dns-server ADDR:PORT")
            }
            return DNSServerAddress(host: host)
        }
        throw .noServer("\(path) has no nameserver line; pass --dns-server ADDR:PORT")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static func family(of host: String) -> Int32? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return AF_INET }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return AF_INET6 }
        return nil
    }
}
