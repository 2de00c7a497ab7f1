import Foundation
import Glibc
import MLServer
import XCTest

/// Routes, auth and HTTP semantics over real sockets.
final class AdminServerTests: AdminServerTestCase {
    // MARK: - Routes

    func testHealthIs200WithUptime() throws {
        let r = try get("/health")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.headers["content-type"], "application/json")
        XCTAssertEqual(r.body, "{\"status\":\"ok\",\"uptime_ms\":123456}\n")
        XCTAssertEqual(r.headers["date"], "Sat, 28 Feb 2026 12:00:00 GMT", "from the injected clock")
    }

    func testReadyIs200ThenServiceUnavailableWithReason() throws {
        XCTAssertEqual(try get("/ready").status, 200)
        backend.state.withLock { $0.ready = false; $0.reason = "draining" }
        let r = try get("/ready")
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(jsonObject(r.body)?["reason"] as? String, "draining")
    }

    func testModelInfoShowsBothSlots() throws {
        let r = try get("/model/info")
        XCTAssertEqual(r.status, 200)
        let json = try XCTUnwrap(jsonObject(r.body))
        XCTAssertEqual(json["generation"] as? Int, 7)
        let active = try XCTUnwrap(json["active"] as? [String: Any])
        XCTAssertEqual(active["version"] as? String, "v2.1")
        XCTAssertEqual(active["model_name"] as? String, "fraud \"main\"")
        XCTAssertEqual(active["kind"] as? String, "logistic")
        XCTAssertEqual(active["checksum"] as? String, String(repeating: "ab", count: 32))
        XCTAssertEqual(active["loaded_at"] as? String, "2026-02-28T12:00:00Z")
        XCTAssertEqual(active["feature_count"] as? Int, 30)
        XCTAssertEqual((json["standby"] as? [String: Any])?["loaded_at"] as? String, "2026-02-27T12:00:00Z")
        backend.state.withLock { $0.standby = nil }
        XCTAssertTrue(try XCTUnwrap(jsonObject(try get("/model/info").body))["standby"] is NSNull)
    }

    func testMetricsIsPrometheusText() throws {
        let r = try get("/metrics")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertNoThrow(try AdminPrometheusTests.parseExposition(r.body))
        XCTAssertTrue(r.body.contains("mlserve_ready 1\n"))
    }

    func testHeadAnswersHeadersWithoutBody() throws {
        let client = try TestHTTPClient(port: port)
        client.send("HEAD /health HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        // If HEAD had sent a body, the second response would be misframed.
        let head = try XCTUnwrap(client.readResponse(headOnly: true))
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(client.readResponse()?.status, 200)
    }

    func testRollbackAnswersTheRunbookShapeWithGeneration() throws {
        let r = try post("/model/rollback", "{\"expected_active\":\"v2.1\"}")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body, #"{"status":"success","previous_version":"v2.1","rolled_back_to":"v2.0","timestamp":"2026-02-28T12:00:00Z","generation":8}"# + "\n")
        // A retried rollback with the same fence must not flip back.
        let retry = try post("/model/rollback", "{\"expected_active\":\"v2.1\"}")
        XCTAssertEqual(retry.status, 409)
        XCTAssertEqual(jsonObject(retry.body)?["code"] as? String, "FAILED_PRECONDITION")
        XCTAssertEqual(jsonObject(retry.body)?["status"] as? String, "error")
        // No body: unfenced.
        XCTAssertEqual(try post("/model/rollback").status, 200)
        XCTAssertNil(backend.state.withLock { $0.lastExpectedActive })
    }

    func testRollbackBodyMistakesAre400AndChangeNothing() throws {
        for body in ["{\"expected_actve\":\"v2.1\"}", "not json", "[1]", "{\"expected_active\":3}", "{\"expected_active\":\"\"}"] {
            let r = try post("/model/rollback", body)
            XCTAssertEqual(r.status, 400, body)
            XCTAssertEqual(jsonObject(r.body)?["code"] as? String, "INVALID_ARGUMENT")
        }
        XCTAssertEqual(backend.state.withLock { $0.rollbackCalls }, 0)
    }

    func testReloadLoadsThenSwapsAndMapsFailures() throws {
        let hex = String(repeating: "0f", count: 32)
        let ok = try post("/model/reload", "{\"artifact\":\"v3.0\",\"expected_checksum\":\"\(hex)\",\"expected_active\":\"v2.1\"}")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(jsonObject(ok.body)?["active_version"] as? String, "v3.0")
        XCTAssertEqual(backend.state.withLock { $0.lastChecksum.hex }, hex)
        XCTAssertEqual(try post("/model/reload", "{\"artifact\":\"missing\"}").status, 404)
        XCTAssertEqual(try post("/model/reload", "{\"artifact\":\"corrupt\"}").status, 422)
        XCTAssertEqual(try post("/model/reload", "{\"artifact\":\"v4\",\"expected_active\":\"v0\"}").status, 409)
        XCTAssertEqual(try post("/model/reload", "{}").status, 400)
        XCTAssertEqual(try post("/model/reload", "{\"artifact\":\"x\",\"expected_checksum\":\"abc\"}").status, 400)
        XCTAssertEqual(try post("/model/reload", "{\"artifact\":\"x\",\"expected_checksum\":\"\(String(repeating: "0", count: 64))\"}").status, 400)
    }

    // MARK: - Auth

    func testPostsNeedTheBearerToken() throws {
        for path in ["/model/rollback", "/model/reload"] {
            let missing = try post(path, headers: "")
            XCTAssertEqual(missing.status, 401)
            XCTAssertEqual(missing.headers["www-authenticate"], "Bearer realm=\"mlserve-admin\"")
            XCTAssertEqual(try post(path, headers: "Authorization: Basic dXNlcjpwYXNz\r\n").status, 401)
            XCTAssertEqual(try post(path, headers: "Authorization: Bearer \r\n").status, 401)
            let wrong = try post(path, headers: "Authorization: Bearer nope\r\n")
            XCTAssertEqual(wrong.status, 403)
            XCTAssertEqual(jsonObject(wrong.body)?["code"] as? String, "PERMISSION_DENIED")
        }
        XCTAssertEqual(backend.state.withLock { $0.rollbackCalls }, 0)
        XCTAssertEqual(try post("/model/rollback", headers: "authorization: bearer \(FakeAdminBackend.token)\r\n").status, 200)
    }

    // MARK: - HTTP semantics

    func testUnknownPathIs404AndWrongMethodIs405WithAllow() throws {
        XCTAssertEqual(try get("/nope").status, 404)
        XCTAssertEqual(try get("/health/").status, 404)
        let wrongGet = try get("/model/rollback")
        XCTAssertEqual(wrongGet.status, 405)
        XCTAssertEqual(wrongGet.headers["allow"], "POST")
        let wrongPost = try post("/health")
        XCTAssertEqual(wrongPost.status, 405)
        XCTAssertEqual(wrongPost.headers["allow"], "GET, HEAD")
    }

    func testKeepAliveServesTwoRequestsOnOneConnection() throws {
        let client = try TestHTTPClient(port: port)
        client.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        client.send("POST /model/rollback HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: 0\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        client.send("GET /ready HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let last = client.readResponse()
        XCTAssertEqual(last?.status, 200)
        XCTAssertEqual(last?.headers["connection"], "close")
        XCTAssertTrue(client.isClosedByPeer())
    }

    func testPipelinedRequestsAreAnsweredInOrderAcrossTheControlQueue() throws {
        let client = try TestHTTPClient(port: port)
        client.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\nPOST /model/rollback HTTP/1.1\r\nHost: t\r\n\(auth)\r\nGET /model/info HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertEqual(jsonObject(client.readResponse()?.body ?? "")?["rolled_back_to"] as? String, "v2.0")
        let info = jsonObject(client.readResponse()?.body ?? "")
        XCTAssertEqual((info?["active"] as? [String: Any])?["version"] as? String, "v2.0", "info must see the rollback before it")
    }

    func testRequestsBeforeTheClientsFINAreStillAnswered() throws {
        let client = try TestHTTPClient(port: port)
        client.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\nPOST /model/rollback HTTP/1.1\r\nHost: t\r\n\(auth)\r\nGET /ready HTTP/1.1\r\nHost: t\r\n\r\nGET /hea")
        shutdown(client.fd, Int32(SHUT_WR))
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertTrue(client.isClosedByPeer())
    }

    func testHTTP10ClosesAfterTheResponse() throws {
        let client = try TestHTTPClient(port: port)
        client.send("GET /health HTTP/1.0\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertTrue(client.isClosedByPeer())
    }

    func testExpectContinueGetsAnInterimResponse() throws {
        let client = try TestHTTPClient(port: port)
        let body = "{\"expected_active\":\"v2.1\"}"
        client.send("POST /model/rollback HTTP/1.1\r\nHost: t\r\n\(auth)Expect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        XCTAssertEqual(client.readInterimStatus(), 100)
        client.send(body)
        XCTAssertEqual(client.readResponse()?.status, 200)
    }
}
