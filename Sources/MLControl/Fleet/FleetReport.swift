import Foundation

/// What happened on one node during a fleet operation.
public struct NodeReport: Equatable, Sendable {
    public enum Outcome: String, Sendable, Codable {
        /// Phase 2 done: the node serves the new version.
        case swapped
        /// Its active already was the target: nothing loaded, nothing swapped.
        case alreadyActive = "already_active"
        /// Phase 1 done, phase 2 not attempted because another node failed.
        case notSwapped = "not_swapped"
        /// This node's own step failed (see `error`); it did not change.
        case failed
        /// It had swapped, another node failed, and it was swapped back.
        case compensated
        /// It had swapped and could not be swapped back: it still serves the new version.
        case compensationFailed = "compensation_failed"
        /// A request was sent and no answer came, and Info did not answer either within the
        /// bound: mlctl does not know what it serves.
        case unknown
    }

    public var node: String
    public var outcome: Outcome
    /// Active version before the operation, when known.
    public var fromVersion: String?
    /// Active version after it, when known (nil for `unknown`).
    public var toVersion: String?
    /// Phase 1's finding: "loaded v2.1 (sha256 …)", "standby v2.0 ready".
    public var prepared: String?
    public var swap: SwapResult?
    public var error: ControlError?
    public var note: String?

    public init(node: String, outcome: Outcome, fromVersion: String? = nil, toVersion: String? = nil, prepared: String? = nil,
                swap: SwapResult? = nil, error: ControlError? = nil, note: String? = nil) {
        self.node = node
        self.outcome = outcome
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.prepared = prepared
        self.swap = swap
        self.error = error
        self.note = note
    }

    /// What the node serves at the end, as far as mlctl knows.
    public var serves: String? {
        switch outcome {
        case .unknown: nil
        case .swapped, .compensationFailed, .alreadyActive: toVersion ?? fromVersion
        case .notSwapped, .failed, .compensated: toVersion ?? fromVersion
        }
    }
}

/// The per-node report of a two-phase deploy, swap or rollback, and the exit code it earns.
public struct FleetReport: Equatable, Sendable {
    public var action: DeploymentAction
    public var nodes: [NodeReport]
    public var operationID: String
    /// Set when the operation did not start because another one holds the fleet's lock.
    public var busy: FleetLock?

    public init(action: DeploymentAction, nodes: [NodeReport], operationID: String = "", busy: FleetLock? = nil) {
        self.action = action
        self.nodes = nodes
        self.operationID = operationID
        self.busy = busy
    }

    /// Every node serves the intended version.
    public var succeeded: Bool {
        busy == nil && !nodes.isEmpty && nodes.allSatisfy { $0.outcome == .swapped || $0.outcome == .alreadyActive }
    }

    /// The fleet is not known to serve one version: a node moved and stayed moved while others
    /// did not, or a node's state is unknown.
    public var partiallyApplied: Bool {
        !succeeded && nodes.contains { $0.outcome == .compensationFailed || $0.outcome == .unknown }
    }

    /// 0 when every node serves the target; 7 when another operation holds the lock; 5 when the
    /// fleet is left mixed or a node's state is unknown; otherwise the first failure's code
    /// (nothing changed anywhere, so the cause is what the operator needs).
    public var exitCode: ExitCode {
        if busy != nil { return .busy }
        if succeeded { return .ok }
        if partiallyApplied { return .partial }
        return nodes.lazy.compactMap(\.error).first?.exitCode ?? .refused
    }

    /// One line per node for people.
    public var lines: [String] {
        if let busy { return ["fleet \(busy.fleet) is busy: \(busy)"] }
        return nodes.map { n in
            var text = "\(n.node): \(n.outcome.rawValue)"
            if let from = n.fromVersion, let to = n.toVersion, from != to { text += " \(from) -> \(to)" }
            text += n.serves.map { ", serves \($0)" } ?? ", serves UNKNOWN"
            if let s = n.swap, n.outcome == .swapped {
                text += "; generation \(s.outcome.generation), swap \(Formatting.fixed(s.swapMicros, 1)) µs, round trip \(Formatting.fixed(s.roundTripMicros, 0)) µs"
            }
            if let p = n.prepared, n.outcome != .swapped { text += "; \(p)" }
            if let e = n.error { text += "; \(e)" }
            if let note = n.note { text += "; \(note)" }
            return text
        }
    }
}
