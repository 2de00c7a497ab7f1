import Foundation
import MLClient
import MLWire
import XCTest
@testable import MLControl

/// Two-phase deploy and rollback over three in-process nodes on loopback, one broken at each phase.
final class FleetOperationsTests: XCTestCase {
    private var nodes: [InProcessNode] = []
    private var store: ControlStore!

    override func setUpWithError() throws {
        // In canonical order (sorted endpoint), the order fleet operations visit them in.
        nodes = try (0..<3).map { _ in try InProcessNode() }.sorted { $0.port < $1.port }
        store = try ControlStore(path: try temporaryDatabasePath(self))
    }

    override func tearDown() {
        nodes.forEach { $0.stop() }
    }

    private func fleet(betweenPhases: (() -> Void)? = nil) -> FleetOperations {
        FleetOperations(operations: NodeOperations(access: NodeAccess(token: InProcessNode.token), store: store),
                        betweenPhases: betweenPhases)
    }

    private var actives: [String] { nodes.map(\.activeVersion) }

    func testDeploySwapsEveryNodeAndRollbackBringsThemAllBack() throws {
        let report = fleet().deploy(artifact: "builtin:v2.1", nodes: nodes.map(\.endpoint))
        XCTAssertTrue(report.succeeded, report.lines.joined(separator: "\n"))
        XCTAssertEqual(report.exitCode, .ok)
        XCTAssertEqual(actives, ["v2.1", "v2.1", "v2.1"])
        let back = fleet().rollback(expect: "v2.1", nodes: nodes.map(\.endpoint))
        XCTAssertTrue(back.succeeded)
        XCTAssertEqual(actives, ["v2.0", "v2.0", "v2.0"])
        XCTAssertEqual(back.nodes.first?.swap?.rollbackResponse.rolledBackTo, "v2.0")
        XCTAssertEqual(try store.deployments(limit: 10).map(\.action), [.rollback, .rollback, .rollback, .deploy, .deploy, .deploy])
    }

    func testUnreachableNodeDuringLoadMeansNoNodeSwaps() throws {
        nodes[2].stop()
        let report = fleet().deploy(artifact: "builtin:v2.1", nodes: nodes.map(\.endpoint))
        XCTAssertFalse(report.succeeded)
        XCTAssertEqual(report.exitCode, .unreachable)
        XCTAssertEqual(report.nodes.map(\.outcome), [.notSwapped, .notSwapped, .failed])
        if case .unreachable(let node, _) = report.nodes[2].error {
            XCTAssertEqual(node, nodes[2].endpoint.description)
        } else {
            XCTFail("expected unreachable, got \(String(describing: report.nodes[2].error))")
        }
        XCTAssertEqual(nodes[0].activeVersion, "v2.0")
        XCTAssertEqual(nodes[1].activeVersion, "v2.0")
        XCTAssertTrue(try store.deployments().isEmpty, "nothing was swapped, so nothing to record")
    }

    /// Node 1's active changes between the phases: its fenced swap is refused, node 0 (which
    /// had moved) is swapped back, node 2 is never touched.
    func testCASFailureAtSwapCompensatesTheNodesThatMoved() throws {
        let sneaky = nodes[1]
        let report = fleet(betweenPhases: {
            let c = try? NodeClient(sneaky.endpoint, timeout: 5)
            _ = try? c?.hello(role: .controller, token: InProcessNode.token)
            _ = try? c?.swap(expectedActive: "v2.0")
        }).deploy(artifact: "builtin:v2.1", nodes: nodes.map(\.endpoint))
        XCTAssertEqual(report.nodes.map(\.outcome), [.compensated, .failed, .notSwapped], report.lines.joined(separator: "\n"))
        XCTAssertEqual(report.nodes[1].error, .casMismatch(node: sneaky.endpoint.description, expected: "v2.0", actual: "v2.1"))
        XCTAssertEqual(report.exitCode, .refused)
        XCTAssertFalse(report.partiallyApplied)
        XCTAssertEqual(actives, ["v2.0", "v2.1", "v2.0"], "node 1 keeps what someone else did; the others are as before")
        let history = try store.deployments()
        XCTAssertEqual(history.map(\.status), ["ok", "fenced", "ok"])
        XCTAssertTrue(history[0].detail?.contains("compensation") ?? false)
    }

    /// A node that dies during the swap phase: the one that moved goes back, and the report
    /// names the dead one as unreachable.
    func testNodeLostAtSwapPhaseIsCompensated() throws {
        let report = fleet(betweenPhases: { [nodes] in nodes[2].stop() }).rollback(expect: nil, nodes: nodes.map(\.endpoint))
        XCTAssertEqual(report.nodes.map(\.outcome), [.compensated, .compensated, .failed])
        XCTAssertEqual(report.exitCode, .unreachable)
        XCTAssertEqual(nodes[0].activeVersion, "v2.0")
        XCTAssertEqual(nodes[1].activeVersion, "v2.0")
    }

    func testRollbackWithWrongExpectationChangesNothing() throws {
        let report = fleet().rollback(expect: "v9", nodes: nodes.map(\.endpoint))
        XCTAssertEqual(report.nodes.map(\.outcome), [.failed, .failed, .failed])
        XCTAssertEqual(report.exitCode, .refused)
        XCTAssertEqual(actives, ["v2.0", "v2.0", "v2.0"])
    }

    func testRefusedArtifactCarriesTheNodesMessage() throws {
        let report = fleet().deploy(artifact: "/nonexistent/model.mlart", nodes: [nodes[0].endpoint])
        guard case .refused(_, let status, let reason, let message) = report.nodes[0].error else {
            return XCTFail("\(report.lines)")
        }
        XCTAssertEqual(status, .notFound)
        XCTAssertEqual(reason, .artifactNotFound)
        XCTAssertTrue(message.contains("/nonexistent/model.mlart"), message)
    }
}
