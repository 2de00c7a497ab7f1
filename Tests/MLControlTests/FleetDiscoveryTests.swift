import Foundation
import MLClient
import MLDiscovery
import MLServer
import MLWire
import XCTest
@testable import MLControl

/// A node on a chosen loopback address (127.0.0.2, .3, …) so several share one port, as pods
/// behind a headless Service do.
private final class AddressedNode {
    let server: Server
    let endpoint: Endpoint

    init(host: String, port: UInt16) throws {
        let initial = try ControlPlane.restore(stateFile: nil, defaultActive: "builtin:v2.0", defaultStandby: "builtin:v2.1").get()
        var config = ServerConfig()
        config.host = host
        config.port = port
        config.loops = 1
        server = Server(config: config, control: ControlPlane(initial: initial, stateFile: nil, token: InProcessNode.token))
        endpoint = Endpoint(host: host, port: try server.start())
    }

    func stop() {
        server.shutdown()
        server.waitUntilStopped()
    }

    /// Three nodes on 127.0.0.2-4, all on the port the first one got.
    static func fleet(_ test: XCTestCase) throws -> [AddressedNode] {
        let first = try AddressedNode(host: "127.0.0.2", port: 0)
        let nodes = [first, try AddressedNode(host: "127.0.0.3", port: first.endpoint.port), try AddressedNode(host: "127.0.0.4", port: first.endpoint.port)]
        test.addTeardownBlock { nodes.forEach { $0.stop() } }
        return nodes
    }
}

/// Fleet discovery against a real DNS server (dnsmasq, started by the test): what resolves, what
/// fails and how, and `watch` following nodes that come and go between rounds.
final class FleetDiscoveryTests: XCTestCase {
    func testAddressesServicesAndFailuresFromARealServer() throws {
        let dns = try DnsmasqFixture(self, hosts: "127.0.0.2 fleet.test\n127.0.0.3 fleet.test\n::1 fleet.test\n", extra: [
            "--host-record=a.fleet.test,127.0.0.5", "--host-record=b.fleet.test,127.0.0.6,::6",
            "--srv-host=_mlserve._tcp.fleet.test,a.fleet.test,7070", "--srv-host=_mlserve._tcp.fleet.test,b.fleet.test,7171",
        ])
        XCTAssertEqual(try dns.resolver.addresses(of: "fleet.test"), ["127.0.0.2", "127.0.0.3", "::1"])
        XCTAssertEqual(try dns.resolver.addresses(of: "FLEET.test."), ["127.0.0.2", "127.0.0.3", "::1"], "names are case-blind")
        let targets = try dns.resolver.services("_mlserve._tcp.fleet.test").map { "\($0.address) \($0.port)" }
        XCTAssertEqual(targets, ["127.0.0.5 7070", "127.0.0.6 7171", "::6 7171"])

        XCTAssertThrowsError(try dns.resolver.addresses(of: "missing.fleet.test")) { error in
            XCTAssertEqual(error as? DNSError, .nameNotFound(name: "missing.fleet.test", server: dns.server.description))
        }
        XCTAssertThrowsError(try dns.resolver.services("_other._tcp.fleet.test")) { error in
            guard case DNSError.nameNotFound = error else { return XCTFail("\(error)") }
        }
        // The SRV name exists but has no address records of its own: zero records is an error.
        XCTAssertThrowsError(try dns.resolver.addresses(of: "_mlserve._tcp.fleet.test")) { error in
            guard case DNSError.noRecords = error else { return XCTFail("\(error)") }
        }
        // Through the --nodes parser, mixed with a fixed node, duplicates dropped.
        let sources = try [NodeSource.fixed(Endpoint("127.0.0.2:7070")!), NodeSource(parsing: "dns:fleet.test:7070"),
                           NodeSource(parsing: "srv:_mlserve._tcp.fleet.test")]
        XCTAssertEqual(try NodeSource.resolveAll(sources, with: dns.resolver).map(\.description),
                       ["127.0.0.2:7070", "127.0.0.3:7070", "[::1]:7070", "127.0.0.5:7070", "127.0.0.6:7171", "[::6]:7171"])
    }

    func testAnswerTooBigForUDPIsAskedAgainOverTCP() throws {
        let hosts = (1...60).map { "10.0.1.\($0) big.test" }.joined(separator: "\n") + "\n"
        let dns = try DnsmasqFixture(self, hosts: hosts)
        // The server itself says the UDP answer is truncated…
        let query = try DNSQuery.encode(id: 7, name: "big.test", type: .a)
        let udp = try rawUDPExchange(query, port: dns.port)
        XCTAssertTrue(try DNSReplyParser.parse(udp, id: 7, name: "big.test", type: .a).truncated, "60 A records must not fit in 512 bytes")
        // …and the resolver still gets every address, over TCP.
        XCTAssertEqual(Set(try dns.resolver.addresses(of: "big.test")), Set((1...60).map { "10.0.1.\($0)" }))
    }

    func testWatchFollowsNodesThatAppearAndVanishAndKeepsTheSetWhenDNSFails() throws {
        let nodes = try AddressedNode.fleet(self)
        let port = nodes[0].endpoint.port
        let (a, b, c) = (nodes[0].endpoint, nodes[1].endpoint, nodes[2].endpoint)
        let dns = try DnsmasqFixture(self, hosts: "127.0.0.2 fleet.test\n127.0.0.3 fleet.test\n")
        let store = try ControlStore(path: try temporaryDatabasePath(self))
        let sources = [try NodeSource(parsing: "dns:fleet.test:\(port)")]
        let initial = try NodeSource.resolveAll(sources, with: dns.resolver)
        XCTAssertEqual(initial, [a, b])

        let clock = FakeClock()
        let box = EventBox()
        let loop = WatchLoop(configuration: WatchConfiguration(nodes: initial, policy: WatchHarness.testPolicy, retryDelay: 0),
                             store: store, access: NodeAccess(token: InProcessNode.token, timeout: 5),
                             notifier: Notifier(policy: WatchHarness.testPolicy, printLine: { _ in }),
                             clock: { clock.now }, sleep: { clock.advance($0) }, onEvent: { box.events.append($0) })
        let discovery = FleetDiscovery(sources: sources, resolver: dns.resolver, initial: initial)
        try discovery.recordStart(store: store, at: clock.now)
        loop.discovery = discovery

        func round() -> [String] {
            box.events.removeAll()
            clock.advance(10)
            loop.pollRound()
            return box.events.compactMap { if case .polled(let node, _, _, _, _) = $0 { node } else { nil } }
        }
        func fleetChanges() -> [FleetChange] { box.events.compactMap { if case .fleet(_, let change) = $0 { change } else { nil } } }

        XCTAssertEqual(round(), [a.description, b.description])
        XCTAssertEqual(fleetChanges(), [])

        // A scaled in, C scaled out: the next round polls exactly B and C.
        try dns.setHosts("127.0.0.3 fleet.test\n127.0.0.4 fleet.test\n", name: "fleet.test", expecting: .success(["127.0.0.3", "127.0.0.4"]))
        XCTAssertEqual(round(), [b.description, c.description])
        XCTAssertEqual(fleetChanges(), [.changed(appeared: [c.description], vanished: [a.description])])

        // The name stops resolving: the last good set is kept, recorded once however many rounds.
        try dns.setHosts("", name: "fleet.test", expecting: .failure(.nameNotFound(name: "fleet.test", server: dns.server.description)))
        XCTAssertEqual(round(), [b.description, c.description])
        guard case .lookupFailed(let reason, let kept)? = fleetChanges().first else { return XCTFail("\(fleetChanges())") }
        XCTAssertTrue(reason.contains("NXDOMAIN"), reason)
        XCTAssertEqual(kept, [b.description, c.description])
        XCTAssertEqual(round(), [b.description, c.description])
        XCTAssertEqual(fleetChanges(), [])

        try dns.setHosts("127.0.0.3 fleet.test\n127.0.0.4 fleet.test\n", name: "fleet.test", expecting: .success(["127.0.0.3", "127.0.0.4"]))
        XCTAssertEqual(round(), [b.description, c.description])
        XCTAssertEqual(fleetChanges(), [.lookupRecovered])

        // The DNS server goes away altogether: same, the fleet is still watched.
        dns.stop()
        XCTAssertEqual(round(), [b.description, c.description])
        guard case .lookupFailed? = fleetChanges().first else { return XCTFail("\(fleetChanges())") }

        let rows = try store.fleet()
        XCTAssertEqual(rows.map(\.event), [.appeared, .appeared, .appeared, .vanished, .lookupFailed, .lookupRecovered, .lookupFailed])
        XCTAssertEqual(rows.map(\.node), [a.description, b.description, c.description, a.description, nil, nil, nil])
        XCTAssertTrue(rows.allSatisfy { $0.source == "dns:fleet.test:\(port)" })
        XCTAssertTrue(rows[4].detail?.contains("kept \(b), \(c)") == true, rows[4].detail ?? "")
        // Scaling in is not an outage: no node_unreachable incident for A.
        XCTAssertEqual(try store.incidents(limit: 10).filter { $0.alertType == "node_unreachable" }.count, 0)
    }

    func testMlctlDeployActsOnTheSetResolvedAtItsStart() throws {
        let nodes = try AddressedNode.fleet(self)
        let port = nodes[0].endpoint.port
        let dns = try DnsmasqFixture(self, hosts: "127.0.0.2 fleet.test\n127.0.0.3 fleet.test\n")
        let db = try temporaryDatabasePath(self)
        let common = ["--nodes", "dns:fleet.test:\(port)", "--dns-server", dns.server.description, "--db", db, "--json"]
        let deploy = try runMlctl(["deploy", "builtin:v2.1"] + common)
        XCTAssertEqual(deploy.status, 0, deploy.output)
        let report = try JSONSerialization.jsonObject(with: Data(deploy.output.utf8)) as? [String: Any]
        let moved = (report?["nodes"] as? [[String: Any]] ?? []).map { "\($0["node"]!) \($0["outcome"]!)" }
        XCTAssertEqual(moved, ["\(nodes[0].endpoint) swapped", "\(nodes[1].endpoint) swapped"])
        XCTAssertEqual(nodes.map { $0.server.control.info().active.version }, ["v2.1", "v2.1", "v2.0"])

        // A name that does not resolve: exit 3, the name and NXDOMAIN in the message, nothing done.
        let missing = try runMlctl(["rollback", "--nodes", "dns:gone.test:\(port)", "--dns-server", dns.server.description, "--db", db])
        XCTAssertEqual(missing.status, 3, missing.output)
        XCTAssertTrue(missing.output.contains("dns:gone.test:\(port)") && missing.output.contains("NXDOMAIN"), missing.output)
        XCTAssertEqual(nodes.map { $0.server.control.info().active.version }, ["v2.1", "v2.1", "v2.0"])
    }

    // MARK: helpers

    private func rawUDPExchange(_ query: [UInt8], port: UInt16) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var interval = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, query, query.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { throw NSError(domain: "udp", code: Int(errno)) }
        return Array(buffer[0..<n])
    }
}
