import Foundation
import MLClient
import MLWire

/// Deploy, swap and rollback across several nodes, two-phase so a fleet is never left serving
/// a mix of versions by our doing — and never reported as consistent when it might not be:
///
/// 0. take the fleet's lock in the controller database (one fleet operation at a time, across
///    controllers sharing the file) and visit nodes in one canonical order (sorted endpoint), so
///    two operations can never work through the fleet from opposite ends;
/// 1. prepare every node (deploy: load the standby and verify it, or find the target already
///    active; swap/rollback: check the node answers, has a standby that differs from the active,
///    and — when asked — runs the expected version);
/// 2. record the desired state, then swap each node fenced on the active AND the standby seen in
///    phase 1, with a deadline. A swap whose reply is lost is `unknown` until the node's Info,
///    read after the deadline has passed, says what it did. If a node did not swap, the nodes
///    that moved are swapped back (fenced the same way) and the desired state reverts.
public struct FleetOperations {
    public var operations: NodeOperations
    public var settings: FleetSettings
    /// Runs between the phases. Tests use it to change a node behind the controller's back.
    public var betweenPhases: (() -> Void)?

    public init(operations: NodeOperations, settings: FleetSettings = FleetSettings(), betweenPhases: (() -> Void)? = nil) {
        self.operations = operations
        self.settings = settings
        self.betweenPhases = betweenPhases
    }

    /// Sorted by host, then port, without duplicates: every controller visits a fleet in this order.
    public static func canonical(_ nodes: [Endpoint]) -> [Endpoint] {
        var seen = Set<String>()
        return nodes.filter { seen.insert($0.description).inserted }
            .sorted { ($0.host, $0.port) < ($1.host, $1.port) }
    }

    /// One node's part of phase 2: from what to what.
    struct Step {
        var index: Int
        var endpoint: Endpoint
        var from: SlotIdentity
        var to: SlotIdentity
    }

    /// Loads `artifact` into every standby, then swaps every node to it. `target` (the artifact's
    /// version and checksum when mlctl can read it) lets nodes already serving it be left alone.
    public func deploy(artifact: String, checksum: Digest32 = .zero, target: SlotIdentity? = nil, nodes: [Endpoint]) -> FleetReport {
        locked(.deploy) {
            let ordered = Self.canonical(nodes)
            var reports: [NodeReport] = []
            var steps: [Step] = []
            var unchanged: [(Endpoint, SlotIdentity)] = []
            for (index, endpoint) in ordered.enumerated() {
                let node = endpoint.description
                beat()
                do throws(ControlError) {
                    let before = try operations.info(endpoint, controller: true)
                    guard before.active.present else {
                        throw .refused(node: node, status: .failedPrecondition, reason: .noActiveModel, message: "no active model to fence the swap on")
                    }
                    let active = SlotIdentity(before.active)
                    if let target, active == target {
                        reports.append(alreadyActive(node, active))
                        unchanged.append((endpoint, active))
                        continue
                    }
                    let standby: SlotInfo
                    do throws(ControlError) {
                        standby = try operations.load(endpoint, artifact: artifact, checksum: checksum,
                                                      operationID: settings.operationID, force: settings.force)
                    } catch {
                        guard error.refusal?.reason == .alreadyActive else { throw error }
                        reports.append(alreadyActive(node, active))
                        unchanged.append((endpoint, active))
                        continue
                    }
                    steps.append(Step(index: index, endpoint: endpoint, from: active, to: SlotIdentity(standby)))
                    reports.append(NodeReport(node: node, outcome: .notSwapped, fromVersion: active.version,
                                              prepared: "loaded \(SlotIdentity(standby))"))
                } catch {
                    operations.recordPreparationRefusal(action: .deploy, node: node, fromVersion: nil, error: error,
                                                        detail: "load phase: \(artifact)")
                    reports.append(NodeReport(node: node, outcome: .failed, error: error, note: "load phase"))
                }
            }
            return swapPhase(action: .deploy, steps: steps, unchanged: unchanged, reports: reports, artifact: artifact)
        }
    }

    /// Phase 2 alone, for nodes a caller has already prepared and verified (the shadow gate of
    /// `ShadowDeployment`): each swaps from `from` to `to`, fenced on both, compensating as a
    /// deploy does.
    public func promote(_ prepared: [(endpoint: Endpoint, from: SlotIdentity, to: SlotIdentity)]) -> FleetReport {
        locked(.deploy) {
            var steps: [Step] = []
            var reports: [NodeReport] = []
            for (index, endpoint) in Self.canonical(prepared.map(\.endpoint)).enumerated() {
                guard let node = prepared.first(where: { $0.endpoint.description == endpoint.description }) else { continue }
                steps.append(Step(index: index, endpoint: endpoint, from: node.from, to: node.to))
                reports.append(NodeReport(node: endpoint.description, outcome: .notSwapped, fromVersion: node.from.version,
                                          prepared: "shadow gate passed for \(node.to)"))
            }
            return swapPhase(action: .deploy, steps: steps, unchanged: [], reports: reports)
        }
    }

    /// Swaps every node (active ↔ standby) fenced on `expect`.
    public func swap(expect: String, nodes: [Endpoint]) -> FleetReport {
        locked(.swap) { flip(action: .swap, expect: expect, nodes: nodes) }
    }

    /// The runbook's step 2 on every node; `expect` nil fences each node on what it runs now.
    public func rollback(expect: String?, nodes: [Endpoint]) -> FleetReport {
        locked(.rollback) { flip(action: .rollback, expect: expect, nodes: nodes) }
    }

    private func alreadyActive(_ node: String, _ active: SlotIdentity) -> NodeReport {
        NodeReport(node: node, outcome: .alreadyActive, fromVersion: active.version, toVersion: active.version,
                   prepared: "already serves \(active); standby left as it was")
    }

    private func flip(action: DeploymentAction, expect: String?, nodes: [Endpoint]) -> FleetReport {
        let ordered = Self.canonical(nodes)
        var reports: [NodeReport] = []
        var steps: [Step] = []
        for (index, endpoint) in ordered.enumerated() {
            let node = endpoint.description
            beat()
            do throws(ControlError) {
                let info = try operations.info(endpoint, controller: true)
                if let expect, info.active.version != expect {
                    throw ControlError.casMismatch(node: node, expected: expect, actual: info.active.version)
                }
                guard info.standby.present else {
                    throw .refused(node: node, status: .failedPrecondition, reason: .standbyEmpty,
                                   message: "standby slot is empty; nothing to \(action.rawValue) to")
                }
                guard info.standby.version != info.active.version else {
                    throw .refused(node: node, status: .failedPrecondition, reason: .sameVersion,
                                   message: "standby holds \(info.standby.version), the version already active: a \(action.rawValue) would change nothing")
                }
                steps.append(Step(index: index, endpoint: endpoint, from: SlotIdentity(info.active), to: SlotIdentity(info.standby)))
                reports.append(NodeReport(node: node, outcome: .notSwapped, fromVersion: info.active.version,
                                          prepared: "standby \(SlotIdentity(info.standby)) ready"))
            } catch {
                operations.recordPreparationRefusal(action: action, node: node, fromVersion: expect, error: error, detail: "check phase")
                reports.append(NodeReport(node: node, outcome: .failed, error: error, note: "check phase"))
            }
        }
        return swapPhase(action: action, steps: steps, unchanged: [], reports: reports)
    }

    private func swapPhase(action: DeploymentAction, steps: [Step], unchanged: [(Endpoint, SlotIdentity)],
                           reports initial: [NodeReport], artifact: String? = nil) -> FleetReport {
        var reports = initial
        guard reports.allSatisfy({ $0.outcome == .notSwapped || $0.outcome == .alreadyActive }) else {
            return FleetReport(action: action, nodes: reports, operationID: settings.operationID)
        }
        betweenPhases?()
        // The intent is recorded before anything moves: a controller that dies now leaves a
        // desired state that watch converges to.
        recordDesired(unchanged + steps.map { ($0.endpoint, $0.to) }, artifact: artifact)
        var done: [Step] = []
        for step in steps {
            beat()
            let plan = SwapPlan(expectActive: step.from.version, expectStandby: step.to, operationID: settings.operationID, force: settings.force)
            let moved = apply(step, plan: plan, target: step.to, action: action, report: &reports[step.index])
            if moved {
                done.append(step)
                continue
            }
            compensate(done, reports: &reports, failedNode: step.endpoint.description)
            recordDesired(unchanged + steps.map { ($0.endpoint, $0.from) })
            break
        }
        return FleetReport(action: action, nodes: reports, operationID: settings.operationID)
    }

    /// One fenced swap, its outcome learnt from the node when the reply is lost. True when the
    /// node now serves `target`.
    private func apply(_ step: Step, plan: SwapPlan, target: SlotIdentity, action: DeploymentAction, detail: String? = nil,
                       report: inout NodeReport) -> Bool {
        switch operations.attempt(step.endpoint, plan, action: action, detail: detail) {
        case .applied(let result):
            report.outcome = .swapped
            report.swap = result
            report.toVersion = result.outcome.activeVersion
            return true
        case .refused(let error):
            report.outcome = .failed
            report.error = error
            report.note = "swap phase; nothing changed on this node"
            return false
        case .unknown(let error, let unknown):
            switch operations.resolve(step.endpoint, target: target, unknown: unknown) {
            case .applied(let info):
                report.outcome = .swapped
                report.toVersion = info.active.version
                report.note = "reply lost (\(error)); Info after the deadline shows it swapped"
                return true
            case .notApplied(let info):
                report.outcome = .failed
                report.error = error
                report.toVersion = info.active.version
                report.note = "reply lost; Info after the deadline shows \(info.active.version): not swapped, and the deadline keeps it so"
                return false
            case .unknown(let why):
                report.outcome = .unknown
                report.error = error
                report.toVersion = nil
                report.note = "reply lost and Info did not answer either (\(why)): state UNKNOWN; watch will converge it"
                return false
            }
        }
    }

    /// Swaps back the nodes that moved, each fenced on the version it moved to and the standby
    /// it left, so a node someone else changed meanwhile is left alone rather than flipped blindly.
    private func compensate(_ done: [Step], reports: inout [NodeReport], failedNode: String) {
        for step in done {
            beat()
            let back = Step(index: step.index, endpoint: step.endpoint, from: step.to, to: step.from)
            let plan = SwapPlan(expectActive: step.to.version, expectStandby: step.from, operationID: settings.operationID, force: true)
            var attempt = reports[step.index]
            let moved = apply(back, plan: plan, target: step.from, action: .swap,
                              detail: "compensation: \(failedNode) did not swap, putting \(step.endpoint) back", report: &attempt)
            var report = reports[step.index]
            if moved {
                report.outcome = .compensated
                report.toVersion = step.from.version
                report.note = "swapped back because \(failedNode) did not swap"
            } else if attempt.outcome == .unknown {
                report.outcome = .unknown
                report.toVersion = nil
                report.error = attempt.error
                report.note = "swapped, then the swap back got no answer: state UNKNOWN; watch will converge it"
            } else {
                report.outcome = .compensationFailed
                report.toVersion = attempt.toVersion ?? step.to.version
                report.error = attempt.error
                report.note = "STILL SERVING \(report.toVersion ?? step.to.version): could not swap back; watch will converge it"
            }
            reports[step.index] = report
        }
    }

    // MARK: lock and desired state

    private func locked(_ action: DeploymentAction, _ body: () -> FleetReport) -> FleetReport {
        guard let store = operations.store else { return body() }
        let started = operations.wallClock()
        while true {
            do {
                guard let holder = try store.acquireFleetLock(fleet: settings.fleet, operationID: settings.operationID, action: action.rawValue,
                                                              holder: settings.holder, now: operations.wallClock(),
                                                              staleAfter: settings.staleLockAfter) else { break }
                if operations.wallClock().timeIntervalSince(started) >= settings.lockWait {
                    return FleetReport(action: action, nodes: [], operationID: settings.operationID, busy: holder)
                }
                operations.sleep(0.1)
            } catch {
                return FleetReport(action: action, nodes: [NodeReport(node: "-", outcome: .failed, error: .local("fleet lock in \(store.database.path): \(error)"))],
                                   operationID: settings.operationID)
            }
        }
        defer { try? store.releaseFleetLock(fleet: settings.fleet, operationID: settings.operationID) }
        return body()
    }

    private func beat() {
        _ = try? operations.store?.heartbeatFleetLock(fleet: settings.fleet, operationID: settings.operationID, now: operations.wallClock())
    }

    private func recordDesired(_ nodes: [(Endpoint, SlotIdentity)], artifact: String? = nil) {
        guard let store = operations.store, !nodes.isEmpty else { return }
        let now = operations.clock()
        do {
            try store.setDesired(nodes.map { endpoint, identity in
                DesiredState(fleet: settings.fleet, node: endpoint.description, version: identity.version, checksum: identity.checksum.hex,
                             artifact: artifact, operationID: settings.operationID, updatedAt: now)
            })
        } catch {
            FileHandle.standardError.write(Data("mlctl: could not record the desired state of fleet \(settings.fleet): \(error)\n".utf8))
        }
    }
}
