import Foundation
import MLClient
import MLModel
import MLServer
import MLWire
import XCTest

/// Warm-up before a standby counts as ready, seen from outside: while a freshly loaded model runs
/// its warm-up predictions Info says `warming`, a swap to it is refused unless forced, and the
/// load is acknowledged once it is warm.
final class WarmUpTests: XCTestCase {
    /// A wide MLP (32 → 256 → 256 → 1) makes each warm-up row cost ~74k multiply-adds, so 500
    /// of them keep the standby warming long enough to be seen by polling.
    private func slowArtifact() throws -> [UInt8] {
        var generator = SplitMix64(seed: 5)
        func weight() -> Float { Float(generator.next() >> 40) / Float(1 << 24) - 0.5 }
        let hidden = 256
        let layers = [
            DenseLayer(inputs: 32, outputs: hidden, weights: (0..<(32 * hidden)).map { _ in weight() * 0.1 },
                       biases: [Float](repeating: 0, count: hidden)),
            DenseLayer(inputs: hidden, outputs: hidden, weights: (0..<(hidden * hidden)).map { _ in weight() * 0.1 },
                       biases: [Float](repeating: 0, count: hidden)),
            DenseLayer(inputs: hidden, outputs: 1, weights: (0..<hidden).map { _ in weight() * 0.01 }, biases: [0]),
        ]
        return try ArtifactWriter.encode(Artifact(name: "wide", version: "v3-wide", featureCount: 32, threshold: 0.5,
                                                  parameters: .mlp(layers: layers),
                                                  referenceBins: [Float](repeating: 0.05, count: ScoreBins.count)))
    }

    func testSwapToAWarmingStandbyIsRefusedUnlessForcedAndTheLoadIsAckedWarm() throws {
        let node = try TestNode(warmupRows: 500)
        defer { node.stop() }
        let path = try node.writeFile("wide.mlart", try slowArtifact())
        let loader = try node.controller()
        let loaded = DispatchSemaphore(value: 0)
        let loadResult = Locked<Result<LoadStandbyReply, ClientError>?>(nil)
        Thread.detachNewThread {
            loadResult.withLock { $0 = Result { () throws(ClientError) in try loader.loadStandby(artifact: path) } }
            loaded.signal()
        }
        let observer = try node.controller()
        var sawWarming = false
        for _ in 0..<200_000 {
            let info = try observer.info()
            if info.standby.version == "v3-wide" {
                sawWarming = info.extension?.standbySlot.warmState == WarmState.Phase.warming.rawValue
                break
            }
        }
        XCTAssertTrue(sawWarming, "the standby is in the slot and warming before the load is acknowledged")
        if sawWarming {
            XCTAssertRemote(.failedPrecondition, .standbyNotWarm, try observer.swap(expectedActive: "v2.0"))
            XCTAssertEqual(try observer.info().active.version, "v2.0", "a refused swap changes nothing")
            let forced = try observer.swap(expectedActive: "v2.0", fence: SwapFence(flags: .force))
            XCTAssertEqual(forced.activeVersion, "v3-wide")
            // Serving while warming is the operator's choice once forced.
            XCTAssertEqual(try node.client().predict([Float](repeating: 0.1, count: 32)).version, "v3-wide")
        }
        XCTAssertEqual(loaded.wait(timeout: .now() + 120), .success)
        let reply = try XCTUnwrap(loadResult.current).get()
        XCTAssertEqual(reply.standby.version, "v3-wide")
        let info = try observer.info()
        let wide = info.active.version == "v3-wide" ? info.extension?.activeSlot : info.extension?.standbySlot
        XCTAssertEqual(wide?.warmState, WarmState.Phase.warm.rawValue, "warm once the load is acknowledged")
    }

    func testRestoredAndSwappedModelsAreWarmAndSwapWithoutForce() throws {
        let node = try TestNode()
        defer { node.stop() }
        let controller = try node.controller()
        let info = try controller.info()
        XCTAssertEqual(info.extension?.activeSlot.warmState, WarmState.Phase.warm.rawValue)
        XCTAssertEqual(info.extension?.standbySlot.warmState, WarmState.Phase.warm.rawValue)
        _ = try controller.swap(expectedActive: "v2.0")
        _ = try controller.swap(expectedActive: "v2.1")
        XCTAssertEqual(try controller.info().extension?.standbySlot.warmState, WarmState.Phase.warm.rawValue)
        // v1 Info has no extension: byte-for-byte the v1 layout.
        let v1 = try NodeClient(node.endpoint, timeout: 10)
        try v1.hello(maxVersion: 1)
        XCTAssertNil(try v1.info().extension)
    }

    /// A format-2 artifact's golden rows are part of its warm-up: the loaded model is not warm
    /// before they ran, and a LOAD_STANDBY of the file is acknowledged warm only after all ran.
    func testGoldenRowsOfAVersion2ArtifactRunBeforeItIsWarm() throws {
        // 32 features, as the active's: a standby must keep the node's shape.
        let plain = Artifact(name: "golden", version: "v4-golden", featureCount: 32, threshold: 0.5,
                             parameters: .logistic(weights: (0..<32).map { Float($0 % 5) * 0.1 - 0.2 }, bias: 0.1),
                             referenceBins: [Float](repeating: 0.05, count: ScoreBins.count))
        let golden: [[Float]] = (0..<4).map { row in (0..<32).map { Float((row * 32 + $0) % 7) * 0.25 - 0.75 } }
        // Expected scores from the kernel itself: this test is about when they run, not their values.
        let reference = try Model.make(artifact: plain, source: "memory")
        let expected = golden.map { row in row.withUnsafeBufferPointer { reference.score(row: $0.baseAddress!) } }
        var artifact = plain
        artifact.goldenRows = GoldenRows(features: golden.flatMap { $0 }, expected: expected, tolerance: 1e-6)

        let fresh = try Model.make(artifact: artifact, source: "memory")
        XCTAssertEqual(WarmUp.goldenRows(of: fresh), golden)
        XCTAssertFalse(fresh.warmth.isWarm, "a loaded model is warming until its warm-up ran")
        XCTAssertEqual(fresh.warmth.goldenRowsRun, 0)

        let node = try TestNode(warmupRows: 10)
        defer { node.stop() }
        let path = try node.writeFile("golden.mlart", try ArtifactWriter.encode(artifact))
        let controller = try node.controller()
        XCTAssertEqual(try controller.loadStandby(artifact: path).standby.version, "v4-golden")
        let info = try controller.info()
        XCTAssertEqual(info.extension?.standbySlot.warmState, WarmState.Phase.warm.rawValue)
        XCTAssertEqual(info.extension?.standbyGoldenRowsChecked, 4)
        let standby = try XCTUnwrap(node.control.slots.current().standby)
        XCTAssertEqual(standby.warmth.goldenRowsRun, 4, "the warm-up scored every golden row before marking it warm")
        // A v1 artifact has none and is warm after its synthetic rows alone.
        XCTAssertEqual(WarmUp.goldenRows(of: try Model.make(artifact: plain, source: "memory")), [])
    }
}
