import Foundation
import MLClient
import MLWire

/// One node's control actions (load, swap, rollback), each recorded in DEPLOYMENTS when a store
/// is given: successes with generation and timings, refusals as 'fenced' or 'failed', so the
/// history shows attempts as well as changes. Fleets and the watch loop build on this.
public struct NodeOperations {
    public var access: NodeAccess
    public var store: ControlStore?
    /// DEPLOYMENTS.actor: "manual", or the rule that acted.
    public var actor: String
    public var clock: () -> Date

    public init(access: NodeAccess, store: ControlStore?, actor: String = "manual", clock: @escaping () -> Date = Date.init) {
        self.access = access
        self.store = store
        self.actor = actor
        self.clock = clock
    }

    /// `controller: true` also proves the token works, so a fleet's check phase catches a wrong
    /// token before any node has moved.
    public func info(_ endpoint: Endpoint, controller: Bool = false) throws(ControlError) -> InfoReply {
        try access.with(endpoint, controller: controller) { client throws(ClientError) in try client.info() }
    }

    /// Loads `artifact` into the standby slot, then reads Info back to check that the standby
    /// is what was asked for (runbook: verify before you swap).
    public func load(_ endpoint: Endpoint, artifact: String, checksum: Digest32 = .zero) throws(ControlError) -> SlotInfo {
        let node = endpoint.description
        let (reply, info) = try access.with(endpoint, controller: true) { client throws(ClientError) in
            (try client.loadStandby(artifact: artifact, expectedChecksum: checksum), try client.info())
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
    public func swap(_ endpoint: Endpoint, expect: String, action: DeploymentAction, detail: String? = nil) throws(ControlError) -> SwapResult {
        let node = endpoint.description
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let outcome = try access.with(endpoint, controller: true) { client throws(ClientError) in
                action == .rollback ? try client.rollback(expectedActive: expect) : try client.swap(expectedActive: expect)
            }
            let roundTrip = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000
            let result = SwapResult(node: node, outcome: outcome, roundTripMicros: roundTrip, at: clock())
            record(DeploymentRow(timestamp: result.at, action: action, actor: actor, node: node,
                                 fromVersion: outcome.previousVersion, toVersion: outcome.activeVersion,
                                 generation: Int64(clamping: outcome.generation), swapMicros: result.swapMicros, status: "ok",
                                 detail: ([detail].compactMap { $0 } + ["round trip \(Int(roundTrip)) µs"]).joined(separator: "; ")))
            return result
        } catch {
            var failure = error
            var status = "failed"
            if error.refusal?.reason == .fenceActiveMismatch {
                status = "fenced"
                failure = .casMismatch(node: node, expected: expect, actual: try? info(endpoint).active.version)
            }
            record(DeploymentRow(timestamp: clock(), action: action, actor: actor, node: node, fromVersion: expect,
                                 toVersion: nil, status: status, detail: ([detail].compactMap { $0 } + ["\(failure)"]).joined(separator: "; ")))
            throw failure
        }
    }

    /// Recording must not turn a done swap into a reported failure: the node changed either
    /// way. A database problem is printed instead.
    private func record(_ row: DeploymentRow) {
        guard let store else { return }
        do {
            try store.insertDeployment(row)
        } catch {
            FileHandle.standardError.write(Data("mlctl: could not record \(row.action.rawValue) on \(row.node) in DEPLOYMENTS: \(error)\n".utf8))
        }
    }
}
