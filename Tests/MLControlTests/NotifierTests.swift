import Foundation
import XCTest
@testable import MLControl

final class NotifierTests: XCTestCase {
    private let notification = AlertNotification(
        incidentID: "INC-20260228-120000-f1_drop-3fa2", alertType: "f1_drop", severity: "critical", action: "rollback",
        status: "resolved", node: "127.0.0.1:7000", model: "fraud", fromVersion: "v2.1", toVersion: "v2.0",
        trigger: "F1 0.712 dropped 0.214 below baseline 0.926 (limit 0.05) 4m12s after deploy", at: noon)

    /// Collects printed lines instead of writing to stdout.
    private final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []  // protected by lock
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    private func notifier(webhook: String? = nil, command: String? = nil, timeout: Double = 5, lines: Lines = Lines()) -> Notifier {
        Notifier(webhookURL: webhook, notifyCommand: command, timeout: timeout, printLine: { lines.append($0) })
    }

    func testJSONHasTheIncidentFieldsWithStableKeys() throws {
        let json = String(decoding: notification.jsonData(), as: UTF8.self)
        XCTAssertEqual(json, #"{"action":"rollback","alert_type":"f1_drop","dry_run":false,"from_version":"v2.1","incident_id":"INC-20260228-120000-f1_drop-3fa2","model":"fraud","node":"127.0.0.1:7000","schema_version":2,"severity":"critical","status":"resolved","summary":"2026-02-28T12:00:00Z ROLLBACK [critical] f1_drop node=127.0.0.1:7000 model=fraud v2.1 -> v2.0 incident=INC-20260228-120000-f1_drop-3fa2: F1 0.712 dropped 0.214 below baseline 0.926 (limit 0.05) 4m12s after deploy","timestamp":"2026-02-28T12:00:00Z","to_version":"v2.0","trigger":"F1 0.712 dropped 0.214 below baseline 0.926 (limit 0.05) 4m12s after deploy"}"#)
        XCTAssertEqual(try JSONDecoder().decode(AlertNotification.self, from: notification.jsonData()), notification)
    }

    func testNotificationFromATriggerSaysRollbackOrInvestigate() {
        let anomaly = Trigger(rule: .anomalyRate, modelName: "fraud", version: "v2", observed: 0.1, baseline: 0.02, threshold: 3,
                              samples: 1_000, sinceDeploy: nil, sentence: "spike")
        let n = AlertNotification(incidentID: "INC-1", trigger: anomaly, node: "a", restoredVersion: "v1", at: noon)
        XCTAssertEqual([n.action, n.status, n.severity, n.fromVersion, n.toVersion], ["investigate", "investigating", "warning", "v2", nil])
    }

    func testStdoutAlwaysGetsOneSummaryLine() {
        let lines = Lines()
        let outcomes = notifier(lines: lines).notify(notification)
        XCTAssertEqual(outcomes, [NotificationOutcome(channel: .stdout, succeeded: true, detail: "printed")])
        XCTAssertEqual(lines.all, ["2026-02-28T12:00:00Z ROLLBACK [critical] f1_drop node=127.0.0.1:7000 model=fraud v2.1 -> v2.0 "
                                   + "incident=INC-20260228-120000-f1_drop-3fa2: F1 0.712 dropped 0.214 below baseline 0.926 (limit 0.05) 4m12s after deploy"])
    }

    func testWebhookReceivesTheExactJSON() throws {
        let server = try LoopbackHTTPServer(status: 200)
        let outcomes = notifier(webhook: server.url).notify(notification)
        let request = try XCTUnwrap(server.request())
        XCTAssertEqual(request.requestLine, "POST /hooks/ml-alerts HTTP/1.1")
        XCTAssertEqual(request.headers["content-type"], "application/json")
        XCTAssertEqual(request.headers["host"], "127.0.0.1:\(server.port)")
        XCTAssertEqual(request.body, notification.jsonData())
        XCTAssertEqual(outcomes.last, NotificationOutcome(channel: .webhook, succeeded: true, detail: "HTTP 200"))
    }

    func testWebhookNon2xxIsAReportedFailure() throws {
        let server = try LoopbackHTTPServer(status: 500)
        let lines = Lines()
        let outcomes = notifier(webhook: server.url, lines: lines).notify(notification)
        XCTAssertNotNil(server.request())
        let webhook = try XCTUnwrap(outcomes.last)
        XCTAssertFalse(webhook.succeeded)
        XCTAssertTrue(webhook.detail.contains("HTTP 500 is not success"), webhook.detail)
        XCTAssertTrue(lines.all.last?.contains("NOTIFY-FAILED") ?? false)
    }

    func testWebhookThatNeverAnswersTimesOut() throws {
        let server = try LoopbackHTTPServer(respond: false)
        let started = Date()
        let outcomes = notifier(webhook: server.url, timeout: 0.3).notify(notification)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertEqual(outcomes.last?.succeeded, false)
        XCTAssertTrue(outcomes.last?.detail.contains("timed out waiting for the response") ?? false, "\(outcomes)")
    }

    func testUnreachableWebhookIsAReportedFailure() throws {
        let port: UInt16
        do { port = try LoopbackHTTPServer(respond: false).port }  // bound, then closed: nobody listens
        let outcomes = notifier(webhook: "http://127.0.0.1:\(port)/x").notify(notification)
        XCTAssertEqual(outcomes.last?.succeeded, false)
        XCTAssertTrue(outcomes.last?.detail.contains("cannot connect") ?? false, "\(outcomes)")
    }

    func testHTTPSWebhookIsRefusedClearly() {
        let outcomes = notifier(webhook: "https://hooks.example.com/x").notify(notification)
        XCTAssertEqual(outcomes.last?.succeeded, false)
        XCTAssertTrue(outcomes.last?.detail.contains("https is not supported") ?? false, "\(outcomes)")
    }

    func testWebhookURLParsing() {
        XCTAssertEqual(try HTTPPost.parse("http://relay").get(), .init(host: "relay", port: "80", path: "/"))
        XCTAssertEqual(try HTTPPost.parse("http://relay:8080/a/b?c=1").get(), .init(host: "relay", port: "8080", path: "/a/b?c=1"))
        XCTAssertEqual(try HTTPPost.parse("http://[::1]:9000/h").get(), .init(host: "::1", port: "9000", path: "/h"))
        XCTAssertThrowsError(try HTTPPost.parse("http://relay:99999/").get())
        XCTAssertThrowsError(try HTTPPost.parse("http://user@relay/").get())
    }

    func testNotifyCommandReceivesTheJSONOnStdin() throws {
        let path = try temporaryDatabasePath(self) + ".json"
        let outcomes = notifier(command: "cat > '\(path)'").notify(notification)
        XCTAssertEqual(outcomes.last, NotificationOutcome(channel: .command, succeeded: true, detail: "exit 0"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), notification.jsonData())
    }

    func testNotifyCommandThatIgnoresStdinStillSucceeds() {
        XCTAssertEqual(notifier(command: "true").notify(notification).last?.succeeded, true)
    }

    func testFailingNotifyCommandReportsStatusAndOutput() {
        let outcome = notifier(command: "echo relay down >&2; exit 3").notify(notification).last
        XCTAssertEqual(outcome?.succeeded, false)
        XCTAssertEqual(outcome?.detail, "notify command exited with status 3: relay down")
    }

    func testSlowNotifyCommandIsStoppedAtTheTimeoutWithItsChildren() throws {
        let pidFile = try temporaryDatabasePath(self) + ".pid"
        let started = Date()
        let outcome = notifier(command: "sleep 20 & echo $! > '\(pidFile)'; wait", timeout: 0.5).notify(notification).last
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(outcome?.succeeded, false)
        XCTAssertTrue(outcome?.detail.contains("timed out after 0.5s") ?? false, "\(String(describing: outcome))")
        // The shell's child must not outlive it (gone, or a zombie awaiting its new parent).
        let pid = try XCTUnwrap(Int32(String(decoding: try Data(contentsOf: URL(fileURLWithPath: pidFile)), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        var alive = true
        for _ in 0..<40 where alive {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            alive = !stat.isEmpty && !stat.contains(") Z ")
            if alive { usleep(50_000) }
        }
        XCTAssertFalse(alive, "sleep \(pid) survived the timeout")
    }

    func testWebhookAndCommandBothRunAndFailIndependently() throws {
        let path = try temporaryDatabasePath(self) + ".json"
        let outcomes = notifier(webhook: "https://nope", command: "cat > '\(path)'").notify(notification)
        XCTAssertEqual(outcomes.map(\.channel), [.stdout, .webhook, .command])
        XCTAssertEqual(outcomes.map(\.succeeded), [true, false, true])
    }
}
