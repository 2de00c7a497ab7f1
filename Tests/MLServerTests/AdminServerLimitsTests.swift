import Foundation
import Glibc
import MLServer
import XCTest

/// Malformed, oversized, slow and too many: the server's bounds over real sockets.
final class AdminServerLimitsTests: AdminServerTestCase {
    // MARK: - Malformed and oversized

    func testMalformedRequestsGet400AndTheConnectionCloses() throws {
        for raw in ["GARBAGE\r\n\r\n", "GET /health HTTP/1.1\nHost: t\n\n", "GET /health HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n",
                    "GET /health HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n", "GET /health HTTP/1.1\r\n\r\n"] {
            let client = try TestHTTPClient(port: port)
            client.send(raw)
            let r = client.readResponse()
            XCTAssertEqual(r?.status, 400, raw.debugDescription)
            XCTAssertEqual(r?.headers["connection"], "close")
            XCTAssertTrue(client.isClosedByPeer(), raw.debugDescription)
        }
        XCTAssertEqual(try adminRequest(port, "POST /model/rollback HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")?.status, 411)
        XCTAssertEqual(try get("/health").status, 200, "the server is unaffected")
    }

    func testOversizedLineHeadersAndBodyGet414_431_413() throws {
        XCTAssertEqual(try adminRequest(port, "GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: t\r\n\r\n")?.status, 414)
        XCTAssertEqual(try adminRequest(port, "GET / HTTP/1.1\r\nHost: t\r\nX: " + String(repeating: "b", count: 17_000) + "\r\n\r\n")?.status, 431)
        let many = (0..<70).map { "X-\($0): y\r\n" }.joined()
        XCTAssertEqual(try adminRequest(port, "GET / HTTP/1.1\r\nHost: t\r\n" + many + "\r\n")?.status, 431)
        // The whole oversized body is on its way; lingering close lets the client still read the 413.
        let body = String(repeating: "z", count: 100_000)
        XCTAssertEqual(try adminRequest(port, "POST /model/reload HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: \(body.utf8.count)\r\n\r\n\(body)")?.status, 413)
        XCTAssertEqual(try get("/health").status, 200)
    }

    func testPipelinedResponsesBeyondTheOutputBoundAreHeldBackNotLost() throws {
        var configuration = AdminServer.Configuration()
        configuration.maxOutputBytes = 2048  // smaller than one /metrics response
        try start(configuration)
        let client = try TestHTTPClient(port: port)
        client.send(String(repeating: "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", count: 30) + "GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        for _ in 0..<30 { XCTAssertEqual(client.readResponse()?.status, 200) }
        XCTAssertEqual(jsonObject(client.readResponse()?.body ?? "")?["status"] as? String, "ok")
    }

    func testRandomBytesNeverTakeTheServerDown() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            let client = try TestHTTPClient(port: port, timeoutSeconds: 2)
            client.send((0..<Int.random(in: 1...3000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            shutdown(client.fd, Int32(SHUT_WR))  // an unfinished request must not leave the server waiting
            if let r = client.readResponse() { XCTAssertGreaterThanOrEqual(r.status, 400) }
        }
        XCTAssertEqual(try get("/health").status, 200)
    }

    // MARK: - Time and capacity

    func testSlowClientGets408WhileAnotherIsServed() throws {
        var configuration = AdminServer.Configuration()
        configuration.requestTimeoutNanos = 1_000_000_000
        try start(configuration)
        let slow = try TestHTTPClient(port: port)
        slow.send("GET /health HTTP/1.1\r\nHost: t\r\n")  // never finished
        // Answered after `slow` connected, so `slow` was accepted first (the backlog is FIFO) and
        // its deadline runs from the clock's start.
        for _ in 0..<3 { XCTAssertEqual(try get("/health").status, 200) }
        XCTAssertTrue(slow.isOpenAndSilent(), "others are served while the slow request waits")
        advanceClock(nanos: 999_999_999)
        XCTAssertTrue(slow.isOpenAndSilent(), "408 before the request timeout")
        advanceClock(nanos: 1)
        let r = slow.readResponse()
        XCTAssertEqual(r?.status, 408)
        XCTAssertEqual(r?.headers["date"], "Sat, 28 Feb 2026 12:00:01 GMT", "the Date header reads the injected clock")
        XCTAssertTrue(slow.isClosedByPeer())
    }

    func testIdleKeepAliveConnectionIsClosed() throws {
        var configuration = AdminServer.Configuration()
        configuration.idleTimeoutNanos = 200_000_000
        try start(configuration)
        let client = try TestHTTPClient(port: port)
        client.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        advanceClock(nanos: 199_999_999)
        XCTAssertTrue(client.isOpenAndSilent(), "closed before the idle timeout")
        advanceClock(nanos: 1)
        XCTAssertTrue(client.isClosedByPeer())
    }

    func testProbesAreAnsweredDuringASlowReload() throws {
        // The reload blocks inside the backend until released: /health must be answered while
        // it is still in progress (a liveness probe must never queue behind a deploy).
        backend.state.withLock { $0.holdReloads = true }
        let reloading = try TestHTTPClient(port: port)
        let body = "{\"artifact\":\"v3.0\"}"
        reloading.send("POST /model/reload HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        XCTAssertTrue(waitUntil { backend.state.withLock { $0.reloadInProgress } }, "the reload never started")
        XCTAssertEqual(try get("/health").status, 200)
        XCTAssertTrue(backend.state.withLock { $0.reloadInProgress }, "health was answered only after the reload")
        backend.releaseReloads()
        XCTAssertEqual(reloading.readResponse()?.status, 200)
    }

    func testConnectionsBeyondTheCapGet503() throws {
        var configuration = AdminServer.Configuration()
        configuration.maxConnections = 2
        try start(configuration)
        let held = try (0..<2).map { _ in try TestHTTPClient(port: port) }
        for client in held {  // make sure both are accepted before the third arrives
            // Busy, not idle (idle ones are evicted at the cap): a second request is under way,
            // and it was read with the first, before the first was answered.
            client.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\n")
            XCTAssertEqual(client.readResponse()?.status, 200)
        }
        let extra = try TestHTTPClient(port: port)
        XCTAssertEqual(extra.readResponse()?.status, 503)
        withExtendedLifetime(held) {}
    }

    func testStopClosesConnectionsAndIsIdempotent() throws {
        let client = try TestHTTPClient(port: port)
        client.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertEqual(try server.start(), port, "start while running returns the same port")
        server.stop()
        server.stop()
        XCTAssertTrue(client.isClosedByPeer())
        XCTAssertThrowsError(try TestHTTPClient(port: port))
    }
}
