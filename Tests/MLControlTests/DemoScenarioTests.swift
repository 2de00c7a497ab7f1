import Foundation
import XCTest
@testable import MLControl

/// The `mlctl demo` code path end to end against an in-process node (the CLI only adds the
/// child process around it).
final class DemoScenarioTests: XCTestCase {
    func testDemoDeploysDetectsRollsBackVerifiesAndRecords() throws {
        let node = try InProcessNode()
        addTeardownBlock { node.stop() }
        var options = DemoScenario.Options()
        options.interval = 0.3
        options.baselineRounds = 3
        options.stabilityWindow = 1.2
        options.timeLimit = 20
        let lines = LineBox()
        let path = try temporaryDatabasePath(self)
        let result = try DemoScenario(endpoint: node.endpoint, token: InProcessNode.token, databasePath: path,
                                      options: options, say: { lines.append($0) }).run()
        let output = lines.lines.joined(separator: "\n")
        // Act 1: the shadow gate refused v2.1 on the shadow rows (agreement, and F1 once labels arrive by id).
        let gate = try XCTUnwrap(result.gate, output)
        XCTAssertTrue(result.gateRefused, gate.summary)
        XCTAssertTrue(gate.failedChecks.contains { $0.name == "agreement" || $0.name == "f1_drop" }, gate.summary)
        XCTAssertTrue(result.rolledBack, output)
        XCTAssertEqual(node.activeVersion, "v2.0")
        let incident = try XCTUnwrap(result.incident, output)
        XCTAssertEqual(incident.alertType, "f1_drop")
        XCTAssertEqual(incident.status, "resolved")
        XCTAssertEqual(incident.resolution, "Rolled back to previous version")
        XCTAssertNotNil(incident.stabilityOutcome)
        XCTAssertNotEqual(incident.stabilityOutcome, "watching", output)
        XCTAssertEqual(result.deployments.map(\.action), [.rollback, .deploy, .deploy])
        XCTAssertEqual(result.deployments.last?.status, "gate_refused", "act 1 is recorded, and swapped nothing")
        XCTAssertTrue(output.contains("DEPLOY v2.1"))
        XCTAssertTrue(output.contains("ROLLED BACK v2.1 -> v2.0"))
        XCTAssertTrue(output.contains("VERIFIED"))
        XCTAssertTrue(output.contains("INCIDENTS row:"))
    }
}
