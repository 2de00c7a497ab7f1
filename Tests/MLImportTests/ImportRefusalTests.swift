import Foundation
import MLImport
import MLModel
import XCTest

/// Every refusal of `mlctl artifact import`, from outside: a file handed to the real binary. Each
/// must exit non-zero, name the problem, and write nothing.
final class ImportRefusalTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try temporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    /// A real fixture with one textual edit (the way a user's unsupported model differs).
    private func edited(_ fixture: String, _ name: String, _ edit: (String) -> String) throws -> String {
        let text = try String(contentsOfFile: Fixture.path(fixture), encoding: .utf8)
        let changed = edit(text)
        XCTAssertNotEqual(changed, text, "\(name): the edit changed nothing")
        let path = directory.appendingPathComponent(name).path
        try changed.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func assertImportRefused(_ model: String, _ extra: [String] = [], containing fragments: [String],
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let out = directory.appendingPathComponent("out-\(UUID().uuidString).mlart").path
        let result = try Mlctl.run(["artifact", "import", model, out] + extra)
        XCTAssertNotEqual(result.status, 0, "accepted: \(result.stdout)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(result.stderr.contains(fragment), "'\(result.stderr)' lacks '\(fragment)'", file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused import wrote \(out)", file: file, line: line)
    }

    func testUnsupportedXGBoostModelsAreRefusedNamingWhatIsUnsupported() throws {
        let json = "xgb_breast_cancer.json"
        try assertImportRefused(try edited(json, "multiclass.json") {
            $0.replacingOccurrences(of: "\"num_class\":\"0\"", with: "\"num_class\":\"3\"")
        }, containing: ["multi-class", "num_class=3"])
        try assertImportRefused(try edited(json, "ranking.json") {
            $0.replacingOccurrences(of: "\"name\":\"binary:logistic\"", with: "\"name\":\"rank:pairwise\"")
        }, containing: ["objective \"rank:pairwise\" is not supported"])
        try assertImportRefused(try edited(json, "gblinear.json") {
            $0.replacingOccurrences(of: "\"name\":\"gbtree\"", with: "\"name\":\"gblinear\"")
        }, containing: ["booster \"gblinear\" is not supported"])
        try assertImportRefused(try edited(json, "dart.json") {
            $0.replacingOccurrences(of: "\"name\":\"gbtree\"", with: "\"name\":\"dart\"")
        }, containing: ["booster \"dart\" is not supported"])
        try assertImportRefused(try edited(json, "truncated.json") { String($0.prefix($0.count / 2)) },
                                containing: ["invalid JSON"])
    }

    func testUnsupportedLightGBMModelsAreRefusedNamingWhatIsUnsupported() throws {
        let text = "lgb_breast_cancer.txt"
        try assertImportRefused(try edited(text, "multiclass.txt") {
            $0.replacingOccurrences(of: "objective=binary sigmoid:1", with: "objective=multiclass num_class:3")
        }, containing: ["objective \"multiclass num_class:3\" is not supported"])
        try assertImportRefused(try edited(text, "ranking.txt") {
            $0.replacingOccurrences(of: "objective=binary sigmoid:1", with: "objective=lambdarank")
        }, containing: ["\"lambdarank\" is not supported"])
        try assertImportRefused(try edited(text, "linear.txt") {
            $0.replacingOccurrences(of: "is_linear=0", with: "is_linear=1")
        }, containing: ["linear trees"])
        try assertImportRefused(try edited(text, "badchild.txt") {
            $0.replacingOccurrences(of: "left_child=1 ", with: "left_child=0 ")
        }, containing: ["Tree=0"])
    }

    func testUnrecognisedFilesAndBadReferenceDataAreRefused() throws {
        let garbage = directory.appendingPathComponent("garbage.bin").path
        try Data([0x00, 0x01, 0x02, 0x03]).write(to: URL(fileURLWithPath: garbage))
        try assertImportRefused(garbage, containing: ["cannot tell the format", "--format"])
        try assertImportRefused(directory.appendingPathComponent("absent.json").path, containing: ["absent.json"])

        let model = Fixture.path("xgb_breast_cancer.json")
        // The library's score for row 0 replaced by a wrong one: our kernel disagrees, nothing is written.
        let wrongScore = try edited("xgb_breast_cancer_json.csv", "wrong.csv") { csv in
            var lines = csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var cells = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[cells.count - 1] = "0.123"
            lines[0] = cells.joined(separator: ",")
            return lines.joined(separator: "\n")
        }
        try assertImportRefused(model, ["--reference-data", wrongScore], containing: ["reference row 0", "0.123", "tolerance"])
        let narrow = try edited("xgb_breast_cancer_json.csv", "narrow.csv") { csv in
            csv.split(separator: "\n").map { $0.split(separator: ",").prefix(5).joined(separator: ",") }.joined(separator: "\n")
        }
        try assertImportRefused(model, ["--reference-data", narrow], containing: ["5 columns", "30 features"])
        let infinite = try edited("xgb_breast_cancer_json.csv", "inf.csv") { "inf" + $0.drop(while: { $0 != "," }) }
        try assertImportRefused(model, ["--reference-data", infinite], containing: ["infinite"])
        try assertImportRefused(model, ["--format", "onnx"], containing: ["--format must be one of"])
        try assertImportRefused(model, ["--feature-names", "a,b"], containing: ["2 names", "30 features"])
    }

    func testImportWritesAnArtifactThatLoadsWithGoldenRows() throws {
        let out = directory.appendingPathComponent("bc.mlart").path
        let result = try Mlctl.run(["artifact", "import", Fixture.path("lgb_categorical_missing_zero.txt"), out,
                                    "--reference-data", Fixture.path("lgb_categorical_missing_zero.csv"),
                                    "--name", "credit", "--version", "v7", "--threshold", "0.4"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("checked 200 reference rows"), result.stdout)
        let model = try Model.load(path: out)
        XCTAssertEqual(model.name, "credit")
        XCTAssertEqual(model.version, "v7")
        XCTAssertEqual(model.threshold, 0.4)
        XCTAssertEqual(model.goldenRowsChecked, 64)
        let help = try Mlctl.run(["artifact", "--help"])
        XCTAssertTrue(help.stdout.contains("artifact import"), help.stdout)
    }
}
