import MLWire
import XCTest
@testable import MLModel

final class BuiltinModelsTests: XCTestCase {
    static let evaluationSeed: UInt64 = 12345
    static let evaluationCount = 20000

    private func f1(_ version: String) throws -> Double {
        let model = try XCTUnwrap(BuiltinModels.model(version: version))
        return Confusion.measure(model, seed: Self.evaluationSeed, count: Self.evaluationCount).f1
    }

    func testEveryListedBuiltinExistsWithItsArtifactString() throws {
        XCTAssertEqual(BuiltinModels.all, ["v2.0", "v2.1", "mlp-v1"])
        for version in BuiltinModels.all {
            let model = try XCTUnwrap(BuiltinModels.model(version: version))
            XCTAssertEqual(model.version, version)
            XCTAssertEqual(model.artifact, "builtin:\(version)")
            XCTAssertEqual(model.featureCount, 32)
            XCTAssertTrue(model.slotInfo.present)
            XCTAssertEqual(BuiltinModels.model(artifact: "builtin:\(version)")?.checksum, model.checksum)
        }
        XCTAssertNil(BuiltinModels.model(version: "v9"))
        XCTAssertNil(BuiltinModels.model(artifact: "/tmp/v2.0"))
        XCTAssertEqual(BuiltinModels.model(version: "v2.0")?.kind, .logistic)
        XCTAssertEqual(BuiltinModels.model(version: "v2.1")?.kind, .logistic)
        XCTAssertEqual(BuiltinModels.model(version: "mlp-v1")?.kind, .mlp)
    }

    func testTwoBuildsGiveIdenticalChecksums() throws {
        for version in BuiltinModels.all {
            let first = try ArtifactWriter.encode(try XCTUnwrap(BuiltinModels.build(version: version)))
            let second = try ArtifactWriter.encode(try XCTUnwrap(BuiltinModels.build(version: version)))
            XCTAssertEqual(first, second, version)
            XCTAssertEqual(SHA256.hash(first.dropLast(32)), BuiltinModels.model(version: version)?.checksum)
        }
    }

    func testExportedBuiltinBytesLoadAsTheSameModel() throws {
        let bytes = try XCTUnwrap(BuiltinModels.artifactBytes(version: "mlp-v1"))
        let model = try Model.decode(bytes: bytes, source: "export")
        XCTAssertEqual(model.checksum, BuiltinModels.model(version: "mlp-v1")?.checksum)
    }

    func testGoodModelBeatsDegradedModelByAClearMargin() throws {
        let good = try f1("v2.0"), bad = try f1("v2.1"), mlp = try f1("mlp-v1")
        print("builtin F1 on DemoData(seed: \(Self.evaluationSeed), \(Self.evaluationCount) rows): v2.0 \(good), v2.1 \(bad), mlp-v1 \(mlp)")
        XCTAssertGreaterThan(good, 0.88)
        XCTAssertGreaterThan(bad, 0.55)
        XCTAssertLessThan(bad, 0.78)
        XCTAssertGreaterThan(good - bad, 0.1)
        XCTAssertGreaterThan(mlp, 0.85)
    }

    func testDegradedModelIgnoresTheBrokenFeatures() throws {
        let artifact = try XCTUnwrap(BuiltinModels.build(version: "v2.1"))
        guard case .logistic(let weights, _) = artifact.parameters else { return XCTFail("v2.1 is logistic") }
        for feature in BuiltinModels.brokenFeatures { XCTAssertEqual(weights[feature], 0) }
    }

    func testReferenceBinsAreAProperHistogram() throws {
        for version in BuiltinModels.all {
            let bins = try XCTUnwrap(BuiltinModels.model(version: version)).referenceBins
            XCTAssertEqual(bins.count, ScoreBins.count)
            XCTAssertEqual(Double(bins.reduce(0, +)), 1, accuracy: 1e-4)
            XCTAssertTrue(bins.allSatisfy { $0 >= 0 })
        }
    }
}
