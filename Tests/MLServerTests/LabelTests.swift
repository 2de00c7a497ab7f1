import Foundation
import MLClient
import MLServer
import MLWire
import XCTest

/// LABEL and prediction ids through a real node: who may label, what each id finds (matched,
/// unmatched, expired, duplicate), attribution to the version that predicted — also after a
/// swap — and the model/client error split in METRICS.
final class LabelTests: XCTestCase {
    private func metrics(_ node: TestNode, _ version: String) throws -> VersionMetrics {
        try XCTUnwrap(try node.client().metrics().versions.first { $0.version == version })
    }

    func testLabelsAreJoinedByIDAndCountedForThePredictingVersionAfterASwap() throws {
        let node = try TestNode()
        defer { node.stop() }
        let data = try node.client()
        let rows = demoRows(40)
        var predicted: [UInt64: UInt8] = [:]
        for (i, row) in rows.enumerated() {
            let id = 1_000 + UInt64(i)
            let result = try data.predict(row.features, predictionID: id)
            XCTAssertEqual(result.version, "v2.0")
            predicted[id] = result.label
        }
        // The batch form: one id per row.
        let batch = try data.predictBatch(featureCount: rows[0].features.count, values: rows.prefix(10).flatMap(\.features),
                                          predictionIDs: (0..<10).map { 5_000 + UInt64($0) })
        XCTAssertEqual(batch.scores.count, 10)
        XCTAssertEqual(try node.controller().swap(expectedActive: "v2.0").activeVersion, "v2.1")

        let labeller = try node.client(role: .labeller)
        let reply = try labeller.label(rows.enumerated().map { (1_000 + UInt64($0.offset), $0.element.label) }
                                       + [(5_003, 1), (999_999, 1)])
        XCTAssertEqual(reply, LabelReply(matched: 41, unmatched: 1, expired: 0, duplicate: 0))
        // Again: every one is now a duplicate, the unknown id still unmatched.
        XCTAssertEqual(try labeller.label([(1_000, 0), (1_001, 1), (424_242, 0)]), LabelReply(matched: 0, unmatched: 1, expired: 0, duplicate: 2))

        let old = try metrics(node, "v2.0")
        XCTAssertEqual(old.labels, 41, "labels count for the version that made the prediction, not the one active now")
        XCTAssertEqual(old.labelsDuplicate, 2)
        // The confusion matrix from the node's own predicted labels and the truths sent.
        var cells = [UInt64](repeating: 0, count: 4)  // tp, fp, tn, fn
        let pairs = rows.enumerated().map { (predicted[1_000 + UInt64($0.offset)]!, $0.element.label) } + [(batch.labels[3], UInt8(1))]
        for (p, a) in pairs { cells[p == 1 ? (a == 1 ? 0 : 1) : (a == 1 ? 3 : 2)] += 1 }
        XCTAssertEqual([old.truePositives, old.falsePositives, old.trueNegatives, old.falseNegatives], cells)
        XCTAssertFalse(old.labelDelayBuckets.isEmpty, "label delay is recorded")
        let new = try metrics(node, "v2.1")
        XCTAssertEqual(new.labels, 0)
        XCTAssertEqual(new.labelsUnmatched, 2, "unmatched labels are charged to the version active when they arrive")
    }

    func testLabelsFromADataConnectionAndFeedbackFromNonControllersAreRefused() throws {
        let node = try TestNode()
        defer { node.stop() }
        let data = try node.client()
        _ = try data.predict(demoRows(1)[0].features, predictionID: 7)
        XCTAssertRemote(.permissionDenied, .roleNotAllowed, try data.label([(7, 1)]))
        XCTAssertRemote(.permissionDenied, .roleNotAllowed, try data.feedback(predicted: 1, actual: 1, version: "v2.0"))
        let labeller = try node.client(role: .labeller)
        XCTAssertRemote(.permissionDenied, .roleNotAllowed, try labeller.feedback(predicted: 1, actual: 1, version: "v2.0"))
        XCTAssertRemote(.permissionDenied, .roleNotAllowed, try labeller.swap(expectedActive: "v2.0"))
        // The refused label did not claim the prediction: the labeller's is the first.
        XCTAssertEqual(try labeller.label([(7, 1)]).matched, 1)
        // The controller keeps FEEDBACK, and may label too.
        let controller = try node.controller()
        try controller.feedback(predicted: 1, actual: 1, version: "v2.0")
        XCTAssertEqual(try controller.label([(7, 1)]).duplicate, 1)
        XCTAssertEqual(try metrics(node, "v2.0").truePositives + (try metrics(node, "v2.0").falseNegatives), 2)
    }

    func testLabellerNeedsItsTokenAndProtocolVersionTwo() throws {
        let node = try TestNode()
        defer { node.stop() }
        let wrong = try node.client(role: nil)
        // Refused before HELLO completes, so in the v1 ERROR layout: the status says it.
        XCTAssertRemote(.unauthenticated, try wrong.hello(role: .labeller, token: TestNode.token))
        XCTAssertTrue(wrong.isClosedByPeer())
        let v1 = try node.client(role: nil)
        XCTAssertRemote(.invalidArgument, try v1.hello(role: .labeller, token: TestNode.labellerToken, maxVersion: 1))
        // A v1 connection does not know LABEL (answered as an unknown type), nor ids on PREDICT.
        let old = try node.client(role: nil)
        try old.hello(role: .controller, token: TestNode.token, maxVersion: 1)
        XCTAssertRemote(.unimplemented, try old.label([(1, 1)]))
        XCTAssertRemote(.invalidArgument, try old.predict(demoRows(1)[0].features, predictionID: 1))
    }

    func testExpiredAndEvictedPredictionsAreCountedNeverCrash() throws {
        let node = try TestNode(predictionWindowEntries: 64, predictionWindowSeconds: 0.2)
        defer { node.stop() }
        let data = try node.client()
        let row = demoRows(1)[0].features
        _ = try data.predict(row, predictionID: 1)
        // The node stamped prediction 1 from this clock before it answered: with at most this value.
        let predictedBy = MLServer.Clock.monotonicNanos()
        // Expired means strictly older than the window's 0.2 s on the node's clock: wait for that
        // condition on the same clock (nothing but time can make it true), then label.
        XCTAssertTrue(waitUntil { MLServer.Clock.monotonicNanos() - predictedBy > 200_000_000 })
        let labeller = try node.client(role: .labeller)
        XCTAssertEqual(try labeller.label([(1, 1)]), LabelReply(matched: 0, unmatched: 0, expired: 1, duplicate: 0))
        // Far more ids than the window holds: the oldest are evicted, so labels for them are unmatched.
        for id in UInt64(100)..<UInt64(1_100) { _ = try data.predict(row, predictionID: id) }
        let reply = try labeller.label((UInt64(100)..<UInt64(1_100)).map { ($0, 1) })
        XCTAssertEqual(reply.matched + reply.unmatched + reply.expired + reply.duplicate, 1_000)
        XCTAssertGreaterThan(reply.unmatched, 900)
        XCTAssertGreaterThan(reply.matched, 0)
        // Bad LABEL payloads are refused whole, and the connection stays.
        var bad = LabelRequest(items: [.init(predictionID: 100, actualLabel: 2)]).frameBytes(requestID: 9)
        try labeller.send(raw: bad)
        guard case .error(let status, let body) = try labeller.readFrame().message(version: 2) else { return XCTFail() }
        XCTAssertEqual(status, .invalidArgument)
        XCTAssertEqual(body.reason, .malformedPayload)
        bad = LabelRequest(items: []).frameBytes(requestID: 10)
        try labeller.send(raw: bad)
        guard case .error(let empty, _) = try labeller.readFrame().message(version: 2) else { return XCTFail() }
        XCTAssertEqual(empty, .invalidArgument)
        let totals = try metrics(node, "v2.0")
        XCTAssertEqual(totals.labelsExpired, 1)
        XCTAssertEqual(totals.labels + totals.labelsUnmatched + totals.labelsExpired, 1_001)
    }

    func testRefusedRowsAreClientErrorsNotModelErrors() throws {
        let node = try TestNode()
        defer { node.stop() }
        let data = try node.client()
        var row = demoRows(1)[0].features
        _ = try data.predict(row)
        row[3] = .nan
        XCTAssertRemote(.invalidArgument, .nonFiniteFeature, try data.predict(row))
        XCTAssertRemote(.invalidArgument, .featureCountMismatch, try data.predict([1, 2, 3]))
        XCTAssertRemote(.invalidArgument, try data.predictBatch(featureCount: 32, values: [Float](repeating: .infinity, count: 64)))
        let v = try metrics(node, "v2.0")
        XCTAssertEqual(v.requests, 1)
        XCTAssertEqual(v.clientErrors, 3)
        XCTAssertEqual(v.modelErrors, 0)
        XCTAssertEqual(v.errors, 3, "v1's errors = model + client")
        XCTAssertEqual(node.control.clientErrorsByStatus().map(\.count), [3])
        // A v1 reader gets the v1 layout and sees them as errors.
        let old = try node.client(role: nil)
        try old.hello(role: .data, maxVersion: 1)
        let v1 = try XCTUnwrap(try old.metrics().versions.first { $0.version == "v2.0" })
        XCTAssertEqual(v1.errors, 3)
        XCTAssertEqual(v1.modelErrors, 3, "a v1 reply cannot tell them apart")
    }
}
