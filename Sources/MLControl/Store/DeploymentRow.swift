import Foundation

/// What a DEPLOYMENTS row records. Deploy and rollback are the same swap on the node; the
/// action says why it was done, which is what the history is read for.
public enum DeploymentAction: String, Sendable, Codable, CaseIterable {
    case deploy, swap, rollback
    /// `watch` converging a node to the fleet's desired state.
    case reconcile
}

/// One DEPLOYMENTS row: a version change attempted on one node.
public struct DeploymentRow: Equatable, Sendable {
    /// nil until inserted.
    public var id: Int64?
    public var timestamp: Date
    public var action: DeploymentAction
    /// "manual", or the name of the rule that acted (`RunbookRule.rawValue`).
    public var actor: String
    public var node: String
    public var fromVersion: String?
    public var toVersion: String?
    /// The node's slot generation after the swap, when known.
    public var generation: Int64?
    /// How long the swap took on the node, in microseconds.
    public var swapMicros: Double?
    /// "ok", "failed", "fenced" (CAS refused), "unknown" (no reply; outcome not yet learnt),
    /// "dry_run" (recorded, not done), …
    public var status: String
    public var detail: String?
    /// The fleet operation this change was part of (also shown in the node's Info).
    public var operationID: String?
    /// For a change a rule made (or would have made): its numbers.
    public var why: TriggerRecord?

    public init(id: Int64? = nil, timestamp: Date, action: DeploymentAction, actor: String, node: String,
                fromVersion: String?, toVersion: String?, generation: Int64? = nil, swapMicros: Double? = nil,
                status: String, detail: String? = nil, operationID: String? = nil, why: TriggerRecord? = nil) {
        self.id = id
        self.timestamp = timestamp
        self.action = action
        self.actor = actor
        self.node = node
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.generation = generation
        self.swapMicros = swapMicros
        self.status = status
        self.detail = detail
        self.operationID = operationID
        self.why = why
    }
}
