import Foundation
import MLClient
import MLControl
import MLModel
import MLWire
import XCTest

/// Issue 10 point 12 (the controller's side): a MODEL_METRICS row reported is a row stored, even
/// when another process holds the database past the busy timeout; policy files with a key twice
/// or a value of the wrong type are refused naming the key.
final class ControllerHardeningTests: XCTestCase {
    func testRowsPolledWhileTheDatabaseIsLockedAreStoredOnTheNextRound() throws {
        let node = try InProcessNode()
        defer { node.stop() }
        let path = try temporaryDatabasePath(self)
        let store = try ControlStore(database: SQLiteDatabase(path: path, busyTimeoutMillis: 50))
        let clock = FakeClock()
        let box = EventBox()
        var policy = RunbookPolicy()
        policy.pollIntervalSeconds = 10
        let loop = WatchLoop(configuration: WatchConfiguration(nodes: [node.endpoint], policy: policy, retryDelay: 0),
                             store: store, access: NodeAccess(token: InProcessNode.token, timeout: 5),
                             notifier: Notifier(policy: policy, printLine: { _ in }),
                             clock: { [clock] in clock.now }, sleep: { [clock] in clock.advance($0) },
                             onEvent: { box.events.append($0) })
        let client = try node.dataClient()
        var data = DemoData(seed: 3)
        loop.pollRound()  // the reference poll

        // Another process (here: another connection) holds the write lock through a round.
        let other = try SQLiteDatabase(path: path)
        try other.exec("BEGIN EXCLUSIVE")
        _ = try DemoTraffic.send(to: client, count: 300, data: &data, feedback: true)
        clock.advance(10)
        loop.pollRound()
        let reported = box.events.compactMap { event -> [MetricsRow]? in
            if case .polled(_, _, _, _, let rows) = event { return rows } else { return nil }
        }.flatMap { $0 }
        XCTAssertEqual(reported.count, 1, "the round reported its row")
        XCTAssertEqual(loop.unstoredRows.count, 1)
        try other.exec("COMMIT")

        _ = try DemoTraffic.send(to: client, count: 300, data: &data, feedback: true)
        clock.advance(10)
        loop.pollRound()
        XCTAssertTrue(loop.unstoredRows.isEmpty)
        let stored = try other.query("SELECT COUNT(*) FROM MODEL_METRICS")
        XCTAssertEqual(stored.first?.first, .integer(2), "the locked round's row and the next one's")
    }

    func testPolicyWithAKeyTwiceIsRefusedNamingTheKey() {
        let text = #"{"f1_drop_limit": 0.05, "error_rate_limit": 0.05, "f1_drop_limit": 0.5}"#
        XCTAssertThrowsError(try RunbookPolicy.decode(Data(text.utf8))) { error in
            XCTAssertEqual(error as? PolicyError, .invalid(key: "f1_drop_limit", reason: "appears more than once"))
        }
        // Key-like text inside a string value is not a second key.
        let quoted = #"{"notify_command": "echo \"min_requests\": 1", "min_requests": 5}"#
        XCTAssertEqual(try RunbookPolicy.decode(Data(quoted.utf8)).minRequests, 5)
    }

    func testPolicyValueOfTheWrongTypeNamesTheKey() {
        for text in [#"{"min_requests": "lots"}"#, #"{"min_requests": 1.5}"#, #"{"f1_drop_limit": true}"#] {
            XCTAssertThrowsError(try RunbookPolicy.decode(Data(text.utf8)), text) { error in
                guard case .invalid(let key, _) = error as? PolicyError else { return XCTFail("\(text): \(error)") }
                XCTAssertTrue(["min_requests", "f1_drop_limit"].contains(key), "\(text): \(error)")
            }
        }
    }
}
