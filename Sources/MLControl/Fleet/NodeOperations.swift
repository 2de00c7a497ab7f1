import Foundation
import MLClient
import MLWire

/// One node's control actions (load, swap, rollback), each recorded in DEPLOYMENTS when a store
/// is given: successes with generation and timings, refusals as 'fenced' or 'failed', lost
/// replies as 'unknown' until the node's own Info says what happened. Fleets and the watch loop
/// build on this.
///
/// Every v2 control request carries a deadline of now + the call timeout: once mlctl has given
/// up waiting, the node refuses the request (DEADLINE_EXCEEDED) however late it reads it. So
/// after a lost reply, waiting out the deadline plus the clock-skew bound and then reading Info
/// gives a final answer: what Info shows then can no longer be changed by that request.
public struct NodeOperations {
    public var access: NodeAccess
    public var store: ControlStore?
    /// DEPLOYMENTS.actor: "manual", or the rule that acted.
    public var actor: String
    /// Times written to DEPLOYMENTS (the watch loop's injected clock).
    public var clock: () -> Date
    /// The real wall clock: deadlines are compared with the nodes' wall clocks, never with a
    /// test's or the demo's compressed time.
    public var wallClock: () -> Date = Date.init
    public var sleep: (TimeInterval) -> Void
    /// How far this host's wall clock may be from a node's (PROTOCOL.md §11.10, deadlines).
    public var clockSkew: TimeInterval
    /// Info attempts when learning the outcome of a request whose reply was lost.
    public var resolveAttempts: Int

    public init(access: NodeAccess, store: ControlStore?, actor: String = "manual", clock: @escaping () -> Date = Date.init,
                sleep: @escaping (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) },
                clockSkew: TimeInterval = 0.5, resolveAttempts: Int = 3) {
        self.access = access
        self.store = store
        self.actor = actor
        self.clock = clock
        self.sleep = sleep
        self.clockSkew = clockSkew
        self.resolveAttempts = resolveAttempts
    }

    /// `controller: true` also proves the token works, so a fleet's check phase catches a wrong
    /// token before any node has moved.
    public func info(_ endpoint: Endpoint, controller: Bool = false) throws(ControlError) -> InfoReply {
        try access.with(endpoint, controller: controller) { client throws(ClientError) in try client.info() }
    }

    /// The deadline for a control request sent now: the node refuses it once mlctl stops waiting.
    func deadline() -> Date { wallClock().addingTimeInterval(access.timeout) }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    /// Loads `artifact` into the standby slot, then reads Info back to check that the standby
    /// is what was asked for (runbook: verify before you swap).
    public func load(_ endpoint: Endpoint, artifact: String, checksum: Digest32 = .zero,
                     operationID: String = "", force: Bool = false) throws(ControlError) -> SlotInfo {
        let node = endpoint.description
        let options = LoadOptions(operationID: operationID, deadlineUnixMicros: Self.micros(deadline()), flags: force ? .force : [])
        let (reply, info) = try access.with(endpoint, controller: true) { client throws(ClientError) in
            (try client.loadStandby(artifact: artifact, expectedChecksum: checksum, options: options), try client.info())
        }
        guard info.standby.present, info.standby.version == reply.standby.version,
              info.standby.checksum == reply.standby.checksum else {
            throw .verification(node: node, detail: "loaded \(reply.standby.version) but Info shows standby "
                + "\(info.standby.present ? info.standby.version : "empty"); another controller may be acting on this node")
        }
        if !checksum.isZero && info.standby.checksum != checksum {
            throw .verification(node: node, detail: "standby checksum \(info.standby.checksum.hex) is not the expected \(checksum.hex)")
        }
        return info.standby
    }

    /// Swaps active ↔ standby fenced on `expect`, as a `.swap`, `.deploy` or `.rollback`
    /// (the same flip on the node; the action is why, and picks the Rollback message for
    /// rollbacks so the node's own log says so). A CAS refusal reports the actual version.
    /// A lost reply is thrown as `.unreachable`; callers that must know use `attempt` + `resolve`.
    public func swap(_ endpoint: Endpoint, expect: String, action: DeploymentAction, detail: String? = nil,
                     why: TriggerRecord? = nil) throws(ControlError) -> SwapResult {
        switch attempt(endpoint, SwapPlan(expectActive: expect), action: action, detail: detail, why: why) {
        case .applied(let result): return result
        case .refused(let error): throw error
        case .unknown(let error, _): throw error
        }
    }

    /// One fenced swap. `.refused` means the node answered and nothing changed (or nothing was
    /// sent); `.unknown` means it was sent and no answer came: it may have applied.
    /// `why`: the rule's numbers when a rule made the change (DEPLOYMENTS' trigger columns).
    public func attempt(_ endpoint: Endpoint, _ plan: SwapPlan, action: DeploymentAction, detail: String? = nil,
                        why: TriggerRecord? = nil) -> SwapAttempt {
        let node = endpoint.description
        let client: NodeClient
        do { client = try access.connect(endpoint, controller: true) } catch {
            // Nothing was sent: the node cannot have changed.
            record(DeploymentRow(timestamp: clock(), action: action, actor: actor, node: node, fromVersion: plan.expectActive,
                                 toVersion: nil, status: "failed", detail: ([detail].compactMap { $0 } + ["\(error)"]).joined(separator: "; "),
                                 operationID: plan.operationID, why: why))
            return .refused(error)
        }
        defer { client.close() }
        let deadline = deadline()
        let fence = SwapFence(expectedStandby: plan.expectStandby?.version ?? "",
                              expectedStandbyChecksum: plan.expectStandby?.checksum ?? .zero,
                              deadlineUnixMicros: Self.micros(deadline), operationID: plan.operationID,
                              flags: plan.force ? .force : [])
        let started = DispatchTime.now().uptimeNanoseconds
        var notes = [detail].compactMap { $0 }
        do throws(ClientError) {
            let outcome = action == .rollback ? try client.rollback(expectedActive: plan.expectActive, fence: fence)
                                              : try client.swap(expectedActive: plan.expectActive, fence: fence)
            let roundTrip = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000
            let result = SwapResult(node: node, outcome: outcome, roundTripMicros: roundTrip, at: clock())
            record(DeploymentRow(timestamp: result.at, action: action, actor: actor, node: node,
                                 fromVersion: outcome.previousVersion, toVersion: outcome.activeVersion,
                                 generation: Int64(clamping: outcome.generation), swapMicros: result.swapMicros, status: "ok",
                                 detail: (notes + ["round trip \(Int(roundTrip)) µs"]).joined(separator: "; "), operationID: plan.operationID, why: why))
            return .applied(result)
        } catch {
            let failure = ControlError.from(error, node: node)
            guard case .remote = error else {
                // Sent, and no answer: the node may have applied it. Recorded as unknown until known.
                let id = record(DeploymentRow(timestamp: clock(), action: action, actor: actor, node: node, fromVersion: plan.expectActive,
                                              toVersion: plan.expectStandby?.version, status: "unknown",
                                              detail: (notes + ["no reply: \(failure)"]).joined(separator: "; "), operationID: plan.operationID, why: why))
                return .unknown(failure, UnknownSwap(deadline: deadline, rowID: id))
            }
            var refusal = failure
            // A node's no: "refused", with its status and reason; the fences: "fenced".
            var status = failure.refusal == nil ? "failed" : "refused"
            if let why = failure.refusal { notes.append("\(why.status.name) \(why.reason.name)") }
            if failure.refusal?.reason == .fenceActiveMismatch {
                status = "fenced"
                refusal = .casMismatch(node: node, expected: plan.expectActive, actual: try? info(endpoint).active.version)
            } else if failure.refusal?.reason == .fenceStandbyMismatch || failure.refusal?.reason == .deadlinePassed {
                status = "fenced"
            }
            record(DeploymentRow(timestamp: clock(), action: action, actor: actor, node: node, fromVersion: plan.expectActive,
                                 toVersion: nil, status: status, detail: (notes + ["\(refusal)"]).joined(separator: "; "),
                                 operationID: plan.operationID, why: why))
            return .refused(refusal)
        }
    }

    /// Learns what a swap whose reply was lost did: waits until its deadline (plus the skew bound)
    /// has passed on the node, so it can no longer apply, then reads Info (a few attempts). The
    /// node serves `target` → applied; anything else → not applied. The DEPLOYMENTS row is
    /// updated from 'unknown' once known.
    public func resolve(_ endpoint: Endpoint, target: SlotIdentity, unknown: UnknownSwap) -> SwapResolution {
        let wait = unknown.deadline.addingTimeInterval(clockSkew).timeIntervalSince(wallClock())
        if wait > 0 { sleep(wait) }
        var last = "no attempt"
        for attempt in 1...max(1, resolveAttempts) {
            do {
                let info = try info(endpoint)
                let applied = info.active.present && info.active.version == target.version && info.active.checksum == target.checksum
                update(unknown.rowID, status: applied ? "ok" : "not_applied", toVersion: info.active.version,
                       generation: Int64(clamping: info.generation),
                       note: "learnt from Info after the deadline: node serves \(info.active.version), generation \(info.generation)"
                           + (info.lastOperationID.map { ", last operation \($0.isEmpty ? "none" : $0)" } ?? ""))
                return applied ? .applied(info) : .notApplied(info)
            } catch {
                last = "\(error)"
                if attempt < resolveAttempts { sleep(min(access.timeout, 0.5)) }
            }
        }
        update(unknown.rowID, status: "unknown", toVersion: nil, generation: nil,
               note: "outcome still unknown after \(resolveAttempts) Info attempts: \(last)")
        return .unknown(last)
    }

    /// A node's refusal before anything was sent to change it (a fleet's prepare phase): recorded
    /// as `recordRefusal` does; an unreachable node or a local failure is not a refusal and is
    /// only reported.
    public func recordPreparationRefusal(action: DeploymentAction, node: String, fromVersion: String?, error: ControlError, detail: String) {
        var refused = error.refusal != nil
        if case .casMismatch = error { refused = true }
        if refused { recordRefusal(action: action, node: node, fromVersion: fromVersion, error: error, detail: detail) }
    }

    /// Records an attempt that changed nothing: "fenced" (CAS refused), "refused" (the node
    /// said no: the status and reason are in the detail) or "failed" (unreachable, local).
    public func recordRefusal(action: DeploymentAction, node: String, fromVersion: String?, error: ControlError,
                              shown: ControlError? = nil, detail: String? = nil) {
        let status: String
        var parts = [detail].compactMap { $0 }
        if let refusal = error.refusal {
            status = refusal.reason == .fenceActiveMismatch ? "fenced" : "refused"
            parts.append("\(refusal.status.name) \(refusal.reason.name)")
        } else if case .casMismatch = error {
            status = "fenced"
        } else {
            status = "failed"
        }
        parts.append("\(shown ?? error)")
        _ = record(DeploymentRow(timestamp: clock(), action: action, actor: actor, node: node, fromVersion: fromVersion,
                                 toVersion: nil, status: status, detail: parts.joined(separator: "; ")))
    }

    /// Recording must not turn a done swap into a reported failure: the node changed either
    /// way. A database problem is printed instead.
    @discardableResult
    func record(_ row: DeploymentRow) -> Int64? {
        guard let store else { return nil }
        do {
            return try store.insertDeployment(row)
        } catch {
            FileHandle.standardError.write(Data("mlctl: could not record \(row.action.rawValue) on \(row.node) in DEPLOYMENTS: \(error)\n".utf8))
            return nil
        }
    }

    private func update(_ id: Int64?, status: String, toVersion: String?, generation: Int64?, note: String) {
        guard let store, let id else { return }
        do { try store.updateDeployment(id: id, status: status, toVersion: toVersion, generation: generation, appendingDetail: note) } catch {
            FileHandle.standardError.write(Data("mlctl: could not update DEPLOYMENTS row \(id): \(error)\n".utf8))
        }
    }
}
