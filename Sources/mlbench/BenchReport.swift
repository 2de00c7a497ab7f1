import Foundation

/// One run's figures, printed as a table or as JSON (`--json`; bench/run aggregates these).
struct BenchReport: Codable {
    struct CPU: Codable {
        /// mlbench's own user+system CPU per answered request, every thread (getrusage).
        var mlbenchMicrosPerRequest: Double
        /// The child node's CPU per request (/proc/<pid>/stat); nil with --node.
        var nodeMicrosPerRequest: Double?
    }

    struct Swaps: Codable {
        var count: Int
        var everyMillis: Double
        var nearMillis: Double
        /// Controller-side round trip: Swap written → SwapReply read.
        var roundTrip: LatencySummary
        var inNode: LatencySummary
        /// Predictions whose [sent, received] overlaps [planned send − near, written + near] of a swap.
        var nearSwaps: LatencySummary
        var awayFromSwaps: LatencySummary
        /// nearSwaps.p99 / awayFromSwaps.p99 (target ≤ 1.05).
        var p99NearOverAway: Double
    }

    /// Every one must be zero; `--check` turns a non-zero total into exit status 1.
    struct Correctness: Codable {
        var failedRequests: Int
        var versionGenerationMismatches: Int
        var generationRegressions: Int
        var linearizabilityViolations: Int
        var failedSwaps: Int
        /// The sum of the counters above (kept up to date by `recount`, written to JSON).
        var total = 0

        mutating func recount() {
            total = failedRequests + versionGenerationMismatches + generationRegressions + linearizabilityViolations + failedSwaps
        }
    }

    var scenario: String
    var build: String
    var node: String
    var command: String
    var connections: Int
    var pipeline: Int
    var batch: Int
    var features: Int
    var durationSeconds: Double
    var warmupSeconds: Double
    var requests: Int
    var requestsPerSecond: Double
    var predictionsPerSecond: Double
    var latency: LatencySummary
    var cpu: CPU
    var swaps: Swaps?
    var correctness: Correctness
    var firstFailure: String?
    var notes: [String]

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    func table() -> String {
        var lines: [String] = []
        func row(_ label: String, _ value: String) { lines.append("  " + label.padding(toLength: 26, withPad: " ", startingAt: 0) + value) }
        lines.append("mlbench \(scenario)  \(command)")
        row("node", node)
        row("predictions/s", grouped(predictionsPerSecond) + (batch > 1 ? "  (\(grouped(requestsPerSecond)) requests/s × \(batch) rows)" : ""))
        row("requests measured", "\(grouped(Double(requests))) in \(trim(durationSeconds)) s (after \(trim(warmupSeconds)) s warm-up)")
        row("latency ms", percentiles(latency))
        let node = cpu.nodeMicrosPerRequest.map { String(format: "%.2f", $0) } ?? "n/a"
        row("CPU µs/request", "mlbench " + String(format: "%.2f", cpu.mlbenchMicrosPerRequest) + "   mlserve " + node)
        if let swaps {
            row("swaps", "\(swaps.count), every \(trim(swaps.everyMillis)) ms, fenced, alternating")
            row("swap round trip ms", "p50 \(ms(swaps.roundTrip.p50))  p99 \(ms(swaps.roundTrip.p99))  max \(ms(swaps.roundTrip.max))")
            row("swap inside node ms", "p50 \(ms(swaps.inNode.p50))  p99 \(ms(swaps.inNode.p99))  max \(ms(swaps.inNode.max))")
            row("latency near swaps ms", percentiles(swaps.nearSwaps) + "  (±\(trim(swaps.nearMillis)) ms, \(grouped(Double(swaps.nearSwaps.count))) req)")
            row("latency away ms", percentiles(swaps.awayFromSwaps) + "  (\(grouped(Double(swaps.awayFromSwaps.count))) req)")
            row("p99 near / away", String(format: "%.3f", swaps.p99NearOverAway))
        }
        lines.append("  correctness (all must be 0):")
        row("  failed requests", "\(correctness.failedRequests)")
        row("  version ≠ generation", "\(correctness.versionGenerationMismatches)")
        row("  generation went back", "\(correctness.generationRegressions)")
        row("  linearizability", "\(correctness.linearizabilityViolations)")
        if swaps != nil { row("  failed swaps", "\(correctness.failedSwaps)") }
        if let firstFailure { row("first failure", firstFailure) }
        for note in notes { lines.append("  note: \(note)") }
        return lines.joined(separator: "\n")
    }

    private func percentiles(_ s: LatencySummary) -> String {
        "p50 \(ms(s.p50))  p90 \(ms(s.p90))  p99 \(ms(s.p99))  p99.9 \(ms(s.p999))  max \(ms(s.max))"
    }
}

/// Milliseconds with three significant decimals.
func ms(_ value: Double) -> String { String(format: "%.3f", value) }

/// 1234567.8 → "1,234,568".
func grouped(_ value: Double) -> String {
    let digits = String(Int(value.rounded()))
    var out = ""
    for (i, ch) in digits.reversed().enumerated() {
        if i > 0 && i % 3 == 0 && ch != "-" { out.append(",") }
        out.append(ch)
    }
    return String(out.reversed())
}
