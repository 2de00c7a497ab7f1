import Foundation
import Glibc
import MLClient
import MLModel
import MLServer
import MLTooling
import MLWire
import XCTest

/// Issue 10 points 9 and 11: the token compare is exact for every length, a version label means
/// one artifact per node, and the active version is not reloaded into standby by accident.
final class VersionAndTokenTests: XCTestCase {
    var files: NodeProcess!

    override func setUpWithError() throws { files = try NodeProcess() }
    override func tearDown() { files?.remove() }

    func testSameVersionLabelWithAnotherChecksumIsRefused() throws {
        let node = try files.start()
        defer { node.stop() }
        let controller = try files.controller(node)
        var impostor = try XCTUnwrap(BuiltinModels.build(version: "v2.1"))
        if case .logistic(var weights, let bias) = impostor.parameters {
            weights[0] += 0.5
            impostor.parameters = .logistic(weights: weights, bias: bias)
        }
        let path = files.path("impostor.mlart")
        _ = try ArtifactWriter.write(impostor, toPath: path)
        XCTAssertThrowsError(try controller.loadStandby(artifact: path)) { error in
            XCTAssertEqual((error as? ClientError)?.status, .failedPrecondition)
            XCTAssertEqual((error as? ClientError)?.reason, .versionChecksumConflict)
        }
        // The real v2.1 (same label, same checksum) is still welcome.
        XCTAssertEqual(try controller.loadStandby(artifact: "builtin:v2.1").standby.version, "v2.1")
    }

    func testLoadingTheActiveVersionIntoStandbyIsRefused() throws {
        let node = try files.start()
        defer { node.stop() }
        let controller = try files.controller(node)
        XCTAssertThrowsError(try controller.loadStandby(artifact: "builtin:v2.0")) { error in
            XCTAssertEqual((error as? ClientError)?.reason, .alreadyActive)
        }
        let info = try controller.info()
        XCTAssertEqual(info.standby.version, "v2.1", "a rollback still lands on the other model")
    }

    func testTokenPaddedWithNulBytesDoesNotMatchItsPrefix() throws {
        // A token file may hold any bytes; one that is "a" and 256 NULs must not accept "a".
        let tokenPath = files.path("nul-token")
        try Data([UInt8(ascii: "a")] + [UInt8](repeating: 0, count: 256)).write(to: URL(fileURLWithPath: tokenPath))
        // An empty $MLSERVE_TOKEN is ignored: the node reads the file.
        let node = try LocalNode(arguments: files.arguments(["--token-file", tokenPath]), token: "")
        defer { node.stop() }
        let client = try NodeClient(node.endpoint, timeout: 10)
        XCTAssertThrowsError(try client.hello(role: .controller, token: "a")) { error in
            XCTAssertEqual((error as? ClientError)?.status, .unauthenticated)
        }
    }

    func testConstantTimeCompareIsExactForEveryLength() {
        let token = Array("a".utf8)
        for extra in [1, 255, 256, 512, 1024] {
            XCTAssertFalse(ControlPlane.constantTimeEqual(token + [UInt8](repeating: 0, count: extra), token), "\(extra)")
            XCTAssertFalse(ControlPlane.constantTimeEqual(token, token + [UInt8](repeating: 0, count: extra)), "\(extra)")
        }
        XCTAssertTrue(ControlPlane.constantTimeEqual(token, token))
        XCTAssertFalse(ControlPlane.constantTimeEqual([], token))
    }

    func testNoTokenIsMadeWhenRandomBytesCannotBeRead() {
        XCTAssertThrowsError(try TokenSource.randomHex(bytes: 24, source: "/dev/null"))
        XCTAssertThrowsError(try TokenSource.randomHex(bytes: 24, source: "/nonexistent/urandom"))
        XCTAssertEqual(try TokenSource.randomHex(bytes: 24).count, 48)
    }
}
