import Foundation
import Glibc
import MLClient
import MLTooling
import MLModel
import MLServer
import MLWire
import XCTest

/// Issue 10 point 2: a full file system or a file-size limit never kills the node. The state
/// file's space is reserved when it is created; a write that fails anyway is a refused swap
/// ("nothing changed") while the node keeps serving; a start that cannot reserve it exits 1 with
/// a message and leaves no empty file behind.
final class StateFileFaultTests: XCTestCase {
    func testFullFileSystemRefusesTheSwapAndTheNodeKeepsServing() throws {
        let disk = try SmallFileSystem(kilobytes: 64)
        defer { disk.unmount() }
        let files = try NodeProcess()
        defer { files.remove() }
        let state = disk.path + "/mlserve.state"
        let node = try files.start([], state: state)
        defer { node.stop() }
        let controller = try files.controller(node)

        // The disk fills after the start: the reserved space still takes every swap.
        let filler = disk.fill()
        for expected in ["v2.0", "v2.1", "v2.0", "v2.1"] {
            XCTAssertNoThrow(try controller.swap(expectedActive: expected))
        }
        XCTAssertEqual(try controller.info().generation, 5)

        // Someone cuts the state file while the disk is full (and the space it freed is taken
        // again): the next write needs new space.
        XCTAssertEqual(truncate(state, 0), 0)
        disk.fill()
        XCTAssertRemote(.unavailable, try controller.swap(expectedActive: "v2.0"))
        let after = try controller.info()
        XCTAssertEqual(after.active.version, "v2.0", "a refused swap changed nothing")
        XCTAssertEqual(after.generation, 5)
        let data = try NodeClient(node.endpoint)
        try data.hello()
        XCTAssertEqual(try data.predict(demoRows(1)[0].features).version, "v2.0")
        XCTAssertTrue(node.waitForLog("result=refused"), node.logged)
        XCTAssertTrue(node.logged.contains("disk full"), node.logged)

        // Space again: the same swap now succeeds, and a restart restores it.
        unlink(filler)
        XCTAssertEqual(try controller.swap(expectedActive: "v2.0").activeVersion, "v2.1")
        XCTAssertEqual(node.stop(), 0)
        let restarted = try files.start([], state: state)
        defer { restarted.stop() }
        let info = try files.controller(restarted).info()
        XCTAssertEqual(info.active.version, "v2.1")
        XCTAssertEqual(info.generation, 6)
    }

    func testStartOnAFullFileSystemExitsOneAndLeavesNoFile() throws {
        let disk = try SmallFileSystem(kilobytes: 64)
        defer { disk.unmount() }
        disk.fill()
        let files = try NodeProcess()
        defer { files.remove() }
        let state = disk.path + "/mlserve.state"
        let result = try files.runToExit([], state: state)
        XCTAssertEqual(result.status, 1, result.errors)
        XCTAssertTrue(result.errors.contains("disk full"), result.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: state), "a refused start left a state file")
    }

    func testFileSizeLimitRefusesTheStartWithAMessageInsteadOfDyingOfSIGXFSZ() throws {
        let files = try NodeProcess()
        defer { files.remove() }
        // 16 KiB (ulimit -f counts 1024-byte blocks): less than the state file's two regions.
        let result = try files.runToExit([], ulimit: "-f 16")
        XCTAssertEqual(result.status, 1, "killed by a signal instead of refusing: \(result.errors)")
        XCTAssertTrue(result.errors.contains(String(cString: strerror(EFBIG))), result.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: files.path("mlserve.state")))
    }

    func testFileSizeLimitAboveTheStateFileServesAndSwaps() throws {
        let files = try NodeProcess()
        defer { files.remove() }
        let node = try files.start([], ulimit: "-f 64")
        defer { node.stop() }
        let controller = try files.controller(node)
        XCTAssertEqual(try controller.swap(expectedActive: "v2.0").activeVersion, "v2.1")
    }
}
