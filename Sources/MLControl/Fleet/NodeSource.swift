import MLClient
import MLDiscovery

/// Where a fleet's nodes come from: a fixed `--node HOST:PORT`, every A/AAAA address of a
/// name (`--nodes dns:NAME:PORT`, a Kubernetes headless Service) or every SRV target
/// (`--nodes srv:_SERVICE._tcp.NAME`, with their own ports).
public enum NodeSource: Equatable, Sendable, CustomStringConvertible {
    case fixed(Endpoint)
    case addresses(name: String, port: UInt16)
    case service(name: String)

    /// Parses a `--nodes` value.
    public init(parsing text: String) throws(ControlError) {
        if text.hasPrefix("dns:") {
            let rest = text.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0,
                  !rest[..<colon].isEmpty else {
                throw .usage("--nodes \(text) is not dns:NAME:PORT (e.g. dns:mlserve-headless.ml.svc.cluster.local:7070)")
            }
            let name = String(rest[..<colon])
            do { _ = try DNSQuery.encode(id: 0, name: name, type: .a) } catch { throw .usage("--nodes \(text): \(error)") }
            self = .addresses(name: name, port: port)
        } else if text.hasPrefix("srv:") {
            let name = String(text.dropFirst(4))
            let labels = name.split(separator: ".", omittingEmptySubsequences: false)
            guard labels.count >= 3, labels[0].hasPrefix("_"), labels[1] == "_tcp" else {
                throw .usage("--nodes \(text) is not srv:_SERVICE._tcp.NAME (e.g. srv:_rpc._tcp.mlserve.ml.svc.cluster.local)")
            }
            do { _ = try DNSQuery.encode(id: 0, name: name, type: .srv) } catch { throw .usage("--nodes \(text): \(error)") }
            self = .service(name: name)
        } else {
            throw .usage("--nodes \(text) must start with dns: or srv: (use --node HOST:PORT for a fixed address)")
        }
    }

    public var description: String {
        switch self {
        case .fixed(let endpoint): endpoint.description
        case .addresses(let name, let port): "dns:\(name):\(port)"
        case .service(let name): "srv:\(name)"
        }
    }

    public var needsDNS: Bool {
        if case .fixed = self { false } else { true }
    }

    /// The endpoints this source names now. Any DNS failure, zero records included, throws:
    /// the caller keeps what it had.
    public func resolve(with resolver: DNSResolver?) throws(ControlError) -> [Endpoint] {
        switch self {
        case .fixed(let endpoint): return [endpoint]
        case .addresses(let name, let port):
            do { return try dns(resolver).addresses(of: name).map { Endpoint(host: $0, port: port) } } catch {
                throw .discovery(source: description, reason: "\(error)")
            }
        case .service(let name):
            do { return try dns(resolver).services(name).map { Endpoint(host: $0.address, port: $0.port) } } catch {
                throw .discovery(source: description, reason: "\(error)")
            }
        }
    }

    private func dns(_ resolver: DNSResolver?) throws(DNSError) -> DNSResolver {
        guard let resolver else { throw .noServer("no DNS server configured") }
        return resolver
    }

    /// Every source resolved, in order, without duplicates: the node set of one round.
    public static func resolveAll(_ sources: [NodeSource], with resolver: DNSResolver?) throws(ControlError) -> [Endpoint] {
        var seen = Set<Endpoint>()
        var out: [Endpoint] = []
        for source in sources {
            for endpoint in try source.resolve(with: resolver) where seen.insert(endpoint).inserted { out.append(endpoint) }
        }
        return out
    }
}
