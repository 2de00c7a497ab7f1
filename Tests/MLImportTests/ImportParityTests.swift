import Foundation
import MLImport
import MLModel
import XCTest

/// Every committed fixture, imported natively and scored by our kernel, against the library's own
/// predictions on the same float32 rows: max |Δp| ≤ 1e-6 and no label differs.
final class ImportParityTests: XCTestCase {
    func testEveryFixtureMatchesTheLibrary() throws {
        let fixtures = try Fixture.all()
        XCTAssertGreaterThanOrEqual(fixtures.count, 10)
        for fixture in fixtures {
            let bytes = try ArtifactReader.readFile(path: fixture.model)
            XCTAssertEqual(ModelFileFormat.detect(bytes)?.rawValue, fixture.format, "\(fixture.name): format detection")
            let outcome = try ArtifactImporter.importFile(fixture.model, options: ArtifactImporter.Options())
            let model = try Model.make(artifact: outcome.artifact, source: fixture.name)
            let reference = try ReferenceData.parse(try ArtifactReader.readFile(path: fixture.csv),
                                                    featureCount: model.featureCount, source: fixture.csv)
            let library = try XCTUnwrap(reference.expected)
            let ours = model.scores(reference.features, count: reference.rowCount)
            var worst = 0.0, labelMismatches = 0
            for row in 0..<reference.rowCount {
                worst = max(worst, abs(Double(ours[row]) - Double(library[row])))
                if Int(model.label(for: ours[row])) != fixture.labels[row] { labelMismatches += 1 }
                let single = reference.features.withUnsafeBufferPointer { model.score(row: $0.baseAddress! + row * model.featureCount) }
                XCTAssertEqual(single, ours[row], "\(fixture.name) row \(row): single and batch differ")
            }
            XCTAssertLessThanOrEqual(worst, 1e-6, "\(fixture.name): max |Δp|")
            XCTAssertEqual(labelMismatches, 0, "\(fixture.name): labels")
            if let best = fixture.bestIteration {
                XCTAssertTrue(outcome.artifact.metadata.contains(MetadataEntry("best_iteration", "\(best)")), "\(fixture.name): best_iteration recorded")
            }
        }
    }

    func testReferenceDataGivesGoldenRowsAndADriftReferenceThatSurviveTheFile() throws {
        let fixture = try XCTUnwrap(try Fixture.all().first { $0.name == "xgb_nan_early_stop" })
        var options = ArtifactImporter.Options()
        options.referenceData = fixture.csv
        let outcome = try ArtifactImporter.importFile(fixture.model, options: options)
        XCTAssertEqual(outcome.rowsChecked, 200)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("m.mlart").path
        try ArtifactWriter.write(outcome.artifact, toPath: path)
        let model = try Model.load(path: path)
        XCTAssertEqual(model.goldenRowsChecked, 64)
        XCTAssertEqual(model.referenceBins.count, 20)
        XCTAssertTrue(model.acceptsMissing)
    }
}
