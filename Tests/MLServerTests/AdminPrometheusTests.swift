import MLServer
import MLWire
import XCTest

/// `/metrics` output checked by a small, independent reader of the text exposition format 0.0.4.
final class AdminPrometheusTests: XCTestCase {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    enum ExpositionError: Error { case bad(String) }

    /// Every line must be a HELP/TYPE comment or a sample; names match [a-zA-Z_:][a-zA-Z0-9_:]*,
    /// label values are quoted with only \\ \" \n escapes, values parse as floats (+Inf allowed).
    static func parseExposition(_ text: String) throws -> (samples: [Sample], types: [String: String]) {
        guard text.hasSuffix("\n") else { throw ExpositionError.bad("no final newline") }
        var samples: [Sample] = []
        var types: [String: String] = [:]
        var helps = Set<String>()
        for line in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count >= 3, parts[0] == "#", ["HELP", "TYPE"].contains(parts[1]), isMetricName(parts[2]) else {
                    throw ExpositionError.bad("bad comment: \(line)")
                }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]),
                          types[parts[2]] == nil else { throw ExpositionError.bad("bad or repeated TYPE: \(line)") }
                    types[parts[2]] = parts[3]
                } else {
                    guard helps.insert(parts[2]).inserted else { throw ExpositionError.bad("repeated HELP: \(line)") }
                }
                continue
            }
            samples.append(try parseSample(Array(line.unicodeScalars)))
        }
        return (samples, types)
    }

    static func isMetricName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        func leading(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == ":" }
        guard let first = scalars.first, leading(first) else { return false }
        return scalars.allSatisfy { leading($0) || ("0"..."9").contains($0) }
    }

    static func parseSample(_ s: [Unicode.Scalar]) throws -> Sample {
        var i = 0
        while i < s.count, s[i] != "{", s[i] != " " { i += 1 }
        let name = String(String.UnicodeScalarView(s[0..<i]))
        guard isMetricName(name) else { throw ExpositionError.bad("bad name \(name)") }
        var labels: [String: String] = [:]
        if i < s.count, s[i] == "{" {
            i += 1
            while i < s.count, s[i] != "}" {
                var j = i
                while j < s.count, s[j] != "=" { j += 1 }
                let key = String(String.UnicodeScalarView(s[i..<j]))
                guard isMetricName(key), !key.contains(":"), j + 1 < s.count, s[j + 1] == "\"" else { throw ExpositionError.bad("bad label key \(key)") }
                j += 2
                var value = ""
                while j < s.count, s[j] != "\"" {
                    if s[j] == "\\" {
                        guard j + 1 < s.count else { throw ExpositionError.bad("dangling escape") }
                        switch s[j + 1] {
                        case "\\": value += "\\"
                        case "\"": value += "\""
                        case "n": value += "\n"
                        default: throw ExpositionError.bad("bad escape")
                        }
                        j += 2
                    } else {
                        value.unicodeScalars.append(s[j])
                        j += 1
                    }
                }
                guard j < s.count, labels[key] == nil else { throw ExpositionError.bad("unterminated or repeated label") }
                labels[key] = value
                i = j + 1
                if i < s.count, s[i] == "," { i += 1 }
            }
            guard i < s.count else { throw ExpositionError.bad("unterminated label set") }
            i += 1
        }
        guard i < s.count, s[i] == " " else { throw ExpositionError.bad("no space before value") }
        let valueText = String(String.UnicodeScalarView(s[(i + 1)...]))
        guard let value = valueText == "+Inf" ? Double.infinity : Double(valueText), !value.isNaN else {
            throw ExpositionError.bad("bad value \(valueText)")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    private func render() -> String {
        let backend = FakeAdminBackend()
        return PrometheusExposition.render(info: backend.info(), metrics: backend.metrics(), ready: true,
                                           clientErrors: backend.clientErrorsByStatus())
    }

    func testEveryLineIsValidExposition() throws {
        let (samples, types) = try Self.parseExposition(render())
        XCTAssertEqual(types["mlserve_request_duration_seconds"], "histogram")
        XCTAssertEqual(types["mlserve_predictions_total"], "counter")
        for sample in samples {
            let family = types.keys.first { sample.name == $0 || sample.name.hasPrefix($0 + "_") && types[$0] == "histogram" }
            XCTAssertNotNil(family, "sample \(sample.name) has no TYPE")
        }
        let names = Set(samples.map(\.name))
        for expected in ["mlserve_predictions_total", "mlserve_model_errors_total", "mlserve_client_errors_total", "mlserve_labels_total", "mlserve_anomalies_total", "mlserve_feedback_total",
                         "mlserve_f1_score", "mlserve_anomaly_rate", "mlserve_drift_psi", "mlserve_active_generation",
                         "mlserve_slot_info", "mlserve_ready", "mlserve_uptime_seconds"] {
            XCTAssertTrue(names.contains(expected), expected)
        }
    }

    func testHistogramBucketsAreCumulativeAndEndWithInfEqualToCount() throws {
        let (samples, _) = try Self.parseExposition(render())
        for version in ["v2.1", "v1\\odd\"\nname"] {
            let buckets = samples.filter { $0.name == "mlserve_request_duration_seconds_bucket" && $0.labels["version"] == version }
            XCTAssertEqual(buckets.count, PrometheusExposition.bucketBounds.count + 1)
            let bounds = buckets.map { $0.labels["le"] == "+Inf" ? Double.infinity : Double($0.labels["le"]!)! }
            XCTAssertEqual(bounds, bounds.sorted(), "le ascending")
            XCTAssertEqual(bounds.last, .infinity)
            for (a, b) in zip(buckets, buckets.dropFirst()) { XCTAssertLessThanOrEqual(a.value, b.value) }
            let count = samples.first { $0.name == "mlserve_request_duration_seconds_count" && $0.labels["version"] == version }
            XCTAssertEqual(buckets.last?.value, count?.value)
        }
        // The fake recorded 20 observations, two above 10 s; 2 at 5 ns and 2 at 900 ns are ≤ 1 µs.
        let served = samples.filter { $0.name == "mlserve_request_duration_seconds_bucket" && $0.labels["version"] == "v2.1" }
        XCTAssertEqual(served.first { $0.labels["le"] == "1e-06" }?.value, 4)
        XCTAssertEqual(served.first { $0.labels["le"] == "10" }?.value, 18)
        XCTAssertEqual(served.last?.value, 20)
    }

    func testLabelsAreEscapedAndModelIsOnlyWhereKnown() throws {
        let text = render()
        XCTAssertTrue(text.contains(#"mlserve_predictions_total{version="v1\\odd\"\nname"} 5"#), text)
        XCTAssertTrue(text.contains(#"mlserve_predictions_total{version="v2.1",model="fraud \"main\""} 1000"#))
        XCTAssertTrue(text.contains(#"mlserve_slot_info{slot="standby",version="v2.0",model="fraud \"main\""} 1"#))
        XCTAssertTrue(text.contains(#"mlserve_feedback_total{version="v2.1",model="fraud \"main\"",outcome="fn"} 10"#))
    }

    func testUndefinedGaugesAreAbsentNotNaN() throws {
        let text = render()
        XCTAssertFalse(text.contains("NaN"))
        let (samples, _) = try Self.parseExposition(text)
        // The retired version has no feedback and no scores: no F1, no drift; 0 anomalies of 5 rows is defined.
        let retired = samples.filter { $0.labels["version"] == "v1\\odd\"\nname" }
        XCTAssertFalse(retired.contains { $0.name == "mlserve_f1_score" || $0.name == "mlserve_drift_psi" })
        XCTAssertEqual(retired.first { $0.name == "mlserve_anomaly_rate" }?.value, 0)
        let f1 = samples.first { $0.name == "mlserve_f1_score" && $0.labels["version"] == "v2.1" }?.value
        XCTAssertEqual(f1 ?? 0, 60.0 / 75.0, accuracy: 1e-12)
        XCTAssertEqual(samples.first { $0.name == "mlserve_uptime_seconds" }?.value, 123.456)
        XCTAssertEqual(samples.first { $0.name == "mlserve_active_generation" }?.value, 7)
    }

    func testEmptyNodeStillRendersValidOutput() throws {
        let info = InfoReply(generation: 0, ready: false, draining: false, active: .empty, standby: .empty)
        let metrics = MetricsReply(generation: 0, uptimeMillis: 0, timestampMicros: 0, activeVersion: "", versions: [])
        let (samples, _) = try Self.parseExposition(PrometheusExposition.render(info: info, metrics: metrics, ready: false))
        XCTAssertEqual(samples.first { $0.name == "mlserve_ready" }?.value, 0)
        XCTAssertFalse(samples.contains { $0.name == "mlserve_slot_info" })
    }
}
