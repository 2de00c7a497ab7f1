import Foundation
import Glibc
import MLServer
import XCTest

/// Issue 10 point 5: connections that send nothing cannot take the admin port down. The request
/// deadline runs from accept, and at the connection cap an idle connection makes room.
final class AdminIdleTests: AdminServerTestCase {
    func testConnectionThatSendsNothingGets408AtTheRequestDeadline() throws {
        var configuration = AdminServer.Configuration()
        configuration.requestTimeoutNanos = 300_000_000
        try start(configuration)
        let silent = try TestHTTPClient(port: port)
        // Answered after `silent` connected, so `silent` was accepted first (the backlog is FIFO).
        XCTAssertEqual(try get("/health").status, 200)
        advanceClock(nanos: 299_999_999)
        XCTAssertTrue(silent.isOpenAndSilent(), "408 before the request deadline")
        advanceClock(nanos: 1)
        XCTAssertEqual(silent.readResponse()?.status, 408)
        XCTAssertTrue(silent.isClosedByPeer())
    }

    func testProbesAndRollbackAnswerWhileEveryConnectionIsHeldIdle() throws {
        // The fixture's server has the default cap of 64.
        let idle = try (0..<64).map { _ in try TestHTTPClient(port: port) }
        XCTAssertEqual(try get("/health").status, 200)
        XCTAssertEqual(try get("/ready").status, 200)
        XCTAssertEqual(try post("/model/rollback", "{\"expected_active\":\"\(backend.info().active.version)\"}").status, 200)
        withExtendedLifetime(idle) {}
    }
}
