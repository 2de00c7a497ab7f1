import Foundation
import MLClient
import MLImport
import MLModel
import MLServer
import MLWire
import XCTest

/// Imported tree models through a running node: NaN as "missing" on v2 connections (scored as
/// the library scores it), refused on v1 and for models without missing values, ±Inf always
/// refused; and an artifact whose golden rows disagree with the kernel refused by LoadStandby.
final class NodeMissingValuesTests: XCTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("MLImportTests/Fixtures")
    private var node: TestNode!
    private var directory: URL!
    private var reference: ReferenceData!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlserve-missing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var options = ArtifactImporter.Options()
        options.version = "xgb-nan"
        options.referenceData = Self.fixtures.appendingPathComponent("xgb_nan_early_stop.csv").path
        let outcome = try ArtifactImporter.importFile(Self.fixtures.appendingPathComponent("xgb_nan_early_stop.json").path, options: options)
        let path = directory.appendingPathComponent("xgb.mlart").path
        try ArtifactWriter.write(outcome.artifact, toPath: path)
        reference = try ReferenceData.parse(try ArtifactReader.readFile(path: options.referenceData!), featureCount: 12, source: "csv")
        node = try TestNode(active: path, standby: nil)
    }

    override func tearDown() {
        node?.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The refusal reason of `body`, nil if it succeeded.
    private func reason(_ body: () throws(ClientError) -> Void) -> Reason? {
        do {
            try body()
            return nil
        } catch {
            return error.reason
        }
    }

    private func row(_ index: Int) -> [Float] { Array(reference.features[index * 12..<(index + 1) * 12]) }

    /// Reference rows that contain at least one NaN.
    private var rowsWithNaN: [Int] { (0..<reference.rowCount).filter { row($0).contains(where: \.isNaN) } }

    func testNaNIsMissingOnVersion2AndScoredAsTheLibraryDoes() throws {
        let client = try node.client()
        XCTAssertEqual(client.protocolVersion, 2)
        let picks = Array(rowsWithNaN.prefix(40))
        XCTAssertGreaterThan(picks.count, 20)
        for index in picks {
            let result = try client.predict(row(index))
            XCTAssertEqual(Double(result.score), Double(reference.expected![index]), accuracy: 1e-6, "row \(index)")
        }
        let batch = try client.predictBatch(featureCount: 12, values: picks.flatMap { row($0) })
        for (k, index) in picks.enumerated() {
            XCTAssertEqual(Double(batch.scores[k]), Double(reference.expected![index]), accuracy: 1e-6, "batch row \(index)")
        }
    }

    func testNaNIsRefusedOnVersion1AndInfinityEverywhere() throws {
        let v1 = try NodeClient(node.endpoint, timeout: 10)
        _ = try v1.hello(maxVersion: 1)
        let nanRow = row(rowsWithNaN[0])
        XCTAssertRemote(.invalidArgument, try v1.predict(nanRow))
        let finite = try XCTUnwrap((0..<reference.rowCount).first { !row($0).contains(where: \.isNaN) })
        var infinite = row(finite)
        infinite[3] = .infinity
        let v2 = try node.client()
        XCTAssertRemote(.invalidArgument, try v1.predict(infinite))
        XCTAssertRemote(.invalidArgument, try v1.predictBatch(featureCount: 12, values: row(finite) + infinite))
        XCTAssertRemote(.invalidArgument, try v2.predictBatch(featureCount: 12, values: row(finite) + infinite))
        XCTAssertEqual(reason { () throws(ClientError) in _ = try v2.predict(infinite) }, .nonFiniteFeature)
        // The connections stay usable, and finite rows still score.
        XCTAssertNoThrow(try v1.predict(row(finite)))
        XCTAssertNoThrow(try v2.predict(nanRow))
    }

    func testModelsWithoutMissingValuesStillRefuseNaNOnVersion2() throws {
        let builtin = try TestNode()
        defer { builtin.stop() }
        var features = demoRows(1)[0].features
        features[0] = .nan
        let client = try builtin.client()
        XCTAssertEqual(client.protocolVersion, 2)
        XCTAssertRemote(.invalidArgument, try client.predict(features))
        XCTAssertEqual(reason { () throws(ClientError) in _ = try client.predict(features) }, .nonFiniteFeature)
    }

    func testGoldenRowMismatchIsRefusedByLoadStandbyAndNothingChanges() throws {
        let (artifact, _) = try ArtifactReader.decode(try ArtifactReader.readFile(path: directory.appendingPathComponent("xgb.mlart").path), source: "x")
        var tampered = artifact
        tampered.version = "xgb-tampered"
        var golden = try XCTUnwrap(tampered.goldenRows)
        golden.expected[5] = golden.expected[5] > 0.5 ? golden.expected[5] - 0.01 : golden.expected[5] + 0.01
        tampered.goldenRows = golden
        let path = directory.appendingPathComponent("tampered.mlart").path
        try ArtifactWriter.write(tampered, toPath: path)
        let controller = try node.controller()
        XCTAssertRemote(.failedPrecondition, try controller.loadStandby(artifact: path))
        XCTAssertEqual(reason { () throws(ClientError) in _ = try controller.loadStandby(artifact: path) }, .goldenRowMismatch)
        let info = try controller.info()
        XCTAssertFalse(info.standby.present, "the standby slot was touched")
        XCTAssertEqual(info.active.version, "xgb-nan")
        XCTAssertEqual(info.extension?.activeSlot.acceptsMissing, true)
        // The untampered artifact loads, and Info says how many golden rows it was checked against.
        var copy = artifact
        copy.version = "xgb-copy"
        let copyPath = directory.appendingPathComponent("copy.mlart").path
        try ArtifactWriter.write(copy, toPath: copyPath)
        _ = try controller.loadStandby(artifact: copyPath)
        XCTAssertEqual(try controller.info().extension?.standbyGoldenRowsChecked, 64)
    }
}
