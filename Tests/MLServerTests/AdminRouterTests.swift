import Foundation
import MLServer
import MLWire
import XCTest

/// The router as a pure function: fixed clock, fake backend, no sockets.
final class AdminRouterTests: XCTestCase {
    private let now = FakeAdminBackend.swapMicros

    private func respond(_ method: String, _ target: String, headers: [(String, String)] = [], body: String = "",
                         backend: FakeAdminBackend = FakeAdminBackend()) -> HTTPResponse {
        let request = HTTPRequest(method: method, target: target, headers: [(name: "host", value: "t")] + headers.map { (name: $0.0, value: $0.1) },
                                  body: Array(body.utf8))
        return AdminRouter.respond(to: request, backend: backend, nowMicros: now)
    }

    func testDateHeaderIsIMFFixdateFromTheInjectedClock() {
        XCTAssertEqual(respond("GET", "/health").header("Date"), "Sat, 28 Feb 2026 12:00:00 GMT")
        let leap = AdminRouter.respond(to: HTTPParseError(400, "x"), nowMicros: (951_782_400 + 86_399) * 1_000_000)
        XCTAssertEqual(leap.header("Date"), "Tue, 29 Feb 2000 23:59:59 GMT")
        XCTAssertEqual(AdminRouter.respond(to: HTTPParseError(400, "x"), nowMicros: -1_000_000).header("Date"), "Wed, 31 Dec 1969 23:59:59 GMT")
    }

    func testStringsInJSONAreEscaped() throws {
        let backend = FakeAdminBackend()
        backend.state.withLock { $0.active = "a\"b\\c\nd\u{1}é" }
        let response = respond("GET", "/model/info", backend: backend)
        let text = String(decoding: response.body, as: UTF8.self)
        XCTAssertTrue(text.contains(#""version":"a\"b\\c\nd\u0001é""#), text)
        let parsed = try XCTUnwrap(jsonObject(text)?["active"] as? [String: Any])
        XCTAssertEqual(parsed["version"] as? String, "a\"b\\c\nd\u{1}é")
    }

    func testStatusToHTTPTable() {
        let expected: [Status: Int] = [.failedPrecondition: 409, .notFound: 404, .invalidArgument: 400, .dataLoss: 422,
                                       .unavailable: 503, .permissionDenied: 403, .unauthenticated: 401, .internal: 500,
                                       .deadlineExceeded: 500, .resourceExhausted: 500, .unimplemented: 500, .ok: 500]
        for (status, code) in expected { XCTAssertEqual(AdminFailure.httpStatusCode(for: status), code, status.name) }
    }

    func testAuthIsCheckedBeforeTheBodyIsRead() {
        // A malformed body from an unauthenticated caller learns nothing about the body rules.
        XCTAssertEqual(respond("POST", "/model/reload", body: "garbage").statusCode, 401)
        XCTAssertEqual(respond("POST", "/model/reload", headers: [("Authorization", "Bearer x")], body: "garbage").statusCode, 403)
    }

    func testQueryStringDoesNotChangeTheRoute() {
        XCTAssertEqual(respond("GET", "/metrics?name[]=x").statusCode, 200)
        XCTAssertEqual(respond("DELETE", "/metrics").header("Allow"), "GET, HEAD")
    }
}
