import MLClient
import MLServer
import MLWire
import XCTest

/// Invariant 7: only an authenticated controller connection can change the slots.
final class ControlAuthTests: XCTestCase {
    var node: TestNode!

    override func setUpWithError() throws { node = try TestNode() }
    override func tearDown() { node.stop() }

    func testDataConnectionCannotLoadSwapOrRollback() throws {
        let client = try node.client(role: .data)
        XCTAssertRemote(.permissionDenied, try client.loadStandby(artifact: "builtin:v2.1"))
        XCTAssertRemote(.permissionDenied, try client.swap(expectedActive: "v2.0"))
        XCTAssertRemote(.permissionDenied, try client.rollback(expectedActive: "v2.0"))
        XCTAssertEqual(try client.info().generation, 1)
    }

    func testControlBeforeHelloIsRefused() throws {
        let client = try node.client(role: nil)
        XCTAssertRemote(.failedPrecondition, try client.swap(expectedActive: "v2.0"))
        XCTAssertRemote(.failedPrecondition, try client.predict([Float](repeating: 0, count: 32)))
        XCTAssertEqual(node.control.slots.current().generation, 1)
    }

    func testWrongTokenIsUnauthenticatedAndClosesTheConnection() throws {
        let client = try node.client(role: nil)
        XCTAssertRemote(.unauthenticated, try client.hello(role: .controller, token: "not-the-token"))
        XCTAssertTrue(client.isClosedByPeer())
        let empty = try node.client(role: nil)
        XCTAssertRemote(.unauthenticated, try empty.hello(role: .controller, token: ""))
        // A token that shares a prefix with the real one is just as wrong.
        let prefix = try node.client(role: nil)
        XCTAssertRemote(.unauthenticated, try prefix.hello(role: .controller, token: String(TestNode.token.dropLast())))
        XCTAssertEqual(node.control.slots.current().generation, 1)
    }

    func testRightTokenMayControl() throws {
        let controller = try node.controller()
        XCTAssertEqual(controller.greeting?.role, .controller)
        XCTAssertEqual(try controller.swap(expectedActive: "v2.0").activeVersion, "v2.1")
    }

    func testUnsupportedProtocolVersionIsUnimplementedAndConnectionStays() throws {
        let client = try node.client(role: nil)
        do {
            _ = try client.call(.hello(Hello(minVersion: 2, maxVersion: 3, role: .data)))
            XCTFail("accepted protocol 2...3")
        } catch {
            XCTAssertEqual(error.status, .unimplemented)
        }
        XCTAssertEqual(try client.hello().version, 1)
    }

    func testSecondHelloIsRefused() throws {
        let client = try node.client()
        XCTAssertRemote(.failedPrecondition, try client.hello(role: .controller, token: TestNode.token))
        XCTAssertRemote(.permissionDenied, try client.swap(expectedActive: "v2.0"))
    }

    func testTokenComparisonIsExactAndNeedsAConfiguredToken() throws {
        XCTAssertTrue(node.control.checkToken(TestNode.token))
        XCTAssertFalse(node.control.checkToken(TestNode.token + "x"))
        XCTAssertFalse(node.control.checkToken(""))
        let tokenless = ControlPlane(initial: node.control.slots.current(), stateFile: nil, token: nil)
        XCTAssertFalse(tokenless.checkToken(""))
        XCTAssertFalse(tokenless.hasToken)
    }
}
