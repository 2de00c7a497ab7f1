import Foundation
import Glibc
import MLClient
import MLModel
import MLTooling
import MLWire
import XCTest

/// Issue 10 point 8: LoadStandby paths. NUL, relative, too long and looping paths are the
/// client's fault (INVALID_ARGUMENT pathRefused), `--model-dir` confines loads (PERMISSION_DENIED
/// pathOutsideModelDir, symlinks resolved), and no refusal reveals a file's bytes or size.
final class ArtifactPathTests: XCTestCase {
    var files: NodeProcess!

    override func setUpWithError() throws { files = try NodeProcess() }
    override func tearDown() { files?.remove() }

    private func refusal(_ client: NodeClient, _ path: String) -> ClientError? {
        do {
            _ = try client.loadStandby(artifact: path)
            return nil
        } catch { return error }
    }

    private func writeArtifact(_ path: String, version: String = "mlp-v1") throws {
        try Data(try XCTUnwrap(BuiltinModels.artifactBytes(version: version))).write(to: URL(fileURLWithPath: path))
    }

    func testClientCausedPathErrorsAreRefusedAsPathRefused() throws {
        let node = try files.start()
        defer { node.stop() }
        let controller = try files.controller(node)
        let good = files.path("mlp.mlart")
        try writeArtifact(good)
        symlink(files.path("loop-b"), files.path("loop-a"))
        symlink(files.path("loop-a"), files.path("loop-b"))
        let cases = [good + "\0.ignored", "mlp.mlart", "./" + good, "/" + String(repeating: "a", count: 4095), files.path("loop-a")]
        for path in cases {
            let error = refusal(controller, path)
            XCTAssertEqual(error?.status, .invalidArgument, "\(path.prefix(80).debugDescription): \(String(describing: error))")
            XCTAssertEqual(error?.reason, .pathRefused, "\(path.prefix(80).debugDescription)")
        }
        XCTAssertEqual(try controller.info().standby.version, "v2.1", "nothing was loaded")
        XCTAssertEqual(try controller.loadStandby(artifact: good).standby.version, "mlp-v1")
    }

    func testRefusalsOfFilesThatAreNotArtifactsRevealNoBytesOrSize() throws {
        let node = try files.start()
        defer { node.stop() }
        let controller = try files.controller(node)
        let secret = "s3cr3t-contents-\(UUID().uuidString)"
        let path = files.path("secret.txt")
        try Data(secret.utf8).write(to: URL(fileURLWithPath: path))
        let error = try XCTUnwrap(refusal(controller, path))
        XCTAssertEqual(error.reason, .artifactInvalid)
        // The message names the file (its path holds a random directory name, which may contain
        // any digits); what must not appear is anything read from the file or its size.
        let text = "\(error)".replacingOccurrences(of: path, with: "<path>")
        XCTAssertFalse(text.contains("s3cr"), text)
        XCTAssertFalse(text.contains(Data(secret.utf8.prefix(4)).map { String(format: "%02x", $0) }.joined()), text)
        XCTAssertFalse(text.contains(String(secret.utf8.count)), text)
        XCTAssertEqual(refusal(controller, "/proc/self/status")?.reason, .artifactInvalid)
        XCTAssertEqual(refusal(controller, files.path("missing.mlart"))?.reason, .artifactNotFound)
    }

    func testModelDirConfinesLoadsAfterResolvingSymlinks() throws {
        let models = files.path("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try writeArtifact(models + "/mlp.mlart")
        try writeArtifact(files.path("outside.mlart"))
        symlink(files.path("outside.mlart"), models + "/escape.mlart")
        let node = try files.start(["--model-dir", models])
        defer { node.stop() }
        let controller = try files.controller(node)
        // Outside, whether it exists or not, readable or not: the same refusal, no file touched.
        for path in [files.path("token"), files.path("mlserve.state"), files.path("outside.mlart"), files.path("nothing-here"),
                     models + "/../outside.mlart", models + "/escape.mlart"] {
            let error = refusal(controller, path)
            XCTAssertEqual(error?.status, .permissionDenied, "\(path): \(String(describing: error))")
            XCTAssertEqual(error?.reason, .pathOutsideModelDir, path)
        }
        XCTAssertEqual(try controller.loadStandby(artifact: models + "/mlp.mlart").standby.version, "mlp-v1")
    }

    func testSlotStateThatCannotFitTheStateRecordIsAClearRefusal() throws {
        let node = try files.start()
        defer { node.stop() }
        let controller = try files.controller(node)
        // Control characters are escaped as \u00XX in the record: 16 × 251 bytes become ~24 KiB.
        var directory = files.directory.path
        for _ in 0..<15 {
            directory += "/" + String(repeating: "\u{1}", count: 250)
            XCTAssertEqual(mkdir(directory, 0o755), 0, String(cString: strerror(errno)))
        }
        let path = directory + "/m.mlart"
        try writeArtifact(path)
        let error = refusal(controller, path)
        XCTAssertEqual(error?.status, .invalidArgument, String(describing: error))
        XCTAssertEqual(error?.reason, .pathRefused)
        XCTAssertEqual(try controller.info().standby.version, "v2.1")
    }
}
