/// What fleet discovery asks DNS: every address of a name (A and AAAA, what a Kubernetes
/// headless Service publishes), or every target of an SRV name with its port.
public struct DNSResolver: Sendable {
    /// One SRV target, resolved to an address.
    public struct ServiceTarget: Equatable, Hashable, Sendable {
        public var address: String
        public var port: UInt16
    }

    public var transport: DNSTransport

    public init(transport: DNSTransport) { self.transport = transport }

    public init(server: DNSServerAddress, timeout: Double = 2, attempts: Int = 3) {
        transport = DNSTransport(server: server, timeout: timeout, attempts: attempts)
    }

    /// Every A and AAAA address of `name`, sorted, without duplicates. NXDOMAIN, or neither
    /// type having a record, is an error: an empty fleet is never an answer.
    public func addresses(of name: String) throws(DNSError) -> [String] {
        let v4 = try lookup(name, .a)
        let v6 = try lookup(name, .aaaa)
        let all = Set(v4 + v6)
        guard !all.isEmpty else { throw .noRecords(name: DNSReplyParser.canonical(name), type: "A or AAAA", server: transport.server.description) }
        return all.sorted()
    }

    /// Every SRV target of `name` with its port, targets resolved through the reply's
    /// additional section when the server sent them there, else with A/AAAA queries. Priority
    /// and weight are not used: every target is a node of the fleet. A target "." (RFC 2782:
    /// "no service here") is skipped.
    public func services(_ name: String) throws(DNSError) -> [ServiceTarget] {
        let reply = try answer(name, .srv)
        var targets: [(target: String, port: UInt16)] = []
        for record in reply.answers {
            if case .srv(_, _, let port, let target) = record.data, !target.isEmpty { targets.append((target, port)) }
        }
        guard !targets.isEmpty else { throw .noRecords(name: DNSReplyParser.canonical(name), type: "SRV", server: transport.server.description) }
        var out = Set<ServiceTarget>()
        for (target, port) in targets {
            let glued = reply.additionals.compactMap { record -> String? in
                guard record.name == target, case .address(let address) = record.data else { return nil }
                return address
            }
            for address in glued.isEmpty ? try addresses(of: target) : glued { out.insert(ServiceTarget(address: address, port: port)) }
        }
        return out.sorted { ($0.address, $0.port) < ($1.address, $1.port) }
    }

    /// The addresses of one type, following CNAMEs inside the answer. NOERROR with no record
    /// of the type is an empty list (the other type may have some).
    func lookup(_ name: String, _ type: DNSRecordType) throws(DNSError) -> [String] {
        let reply = try answer(name, type)
        var names: Set<String> = [DNSReplyParser.canonical(name)]
        // A chain is at most as long as the answer; iterate that many times at most.
        for _ in reply.answers {
            for record in reply.answers where names.contains(record.name) {
                if case .cname(let target) = record.data { names.insert(target) }
            }
        }
        return reply.answers.compactMap { record in
            guard record.type == type.rawValue, names.contains(record.name), case .address(let address) = record.data else { return nil }
            return address
        }
    }

    private func answer(_ name: String, _ type: DNSRecordType) throws(DNSError) -> DNSReply {
        let reply = try transport.exchange(name: name, type: type)
        switch reply.rcode {
        case 0: return reply
        case 3: throw .nameNotFound(name: DNSReplyParser.canonical(name), server: transport.server.description)
        default: throw .serverError(name: DNSReplyParser.canonical(name), rcode: reply.rcode, server: transport.server.description)
        }
    }
}
