import Foundation
import Glibc
import MLClient
import MLTooling
import MLWire
import XCTest

/// Issue 10 point 10: one structured line per event on stderr (startup, control operations with
/// actor/result/µs, refusals, rate-limited protocol errors with the peer and a hex sample, drains),
/// none on the prediction path; and a loop that dies takes the node down with a message.
final class NodeLogTests: XCTestCase {
    var files: NodeProcess!

    override func setUpWithError() throws { files = try NodeProcess() }
    override func tearDown() { files?.remove() }

    private func events(_ node: LocalNode) -> [[String: String]] {
        node.logged.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String]
        }
    }

    func testJSONLogHasOneLinePerEventAndNoneForPredictions() throws {
        let node = try files.start(["--log-format", "json"])
        let controller = try files.controller(node)
        XCTAssertEqual(events(node).first?["event"], "startup")
        let data = try NodeClient(node.endpoint)
        try data.hello()
        let before = node.logged.split(separator: "\n").count
        for row in demoRows(200) { _ = try data.predict(row.features) }
        XCTAssertEqual(node.logged.split(separator: "\n").count, before, "a prediction was logged")

        _ = try controller.swap(expectedActive: "v2.0")
        XCTAssertThrowsError(try controller.swap(expectedActive: "v2.0"))
        XCTAssertTrue(node.waitForLog("\"refused\""))
        let swaps = events(node).filter { $0["event"] == "swap" }
        XCTAssertEqual(swaps.map { $0["result"] }, ["ok", "refused"])
        XCTAssertTrue(swaps.allSatisfy { $0["actor"]?.hasPrefix("rpc:127.0.0.1:") == true && UInt64($0["us"] ?? "") != nil }, "\(swaps)")
        XCTAssertEqual(node.stop(), 0)
        let names = events(node).map { $0["event"] ?? "" }
        XCTAssertTrue(names.contains("drain_started") && names.contains("drain_finished"), "\(names)")
        XCTAssertEqual(node.logged.split(separator: "\n").count, events(node).count, "every line is one JSON object")
    }

    func testProtocolErrorsAreLoggedWithPeerAndHexSampleAndRateLimited() throws {
        let node = try files.start(["--log-format", "json"])
        defer { node.stop() }
        for _ in 0..<40 {
            let client = try NodeClient(node.endpoint)
            try client.send(raw: Array("GET / HTTP/1.1\r\n\r\n\u{1b}[31m".utf8))
            _ = client.isClosedByPeer()
        }
        let errors = events(node).filter { $0["event"] == "protocol_error" }
        XCTAssertGreaterThan(errors.count, 0)
        XCTAssertLessThanOrEqual(errors.count, 20, "at most 10 a second per loop")
        let first = try XCTUnwrap(errors.first)
        XCTAssertTrue(first["peer"]?.hasPrefix("127.0.0.1:") == true)
        XCTAssertTrue(first["sample"]?.hasPrefix("474554202f") == true, "\(first)")  // "GET /" as hex
        XCTAssertFalse(node.logged.contains("\u{1b}"), "raw peer bytes reached the log")
        // Later errors are counted, not lost: once the window rolls over, an error reports how
        // many were left out (bounded: at most 400 more attempts, 25 ms of waiting each).
        var reported = false
        for _ in 0..<400 where !reported {
            let late = try NodeClient(node.endpoint)
            try late.send(raw: Array("garbage-garbage!".utf8))
            _ = late.isClosedByPeer()
            reported = node.waitForLog("protocol_errors_suppressed", timeout: 0.025)
        }
        XCTAssertTrue(reported, node.logged)
    }

    func testBrokenEventLoopExitsTheNodeWithAMessage() throws {
        let result = try files.runToExit([], environment: ["MLSERVE_TEST_FAULT": "epoll"])
        XCTAssertEqual(result.status, 70, result.errors)
        XCTAssertTrue(result.errors.contains("event loop 0 failed: epoll_wait"), result.errors)
    }
}
