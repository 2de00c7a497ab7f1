import Foundation
import MLWire
import XCTest
@testable import MLModel

final class ArtifactRoundTripTests: XCTestCase {
    private var paths: [String] = []

    override func tearDown() {
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }

    func testLogisticArtifactRoundTripsThroughBytes() throws {
        let artifact = Fixtures.logistic(features: 33)
        let bytes = try ArtifactWriter.encode(artifact)
        XCTAssertEqual(bytes.count, ArtifactFormat.fixedSize + 4 * 33 + 4)
        let (decoded, checksum) = try ArtifactReader.decode(bytes, source: "memory")
        XCTAssertEqual(decoded, artifact)
        XCTAssertEqual(checksum, SHA256.hash(Array(bytes.dropLast(32))))
        XCTAssertEqual(checksum, Digest32(Array(bytes.suffix(32))))
    }

    func testMLPArtifactRoundTripsThroughBytes() throws {
        let artifact = Fixtures.mlp(features: 10, hidden: [7, 5, 3])
        let (decoded, _) = try ArtifactReader.decode(try ArtifactWriter.encode(artifact), source: "memory")
        XCTAssertEqual(decoded, artifact)
    }

    func testWrittenFileLoadsWithItsFieldsAndChecksum() throws {
        let path = Fixtures.tempPath("roundtrip")
        paths.append(path)
        let artifact = Fixtures.mlp()
        let checksum = try ArtifactWriter.write(artifact, toPath: path)
        let model = try Model.load(path: path, expectedChecksum: checksum)
        XCTAssertEqual(model.name, artifact.name)
        XCTAssertEqual(model.version, artifact.version)
        XCTAssertEqual(model.kind, .mlp)
        XCTAssertEqual(model.featureCount, artifact.featureCount)
        XCTAssertEqual(model.threshold, artifact.threshold)
        XCTAssertEqual(model.referenceBins, artifact.referenceBins)
        XCTAssertEqual(model.checksum, checksum)
        XCTAssertEqual(model.artifact, path)
        XCTAssertEqual(Array(model.versionUTF8), Array(artifact.version.utf8))
        XCTAssertEqual(model.slotInfo, SlotInfo(present: true, modelName: artifact.name, version: artifact.version,
                                                kind: 2, featureCount: UInt32(artifact.featureCount), checksum: checksum,
                                                loadedAtMicros: model.loadedAtMicros, artifact: path))
        XCTAssertGreaterThan(model.loadedAtMicros, 1_600_000_000_000_000)
    }

    func testAtomicWriteReplacesAnExistingFileAndLeavesNoTempFiles() throws {
        let path = Fixtures.tempPath("replace")
        paths.append(path)
        try ArtifactWriter.write(Fixtures.logistic(seed: 1), toPath: path)
        let second = try ArtifactWriter.write(Fixtures.logistic(seed: 2), toPath: path)
        XCTAssertEqual(try Model.load(path: path).checksum, second)
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(base + ".tmp") }
        XCTAssertEqual(leftovers, [])
    }

    func testWriterRefusesAnInvalidArtifactInsteadOfWritingIt() {
        var artifact = Fixtures.logistic()
        artifact.threshold = .nan
        assertRefused(.invalidArgument, containing: ["threshold"]) { _ = try ArtifactWriter.encode(artifact) }
    }

    func testModelMadeInMemoryHasTheChecksumOfItsEncodedBytes() throws {
        let artifact = Fixtures.logistic()
        let model = try Model.make(artifact: artifact, source: "memory:test")
        XCTAssertEqual(model.checksum, Digest32(Array(try ArtifactWriter.encode(artifact).suffix(32))))
        XCTAssertEqual(model.artifact, "memory:test")
    }
}
