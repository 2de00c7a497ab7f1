import Foundation
import MLClient
import MLWire

/// Level-triggered convergence to the desired state recorded in FLEET_DESIRED: each round it
/// reads what every node serves and, where that differs, swaps to the desired version when the
/// standby holds it, or loads the recorded artifact first — fenced on active and standby, with a
/// deadline, under the fleet's lock (a round is skipped while an operation holds it), recorded
/// as `reconcile` in DEPLOYMENTS. A node that was down, frozen or restarted during an operation
/// ends on the desired version without an operator.
public struct FleetReconciler {
    public var operations: NodeOperations
    public var fleet: String
    public var staleLockAfter: TimeInterval

    public init(operations: NodeOperations, fleet: String, staleLockAfter: TimeInterval = 120) {
        self.operations = operations
        self.fleet = fleet
        self.staleLockAfter = staleLockAfter
    }

    /// Desired vs actual for one node.
    public struct NodeStatus: Sendable {
        public var node: String
        public var desired: DesiredState?
        public var actual: InfoReply?
        public var error: String?

        public var converged: Bool {
            guard let desired, let actual else { return desired == nil && error == nil }
            return FleetReconciler.serves(actual, desired)
        }
    }

    static func serves(_ info: InfoReply, _ desired: DesiredState) -> Bool {
        info.active.present && info.active.version == desired.version
            && (desired.checksum.isEmpty || Digest32(hex: desired.checksum).map { $0.isZero || $0 == info.active.checksum } ?? true)
    }

    static func holds(_ slot: SlotInfo, _ desired: DesiredState) -> Bool {
        slot.present && slot.version == desired.version
            && (Digest32(hex: desired.checksum).map { $0.isZero || $0 == slot.checksum } ?? true)
    }

    /// Every node with a desired state (plus `extra`), in canonical order.
    public func status(extra: [Endpoint] = []) throws -> [NodeStatus] {
        guard let store = operations.store else { return [] }
        let desired = try store.desired(fleet: fleet)
        var endpoints = desired.keys.compactMap(Endpoint.init)
        endpoints += extra
        return FleetOperations.canonical(endpoints).map { endpoint in
            let node = endpoint.description
            do {
                return NodeStatus(node: node, desired: desired[node], actual: try operations.info(endpoint), error: nil)
            } catch {
                return NodeStatus(node: node, desired: desired[node], actual: nil, error: "\(error)")
            }
        }
    }

    /// One round. Answers a line per node that needed attention (or why the round was skipped).
    public func reconcile(only watched: [Endpoint]? = nil) -> [(node: String, message: String)] {
        guard let store = operations.store else { return [] }
        let operationID = "reconcile-" + FleetSettings.newOperationID().dropFirst(3)
        let desired: [String: DesiredState]
        do {
            desired = try store.desired(fleet: fleet)
            guard !desired.isEmpty else { return [] }
            if let holder = try store.acquireFleetLock(fleet: fleet, operationID: operationID, action: "reconcile",
                                                       holder: FleetSettings.defaultHolder(), now: operations.wallClock(),
                                                       staleAfter: staleLockAfter) {
                return [("-", "skipped: fleet \(fleet) is locked by \(holder)")]
            }
        } catch {
            return [("-", "skipped: \(error)")]
        }
        defer { try? store.releaseFleetLock(fleet: fleet, operationID: operationID) }
        let watchedNames = watched.map { Set($0.map(\.description)) }
        var lines: [(String, String)] = []
        for endpoint in FleetOperations.canonical(desired.keys.compactMap(Endpoint.init)) {
            let node = endpoint.description
            guard let want = desired[node], watchedNames?.contains(node) ?? true else { continue }
            if let line = converge(endpoint, want, operationID: operationID) { lines.append((node, line)) }
        }
        return lines
    }

    /// nil when the node already serves what it should.
    private func converge(_ endpoint: Endpoint, _ want: DesiredState, operationID: String) -> String? {
        let info: InfoReply
        do { info = try operations.info(endpoint, controller: true) } catch { return "cannot read it (\(error)); retried next round" }
        if Self.serves(info, want) { return nil }
        let wanted = "desired \(want.version), serves \(info.active.present ? info.active.version : "nothing")"
        var standby = info.standby
        if !Self.holds(standby, want) {
            guard let artifact = want.artifact else {
                return "\(wanted); standby holds \(standby.present ? standby.version : "nothing") and no artifact is recorded to load"
            }
            do {
                standby = try operations.load(endpoint, artifact: artifact, checksum: Digest32(hex: want.checksum) ?? .zero,
                                              operationID: operationID)
            } catch {
                return "\(wanted); loading \(artifact) failed: \(error)"
            }
        }
        let target = SlotIdentity(standby)
        let plan = SwapPlan(expectActive: info.active.version, expectStandby: target, operationID: operationID)
        switch operations.attempt(endpoint, plan, action: .reconcile, detail: "converging to the desired state") {
        case .applied(let result):
            return "\(wanted) -> swapped to \(result.outcome.activeVersion), generation \(result.outcome.generation)"
        case .refused(let error):
            return "\(wanted); swap refused: \(error); retried next round"
        case .unknown(let error, let unknown):
            switch operations.resolve(endpoint, target: target, unknown: unknown) {
            case .applied: return "\(wanted) -> swapped (reply lost: \(error); Info confirms)"
            case .notApplied(let now): return "\(wanted); swap not applied (reply lost, node serves \(now.active.version)); retried next round"
            case .unknown(let why): return "\(wanted); swap outcome unknown (\(why)); retried next round"
            }
        }
    }
}
