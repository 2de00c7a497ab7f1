import Foundation
import Glibc
import MLClient
import MLWire
import XCTest

/// Fleet operations under faults injected at exact protocol instants, from outside: three real
/// `mlserve` processes behind relays, real `mlctl` processes sharing one database. After each
/// mlctl exits, every node's own Info must agree with its report and exit code; after one watch
/// round the fleet must serve the desired state.
final class FleetFaultTests: XCTestCase {
    private var fleet: FleetHarness!
    /// Short timeouts: the deadline of each control request is now + --timeout.
    private let fast = ["--timeout", "1", "--clock-skew", "0.2", "--json"]

    override func setUpWithError() throws {
        fleet = try FleetHarness()
    }

    override func tearDown() {
        fleet?.stop()
    }

    /// Node 1 applies the swap and is killed before its reply leaves: mlctl cannot know, says
    /// `unknown` (exit 5) instead of "nothing changed", puts node 0 back, and the restarted node
    /// (which durably swapped) is converged back by watch.
    func testNodeKilledAfterApplyingSwapWithReplyLostIsUnknownNotFailed() throws {
        fleet.relays[1].add(.init(type: .swap, nth: 1, insteadOfReply: { [fleet] in fleet!.kill(1) }))
        let run = try fleet.mlctl(["deploy", "builtin:v2.1"] + fleet.nodeArguments + fast)
        XCTAssertEqual(run.code, 5, run.stdout + run.stderr)
        let report = FleetHarness.report(run.stdout)
        XCTAssertEqual(report[fleet.endpoints[1].description]?["outcome"] as? String, "unknown", run.stdout)
        XCTAssertEqual(report[fleet.endpoints[0].description]?["outcome"] as? String, "compensated", run.stdout)
        XCTAssertEqual(report[fleet.endpoints[2].description]?["outcome"] as? String, "not_swapped", run.stdout)
        try fleet.restart(1)
        XCTAssertEqual(try fleet.info(1).active.version, "v2.1", "the node had applied the swap durably")
        try fleet.assertReportMatchesNodes(run.stdout)
        let history = try fleet.mlctl(["history", "--json", "--limit", "20"])
        XCTAssertTrue(history.stdout.contains("\"unknown\""), "DEPLOYMENTS keeps the lost swap as unknown: \(history.stdout)")
        XCTAssertEqual(try fleet.assertConvergesAfterOneWatchRound(), ["v2.0", "v2.0", "v2.0"])
        let after = try fleet.mlctl(["history", "--json", "--limit", "20"])
        XCTAssertTrue(after.stdout.contains("\"reconcile\""), after.stdout)
    }

    /// Node 1 is frozen with the swap queued in its socket; it resumes after mlctl gave up. The
    /// deadline makes it refuse the swap, so the fleet stays on the old version everywhere.
    func testFrozenNodeResumedAfterMlctlGaveUpCannotApplyTheQueuedSwap() throws {
        fleet.relays[1].add(.init(type: .swap, nth: 1, before: { [fleet] in fleet!.freeze(1) }))
        let run = try fleet.mlctl(["deploy", "builtin:v2.1"] + fleet.nodeArguments + fast)
        XCTAssertEqual(run.code, 5, run.stdout + run.stderr)
        XCTAssertEqual(FleetHarness.report(run.stdout)[fleet.endpoints[1].description]?["outcome"] as? String, "unknown", run.stdout)
        fleet.thaw(1)
        let resumed = try fleet.waitUntilAnswering(1)
        XCTAssertEqual(resumed.active.version, "v2.0", "the queued swap arrived after its deadline and must not apply")
        XCTAssertEqual(resumed.generation, 1)
        try fleet.assertReportMatchesNodes(run.stdout)
        XCTAssertEqual(try fleet.actives(), ["v2.0", "v2.0", "v2.0"])
        XCTAssertEqual(try fleet.assertConvergesAfterOneWatchRound(), ["v2.0", "v2.0", "v2.0"])
    }

    /// Between the phases another controller loads a different model into node 2's standby: the
    /// standby fence refuses node 2's swap, the nodes that moved go back, exit 1.
    func testStandbyReplacedBetweenPhasesIsRefusedByTheStandbyFence() throws {
        let sneaky = fleet.nodes[2].endpoint
        fleet.relays[0].add(.init(type: .swap, nth: 1, before: {
            let client = try? NodeClient(sneaky, timeout: 5)
            _ = try? client?.hello(role: .controller, token: FleetHarness.token)
            // The active version, forced: fast to load, and not the standby phase 1 verified.
            _ = try? client?.loadStandby(artifact: "builtin:v2.0", options: LoadOptions(flags: .force))
        }))
        let run = try fleet.mlctl(["deploy", "builtin:v2.1"] + fleet.nodeArguments + fast)
        XCTAssertEqual(run.code, 1, run.stdout + run.stderr)
        let report = FleetHarness.report(run.stdout)
        XCTAssertEqual(report[fleet.endpoints[2].description]?["outcome"] as? String, "failed", run.stdout)
        XCTAssertTrue((report[fleet.endpoints[2].description]?["error"] as? String ?? "").contains("FENCE_STANDBY_MISMATCH"), run.stdout)
        XCTAssertEqual(try fleet.actives(), ["v2.0", "v2.0", "v2.0"])
        XCTAssertEqual(try fleet.info(2).standby.version, "v2.0")
        try fleet.assertReportMatchesNodes(run.stdout)
        XCTAssertEqual(try fleet.assertConvergesAfterOneWatchRound(), ["v2.0", "v2.0", "v2.0"])
    }

    /// Two rollbacks at once, listing the nodes in opposite orders: one rolls the fleet back, the
    /// other (waiting for the lock) is refused by the fence; no node flips twice.
    func testTwoRollbacksInOppositeOrdersDoNotCancelEachOther() throws {
        let deploy = try fleet.mlctl(["deploy", "builtin:v2.1"] + fleet.nodeArguments + fast)
        XCTAssertEqual(deploy.code, 0, deploy.stdout + deploy.stderr)
        let forward = fleet.nodeArguments
        let backward = fleet.endpoints.reversed().flatMap { ["--node", $0.description] }
        let a = try fleet.start(["rollback", "--expect", "v2.1", "--lock-wait", "30"] + forward + fast)
        let b = try fleet.start(["rollback", "--expect", "v2.1", "--lock-wait", "30"] + backward + fast)
        let results = [a.finish(), b.finish()]
        XCTAssertEqual(results.map(\.code).sorted(), [0, 1], results.map { $0.stdout + $0.stderr }.joined(separator: "\n"))
        XCTAssertEqual(try fleet.actives(), ["v2.0", "v2.0", "v2.0"])
        XCTAssertEqual(try (0..<3).map { try fleet.info($0).generation }, [3, 3, 3], "each node flipped exactly once since the deploy")
        XCTAssertEqual(try fleet.assertConvergesAfterOneWatchRound(), ["v2.0", "v2.0", "v2.0"])
    }

    /// Two deploys of different models at once: one holds the lock and the other is refused
    /// with who holds it (exit 7) — or runs after it; the fleet ends uniform on the desired state.
    func testTwoDeploysAtOnceLeaveOneUniformFleet() throws {
        // mlp-v1 is trained on first use (seconds): a longer timeout than the fault tests.
        let slow = ["--timeout", "20", "--json"]
        let a = try fleet.start(["deploy", "builtin:v2.1"] + fleet.nodeArguments + slow)
        let b = try fleet.start(["deploy", "builtin:mlp-v1"] + fleet.nodeArguments + slow)
        let results = [a.finish(), b.finish()]
        let codes = results.map(\.code)
        XCTAssertTrue(codes.allSatisfy { $0 == 0 || $0 == 7 } && codes.contains(0), results.map { $0.stdout + $0.stderr }.joined(separator: "\n"))
        for result in results where result.code == 7 {
            XCTAssertTrue(result.stdout.contains("\"holder\""), result.stdout)
        }
        let actives = try fleet.actives()
        XCTAssertEqual(Set(actives).count, 1, "fleet split: \(actives)")
        XCTAssertEqual(try fleet.assertConvergesAfterOneWatchRound(), actives)
    }

    /// Node 1 applies the swap, is killed before replying and restarted at once: mlctl learns
    /// from its Info that it swapped, carries on, and exits 0 with every node on the target.
    func testNodeRestartedMidSwapIsFoundSwappedAndTheDeployCompletes() throws {
        fleet.relays[1].add(.init(type: .swap, nth: 1, insteadOfReply: { [fleet] in try? fleet!.restart(1) }))
        let run = try fleet.mlctl(["deploy", "builtin:v2.1"] + fleet.nodeArguments + fast)
        XCTAssertEqual(run.code, 0, run.stdout + run.stderr)
        XCTAssertEqual(FleetHarness.report(run.stdout)[fleet.endpoints[1].description]?["outcome"] as? String, "swapped", run.stdout)
        try fleet.assertReportMatchesNodes(run.stdout)
        XCTAssertEqual(try fleet.actives(), ["v2.1", "v2.1", "v2.1"])
        XCTAssertEqual(try fleet.assertConvergesAfterOneWatchRound(), ["v2.1", "v2.1", "v2.1"])
    }

    /// A deploy of what already serves leaves every standby alone; a rollback onto a standby of
    /// the same version is refused (sameVersion) by mlctl, nothing changes.
    func testDeployOfTheActiveVersionLeavesStandbysAndSameVersionRollbackIsRefused() throws {
        let run = try fleet.mlctl(["deploy", "builtin:v2.0"] + fleet.nodeArguments + fast)
        XCTAssertEqual(run.code, 0, run.stdout + run.stderr)
        XCTAssertEqual(Set(FleetHarness.report(run.stdout).values.compactMap { $0["outcome"] as? String }), ["already_active"])
        XCTAssertEqual(try (0..<3).map { try fleet.info($0).standby.version }, ["v2.1", "v2.1", "v2.1"], "standbys untouched")
        // Make node 0's standby the active version (forced reload), then ask for a rollback.
        let load = try fleet.mlctl(["load", "builtin:v2.0", "--force", "--node", fleet.endpoints[0].description, "--timeout", "1"])
        XCTAssertEqual(load.code, 0, load.stdout + load.stderr)
        let rollback = try fleet.mlctl(["rollback"] + fleet.nodeArguments + fast)
        XCTAssertEqual(rollback.code, 1, rollback.stdout + rollback.stderr)
        XCTAssertTrue(rollback.stdout.contains("SAME_VERSION"), rollback.stdout)
        XCTAssertEqual(try fleet.actives(), ["v2.0", "v2.0", "v2.0"])
        XCTAssertEqual(try (0..<3).map { try fleet.info($0).generation }, [1, 1, 1])
    }
}
