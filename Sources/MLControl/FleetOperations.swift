import Foundation
import MLClient
import MLWire

/// Deploy, swap and rollback across several nodes, two-phase so a fleet is never left serving
/// a mix of versions by our doing:
///
/// 1. prepare every node (deploy: load the standby and verify it; swap/rollback: check the
///    node answers, has a standby, and — when asked — runs the expected version);
/// 2. only if every node is prepared, swap each one fenced on the active version seen in
///    phase 1; if one fails, swap back (fenced on the version it now runs) the nodes that moved.
///
/// Phase 2 runs node by node in the order given: a swap is microseconds, so the mixed window
/// is one round trip per node, and stopping at the first failure bounds what must be undone.
public struct FleetOperations {
    public var operations: NodeOperations
    /// Runs between the phases. Tests use it to change a node behind the controller's back.
    public var betweenPhases: (() -> Void)?

    public init(operations: NodeOperations, betweenPhases: (() -> Void)? = nil) {
        self.operations = operations
        self.betweenPhases = betweenPhases
    }

    /// Loads `artifact` into every standby, then swaps every node to it.
    public func deploy(artifact: String, checksum: Digest32 = .zero, nodes: [Endpoint]) -> FleetReport {
        var reports: [NodeReport] = []
        for endpoint in nodes {
            do throws(ControlError) {
                let before = try operations.info(endpoint)
                guard before.active.present else {
                    throw ControlError.refused(node: endpoint.description, status: .failedPrecondition, reason: .noActiveModel,
                                               message: "no active model to fence the swap on")
                }
                let standby = try operations.load(endpoint, artifact: artifact, checksum: checksum)
                reports.append(NodeReport(node: endpoint.description, outcome: .notSwapped, fromVersion: before.active.version,
                                          prepared: "loaded \(standby.version) (sha256 \(standby.checksum.hex.prefix(12))…)"))
            } catch {
                reports.append(NodeReport(node: endpoint.description, outcome: .failed, error: error, note: "load phase"))
            }
        }
        return swapPhase(action: .deploy, nodes: nodes, reports: reports)
    }

    /// Swaps every node (active ↔ standby) fenced on `expect`.
    public func swap(expect: String, nodes: [Endpoint]) -> FleetReport {
        flip(action: .swap, expect: expect, nodes: nodes)
    }

    /// The runbook's step 2 on every node; `expect` nil fences each node on what it runs now.
    public func rollback(expect: String?, nodes: [Endpoint]) -> FleetReport {
        flip(action: .rollback, expect: expect, nodes: nodes)
    }

    private func flip(action: DeploymentAction, expect: String?, nodes: [Endpoint]) -> FleetReport {
        var reports: [NodeReport] = []
        for endpoint in nodes {
            let node = endpoint.description
            do throws(ControlError) {
                let info = try operations.info(endpoint, controller: true)
                if let expect, info.active.version != expect {
                    throw ControlError.casMismatch(node: node, expected: expect, actual: info.active.version)
                }
                guard info.standby.present else {
                    throw ControlError.refused(node: node, status: .failedPrecondition, reason: .standbyEmpty,
                                               message: "standby slot is empty; nothing to \(action.rawValue) to")
                }
                reports.append(NodeReport(node: node, outcome: .notSwapped, fromVersion: info.active.version,
                                          prepared: "standby \(info.standby.version) ready"))
            } catch {
                reports.append(NodeReport(node: node, outcome: .failed, error: error, note: "check phase"))
            }
        }
        return swapPhase(action: action, nodes: nodes, reports: reports)
    }

    private func swapPhase(action: DeploymentAction, nodes: [Endpoint], reports initial: [NodeReport]) -> FleetReport {
        var reports = initial
        guard reports.allSatisfy({ $0.outcome == .notSwapped }) else {
            return FleetReport(action: action, nodes: reports)
        }
        betweenPhases?()
        for (index, endpoint) in nodes.enumerated() {
            let expect = reports[index].fromVersion!
            do {
                let result = try operations.swap(endpoint, expect: expect, action: action)
                reports[index].outcome = .swapped
                reports[index].swap = result
                reports[index].toVersion = result.outcome.activeVersion
            } catch {
                reports[index].outcome = .failed
                reports[index].error = error
                reports[index].note = "swap phase"
                compensate(&reports, upTo: index, nodes: nodes, failedNode: endpoint.description)
                break
            }
        }
        return FleetReport(action: action, nodes: reports)
    }

    /// Swaps back the nodes before `index` that moved, each fenced on the version it moved to,
    /// so a node someone else changed meanwhile is left alone rather than flipped blindly.
    private func compensate(_ reports: inout [NodeReport], upTo index: Int, nodes: [Endpoint], failedNode: String) {
        for i in 0..<index where reports[i].outcome == .swapped {
            guard let moved = reports[i].swap?.outcome.activeVersion else { continue }
            do {
                _ = try operations.swap(nodes[i], expect: moved, action: .swap,
                                        detail: "compensation: \(failedNode) failed, putting \(nodes[i]) back")
                reports[i].outcome = .compensated
                reports[i].toVersion = reports[i].fromVersion
                reports[i].note = "swapped back because \(failedNode) failed"
            } catch {
                reports[i].outcome = .compensationFailed
                reports[i].error = error
                reports[i].note = "STILL SERVING \(moved): could not swap back"
            }
        }
    }
}
