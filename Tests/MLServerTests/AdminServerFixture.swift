import Foundation
import Glibc
@testable import MLServer
import XCTest

/// Shared fixture: the admin server over real sockets on 127.0.0.1, port 0, with the fake backend
/// and a manual clock, so no timer fires unless a test advances it.
class AdminServerTestCase: XCTestCase {
    var backend: FakeAdminBackend!
    var clock: ManualAdminClock!
    var server: AdminServer!
    var port: UInt16 = 0
    let auth = "Authorization: Bearer \(FakeAdminBackend.token)\r\n"

    override func setUpWithError() throws {
        try start(AdminServer.Configuration())
    }

    override func tearDown() {
        server?.stop()
        server = nil
    }

    /// Starts a fresh server with `configuration`, its clock replaced by a new manual one.
    func start(_ configuration: AdminServer.Configuration) throws {
        server?.stop()
        backend = FakeAdminBackend()
        clock = ManualAdminClock()
        var configuration = configuration
        configuration.clock = clock.adminClock
        server = AdminServer(port: 0, backend: backend, configuration: configuration)
        port = try server.start()
        XCTAssertNotEqual(port, 0)
    }

    /// Moves the clock by `nanos` and returns once the server has checked its timers at the new time.
    func advanceClock(nanos: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        clock.advance(nanos: nanos)
        XCTAssertTrue(server.runTimersForTests(), "the poll loop did not sweep its timers", file: file, line: line)
    }

    func get(_ path: String) throws -> TestResponse {
        try XCTUnwrap(adminRequest(port, "GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n"))
    }

    func post(_ path: String, _ body: String = "", headers: String? = nil) throws -> TestResponse {
        let extra = headers ?? auth
        return try XCTUnwrap(adminRequest(port, "POST \(path) HTTP/1.1\r\nHost: t\r\n\(extra)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"))
    }
}
