import Foundation
import Glibc
import MLDiscovery
import XCTest

/// A real dnsmasq on 127.0.0.1 (UDP and TCP, a port free at start), serving only what the test
/// writes: an addn-hosts file it can rewrite (SIGHUP re-reads it), plus fixed `--host-record`
/// and `--srv-host` lines. `.test` is local, so unknown names are NXDOMAIN, never forwarded.
/// Skipped, with the reason, only when dnsmasq is not installed; `.ci/ops.sh` installs it and
/// fails if these tests were skipped.
final class DnsmasqFixture {
    static let skipMessage = "dnsmasq is not installed (apt-get install -y dnsmasq): DNS discovery tests against a real server skipped"
    let process = Process()
    let directory: URL
    let hostsFile: URL
    let port: UInt16

    var server: DNSServerAddress { DNSServerAddress(host: "127.0.0.1", port: port) }
    var resolver: DNSResolver { DNSResolver(server: server, timeout: 1, attempts: 2) }

    static func executable() -> String? {
        ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/usr/local/sbin/dnsmasq"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(_ test: XCTestCase, hosts: String, extra: [String] = []) throws {
        guard let executable = Self.executable() else { throw XCTSkip(Self.skipMessage) }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dnsmasq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        hostsFile = directory.appendingPathComponent("hosts")
        try hosts.write(to: hostsFile, atomically: true, encoding: .utf8)
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--local=/test/",
                             "--listen-address=127.0.0.1", "--bind-interfaces", "--port=\(port)", "--pid-file=",
                             "--user=\(String(cString: getpwuid(getuid()).pointee.pw_name))", "--cache-size=0",
                             "--addn-hosts=\(hostsFile.path)", "--host-record=ready.test,127.0.0.1"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        test.addTeardownBlock { [self] in stop() }
        // Ready when it answers: poll the fixed name, bounded (5 s).
        let deadline = Date().addingTimeInterval(5)
        while (try? DNSResolver(server: server, timeout: 0.2, attempts: 1).addresses(of: "ready.test")) == nil {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw NSError(domain: "dnsmasq", code: 1, userInfo: [NSLocalizedDescriptionKey: "dnsmasq did not answer on 127.0.0.1:\(port)"])
            }
            usleep(20_000)
        }
    }

    /// Rewrites the hosts file and waits (polling, bounded) until `name` resolves to `expected`.
    func setHosts(_ text: String, name: String, expecting expected: Result<[String], DNSError>?) throws {
        try text.write(to: hostsFile, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        guard let expected else { return }
        let deadline = Date().addingTimeInterval(5)
        while true {
            let now: Result<[String], DNSError>
            do throws(DNSError) { now = .success(try resolver.addresses(of: name)) } catch { now = .failure(error) }
            if "\(now)" == "\(expected)" { return }
            guard Date() < deadline else { throw NSError(domain: "dnsmasq", code: 2, userInfo: [NSLocalizedDescriptionKey: "dnsmasq still answers \(now)"]) }
            usleep(20_000)
        }
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A port free for TCP and UDP on 127.0.0.1 right now (dnsmasq needs both).
    static func freePort() throws -> UInt16 {
        for _ in 0..<20 {
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(tcp) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(tcp, $0, &length) } }
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(udp) }
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, length) } }
            if bound == 0 { return UInt16(bigEndian: address.sin_port) }
        }
        throw NSError(domain: "dnsmasq", code: 3, userInfo: [NSLocalizedDescriptionKey: "no port free for both TCP and UDP"])
    }
}
