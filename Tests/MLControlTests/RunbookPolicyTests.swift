import Foundation
import XCTest
@testable import MLControl

final class RunbookPolicyTests: XCTestCase {
    private func decode(_ json: String) throws -> RunbookPolicy {
        try RunbookPolicy.decode(Data(json.utf8))
    }

    func testDefaultsAreTheRunbooksTable() {
        let p = RunbookPolicy()
        XCTAssertEqual(p.f1DropLimit, 0.05)
        XCTAssertEqual(p.latencyP99LimitMs, 2_000)
        XCTAssertEqual(p.deployWindowSeconds, 1_800)
        XCTAssertEqual(p.errorRateLimit, 0.05)
        XCTAssertEqual(p.anomalyRateMultiplier, 3)
        XCTAssertEqual(p.stabilityWindowSeconds, 1_800)
        XCTAssertEqual(p.stabilityF1Tolerance, 0.02)
        XCTAssertEqual(p.stabilityLatencyP99LimitMs, 1_000)
        XCTAssertEqual(p.baselineWindowSeconds, 86_400)
        XCTAssertEqual(p.minRequests, 200)
        XCTAssertEqual(p.minFeedback, 100)
        XCTAssertNil(p.webhookURL)
        XCTAssertNil(p.notifyCommand)
    }

    func testEmptyDocumentTakesEveryDefault() throws {
        XCTAssertEqual(try decode("{}"), RunbookPolicy())
    }

    func testGivenKeysOverrideAndMissingKeysKeepDefaults() throws {
        let p = try decode(#"{"f1_drop_limit": 0.1, "poll_interval_seconds": 0.5, "webhook_url": "http://127.0.0.1:9/hook", "notify_command": "cat"}"#)
        var expected = RunbookPolicy()
        expected.f1DropLimit = 0.1
        expected.pollIntervalSeconds = 0.5
        expected.webhookURL = "http://127.0.0.1:9/hook"
        expected.notifyCommand = "cat"
        XCTAssertEqual(p, expected)
    }

    func testEncodedPolicyDecodesToTheSame() throws {
        var p = RunbookPolicy()
        p.minFeedback = 7
        p.webhookURL = "http://relay/ml"
        let data = try JSONEncoder().encode(p)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"min_feedback\":7"))
        XCTAssertEqual(try RunbookPolicy.decode(data), p)
    }

    func testUnknownKeyIsRejectedNamingItAndTheKnownKeys() {
        XCTAssertThrowsError(try decode(#"{"error_rate_limt": 0.01}"#)) { error in
            guard case .unknownKeys(let keys, let known) = error as? PolicyError else { return XCTFail("\(error)") }
            XCTAssertEqual(keys, ["error_rate_limt"])
            XCTAssertTrue(known.contains("error_rate_limit"))
            XCTAssertTrue("\(error)".contains("unknown policy key \"error_rate_limt\""), "\(error)")
        }
    }

    func testWrongTypeNamesTheKey() {
        XCTAssertThrowsError(try decode(#"{"min_requests": "lots"}"#)) { error in
            XCTAssertEqual(error as? PolicyError, .invalid(key: "min_requests", reason: "must be a number"))
        }
    }

    func testHTTPSWebhookIsRefusedAsUnsupported() {
        XCTAssertThrowsError(try decode(#"{"webhook_url": "https://hooks.slack.com/x"}"#)) { error in
            XCTAssertTrue("\(error)".contains("https, which mlctl's built-in client does not support"), "\(error)")
        }
    }

    func testValuesThatWouldBreakARuleAreRefused() {
        for json in [#"{"min_requests": 0}"#, #"{"error_rate_limit": 1.5}"#, #"{"latency_p99_limit_ms": -1}"#,
                     #"{"poll_interval_seconds": 0}"#, #"{"webhook_url": "ftp://x"}"#, #"{"notify_command": "  "}"#] {
            XCTAssertThrowsError(try decode(json), json) { error in
                guard case .invalid = error as? PolicyError else { return XCTFail("\(json): \(error)") }
            }
        }
    }

    func testLoadReadsAFileAndNamesAMissingOne() throws {
        let path = try temporaryDatabasePath(self) + ".json"
        try Data(#"{"min_feedback": 50}"#.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try RunbookPolicy.load(path: path).minFeedback, 50)
        XCTAssertThrowsError(try RunbookPolicy.load(path: path + ".missing")) { error in
            XCTAssertTrue("\(error)".contains("cannot read policy file \(path).missing"), "\(error)")
        }
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try RunbookPolicy.load(path: path)) { error in
            guard case .malformed(let reason) = error as? PolicyError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.hasPrefix(path), reason)
        }
    }
}
