import Dispatch
import Foundation
import MLClient
import MLModel
import MLServer
import MLWire
import Synchronization
import XCTest

final class SwapTests: XCTestCase {
    var node: TestNode!

    override func setUpWithError() throws { node = try TestNode() }
    override func tearDown() { node.stop() }

    /// DESIGN invariants 2 and 3 under load: hundreds of fenced swaps while several connections
    /// pipeline predictions. Every request succeeds, every response's version is the one its
    /// generation had, generations never go back on a connection, and no request sent after a
    /// swap's acknowledgement is served by an older generation.
    func testSwapStormUnderPipelinedLoadFailsNothingAndIsLinearizable() throws {
        let swaps = 300
        let clients = 4
        let depth = 16
        let acked = Atomic<UInt64>(1)
        let finished = Atomic<Bool>(false)
        let versionAt = Locked<[UInt64: String]>([1: "v2.0"])
        let failures = Locked<[String]>([])
        let observed = Locked<[UInt64: Set<String>]>([:])
        let served = Atomic<Int>(0)
        let rows = demoRows(depth, seed: 11).map { Message.predict(Predict(features: $0.features)) }
        let group = DispatchGroup()
        let deadline = Date().addingTimeInterval(60)

        for _ in 0..<clients {
            let client = try node.client()
            DispatchQueue.global().async(group: group) {
                var last: UInt64 = 0
                var seen: [UInt64: Set<String>] = [:]
                while !finished.load(ordering: .acquiring) && Date() < deadline {
                    let floor = acked.load(ordering: .acquiring)
                    do {
                        for reply in try client.pipeline(rows) {
                            guard case .predictResult(let result) = reply else {
                                failures.withLock { $0.append("non-result reply \(reply)") }
                                continue
                            }
                            if result.generation < floor {
                                failures.withLock { $0.append("linearizability: generation \(result.generation) after ack of \(floor)") }
                            }
                            if result.generation < last {
                                failures.withLock { $0.append("generation went back \(last) -> \(result.generation)") }
                            }
                            last = result.generation
                            seen[result.generation, default: []].insert(result.version)
                            served.wrappingAdd(1, ordering: .relaxed)
                        }
                    } catch {
                        failures.withLock { $0.append("client error \(error)") }
                        return
                    }
                }
                observed.withLock { all in all.merge(seen) { $0.union($1) } }
            }
        }

        let controller = try node.controller()
        var active = "v2.0"
        var swapMicros: [Double] = []
        for _ in 0..<swaps {
            let started = DispatchTime.now().uptimeNanoseconds
            let outcome = try controller.swap(expectedActive: active)
            swapMicros.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1000)
            XCTAssertEqual(outcome.previousVersion, active)
            versionAt.withLock { $0[outcome.generation] = outcome.activeVersion }
            acked.store(outcome.generation, ordering: .releasing)
            active = outcome.activeVersion
        }
        finished.store(true, ordering: .releasing)
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)

        XCTAssertEqual(failures.current, [])
        XCTAssertGreaterThan(served.load(ordering: .relaxed), 0)
        let map = versionAt.current
        for (generation, versions) in observed.current {
            XCTAssertEqual(versions, [map[generation] ?? "unknown generation"], "generation \(generation)")
        }
        XCTAssertEqual(try controller.info().generation, UInt64(1 + swaps))
    }

    /// A controller's HELLO moves its connection to the control loop; requests pipelined behind
    /// the HELLO in the same write must move with it and keep their order.
    func testControllerRequestsPipelinedBehindHelloKeepTheirOrder() throws {
        let client = try node.client(role: nil)
        let replies = try client.pipeline([
            .hello(Hello(role: .controller, token: TestNode.token)),
            // The HELLO agrees on v2, so the control requests behind it carry the v2 tail (§11.10).
            .swap(SwapRequest(expectedActive: "v2.0", fence: SwapFence())),
            .info,
            .rollback(RollbackRequest(expectedActive: "v2.1", fence: SwapFence())),
            .predict(Predict(features: demoRows(1)[0].features)),
            .swap(SwapRequest(expectedActive: "v2.1", fence: SwapFence())),
        ])
        guard case .helloReply = replies[0], case .swapReply(let swap) = replies[1], case .infoReply(let info) = replies[2],
              case .rollbackReply(let rollback) = replies[3], case .predictResult(let result) = replies[4],
              case .error(let status, _) = replies[5] else {
            return XCTFail("\(replies)")
        }
        XCTAssertEqual(swap.outcome.generation, 2)
        XCTAssertEqual(info.active.version, "v2.1")
        XCTAssertEqual(rollback.outcome.activeVersion, "v2.0")
        XCTAssertEqual(result.version, "v2.0")
        XCTAssertEqual(result.generation, 3)
        XCTAssertEqual(status, .failedPrecondition)
        // And the moved connection keeps working for later calls.
        XCTAssertEqual(try client.swap(expectedActive: "v2.0").generation, 4)
    }

    func testSwapWithWrongExpectedVersionIsRefusedAndChangesNothing() throws {
        let controller = try node.controller()
        let before = try controller.info()
        XCTAssertRemote(.failedPrecondition, try controller.swap(expectedActive: "v2.1"))
        XCTAssertRemote(.failedPrecondition, try controller.rollback(expectedActive: "v1.0"))
        let after = try controller.info()
        XCTAssertEqual(after, before)
    }

    func testRetriedRollbackDoesNotFlipBack() throws {
        let controller = try node.controller()
        let deploy = try controller.swap(expectedActive: "v2.0")
        XCTAssertEqual(deploy.activeVersion, "v2.1")
        let rollback = try controller.rollback(expectedActive: "v2.1")
        XCTAssertEqual(rollback.previousVersion, "v2.1")
        XCTAssertEqual(rollback.activeVersion, "v2.0")
        XCTAssertEqual(rollback.generation, 3)
        XCTAssertGreaterThan(rollback.timestampMicros, 1_700_000_000_000_000)
        // The same rollback again (a retry after a lost ack) must not return to v2.1.
        XCTAssertRemote(.failedPrecondition, try controller.rollback(expectedActive: "v2.1"))
        XCTAssertEqual(try controller.info().active.version, "v2.0")
    }

    func testSwapToEmptyStandbyIsRefused() throws {
        node.stop()
        node = try TestNode(standby: nil)
        let controller = try node.controller()
        XCTAssertRemote(.failedPrecondition, try controller.swap(expectedActive: "v2.0"))
        XCTAssertEqual(try controller.info().active.version, "v2.0")
        XCTAssertFalse(try controller.info().standby.present)
    }

    func testSwapPublishesTheWarmStandbyInstanceWithoutReloading() throws {
        // Invariant 1: the swapped-in model is the very instance that was warm in standby.
        let standbyBefore = node.control.slots.current().standby
        let controller = try node.controller()
        _ = try controller.swap(expectedActive: "v2.0")
        XCTAssertTrue(node.control.slots.current().active === standbyBefore)
        XCTAssertEqual(try controller.info().active.loadedAtMicros, standbyBefore?.loadedAtMicros)
    }
}
