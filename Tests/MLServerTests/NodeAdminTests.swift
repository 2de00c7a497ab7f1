import Foundation
import MLClient
import MLServer
import MLWire
import XCTest

/// The admin HTTP routes wired to a real node: HTTP and the binary protocol change the same slots.
final class NodeAdminTests: XCTestCase {
    var node: TestNode!
    var admin: AdminServer!
    var adminPort: UInt16 = 0

    override func setUpWithError() throws {
        node = try TestNode()
        admin = AdminServer(host: "127.0.0.1", port: 0, backend: NodeAdminBackend(control: node.control))
        adminPort = try admin.start()
    }

    override func tearDown() {
        admin.stop()
        node.stop()
    }

    private func request(_ method: String, _ path: String, body: String = "", token: String? = TestNode.token) throws -> TestResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        return try XCTUnwrap(try adminRequest(adminPort, head + "\r\n" + body))
    }

    func testRunbookStepsTwoAndThreeOverHTTP() throws {
        // Deploy v2.1 over the binary protocol, then roll back over HTTP as the runbook does.
        _ = try node.controller().swap(expectedActive: "v2.0")
        let rollback = try request("POST", "/model/rollback", body: #"{"expected_active":"v2.1"}"#)
        XCTAssertEqual(rollback.status, 200, rollback.body)
        let json = try XCTUnwrap(jsonObject(rollback.body))
        XCTAssertEqual(json["status"] as? String, "success")
        XCTAssertEqual(json["previous_version"] as? String, "v2.1")
        XCTAssertEqual(json["rolled_back_to"] as? String, "v2.0")
        XCTAssertNotNil((json["timestamp"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"#, options: .regularExpression))
        XCTAssertEqual(try node.client().info().active.version, "v2.0")

        // The retried rollback is fenced and refused, with the same typed reason the binary
        // protocol sends, so a script decides on it and not on the message.
        let retried = try request("POST", "/model/rollback", body: #"{"expected_active":"v2.1"}"#)
        XCTAssertEqual(retried.status, 409)
        let refusal = try XCTUnwrap(jsonObject(retried.body))
        XCTAssertEqual(refusal["code"] as? String, "FAILED_PRECONDITION")
        XCTAssertEqual(refusal["reason"] as? String, "FENCE_ACTIVE_MISMATCH")
        XCTAssertEqual(try node.client().info().active.version, "v2.0")

        XCTAssertEqual(try request("GET", "/health", token: nil).status, 200)
        XCTAssertEqual(try request("GET", "/ready", token: nil).status, 200)
        let info = try XCTUnwrap(jsonObject(try request("GET", "/model/info", token: nil).body))
        XCTAssertEqual((info["active"] as? [String: Any])?["version"] as? String, "v2.0")
    }

    func testReloadDeploysAnArtifactAndNeedsTheToken() throws {
        XCTAssertEqual(try request("POST", "/model/reload", body: #"{"artifact":"builtin:mlp-v1"}"#, token: nil).status, 401)
        XCTAssertEqual(try request("POST", "/model/reload", body: #"{"artifact":"builtin:mlp-v1"}"#, token: "wrong").status, 403)
        let reload = try request("POST", "/model/reload", body: #"{"artifact":"builtin:mlp-v1","expected_active":"v2.0"}"#)
        XCTAssertEqual(reload.status, 200, reload.body)
        let info = try node.client().info()
        XCTAssertEqual(info.active.version, "mlp-v1")
        XCTAssertEqual(info.standby.version, "v2.0")
        XCTAssertEqual(try request("POST", "/model/reload", body: #"{"artifact":"/nonexistent/x.mlart"}"#).status, 404)
    }

    func testMetricsExpositionReflectsServedPredictions() throws {
        let client = try node.client()
        for (features, _) in demoRows(25) { _ = try client.predict(features) }
        for _ in 0..<3 { _ = try? client.predict([1, 2, 3]) }  // wrong width: the client's errors
        let metrics = try request("GET", "/metrics", token: nil)
        func value(_ prefix: String, _ needle: String) -> String? {
            metrics.body.split(separator: "\n").first { $0.hasPrefix(prefix) && $0.contains(needle) }
                .flatMap { $0.split(separator: " ").last }.map(String.init)
        }
        XCTAssertEqual(value("mlserve_client_errors_total{", #"status="INVALID_ARGUMENT""#), "3", metrics.body)
        XCTAssertEqual(value("mlserve_model_errors_total{", #"version="v2.0""#), "0", metrics.body)
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.body.contains(#"mlserve_predictions_total{"#), metrics.body)
        let line = metrics.body.split(separator: "\n").first { $0.hasPrefix("mlserve_predictions_total{") && $0.contains(#"version="v2.0""#) }
        XCTAssertEqual(line.flatMap { $0.split(separator: " ").last }.map(String.init), "25")
        XCTAssertFalse(try request("GET", "/ready", token: nil).status != 200)
        node.control.beginDraining()
        XCTAssertEqual(try request("GET", "/ready", token: nil).status, 503)
    }
}
