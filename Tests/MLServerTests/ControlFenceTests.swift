import Foundation
import MLClient
import MLModel
import MLServer
import MLWire
import XCTest

/// The v2 control fields, from outside over TCP: deadline, standby fence, same-version refusal,
/// the operation id in Info, and what a v1 controller still gets.
final class ControlFenceTests: XCTestCase {
    private var node: TestNode!

    override func setUpWithError() throws { node = try TestNode() }
    override func tearDown() { node.stop() }

    private func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    private func refusal(_ body: () throws -> Void) -> (Status, Reason)? {
        do { try body() } catch let error as ClientError {
            if case .remote(let status, let reason, _) = error { return (status, reason) }
        } catch {}
        return nil
    }

    func testSwapWhoseDeadlinePassedIsRefusedAndChangesNothing() throws {
        let c = try node.controller()
        let refused = refusal { _ = try c.swap(expectedActive: "v2.0", fence: SwapFence(deadlineUnixMicros: nowMicros() - 1_000)) }
        XCTAssertEqual(refused?.0, .deadlineExceeded)
        XCTAssertEqual(refused?.1, .deadlinePassed)
        XCTAssertEqual(try c.info().active.version, "v2.0")
        XCTAssertEqual(try c.info().generation, 1)
        // The same swap with a deadline still ahead applies and is named in Info.
        let future = nowMicros() + 10_000_000
        _ = try c.swap(expectedActive: "v2.0", fence: SwapFence(deadlineUnixMicros: future, operationID: "op-test-1"))
        let info = try c.info()
        XCTAssertEqual(info.active.version, "v2.1")
        XCTAssertEqual(info.lastOperationID, "op-test-1")
    }

    func testLoadWhoseDeadlinePassedLeavesTheStandby() throws {
        let c = try node.controller()
        let refused = refusal {
            _ = try c.loadStandby(artifact: "builtin:mlp-v1", options: LoadOptions(deadlineUnixMicros: nowMicros() - 1))
        }
        XCTAssertEqual(refused?.1, .deadlinePassed)
        XCTAssertEqual(try c.info().standby.version, "v2.1")
    }

    func testStandbyFenceRefusesAnotherStandby() throws {
        let c = try node.controller()
        let standby = try c.info().standby
        let wrongVersion = refusal { _ = try c.swap(expectedActive: "v2.0", fence: SwapFence(expectedStandby: "v9")) }
        XCTAssertEqual(wrongVersion?.0, .failedPrecondition)
        XCTAssertEqual(wrongVersion?.1, .fenceStandbyMismatch)
        let wrongChecksum = refusal {
            _ = try c.rollback(expectedActive: "v2.0", fence: SwapFence(expectedStandby: standby.version, expectedStandbyChecksum: Digest32(Array(repeating: 7, count: 32))))
        }
        XCTAssertEqual(wrongChecksum?.1, .fenceStandbyMismatch)
        XCTAssertEqual(try c.info().generation, 1)
        _ = try c.swap(expectedActive: "v2.0", fence: SwapFence(expectedStandby: standby.version, expectedStandbyChecksum: standby.checksum))
        XCTAssertEqual(try c.info().active.version, "v2.1")
    }

    func testFlipOntoTheSameVersionIsRefusedOnV1AndV2() throws {
        let c = try node.controller()
        _ = try c.loadStandby(artifact: "builtin:v2.0", options: LoadOptions(flags: .force))
        XCTAssertEqual(refusal { _ = try c.rollback(expectedActive: "v2.0") }?.1, .sameVersion)
        let v1 = try NodeClient(node.endpoint, timeout: 10)
        try v1.hello(role: .controller, token: TestNode.token, maxVersion: 1)
        XCTAssertEqual(refusal { _ = try v1.swap(expectedActive: "v2.0") }?.0, .failedPrecondition)
        XCTAssertEqual(try c.info().generation, 1)
    }

    func testV1ControllerGetsTheV1InfoLayoutAndItsSwapCarriesNoOperation() throws {
        let v1 = try NodeClient(node.endpoint, timeout: 10)
        try v1.hello(role: .controller, token: TestNode.token, maxVersion: 1)
        XCTAssertNil(try v1.info().extension)
        _ = try v1.swap(expectedActive: "v2.0")
        XCTAssertEqual(try node.controller().info().lastOperationID, "")
    }
}
