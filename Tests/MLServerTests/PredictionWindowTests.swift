import Foundation
import XCTest
@testable import MLServer

/// The prediction window's table on its own: what a label's id finds, and that one writer and
/// several claimers at once never see a torn entry or match one prediction twice. Run under
/// ThreadSanitizer too: `swift test --sanitize=thread --scratch-path .build-tsan --filter PredictionWindowTests`.
final class PredictionWindowTests: XCTestCase {
    private let hour: UInt64 = 3_600_000_000_000

    func testLabelMatchesOnceThenIsADuplicate() {
        let table = PredictionTable(entries: 64)
        table.remember(id: 42, version: 3, generation: 7, score: 0.875, label: 1, atNanos: 1_000)
        let expected = RememberedPrediction(version: 3, generation: 7, score: 0.875, label: 1, atNanos: 1_000)
        XCTAssertEqual(table.claim(id: 42, nowNanos: 2_000, maxAgeNanos: hour), .matched(expected))
        XCTAssertEqual(table.claim(id: 42, nowNanos: 3_000, maxAgeNanos: hour), .duplicate(expected))
        XCTAssertEqual(table.claim(id: 43, nowNanos: 3_000, maxAgeNanos: hour), .unmatched)
    }

    func testPredictionOlderThanTheWindowIsExpiredNotMatched() {
        let table = PredictionTable(entries: 64)
        table.remember(id: 9, version: 1, generation: 1, score: 0.25, label: 0, atNanos: 1_000)
        guard case .expired = table.claim(id: 9, nowNanos: 1_000 + hour + 1, maxAgeNanos: hour) else { return XCTFail("expected expired") }
        // Expired is not a claim: the entry is still unlabelled.
        guard case .matched = table.claim(id: 9, nowNanos: 1_000 + hour, maxAgeNanos: hour) else { return XCTFail("expected matched at the bound") }
    }

    func testReusedIDRemembersTheNewestPrediction() {
        let table = PredictionTable(entries: 64)
        table.remember(id: 5, version: 1, generation: 1, score: 0.1, label: 0, atNanos: 10)
        table.remember(id: 5, version: 2, generation: 2, score: 0.9, label: 1, atNanos: 20)
        XCTAssertEqual(table.claim(id: 5, nowNanos: 30, maxAgeNanos: hour),
                       .matched(RememberedPrediction(version: 2, generation: 2, score: 0.9, label: 1, atNanos: 20)))
    }

    func testWindowIsBoundedOldestPredictionsGoFirst() {
        let table = PredictionTable(entries: 1_024)
        let total = 10 * table.capacity
        for id in 0..<UInt64(total) {
            table.remember(id: id, version: 1, generation: 1, score: 0.5, label: 0, atNanos: id + 1)
        }
        var matchedOld = 0
        var matchedNew = 0
        for id in 0..<UInt64(total) {
            if case .matched = table.claim(id: id, nowNanos: UInt64(total) + 1, maxAgeNanos: hour) {
                // Replacement is by age within a 4-way bucket: the oldest half is long gone.
                XCTAssertGreaterThanOrEqual(id, UInt64(total / 2), "an old prediction outlived newer ones")
                if id < UInt64(total - table.capacity) { matchedOld += 1 } else { matchedNew += 1 }
            }
        }
        // Full, never over: exactly `capacity` predictions remain.
        XCTAssertEqual(matchedOld + matchedNew, table.capacity)
        XCTAssertGreaterThan(matchedNew, table.capacity / 2)
    }

    func testWindowLooksInEveryLoopsTable() {
        let window = PredictionWindow(entries: 256, seconds: 3_600, dataLoops: 2)
        window.table(loop: 1)!.remember(id: 77, version: 4, generation: 2, score: 0.5, label: 1, atNanos: 5)
        guard case .matched(let p) = window.claim(id: 77, nowNanos: 6) else { return XCTFail("expected matched") }
        XCTAssertEqual(p.version, 4)
        XCTAssertEqual(window.claim(id: 77, nowNanos: 6), .duplicate(p))
        XCTAssertNil(PredictionWindow(entries: 0, seconds: 1, dataLoops: 2).table(loop: 0))
    }

    /// One writer cycling ids through a small table while four threads claim the same ids: every
    /// result a claimer gets must be internally consistent (fields written together for that id),
    /// and no id may be matched twice while it stays in the table.
    func testConcurrentClaimsSeeWholeEntriesAndMatchEachPredictionOnce() {
        let table = PredictionTable(entries: 256)
        let ids: UInt64 = 20_000
        let claimers = 4
        let results = (0..<claimers).map { _ in LockedCounts() }
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread {
            for id in 0..<ids {
                // Fields derived from the id, so a claimer can tell a torn read.
                table.remember(id: id, version: Int(id % 97), generation: id &* 3, score: Float(id % 1000) / 1000,
                               label: UInt8(id & 1), atNanos: id + 1)
            }
            group.leave()
        }
        for c in 0..<claimers {
            group.enter()
            Thread.detachNewThread {
                for id in 0..<ids {
                    let match = table.claim(id: id, nowNanos: ids + 2, maxAgeNanos: .max)
                    results[c].add(id: id, match)
                }
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success)
        var matchedPerID = [UInt64: Int]()
        for r in results {
            XCTAssertEqual(r.torn, 0, "a claimer saw fields from two different predictions")
            for id in r.matched { matchedPerID[id, default: 0] += 1 }
        }
        XCTAssertTrue(matchedPerID.values.allSatisfy { $0 == 1 }, "an id was matched by two claimers")
        // Afterwards, single-threaded: each id still in the table is labelled exactly once.
        for id in 0..<ids {
            if case .matched = table.claim(id: id, nowNanos: ids + 2, maxAgeNanos: .max) {
                XCTAssertNil(matchedPerID[id], "id \(id) matched again after a concurrent match")
            }
        }
    }
}

private final class LockedCounts: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var matched: [UInt64] = []
    private(set) var torn = 0

    func add(id: UInt64, _ match: LabelMatch) {
        let prediction: RememberedPrediction
        switch match {
        case .matched(let p), .duplicate(let p), .expired(let p): prediction = p
        case .unmatched: return
        }
        let whole = prediction.version == Int(id % 97) && prediction.generation == id &* 3
            && prediction.score == Float(id % 1000) / 1000 && prediction.label == UInt8(id & 1) && prediction.atNanos == id + 1
        lock.withLock {
            if !whole { torn += 1 }
            if case .matched = match { matched.append(id) }
        }
    }
}
