import Foundation
import MLWire
import XCTest
@testable import MLControl

/// A fixed instant so tests never depend on the clock: 2026-02-28 12:00:00 UTC.
let noon = Date(timeIntervalSince1970: 1_772_280_000)

/// A fresh database file in a private temporary directory, removed at the end of the test.
func temporaryDatabasePath(_ test: XCTestCase) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlctl-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    return directory.appendingPathComponent("control.sqlite").path
}

/// Builds poll windows with exactly the figures a test wants.
enum Window {
    /// A window whose F1 is 2tp / (2tp + fp + fn), with `tn` extra labels.
    static func f1(tp: UInt64, fp: UInt64, fn: UInt64, tn: UInt64 = 0, requests: UInt64 = 1_000, version: String = "v2") -> VersionMetrics {
        VersionMetrics(version: version, requests: requests, truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn)
    }

    /// `count` latency samples, all in the bucket holding `nanos`.
    static func latency(nanos: UInt64, count: UInt64 = 1_000, requests: UInt64 = 1_000, version: String = "v2") -> VersionMetrics {
        VersionMetrics(version: version, requests: requests, latencySumNanos: nanos * count, latencyCount: count,
                       latencyBuckets: [BucketCount(index: UInt16(LatencyBuckets.index(nanos: nanos)), count: count)])
    }

    /// The p99 in ms that `latency(nanos:)` reports: the upper bound of nanos' bucket.
    static func reportedP99Ms(nanos: UInt64) -> Double {
        Double(LatencyBuckets.upperBound(LatencyBuckets.index(nanos: nanos)) - 1) / 1e6
    }

    /// `errors` requests the model failed out of `total` that reached it.
    static func errors(_ errors: UInt64, of total: UInt64, version: String = "v2") -> VersionMetrics {
        VersionMetrics(version: version, requests: total - errors, errors: errors, modelErrors: errors)
    }

    /// `errors` requests refused for the client's fault beside `served` good ones.
    static func clientErrors(_ errors: UInt64, served: UInt64, version: String = "v2") -> VersionMetrics {
        VersionMetrics(version: version, requests: served, errors: errors, clientErrors: errors)
    }

    static func anomalies(_ positives: UInt64, of requests: UInt64, version: String = "v2") -> VersionMetrics {
        VersionMetrics(version: version, requests: requests, positives: positives)
    }

    /// A window that passes every check: fast, no errors, F1 0.9 over 200 labels.
    static func healthy(version: String = "v1", latencyNanos: UInt64 = 5_000_000) -> VersionMetrics {
        var w = latency(nanos: latencyNanos, count: 500, requests: 500, version: version)
        w.truePositives = 90
        w.falsePositives = 10
        w.falseNegatives = 10
        w.trueNegatives = 90
        return w
    }
}
