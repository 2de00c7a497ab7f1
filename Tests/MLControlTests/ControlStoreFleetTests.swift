import Foundation
import XCTest
@testable import MLControl

/// FLEET_LOCKS and FLEET_DESIRED through two connections to one file, as two controllers see them.
final class ControlStoreFleetTests: XCTestCase {
    func testSecondOperationSeesWhoHoldsTheLockUntilReleasedOrStale() throws {
        let path = try temporaryDatabasePath(self)
        let a = try ControlStore(path: path)
        let b = try ControlStore(path: path)
        XCTAssertNil(try a.acquireFleetLock(fleet: "f", operationID: "op-a", action: "deploy", holder: "A", now: noon, staleAfter: 60))
        let held = try b.acquireFleetLock(fleet: "f", operationID: "op-b", action: "rollback", holder: "B", now: noon.addingTimeInterval(30), staleAfter: 60)
        XCTAssertEqual(held?.holder, "A")
        XCTAssertEqual(held?.operationID, "op-a")
        XCTAssertNil(try b.acquireFleetLock(fleet: "other", operationID: "op-b", action: "rollback", holder: "B", now: noon, staleAfter: 60),
                     "fleets lock separately")
        // A shows life; B still waits. Then A goes silent past the stale limit: B takes over.
        XCTAssertTrue(try a.heartbeatFleetLock(fleet: "f", operationID: "op-a", now: noon.addingTimeInterval(50)))
        XCTAssertNotNil(try b.acquireFleetLock(fleet: "f", operationID: "op-b", action: "rollback", holder: "B", now: noon.addingTimeInterval(100), staleAfter: 60))
        XCTAssertNil(try b.acquireFleetLock(fleet: "f", operationID: "op-b", action: "rollback", holder: "B", now: noon.addingTimeInterval(111), staleAfter: 60))
        XCTAssertFalse(try a.heartbeatFleetLock(fleet: "f", operationID: "op-a", now: noon.addingTimeInterval(112)), "A learns it lost the lock")
        try a.releaseFleetLock(fleet: "f", operationID: "op-a")  // not A's any more: no effect
        XCTAssertEqual(try a.fleetLock(fleet: "f")?.holder, "B")
        try b.releaseFleetLock(fleet: "f", operationID: "op-b")
        XCTAssertNil(try a.fleetLock(fleet: "f"))
    }

    func testDesiredStateIsPerFleetAndNodeAndOverwritten() throws {
        let store = try ControlStore(path: try temporaryDatabasePath(self))
        try store.setDesired([DesiredState(fleet: "f", node: "n1", version: "v2.1", checksum: "ab", artifact: "builtin:v2.1", operationID: "op-1", updatedAt: noon),
                              DesiredState(fleet: "f", node: "n2", version: "v2.1", checksum: "ab", artifact: nil, operationID: "op-1", updatedAt: noon)])
        try store.setDesired([DesiredState(fleet: "f", node: "n1", version: "v2.0", checksum: "cd", artifact: nil, operationID: "op-2", updatedAt: noon)])
        let desired = try store.desired(fleet: "f")
        XCTAssertEqual(desired["n1"]?.version, "v2.0")
        XCTAssertNil(desired["n1"]?.artifact)
        XCTAssertEqual(desired["n2"]?.version, "v2.1")
        XCTAssertTrue(try store.desired(fleet: "g").isEmpty)
    }
}
