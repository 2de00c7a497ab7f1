import Foundation
import XCTest
@testable import MLDiscovery

/// What an operator types: names, server addresses, resolv.conf.
final class DNSInputTests: XCTestCase {
    func testNamesWithBadLabelsAreRefusedBeforeAnythingIsSent() {
        for bad in ["", "a..b", "fl@et.test", String(repeating: "a", count: 64) + ".test", String(repeating: "abc.", count: 70)] {
            XCTAssertThrowsError(try DNSQuery.encode(id: 1, name: bad, type: .a), bad) { error in
                guard case DNSError.badInput = error else { return XCTFail("\(bad): \(error)") }
            }
        }
        XCTAssertNoThrow(try DNSQuery.encode(id: 1, name: "_rpc._tcp.mlserve.ml.svc.cluster.local.", type: .srv))
    }

    func testServerAddressForms() throws {
        XCTAssertEqual(try DNSServerAddress(parsing: "10.0.0.2"), DNSServerAddress(host: "10.0.0.2", port: 53))
        XCTAssertEqual(try DNSServerAddress(parsing: "10.0.0.2:5353"), DNSServerAddress(host: "10.0.0.2", port: 5353))
        XCTAssertEqual(try DNSServerAddress(parsing: "fd00::2"), DNSServerAddress(host: "fd00::2", port: 53))
        XCTAssertEqual(try DNSServerAddress(parsing: "[fd00::2]:5353"), DNSServerAddress(host: "fd00::2", port: 5353))
        for bad in ["dns.example:53", "10.0.0.2:0", "10.0.0.2:x", "[fd00::2]x", ""] {
            XCTAssertThrowsError(try DNSServerAddress(parsing: bad), bad)
        }
    }

    func testResolvConfFirstNameserverWins() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resolv-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# generated\nsearch ml.svc.cluster.local\nnameserver fe80::1%eth0\nnameserver 10.96.0.10\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try DNSServerAddress.fromResolvConf(path: path), DNSServerAddress(host: "fe80::1", port: 53))
        try "search x\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DNSServerAddress.fromResolvConf(path: path)) { error in
            XCTAssertTrue("\(error)".contains("no nameserver"), "\(error)")
        }
        XCTAssertThrowsError(try DNSServerAddress.fromResolvConf(path: path + ".missing"))
    }
}
