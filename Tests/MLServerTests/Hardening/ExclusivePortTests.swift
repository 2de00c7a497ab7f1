import Foundation
import Glibc
import MLClient
import MLTooling
import XCTest

/// Issue 10 point 1: one node owns its port. A second `mlserve` on a port already served must
/// exit 1 with "address in use" instead of silently taking half of the new connections.
final class ExclusivePortTests: XCTestCase {
    func testSecondNodeOnTheSamePortExitsWithAddressInUse() throws {
        let first = try NodeProcess()
        defer { first.remove() }
        let node = try first.start(["--loops", "2"])
        defer { node.stop() }

        let second = try NodeProcess()
        defer { second.remove() }
        let result = try second.runToExit(["--port", String(node.endpoint.port), "--loops", "1"])
        XCTAssertEqual(result.status, 1, result.errors)
        XCTAssertTrue(result.errors.contains("address in use"), result.errors)

        // Every new connection still reaches the first node (same server name, same token).
        for _ in 0..<20 {
            let client = try first.controller(node)
            XCTAssertEqual(try client.info().generation, 1)
        }
    }

    func testSecondNodeOnTheAdminPortExitsWithAddressInUse() throws {
        let first = try NodeProcess()
        defer { first.remove() }
        let node = try first.start(["--admin-port", "0"])
        defer { node.stop() }
        let adminPort = try XCTUnwrap(node.printed.split(separator: "\n").first { $0.contains("admin http://") }
            .flatMap { $0.split(separator: ":").last.map(String.init) }.flatMap { Int($0) })
        let second = try NodeProcess()
        defer { second.remove() }
        let result = try second.runToExit(["--admin-port", String(adminPort)])
        XCTAssertEqual(result.status, 1, result.errors)
        XCTAssertTrue(result.errors.contains("address in use"), result.errors)
    }
}
