import Foundation
import MLClient
import MLModel
import MLServer
import MLTooling
import MLWire
import XCTest
@testable import MLControl

/// `deploy --shadow` against live nodes: the gate refuses the demo's bad model on the node's own
/// traffic, passes an equivalent one and swaps it, and an interrupted window (swap, load,
/// restart) is reported as aborted with nothing swapped.
final class ShadowDeploymentTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("shadow-deploy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    private func deployment(_ endpoint: Endpoint, token: String, store: ControlStore? = nil, window: TimeInterval = 0.3,
                            dryRun: Bool = false, traffic: (() -> Void)? = nil) -> ShadowDeployment {
        let operations = NodeOperations(access: NodeAccess(token: token, timeout: 10), store: store)
        var d = ShadowDeployment(fleet: FleetOperations(operations: operations), window: window, dryRun: dryRun,
                                 checkInterval: 0.05, say: { _ in })
        d.windowStarted = traffic
        return d
    }

    /// Demo rows predicted with prediction ids on a data connection, then labelled by id from a
    /// controller connection: what the gate's F1 needs.
    private func labelledTraffic(_ endpoint: Endpoint, token: String, rows: Int = 600, seed: UInt64 = 21) {
        do {
            var data = DemoData(seed: seed)
            let client = try NodeClient(endpoint, timeout: 10)
            try client.hello(role: .data)
            var predicts: [Message] = []
            var labels: [LabelRequest.Item] = []
            for i in 0..<rows {
                let row = data.next()
                let id = 90_000 + UInt64(i)
                predicts.append(.predict(Predict(features: row.features, predictionID: id)))
                labels.append(.init(predictionID: id, actualLabel: row.label))
            }
            _ = try client.pipeline(predicts)
            let controller = try NodeClient(endpoint, timeout: 10)
            try controller.hello(role: .controller, token: token)
            _ = try controller.call(.label(LabelRequest(items: labels)))
        } catch {
            XCTFail("traffic: \(error)")
        }
    }

    private func info(_ endpoint: Endpoint, token: String) throws -> InfoReply {
        let client = try NodeClient(endpoint, timeout: 10)
        try client.hello(role: .controller, token: token)
        return try client.info()
    }

    func testGateRefusesTheDemosBadModelOnShadowRowsAndNothingIsSwapped() throws {
        let node = try InProcessNode()
        defer { node.stop() }
        let store = try ControlStore(path: directory.appendingPathComponent("c.sqlite").path)
        let token = InProcessNode.token
        let report = deployment(node.endpoint, token: token, store: store) {
            self.labelledTraffic(node.endpoint, token: token)
        }.run(artifact: "builtin:v2.1", nodes: [node.endpoint])

        XCTAssertEqual(report.outcome, .refused)
        XCTAssertEqual(report.exitCode, .gateRefused)
        let verdict = try XCTUnwrap(report.nodes.first?.verdict)
        XCTAssertFalse(verdict.passed)
        XCTAssertEqual(verdict.rows, 600)
        XCTAssertEqual(verdict.labels, 600)
        let failed = Set(verdict.failedChecks.map(\.name))
        XCTAssertTrue(failed.contains("agreement"), verdict.summary)
        XCTAssertTrue(failed.contains("f1_drop"), verdict.summary)
        XCTAssertGreaterThan(try XCTUnwrap(verdict.activeF1) - (try XCTUnwrap(verdict.standbyF1)), 0.05)
        // Nothing swapped; the standby stays loaded for inspection; shadowing is off again.
        let after = try info(node.endpoint, token: token)
        XCTAssertEqual(after.active.version, "v2.0")
        XCTAssertEqual(after.standby.version, "v2.1")
        XCTAssertEqual(after.extension?.shadowRate, 0)
        let rows = try store.deployments(limit: 10)
        let row = try XCTUnwrap(rows.first { $0.status == "gate_refused" })
        XCTAssertEqual(row.fromVersion, "v2.0")
        XCTAssertEqual(row.toVersion, "v2.1")
        XCTAssertEqual(row.detail, verdict.summary, "the verdict with every figure is recorded")
        XCTAssertFalse(rows.contains { $0.status == "ok" }, "no swap was recorded")
        let shadow = try XCTUnwrap(try store.shadowVerdicts().first)
        XCTAssertEqual(shadow.standby, "v2.1")
        XCTAssertFalse(shadow.passed)
        XCTAssertEqual(shadow.agreement, verdict.agreement)
        XCTAssertEqual(shadow.standbyF1, verdict.standbyF1)
    }

    /// The good model rebuilt under another version label scores identically: every check passes
    /// and the fleet's fenced swap runs.
    func testGatePassesAnEquivalentModelAndSwapsIt() throws {
        let node = try InProcessNode()
        defer { node.stop() }
        var artifact = try XCTUnwrap(BuiltinModels.build(version: "v2.0"))
        artifact.version = "v2.0-rebuild"
        let path = directory.appendingPathComponent("rebuild.mlart").path
        try Data(try ArtifactWriter.encode(artifact)).write(to: URL(fileURLWithPath: path))
        let token = InProcessNode.token

        let dry = deployment(node.endpoint, token: token, dryRun: true) { self.labelledTraffic(node.endpoint, token: token) }
            .run(artifact: path, nodes: [node.endpoint])
        XCTAssertEqual(dry.outcome, .dryRun)
        XCTAssertEqual(dry.exitCode, .ok)
        XCTAssertEqual(try info(node.endpoint, token: token).active.version, "v2.0", "a dry run never swaps")

        let report = deployment(node.endpoint, token: token) { self.labelledTraffic(node.endpoint, token: token, seed: 22) }
            .run(artifact: path, nodes: [node.endpoint])
        let verdict = try XCTUnwrap(report.nodes.first?.verdict)
        XCTAssertTrue(verdict.passed, verdict.summary)
        XCTAssertEqual(verdict.agreement, 1)
        XCTAssertEqual(report.outcome, .swapped)
        XCTAssertEqual(report.exitCode, .ok)
        XCTAssertEqual(try info(node.endpoint, token: token).active.version, "v2.0-rebuild")
    }

    /// Two nodes: the rebuild agrees with node A's active (v2.0) but not with node B's (v2.1).
    /// B's refusal keeps A from swapping too: every node must pass before phase 2.
    func testOneNodeRefusingStopsTheWholeFleet() throws {
        let a = try InProcessNode()
        let b = try InProcessNode(active: "builtin:v2.1", standby: "builtin:v2.0")
        defer { a.stop(); b.stop() }
        var artifact = try XCTUnwrap(BuiltinModels.build(version: "v2.0"))
        artifact.version = "v2.0-rebuild"
        let path = directory.appendingPathComponent("rebuild.mlart").path
        try Data(try ArtifactWriter.encode(artifact)).write(to: URL(fileURLWithPath: path))
        let token = InProcessNode.token
        let report = deployment(a.endpoint, token: token) {
            self.labelledTraffic(a.endpoint, token: token)
            self.labelledTraffic(b.endpoint, token: token)
        }.run(artifact: path, nodes: [a.endpoint, b.endpoint])
        XCTAssertEqual(report.outcome, .refused)
        let verdicts = Dictionary(uniqueKeysWithValues: report.nodes.map { ($0.node, $0.verdict?.passed) })
        XCTAssertEqual(verdicts[a.endpoint.description], true)
        XCTAssertEqual(verdicts[b.endpoint.description], false)
        XCTAssertNil(report.fleet, "no swap phase")
        XCTAssertEqual(try info(a.endpoint, token: token).active.version, "v2.0")
        XCTAssertEqual(try info(b.endpoint, token: token).active.version, "v2.1")
    }

    /// `deploy --shadow builtin:v2.1` on one node while another controller, on its own
    /// connection, does `change` to that node during the observation window.
    private func deployment(_ endpoint: Endpoint, interruptedBy change: @escaping (NodeClient) throws -> Void) -> ShadowDeployment.Report {
        let token = InProcessNode.token
        return deployment(endpoint, token: token, window: 30) {
            let other = try! NodeClient(endpoint, timeout: 10)
            try! other.hello(role: .controller, token: token)
            try! change(other)
        }.run(artifact: "builtin:v2.1", nodes: [endpoint])
    }

    func testSwapDuringTheWindowAbortsAndTheDeployChangesNothing() throws {
        let node = try InProcessNode()
        defer { node.stop() }
        let token = InProcessNode.token
        let report = deployment(node.endpoint, interruptedBy: { _ = try $0.swap(expectedActive: "v2.0") })
        XCTAssertEqual(report.outcome, .aborted)
        XCTAssertEqual(report.exitCode, .shadowAborted)
        XCTAssertNil(report.fleet, "no swap phase")
        XCTAssertEqual(try info(node.endpoint, token: token).active.version, "v2.1", "only the other controller's swap happened")
    }

    func testLoadDuringTheWindowAborts() throws {
        let node = try InProcessNode()
        defer { node.stop() }
        let token = InProcessNode.token
        let report = deployment(node.endpoint, interruptedBy: { _ = try $0.loadStandby(artifact: "builtin:mlp-v1") })
        XCTAssertEqual(report.outcome, .aborted)
        let after = try info(node.endpoint, token: token)
        XCTAssertEqual([after.active.version, after.standby.version], ["v2.0", "mlp-v1"])
    }

    func testRestartDuringTheWindowAborts() throws {
        guard FileManager.default.isExecutableFile(atPath: LocalNode.siblingExecutable().path) else {
            throw XCTSkip("mlserve not built at \(LocalNode.siblingExecutable().path); run swift build first")
        }
        let token = LocalNode.randomToken()
        let state = directory.appendingPathComponent("mlserve.state").path
        func start(port: UInt16) throws -> LocalNode {
            try LocalNode(arguments: ["--port", "\(port)", "--admin-port", "off", "--loops", "1", "--state", state,
                                      "--token-file", directory.appendingPathComponent("token").path], token: token)
        }
        var node = try start(port: 0)
        let endpoint = node.endpoint
        defer { node.stop() }
        let report = deployment(endpoint, token: token, window: 30) {
            node.stop()
            node = try! start(port: endpoint.port)
        }.run(artifact: "builtin:v2.1", nodes: [endpoint])
        XCTAssertEqual(report.outcome, .aborted)
        XCTAssertEqual(report.exitCode, .shadowAborted)
        let after = try info(endpoint, token: token)
        XCTAssertEqual([after.active.version, after.standby.version], ["v2.0", "v2.1"], "restored as acknowledged, not swapped")
    }
}
