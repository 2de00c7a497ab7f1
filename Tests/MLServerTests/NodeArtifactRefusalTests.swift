import Dispatch
import Foundation
import MLClient
import MLModel
import MLServer
import MLWire
import Synchronization
import XCTest

/// Invariant 5: a bad artifact is refused before it touches the standby slot, and the active
/// model serves on, unaffected, throughout.
final class NodeArtifactRefusalTests: XCTestCase {
    var node: TestNode!

    override func setUpWithError() throws { node = try TestNode() }
    override func tearDown() { node.stop() }

    func testBadArtifactsAreRefusedWhileServingGoesOn() throws {
        let good = BuiltinModels.artifactBytes(version: "v2.1")!
        var corrupt = good
        corrupt[good.count / 2] ^= 0x40
        let truncated = Array(good.prefix(good.count - 37))
        let narrow = try ArtifactWriter.encode(Artifact(
            name: "narrow", version: "v9-narrow", featureCount: 8, threshold: 0.5,
            parameters: .logistic(weights: [Float](repeating: 0.1, count: 8), bias: 0),
            referenceBins: [Float](repeating: 0.05, count: ScoreBins.count)))

        let stop = Atomic<Bool>(false)
        let errors = Atomic<Int>(0)
        let served = Atomic<Int>(0)
        let client = try node.client()
        let features = demoRows(1)[0].features
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let deadline = Date().addingTimeInterval(30)
            while !stop.load(ordering: .acquiring) && Date() < deadline {
                do {
                    let result = try client.predict(features)
                    if result.version != "v2.0" { errors.wrappingAdd(1, ordering: .relaxed) }
                    served.wrappingAdd(1, ordering: .relaxed)
                } catch {
                    errors.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }

        let controller = try node.controller()
        let before = try controller.info()
        let cases: [(String, [UInt8]?, Digest32, Status)] = [
            ("corrupt.mlart", corrupt, .zero, .dataLoss),
            ("truncated.mlart", truncated, .zero, .invalidArgument),
            ("narrow.mlart", narrow, .zero, .failedPrecondition),
            ("missing.mlart", nil, .zero, .notFound),
            ("good-wrong-checksum.mlart", good, Digest32(hex: String(repeating: "ab", count: 32))!, .dataLoss),
        ]
        for (name, bytes, expected, status) in cases {
            let path = bytes == nil ? node.directory.appendingPathComponent(name).path : try node.writeFile(name, bytes!)
            do {
                _ = try controller.loadStandby(artifact: path, expectedChecksum: expected)
                XCTFail("\(name) was accepted")
            } catch {
                XCTAssertEqual(error.status, status, "\(name): \(error)")
                if case .remote(_, _, let message) = error { XCTAssertTrue(message.contains(name), "message names the file: \(message)") }
            }
            XCTAssertEqual(try controller.info(), before, "\(name) changed the slots")
        }
        XCTAssertRemote(.notFound, try controller.loadStandby(artifact: "builtin:v7"))

        // A good artifact with the right checksum is accepted into standby, and only standby.
        let goodPath = try node.writeFile("good.mlart", good)
        let loaded = try controller.loadStandby(artifact: goodPath, expectedChecksum: SHA256.hash(Array(good.dropLast(32))))
        XCTAssertEqual(loaded.standby.version, "v2.1")
        XCTAssertEqual(loaded.standby.artifact, goodPath)
        XCTAssertEqual(try controller.info().active.version, "v2.0")

        stop.store(true, ordering: .releasing)
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(errors.load(ordering: .relaxed), 0)
        XCTAssertGreaterThan(served.load(ordering: .relaxed), 0)
    }
}
