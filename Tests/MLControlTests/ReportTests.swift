import Foundation
import XCTest
@testable import MLControl

/// `mlctl report` opened in a real browser (headless Chromium): the page renders, the charts
/// are SVG elements in the DOM, and the page fetches nothing. Skipped only without Chromium;
/// `.ci/ops.sh` installs it and fails if these were skipped.
final class ReportTests: XCTestCase {
    static let skipMessage = "chromium is not installed (apt-get install -y chromium): report rendering tests skipped"

    static func chromium() -> String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A deploy of v2.1 at 12:10 that watch rolled back at 12:20, with metrics every minute.
    private func records() throws -> (db: String, incident: String) {
        let path = try temporaryDatabasePath(self)
        let store = try ControlStore(path: path)
        let start = noon
        var rows: [MetricsRow] = []
        for minute in 0..<30 {
            let version = (10..<20).contains(minute) ? "v2.1" : "v2.0"
            let bad = version == "v2.1"
            rows.append(MetricsRow(timestamp: start.addingTimeInterval(Double(minute) * 60), modelName: "anomaly-detector", modelVersion: version,
                                   node: "10.0.0.5:7070", requestCount: 1_000, feedbackCount: 200, f1Score: bad ? 0.70 : 0.93,
                                   latencyP99Ms: bad ? 40 : 2 + Double(minute % 3), errorRate: bad ? 0.01 : 0, anomalyRate: 0.1, driftScore: 0.01))
        }
        try store.insertMetrics(rows)
        try store.insertDeployment(DeploymentRow(timestamp: start.addingTimeInterval(600), action: .deploy, actor: "manual", node: "10.0.0.5:7070",
                                                 fromVersion: "v2.0", toVersion: "v2.1", generation: 2, swapMicros: 40, status: "ok", detail: nil))
        try store.insertDeployment(DeploymentRow(timestamp: start.addingTimeInterval(1200), action: .rollback, actor: "rule:f1_drop", node: "10.0.0.5:7070",
                                                 fromVersion: "v2.1", toVersion: "v2.0", generation: 3, swapMicros: 38, status: "ok", detail: "F1 <fell>"))
        let id = "INC-report-1"
        try store.insertIncident(IncidentRow(incidentID: id, alertType: "f1_drop", severity: "critical", affectedComponent: "anomaly-detector",
                                             rootCause: "F1 0.70 < baseline 0.93 & more", status: "resolved", createdAt: start.addingTimeInterval(1200),
                                             modelName: "anomaly-detector", node: "10.0.0.5:7070", fromVersion: "v2.1", toVersion: "v2.0"))
        return (path, id)
    }

    private func open(_ html: String) throws -> (dom: String, screenshot: Data) {
        guard let chromium = Self.chromium() else { throw XCTSkip(Self.skipMessage) }
        let directory = URL(fileURLWithPath: html).deletingLastPathComponent()
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(directory.appendingPathComponent("chromium").path)"]
        let dom = try runChild(chromium, common + ["--dump-dom", "file://\(html)"])
        XCTAssertEqual(dom.status, 0, dom.output)
        let png = directory.appendingPathComponent("report.png")
        let shot = try runChild(chromium, common + ["--window-size=1000,1800", "--screenshot=\(png.path)", "file://\(html)"])
        XCTAssertEqual(shot.status, 0, shot.output)
        return (dom.output, try Data(contentsOf: png))
    }

    func testReportRendersEveryChartInHeadlessChromium() throws {
        let (db, incident) = try records()
        let html = URL(fileURLWithPath: db).deletingLastPathComponent().appendingPathComponent("report.html").path
        let run = try runMlctl(["report", "--db", db, "--incident", incident, "-o", html])
        XCTAssertEqual(run.status, 0, run.output)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        // Self-contained: no script, nothing loaded from elsewhere.
        XCTAssertFalse(page.contains("<script"))
        XCTAssertFalse(page.contains("src=") || page.contains("href=") || page.contains("@import") || page.contains("url("))

        let (dom, screenshot) = try open(html)
        XCTAssertEqual(Array(screenshot.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG screenshot")
        XCTAssertGreaterThan(screenshot.count, 10_000, "the screenshot shows something")
        for chart in ["chart-f1", "chart-p99", "chart-model-errors"] {
            let svg = try XCTUnwrap(element(chart, in: dom), "\(chart) missing from the DOM")
            XCTAssertTrue(svg.contains("data-version=\"v2.0\"") && svg.contains("data-version=\"v2.1\""), chart)
            // v2.0 before the deploy and after the rollback, v2.1 between: three stretches.
            XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 3, chart)
            XCTAssertTrue(svg.contains("marker-deploy") && svg.contains("marker-rollback"), chart)
        }
        // These rows carry no client error rate or label coverage: shown as n/a, not as an empty chart.
        XCTAssertNil(element("chart-client-errors", in: dom))
        XCTAssertNil(element("chart-label-coverage", in: dom))
        XCTAssertTrue(dom.contains("no values in these rows"))
        // The INCIDENTS row and the DEPLOYMENTS rows, escaped.
        XCTAssertTrue(dom.contains("INC-report-1") && dom.contains("F1 0.70 &lt; baseline 0.93 &amp; more"))
        XCTAssertTrue(dom.contains("rule:f1_drop") && dom.contains("F1 &lt;fell&gt;"))
    }

    func testSignalsColumnsAreChartedWhenTheDatabaseHasThem() throws {
        let (db, incident) = try records()
        let store = try ControlStore(path: db)
        try store.database.exec("UPDATE MODEL_METRICS SET client_error_rate = 0.02, label_coverage = 0.5 + (id % 4) * 0.1")
        let html = URL(fileURLWithPath: db).deletingLastPathComponent().appendingPathComponent("report.html").path
        XCTAssertEqual(try runMlctl(["report", "--db", db, "--incident", incident, "-o", html]).status, 0)
        let (dom, _) = try open(html)
        for chart in ["chart-client-errors", "chart-label-coverage"] {
            let svg = try XCTUnwrap(element(chart, in: dom), "\(chart) missing")
            XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 3, chart)
        }
    }

    func testUnknownIncidentExitsTwoAndWritesNothing() throws {
        let (db, _) = try records()
        let html = URL(fileURLWithPath: db).deletingLastPathComponent().appendingPathComponent("none.html").path
        let run = try runMlctl(["report", "--db", db, "--incident", "INC-nope", "-o", html])
        XCTAssertEqual(run.status, 2, run.output)
        XCTAssertTrue(run.output.contains("no incident INC-nope"), run.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: html))
    }

    /// The text of `<svg id="ID" …>…</svg>` in the serialized DOM.
    private func element(_ id: String, in dom: String) -> String? {
        guard let start = dom.range(of: "<svg id=\"\(id)\"") else { return nil }
        guard let end = dom.range(of: "</svg>", range: start.upperBound..<dom.endIndex) else { return nil }
        return String(dom[start.lowerBound..<end.upperBound])
    }
}
