import Foundation

/// Prediction latency over time as plain SVG text: per-window p99 and max on a log scale, with a
/// vertical line at every swap acknowledgement. No dependencies; any browser shows it.
struct SVGPlot {
    var title: String
    var subtitle: String
    var points: [LatencyTimeline.Point]
    /// Seconds since the start of the measured period.
    var swapTimes: [Double]
    var durationSeconds: Double
    var windowMillis: Double

    private let width = 1000.0
    private let height = 420.0
    private let left = 70.0
    private let right = 20.0
    private let top = 56.0
    private let bottom = 50.0

    func render() -> String {
        let plotW = width - left - right
        let plotH = height - top - bottom
        let values = points.flatMap { [$0.p99Millis, $0.maxMillis] }.filter { $0 > 0 }
        let lowDecade = floor(log10(values.min() ?? 0.01))
        let highDecade = max(ceil(log10(values.max() ?? 1)), lowDecade + 1)
        func x(_ seconds: Double) -> Double { left + plotW * seconds / max(durationSeconds, 1e-9) }
        func y(_ millis: Double) -> Double {
            let clamped = max(millis, pow(10, lowDecade))
            return top + plotH * (1 - (log10(clamped) - lowDecade) / (highDecade - lowDecade))
        }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="22" font-size="15" font-weight="bold">\(escape(title))</text>
        <text x="\(left)" y="40" fill="#444">\(escape(subtitle))</text>

        """
        // Grid: decades and their 2× and 5× marks.
        var decade = lowDecade
        while decade <= highDecade {
            for factor in [1.0, 2.0, 5.0] {
                let value = factor * pow(10, decade)
                guard log10(value) <= highDecade + 1e-9 else { continue }
                let gy = f(y(value))
                let strong = factor == 1
                svg += "<line x1=\"\(f(left))\" y1=\"\(gy)\" x2=\"\(f(left + plotW))\" y2=\"\(gy)\" stroke=\"\(strong ? "#bbb" : "#e4e4e4")\"/>\n"
                svg += "<text x=\"\(f(left - 6))\" y=\"\(gy)\" text-anchor=\"end\" dominant-baseline=\"middle\" fill=\"#555\">\(label(value))</text>\n"
            }
            decade += 1
        }
        let step = niceStep(durationSeconds)
        var tick = 0
        while Double(tick) * step <= durationSeconds + 1e-9 {
            let t = Double(tick) * step
            svg += "<text x=\"\(f(x(t)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\" fill=\"#555\">\(String(format: "%g", t))</text>\n"
            tick += 1
        }
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">seconds into the measured period</text>\n"
        svg += "<text transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">latency ms (log)</text>\n"
        for s in swapTimes {
            svg += "<line x1=\"\(f(x(s)))\" y1=\"\(f(top))\" x2=\"\(f(x(s)))\" y2=\"\(f(top + plotH))\" stroke=\"#d62728\" stroke-opacity=\"0.45\" stroke-width=\"1\"/>\n"
        }
        svg += polyline(points.map { (x($0.startSeconds + windowMillis / 2000), y($0.maxMillis)) }, color: "#9ecae1", width: 1)
        svg += polyline(points.map { (x($0.startSeconds + windowMillis / 2000), y($0.p99Millis)) }, color: "#08519c", width: 1.6)
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        // Legend.
        let lx = left + plotW - 330
        svg += "<rect x=\"\(f(lx))\" y=\"\(f(top + 6))\" width=\"322\" height=\"22\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n"
        svg += legendItem(x: lx + 8, y: top + 17, color: "#08519c", text: "p99 per \(trim(windowMillis)) ms")
        svg += legendItem(x: lx + 118, y: top + 17, color: "#9ecae1", text: "max")
        svg += legendItem(x: lx + 178, y: top + 17, color: "#d62728", text: "swap acknowledged")
        svg += "</svg>\n"
        return svg
    }

    private func polyline(_ coordinates: [(Double, Double)], color: String, width: Double) -> String {
        guard !coordinates.isEmpty else { return "" }
        let list = coordinates.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\" points=\"\(list)\"/>\n"
    }

    private func legendItem(x: Double, y: Double, color: String, text: String) -> String {
        "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 18))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            + "<text x=\"\(f(x + 24))\" y=\"\(f(y))\" dominant-baseline=\"middle\">\(escape(text))</text>\n"
    }

    private func niceStep(_ span: Double) -> Double {
        let raw = max(span / 10, 1e-3)
        let magnitude = pow(10, floor(log10(raw)))
        for m in [1.0, 2.0, 5.0, 10.0] where raw <= m * magnitude { return m * magnitude }
        return 10 * magnitude
    }

    private func label(_ millis: Double) -> String {
        millis >= 1 ? trim(millis) : String(format: "%g", millis)
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
