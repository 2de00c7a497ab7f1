import Dispatch
import Foundation
import MLWire
import Synchronization
import XCTest
@testable import MLModel

/// The kernels against a plain Double computation of the same artifact.
final class InferenceTests: XCTestCase {
    private func assertMatchesReference(_ artifact: Artifact, rows: Int = 64, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try Model.make(artifact: artifact, source: "test")
        let features = Fixtures.seededFloats(rows * artifact.featureCount, seed: 42, scale: 3)
        let batch = model.scores(features, count: rows)
        for r in 0..<rows {
            let row = Array(features[r * artifact.featureCount..<(r + 1) * artifact.featureCount])
            let expected = Reference.score(artifact, row: row)
            let single = row.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) }
            XCTAssertEqual(Double(single), expected, accuracy: 1e-6, "row \(r)", file: file, line: line)
            XCTAssertEqual(batch[r], single, "batch and single scoring differ at row \(r)", file: file, line: line)
        }
    }

    func testLogisticScoresMatchDoubleReference() throws {
        // Sizes around the SIMD widths (8, 16) exercise every tail path of the dot product.
        for features in [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100] {
            try assertMatchesReference(Fixtures.logistic(features: features, seed: UInt64(features)))
        }
    }

    func testMLPScoresMatchDoubleReference() throws {
        try assertMatchesReference(Fixtures.mlp(features: 32, hidden: [16]))
        try assertMatchesReference(Fixtures.mlp(features: 5, hidden: [3, 9, 2]))
        try assertMatchesReference(Fixtures.mlp(features: 40, hidden: [ArtifactFormat.maxHiddenWidth, ArtifactFormat.maxHiddenWidth]))
        try assertMatchesReference(Fixtures.mlp(features: 12, hidden: []))
    }

    func testMLPComputesInDoubleAndRoundsOnlyTheScore() throws {
        // Hidden layers accumulate in f64 (ARTIFACT.md §16): the score is the f64 reference
        // rounded once to float32, for every activation, not a float32 accumulation's drift.
        for activation in [Activation.relu, .tanh, .sigmoid] {
            var artifact = Fixtures.mlp(features: 40, hidden: [64, 32], seed: 9)
            guard case .mlp(var layers) = artifact.parameters else { return XCTFail("not an MLP") }
            for l in 0..<(layers.count - 1) { layers[l].activation = activation }
            artifact.parameters = .mlp(layers: layers)
            let model = try Model.make(artifact: artifact, source: "test")
            let features = Fixtures.seededFloats(200 * 40, seed: 77, scale: 3)
            for r in 0..<200 {
                let row = Array(features[r * 40..<(r + 1) * 40])
                let single = row.withUnsafeBufferPointer { model.score(row: $0.baseAddress!) }
                XCTAssertEqual(single, Float(Reference.score(artifact, row: row)), "\(activation) row \(r)")
            }
        }
        XCTAssertEqual(HiddenValues(repeating: 0).count, ArtifactFormat.maxHiddenWidth)
    }

    func testSigmoidIsStableAtExtremes() {
        XCTAssertEqual(Kernels.sigmoid(0), 0.5)
        XCTAssertEqual(Kernels.sigmoid(1000), 1)
        XCTAssertEqual(Kernels.sigmoid(-1000), 0)
        XCTAssertTrue(Kernels.sigmoid(-90).isFinite)
        XCTAssertGreaterThan(Kernels.sigmoid(-80), 0)
        XCTAssertEqual(Double(Kernels.sigmoid(-20)), 1 / (1 + exp(20.0)), accuracy: 1e-12)
    }

    func testLabelIsOneAtAndAboveTheThreshold() throws {
        let model = try Model.make(artifact: Fixtures.logistic(), source: "test")
        XCTAssertEqual(model.label(for: 0.5), 1)
        XCTAssertEqual(model.label(for: 0.4999), 0)
        XCTAssertEqual(model.label(for: 1), 1)
        XCTAssertEqual(model.label(for: 0), 0)
    }

    func testConcurrentPredictionsOnOneMLPAgree() throws {
        // Scratch lives on each caller's stack, so threads sharing a model cannot disturb each other.
        let model = try Model.make(artifact: Fixtures.mlp(features: 32, hidden: [24, 8]), source: "test")
        let features = Fixtures.seededFloats(100 * 32, seed: 5)
        let expected = model.scores(features, count: 100)
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<10 where model.scores(features, count: 100) != expected {
                mismatches.withLock { $0 += 1 }
            }
        }
        XCTAssertEqual(mismatches.withLock { $0 }, 0)
    }
}
