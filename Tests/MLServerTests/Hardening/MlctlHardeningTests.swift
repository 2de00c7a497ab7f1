import Foundation
import Glibc
import MLClient
import MLModel
import MLTooling
import MLWire
import XCTest

/// Issue 10 point 12 (the command line): exit codes, options before positional arguments,
/// refused changes recorded in DEPLOYMENTS — all through the real `mlctl` against a real node.
final class MlctlHardeningTests: XCTestCase {
    var files: NodeProcess!

    override func setUpWithError() throws { files = try NodeProcess() }
    override func tearDown() { files?.remove() }

    private func mlctl(_ arguments: [String], token: Bool = true) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = LocalNode.siblingExecutable().deletingLastPathComponent().appendingPathComponent("mlctl")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MLCTL_TOKEN"] = token ? files.token : nil
        process.environment = environment
        process.currentDirectoryURL = files.directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    func testMissingTokenFileIsALocalFailure() throws {
        let result = try mlctl(["swap", "--expect", "v2.0", "--node", "127.0.0.1:9", "--token-file", files.path("no-such-token")], token: false)
        XCTAssertEqual(result.status, 6, "6 = local failure (mlctl --help): \(result.output)")
        XCTAssertTrue(result.output.contains("no-such-token"), result.output)
    }

    func testOptionsMayComeBeforePositionalArguments() throws {
        let node = try files.start()
        defer { node.stop() }
        let address = node.endpoint.description
        // The standby's own artifact, from a file: Info then names that file.
        let artifact = files.path("standby-copy.mlart")
        try Data(try XCTUnwrap(BuiltinModels.artifactBytes(version: "v2.1"))).write(to: URL(fileURLWithPath: artifact))
        let load = try mlctl(["load", "--node", address, "--db", files.path("db.sqlite"), "--timeout", "60", artifact])
        XCTAssertEqual(load.status, 0, load.output)
        let info = try mlctl(["--node", address, "--json", "info"])
        XCTAssertEqual(info.status, 0, info.output)
        XCTAssertTrue(info.output.contains("standby-copy.mlart"), info.output)
    }

    func testRefusedChangesAreRecordedInDeploymentsWithTheReason() throws {
        let node = try files.start()
        defer { node.stop() }
        let address = node.endpoint.description
        let db = files.path("db.sqlite")
        XCTAssertEqual(try mlctl(["deploy", files.path("missing.mlart"), "--node", address, "--db", db]).status, 1)
        let junk = files.path("junk.mlart")
        try Data("not an artifact".utf8).write(to: URL(fileURLWithPath: junk))
        XCTAssertEqual(try mlctl(["deploy", junk, "--node", address, "--db", db]).status, 1)
        XCTAssertEqual(try mlctl(["rollback", "--expect", "v9", "--node", address, "--db", db]).status, 1)
        let history = try mlctl(["history", "--json", "--db", db])
        XCTAssertEqual(history.status, 0, history.output)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(history.output.utf8)) as? [[String: Any]], history.output)
        let byAction = rows.map { "\($0["action"] as? String ?? "?") \($0["status"] as? String ?? "?")" }.sorted()
        XCTAssertEqual(byAction, ["deploy refused", "deploy refused", "rollback fenced"], history.output)
        let details = rows.compactMap { $0["detail"] as? String }.joined(separator: "\n")
        XCTAssertTrue(details.contains("NOT_FOUND ARTIFACT_NOT_FOUND"), details)
        XCTAssertTrue(details.contains("INVALID_ARGUMENT ARTIFACT_INVALID"), details)
    }
}
