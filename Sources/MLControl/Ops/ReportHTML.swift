import Foundation

/// Renders an `IncidentReport` as one self-contained HTML page: inline CSS and SVG, no script,
/// no external resource, so it opens from a file, an email attachment or an air-gapped laptop.
/// Charts put the rows on the x axis in time order (the demo compresses minutes into seconds,
/// so timestamps alone would pile up); deploys, rollbacks and gates are vertical markers.
public enum ReportHTML {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    static let width = 880.0, height = 190.0, left = 56.0, right = 16.0, top = 14.0, bottom = 30.0

    public static func render(_ report: IncidentReport, generatedAt: Date) -> String {
        let versions = orderedVersions(report)
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title(report)))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:960px}
        h1{font-size:20px}h2{font-size:16px;margin-top:28px}
        table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
        th{background:#f3f3f3}.na{color:#888}.legend span{display:inline-block;margin-right:14px}
        .swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
        svg{background:#fafafa;border:1px solid #ddd}
        </style></head><body>
        <h1>\(escape(title(report)))</h1>
        <p>Generated \(escape(SQLTime.iso8601(generatedAt))) by mlctl report from MODEL_METRICS, DEPLOYMENTS and INCIDENTS
        (\(report.points.count) metric rows, \(report.deployments.count) deployment rows).</p>

        """
        html += incidentSection(report.incident)
        html += "<div class=\"legend\">" + versions.enumerated().map { i, v in
            "<span><i class=\"swatch\" style=\"background:\(color(i))\"></i>\(escape(v))</span>"
        }.joined() + "<span><i class=\"swatch\" style=\"background:#555\"></i>deploy/swap</span>"
            + "<span><i class=\"swatch\" style=\"background:#d62728\"></i>rollback</span></div>\n"
        html += chart(id: "f1", title: "F1 (from labels)", report, versions, unit: "", value: { $0.f1 })
        html += chart(id: "p99", title: "p99 latency (ms)", report, versions, unit: " ms", value: { $0.p99Ms })
        html += chart(id: "model-errors", title: "Model error rate", report, versions, unit: "%", scale: 100, value: { $0.modelErrorRate })
        html += report.hasClientErrors
            ? chart(id: "client-errors", title: "Client error rate", report, versions, unit: "%", scale: 100, value: { $0.clientErrorRate })
            : notAvailable("Client error rate", "this database has no client_error_rate column yet")
        html += report.hasLabelCoverage
            ? chart(id: "label-coverage", title: "Label coverage", report, versions, unit: "%", scale: 100, value: { $0.labelCoverage })
            : notAvailable("Label coverage", "this database has no label_coverage column yet")
        html += deploymentsTable(report.deployments)
        html += "</body></html>\n"
        return html
    }

    static func title(_ report: IncidentReport) -> String {
        guard let i = report.incident else { return "MLServe deploy timeline" }
        return "Incident \(i.incidentID): \(i.alertType) on \(i.modelName ?? i.affectedComponent)"
    }

    static func orderedVersions(_ report: IncidentReport) -> [String] {
        var seen: [String] = []
        for p in report.points where !seen.contains(p.version) { seen.append(p.version) }
        return seen
    }

    static func color(_ index: Int) -> String { palette[index % palette.count] }

    static func incidentSection(_ incident: IncidentRow?) -> String {
        guard let i = incident else { return "<p>No incident recorded: the whole timeline is shown.</p>\n" }
        let fields: [(String, String?)] = [
            ("incident_id", i.incidentID), ("alert_type", i.alertType), ("severity", i.severity), ("status", i.status),
            ("affected_component", i.affectedComponent), ("node", i.node), ("from_version", i.fromVersion), ("to_version", i.toVersion),
            ("root_cause", i.rootCause), ("resolution", i.resolution), ("stability_outcome", i.stabilityOutcome),
            ("created_at", SQLTime.string(i.createdAt)), ("updated_at", SQLTime.string(i.updatedAt)), ("notes", i.notes),
        ]
        return "<h2>INCIDENTS row</h2>\n<table id=\"incident\">" + fields.map { name, value in
            "<tr><th>\(name)</th><td>" + (value.map { escape($0).replacingOccurrences(of: "\n", with: "<br>") } ?? "<span class=\"na\">n/a</span>") + "</td></tr>"
        }.joined(separator: "\n") + "</table>\n"
    }

    static func notAvailable(_ title: String, _ why: String) -> String {
        "<h2>\(escape(title))</h2>\n<p class=\"na\">n/a — \(escape(why)).</p>\n"
    }

    /// One line chart: a polyline per version over the rows, markers for DEPLOYMENTS.
    static func chart(id: String, title: String, _ report: IncidentReport, _ versions: [String], unit: String,
                      scale: Double = 1, value: (IncidentReport.Point) -> Double?) -> String {
        let points = report.points
        let values = points.compactMap(value).map { $0 * scale }.filter(\.isFinite)
        guard !values.isEmpty else { return notAvailable(title, "no values in these rows") }
        var low = min(0, values.min()!), high = values.max()!
        if high <= low { high = low + 1 }
        high += (high - low) * 0.05
        low = low == 0 ? 0 : low - (high - low) * 0.05
        let plotW = width - left - right, plotH = height - top - bottom
        let n = max(1, points.count - 1)
        func x(_ index: Int) -> Double { left + plotW * Double(index) / Double(n) }
        func y(_ v: Double) -> Double { top + plotH * (1 - (v - low) / (high - low)) }
        var svg = "<h2>\(escape(title))</h2>\n<svg id=\"chart-\(id)\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        // Axes and three gridlines with labels.
        for k in 0...2 {
            let v = low + (high - low) * Double(k) / 2
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(v)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(v)))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(y(v) + 4))\" font-size=\"11\" text-anchor=\"end\">\(escape(label(v, unit)))</text>\n"
        }
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(width - right))\" y2=\"\(f(top + plotH))\" stroke=\"#888\"/>\n"
        if let first = points.first, let last = points.last {
            svg += "<text x=\"\(f(left))\" y=\"\(f(height - 8))\" font-size=\"11\">\(escape(first.timestamp))</text>"
            svg += "<text x=\"\(f(width - right))\" y=\"\(f(height - 8))\" font-size=\"11\" text-anchor=\"end\">\(escape(last.timestamp))</text>\n"
        }
        // Markers: each DEPLOYMENTS row, in time order, at the first later row of the version it
        // made active (timestamps are whole seconds: a demo's deploy and rollback share one).
        var markerIndexes: [Int] = []
        for d in report.deployments {
            let t = SQLTime.string(d.timestamp)
            let floor = markerIndexes.last ?? 0
            let later = points.indices.filter { $0 >= floor && points[$0].timestamp >= t }
            let index = later.first { points[$0].version == d.toVersion } ?? later.first ?? points.count - 1
            let stagger = Double(markerIndexes.filter { $0 == index }.count) * 12
            markerIndexes.append(index)
            let stroke = d.action == .rollback ? "#d62728" : "#555"
            let text = "\(d.action.rawValue) \(d.fromVersion ?? "?")→\(d.toVersion ?? "?") (\(d.actor), \(d.status)) at \(t)"
            svg += "<line class=\"marker marker-\(d.action.rawValue)\" x1=\"\(f(x(index)))\" y1=\"\(f(top))\" x2=\"\(f(x(index)))\" y2=\"\(f(top + plotH))\" stroke=\"\(stroke)\" stroke-dasharray=\"4 3\"><title>\(escape(text))</title></line>"
            svg += "<text x=\"\(f(x(index) + 3))\" y=\"\(f(top + 10 + stagger))\" font-size=\"10\" fill=\"\(stroke)\">\(escape(d.action.rawValue))</text>\n"
        }
        // One polyline per stretch of a version: a line never bridges a swap marker (v2.0 before
        // a bad deploy and after its rollback are two stretches, not one line across the incident).
        for (vi, version) in versions.enumerated() {
            var segments: [[String]] = []
            var previous: Int?
            for (i, p) in points.enumerated() {
                guard p.version == version, let v = value(p).map({ $0 * scale }), v.isFinite else { continue }
                if let previous, !markerIndexes.contains(where: { $0 > previous && $0 <= i }) {
                    segments[segments.count - 1].append("\(f(x(i))),\(f(y(v)))")
                } else {
                    segments.append(["\(f(x(i))),\(f(y(v)))"])
                }
                previous = i
            }
            for coordinates in segments {
                svg += "<polyline class=\"series\" data-version=\"\(escape(version))\" fill=\"none\" stroke=\"\(color(vi))\" stroke-width=\"2\" points=\"\(coordinates.joined(separator: " "))\"><title>\(escape(version))</title></polyline>\n"
                for c in coordinates {
                    let xy = c.split(separator: ",")
                    svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(color(vi))\"/>"
                }
                svg += "\n"
            }
        }
        return svg + "</svg>\n"
    }

    static func deploymentsTable(_ rows: [DeploymentRow]) -> String {
        var out = "<h2>DEPLOYMENTS rows</h2>\n<table id=\"deployments\"><tr><th>timestamp</th><th>action</th><th>actor</th><th>node</th><th>from</th><th>to</th><th>generation</th><th>swap µs</th><th>status</th><th>detail</th></tr>\n"
        for r in rows {
            let cells = [SQLTime.string(r.timestamp), r.action.rawValue, r.actor, r.node, r.fromVersion ?? "", r.toVersion ?? "",
                         r.generation.map(String.init) ?? "", r.swapMicros.map { Formatting.fixed($0, 1) } ?? "", r.status, r.detail ?? ""]
            out += "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        if rows.isEmpty { out += "<tr><td colspan=\"10\" class=\"na\">none in this span</td></tr>\n" }
        return out + "</table>\n"
    }

    static func label(_ v: Double, _ unit: String) -> String {
        let digits = v == 0 ? 0 : abs(v) >= 100 ? 0 : abs(v) >= 1 ? 1 : 3
        return Formatting.fixed(v, digits) + unit
    }

    static func f(_ v: Double) -> String { Formatting.fixed(v, 1) }

    /// HTML text and attribute escaping: the five characters that matter.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
