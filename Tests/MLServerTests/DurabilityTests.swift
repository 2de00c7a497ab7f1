import MLTooling
import Dispatch
import Foundation
import Glibc
import MLClient
import MLModel
import MLServer
import MLWire
import Synchronization
import XCTest

/// Invariant 6: `kill -9` at any moment, then a restart, serves the version last acknowledged.
final class DurabilityTests: XCTestCase {
    let token = "durability-token"
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlserve-durability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The real `mlserve` binary (built beside this test bundle), on its state file in `directory`.
    private func startNode() throws -> LocalNode {
        guard FileManager.default.isExecutableFile(atPath: LocalNode.siblingExecutable().path) else {
            throw XCTSkip("mlserve not built at \(LocalNode.siblingExecutable().path); run swift build first")
        }
        return try LocalNode(arguments: ["--port", "0", "--admin-port", "off", "--loops", "2",
                                         "--state", directory.appendingPathComponent("mlserve.state").path,
                                         "--token-file", directory.appendingPathComponent("token").path],
                             token: token)
    }

    func testKillNineDuringSwapStormRestartsOnTheLastAcknowledgedVersion() throws {
        var generator = SplitMix64(seed: 2026)
        var lastAcked = (version: "v2.0", generation: UInt64(1))
        for round in 0..<20 {
            let node = try startNode()
            let controller = try NodeClient(node.endpoint, timeout: 5)
            try controller.hello(role: .controller, token: token)
            let info = try controller.info()
            // After the previous kill: the acknowledged state, or the one swap in flight.
            let inFlight = (version: lastAcked.version == "v2.0" ? "v2.1" : "v2.0", generation: lastAcked.generation + 1)
            let restored = (version: info.active.version, generation: info.generation)
            XCTAssertTrue(restored == lastAcked || restored == inFlight,
                          "round \(round): restored \(restored), last acknowledged \(lastAcked)")
            lastAcked = restored

            let acked = Locked(lastAcked)
            let stormDone = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                defer { stormDone.signal() }
                var active = restored.version
                for _ in 0..<100_000 {
                    guard let outcome = try? controller.swap(expectedActive: active) else { return }
                    acked.withLock { $0 = (outcome.activeVersion, outcome.generation) }
                    active = outcome.activeVersion
                }
            }
            usleep(UInt32(2_000 + generator.next() % 40_000))
            node.signal(SIGKILL)
            XCTAssertEqual(stormDone.wait(timeout: .now() + 20), .success)
            _ = node.waitForExit()
            lastAcked = acked.current
        }
        let final = try startNode()
        let client = try NodeClient(final.endpoint)
        try client.hello()
        let info = try client.info()
        XCTAssertTrue(info.active.version == lastAcked.version || info.generation == lastAcked.generation + 1)
        final.signal(SIGKILL)
        _ = final.waitForExit()
    }

    func testSigtermAnswersWhatIsInFlightAndExitsZero() throws {
        let node = try startNode()
        let client = try NodeClient(node.endpoint, timeout: 10)
        try client.hello()
        let rows = demoRows(100, seed: 8)
        var bytes: [UInt8] = []
        for (index, row) in rows.enumerated() {
            bytes += Message.predict(Predict(features: row.features)).frameBytes(requestID: UInt32(100 + index))
        }
        try client.send(raw: bytes)
        node.signal(SIGTERM)
        var answered = 0
        for index in 0..<rows.count {
            let frame = try client.readFrame()
            XCTAssertEqual(frame.header.requestID, UInt32(100 + index))
            XCTAssertEqual(frame.header.messageType, .predictResult)
            answered += 1
        }
        XCTAssertEqual(answered, 100)
        XCTAssertTrue(client.isClosedByPeer())
        XCTAssertEqual(node.waitForExit(), 0)
        XCTAssertTrue(node.printed.contains("drained"), node.printed)
        let state = try XCTUnwrap(try StateFile(path: directory.appendingPathComponent("mlserve.state").path, fsync: false).read())
        XCTAssertEqual(state.active?.version, "v2.0")
    }

    func testRestartRestoresSlotsFromTheStateFile() throws {
        let path = directory.appendingPathComponent("mlserve.state").path
        let stateFile = StateFile(path: path, fsync: true)
        let first = try ControlPlane.restore(stateFile: stateFile, defaultActive: "builtin:v2.0", defaultStandby: "builtin:v2.1").get()
        let control = ControlPlane(initial: first, stateFile: stateFile, token: nil)
        _ = try control.loadStandby(artifact: "builtin:mlp-v1", expectedChecksum: .zero).get()
        _ = try control.swap(expectedActive: "v2.0").get()
        let restored = try ControlPlane.restore(stateFile: stateFile, defaultActive: "builtin:v2.0", defaultStandby: nil).get()
        XCTAssertEqual(restored.active?.version, "mlp-v1")
        XCTAssertEqual(restored.standby?.version, "v2.0")
        XCTAssertEqual(restored.generation, 2)
    }

    func testCorruptStateFileRefusesToStartRatherThanServeSomethingElse() throws {
        let path = directory.appendingPathComponent("mlserve.state").path
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        let result = ControlPlane.restore(stateFile: StateFile(path: path, fsync: false), defaultActive: "builtin:v2.0", defaultStandby: nil)
        guard case .failure(let error) = result else { return XCTFail("started on a corrupt state file") }
        XCTAssertEqual(error.kind, .damagedState)
        XCTAssertTrue(error.message.contains(path))
    }

    func testDrainingNodeIsNotReady() throws {
        let node = try TestNode()
        let client = try node.client()
        XCTAssertTrue(try client.ready().ready)
        node.control.beginDraining()
        let ready = try client.ready()
        XCTAssertFalse(ready.ready)
        XCTAssertTrue(ready.reason.contains("draining"))
        node.stop()
    }
}

final class StateFileEncodingTests: XCTestCase {
    func testHandEncodedStateParsesBackToTheSameRecordWhateverThePath() throws {
        let bytes = BuiltinModels.artifactBytes(version: "v2.0")!
        let model = try Model.decode(bytes: bytes, source: "/odd dir/\"quoted\"\\back\nslash\u{1}é.mlart")
        let pair = SlotPair(active: model, standby: nil, generation: 42)
        let decoded = try JSONDecoder().decode(StateFile.Record.self, from: Data(StateFile.encode(pair)))
        XCTAssertEqual(decoded, StateFile.record(of: pair))
        XCTAssertEqual(decoded.active?.artifact, model.artifact)
        XCTAssertNil(decoded.standby)
    }
}

final class StateFileTornWriteTests: XCTestCase {
    func testTornNewestRegionIsRefusedUnlessTheOlderRecordIsChosen() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("torn-\(UUID().uuidString).state").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let v20 = BuiltinModels.model(version: "v2.0")!
        let v21 = BuiltinModels.model(version: "v2.1")!
        let writer = StateFile(path: path, fsync: false)
        try writer.write(SlotPair(active: v20, standby: v21, generation: 7))
        try writer.write(SlotPair(active: v21, standby: v20, generation: 8))
        XCTAssertEqual(try StateFile(path: path, fsync: false).read()?.generation, 8)

        // Tear the newest region (sequence 2 lives in region 0) as a kill mid-write would.
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: 150)
        handle.write(Data("GARBAGE".utf8))
        try handle.close()
        // The torn record may have been acknowledged: no silent fallback.
        XCTAssertThrowsError(try StateFile(path: path, fsync: false).read()) { error in
            XCTAssertEqual((error as? StartupError)?.kind, .damagedState)
        }
        let loaded = try StateFile(path: path, fsync: false).load(recovery: .olderRecord)
        XCTAssertEqual(loaded.record?.generation, 7)
        XCTAssertEqual(loaded.record?.active?.version, "v2.0")
        XCTAssertNotNil(loaded.recovery)

        // The next write goes to the torn region, never over the surviving one.
        let reopened = StateFile(path: path, fsync: false)
        _ = try reopened.load(recovery: .olderRecord)
        try reopened.write(SlotPair(active: v20, standby: v21, generation: 9))
        XCTAssertEqual(try StateFile(path: path, fsync: false).read()?.generation, 9)
    }

    func testFileCutShortIsRefusedUnlessTheOlderRegionIsChosen() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("short-\(UUID().uuidString).state").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let v20 = BuiltinModels.model(version: "v2.0")!
        let writer = StateFile(path: path, fsync: true)
        try writer.write(SlotPair(active: v20, standby: nil, generation: 1))  // region 1
        try writer.write(SlotPair(active: v20, standby: nil, generation: 2))  // region 0
        try writer.write(SlotPair(active: v20, standby: nil, generation: 3))  // region 1
        truncate(path, off_t(StateFile.regionSize + 100))
        XCTAssertThrowsError(try StateFile(path: path, fsync: false).read())
        XCTAssertEqual(try StateFile(path: path, fsync: false).load(recovery: .olderRecord).record?.generation, 2)
    }
}
