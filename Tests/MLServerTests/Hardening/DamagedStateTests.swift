import Foundation
import Glibc
import MLClient
import MLTooling
import MLServer
import XCTest

/// Issue 10 point 3: damaged state is refused at start with a clear message; the way out is an
/// explicit `--recover-state`, which is logged and shown in `/model/info`. Point 11: explicit
/// `--active/--standby` with an existing state file are refused too, not silently ignored.
final class DamagedStateTests: XCTestCase {
    var files: NodeProcess!

    override func setUpWithError() throws { files = try NodeProcess() }
    override func tearDown() { files?.remove() }

    /// A state file whose newest record is generation 3 (active v2.0), the older one generation 2
    /// (active v2.1). Killed, so no shutdown write repeats the newest record.
    private func writeHistory() throws -> String {
        let node = try files.start()
        let controller = try files.controller(node)
        _ = try controller.swap(expectedActive: "v2.0")
        _ = try controller.swap(expectedActive: "v2.1")
        node.signal(SIGKILL)
        _ = node.waitForExit()
        return files.path("mlserve.state")
    }

    /// Byte offset of the JSON of the region with the highest sequence number.
    private func newestRecordOffset(_ path: String) throws -> Int {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var best: (sequence: UInt64, offset: Int)?
        for start in [0, StateFile.regionSize] {
            let region = bytes[start..<(start + StateFile.regionSize)]
            guard let newline = region.firstIndex(of: UInt8(ascii: "\n")) else { continue }
            let header = String(decoding: region[start..<newline], as: UTF8.self)
            guard let field = header.split(separator: " ").first(where: { $0.hasPrefix("seq=") }),
                  let sequence = UInt64(field.dropFirst(4)) else { continue }
            if best == nil || sequence > best!.sequence { best = (sequence, newline + 1) }
        }
        return try XCTUnwrap(best).offset
    }

    private func adminInfo(_ node: LocalNode) throws -> [String: Any] {
        let line = try XCTUnwrap(node.printed.split(separator: "\n").first { $0.contains("admin http://") })
        let port = try XCTUnwrap(line.split(separator: ":").last.flatMap { UInt16($0) })
        let response = try XCTUnwrap(try adminRequest(port, "GET /model/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        return try XCTUnwrap(jsonObject(response.body))
    }

    func testZeroLengthStateFileRefusesTheStartUntilDefaultsAreChosen() throws {
        let path = try writeHistory()
        XCTAssertEqual(truncate(path, 0), 0)
        let refused = try files.runToExit([])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.errors.contains("empty (0 bytes)"), refused.errors)
        XCTAssertTrue(refused.errors.contains("--recover-state defaults"), refused.errors)

        let node = try files.start(["--recover-state", "defaults", "--admin-port", "0"])
        defer { node.stop() }
        let info = try files.controller(node).info()
        XCTAssertEqual(info.active.version, "v2.0")
        XCTAssertGreaterThan(info.generation, 3, "generations must never be reused")
        XCTAssertTrue(node.logged.contains("event=state_recovered"), node.logged)
        XCTAssertTrue((try adminInfo(node)["state_recovery"] as? String)?.contains("empty") == true)
    }

    func testFlippedByteInTheNewestRecordRefusesTheStartUntilTheOlderRecordIsChosen() throws {
        let path = try writeHistory()
        let offset = try newestRecordOffset(path)
        let fd = open(path, O_RDWR)
        var byte: UInt8 = 0
        pread(fd, &byte, 1, off_t(offset + 3))
        byte ^= 0x01
        pwrite(fd, &byte, 1, off_t(offset + 3))
        close(fd)

        let refused = try files.runToExit([])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.errors.contains("digest mismatch"), refused.errors)
        XCTAssertTrue(refused.errors.contains("--recover-state older-record"), refused.errors)

        let node = try files.start(["--recover-state", "older-record", "--admin-port", "0"])
        defer { node.stop() }
        let info = try files.controller(node).info()
        XCTAssertEqual(info.generation, 2, "the older record")
        XCTAssertEqual(info.active.version, "v2.1")
        XCTAssertTrue(node.logged.contains("event=state_recovered"), node.logged)
        let recovery = try XCTUnwrap(try adminInfo(node)["state_recovery"] as? String)
        XCTAssertTrue(recovery.contains("older intact record"), recovery)
    }

    func testTruncatedStateFileRefusesTheStart() throws {
        let path = try writeHistory()
        XCTAssertEqual(truncate(path, off_t(StateFile.regionSize + 40)), 0)
        let refused = try files.runToExit([])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.errors.contains("cut short"), refused.errors)
    }

    func testActiveGivenWithAnExistingStateFileIsRefusedUnlessDefaultsAreChosen() throws {
        _ = try writeHistory()
        let refused = try files.runToExit(["--active", "builtin:v2.1", "--standby", "none"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.errors.contains("--active/--standby were given"), refused.errors)

        let node = try files.start(["--active", "builtin:v2.1", "--standby", "none", "--recover-state", "defaults"])
        defer { node.stop() }
        let info = try files.controller(node).info()
        XCTAssertEqual(info.active.version, "v2.1")
        XCTAssertFalse(info.standby.present)
        XCTAssertEqual(info.generation, 4)
    }

    func testNameLongerThanTheProtocolAllowsIsRefusedAtStart() throws {
        let refused = try files.runToExit(["--name", String(repeating: "n", count: 65)])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.errors.contains("--name must be 1...64 bytes"), refused.errors)
    }
}
