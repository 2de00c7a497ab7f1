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
            _ = try client.call(.hello(Hello(minVersion: 3, maxVersion: 4, role: .data)))
            XCTFail("accepted protocol 3...4")
        } catch {
            XCTAssertEqual(error.status, .unimplemented)
            // Before HELLO is accepted no version is agreed: the v1 layout, so no reason.
            XCTAssertEqual(error.reason, .unspecified)
        }
        XCTAssertEqual(try client.hello().version, 2)
    }

    func testNodeAgreesOnTheHighestCommonVersion() throws {
        XCTAssertEqual(try node.client(role: nil).hello(maxVersion: 1).version, 1)
        XCTAssertEqual(try node.client(role: nil).hello(maxVersion: 2).version, 2)
        let wide = try node.client(role: nil)
        guard case .helloReply(let reply) = try wide.call(.hello(Hello(minVersion: 1, maxVersion: 9, role: .data))) else {
            return XCTFail("HELLO 1...9 not answered with HELLO_REPLY")
        }
        XCTAssertEqual(reply.version, 2)
    }

    func testV2RefusalsCarryTypedReasonsAndV1RefusalsDoNot() throws {
        let v2 = try node.client(role: nil)
        try v2.hello(maxVersion: 2)
        do {
            _ = try v2.swap(expectedActive: "v2.0")
            XCTFail("a data connection swapped")
        } catch {
            XCTAssertEqual(error.status, .permissionDenied)
            XCTAssertEqual(error.reason, .roleNotAllowed)
        }
        let v1 = try node.client(role: nil)
        try v1.hello(maxVersion: 1)
        do {
            _ = try v1.swap(expectedActive: "v2.0")
            XCTFail("a data connection swapped")
        } catch {
            XCTAssertEqual(error.status, .permissionDenied)
            XCTAssertEqual(error.reason, .unspecified, "a v1 ERROR has no reason on the wire")
        }
    }

    func testFenceMismatchIsTypedForTheController() throws {
        let controller = try node.controller()
        do {
            _ = try controller.rollback(expectedActive: "v9.9")
            XCTFail("a wrong fence swapped")
        } catch {
            XCTAssertEqual(error.status, .failedPrecondition)
            XCTAssertEqual(error.reason, .fenceActiveMismatch)
        }
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
