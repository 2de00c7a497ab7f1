import Foundation

/// What happened on one node during a fleet operation.
public struct NodeReport: Equatable, Sendable {
    public enum Outcome: String, Sendable, Codable {
        /// Phase 2 done: the node serves the new version.
        case swapped
        /// Phase 1 done, phase 2 not attempted because another node failed.
        case notSwapped = "not_swapped"
        /// This node's own step failed (see `error`); it did not change.
        case failed
        /// It had swapped, another node failed, and it was swapped back.
        case compensated
        /// It had swapped and could not be swapped back: it still serves the new version.
        case compensationFailed = "compensation_failed"
    }

    public var node: String
    public var outcome: Outcome
    /// Active version before the operation, when known.
    public var fromVersion: String?
    /// Active version after it, when known.
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
}

/// The per-node report of a two-phase deploy, swap or rollback, and the exit code it earns.
public struct FleetReport: Equatable, Sendable {
    public var action: DeploymentAction
    public var nodes: [NodeReport]

    public init(action: DeploymentAction, nodes: [NodeReport]) {
        self.action = action
        self.nodes = nodes
    }

    /// Every node moved.
    public var succeeded: Bool { !nodes.isEmpty && nodes.allSatisfy { $0.outcome == .swapped } }

    /// Some node changed and stayed changed while another did not: the fleet is mixed.
    public var partiallyApplied: Bool {
        nodes.contains { $0.outcome == .compensationFailed } && !succeeded
    }

    /// 0 when all swapped; 5 when the fleet is left mixed; otherwise the first failure's code
    /// (nothing changed anywhere, so the cause is what the operator needs).
    public var exitCode: ExitCode {
        if succeeded { return .ok }
        if partiallyApplied { return .partial }
        return nodes.lazy.compactMap(\.error).first?.exitCode ?? .refused
    }

    /// One line per node for people.
    public var lines: [String] {
        nodes.map { n in
            var text = "\(n.node): \(n.outcome.rawValue)"
            if let from = n.fromVersion, let to = n.toVersion, from != to { text += " \(from) -> \(to)" }
            else if let from = n.fromVersion { text += " (active \(from))" }
            if let s = n.swap {
                text += " generation \(s.outcome.generation), swap \(Formatting.fixed(s.swapMicros, 1)) µs, round trip \(Formatting.fixed(s.roundTripMicros, 0)) µs"
            }
            if let p = n.prepared, n.outcome != .swapped { text += "; \(p)" }
            if let e = n.error { text += "; \(e)" }
            if let note = n.note { text += "; \(note)" }
            return text
        }
    }
}
