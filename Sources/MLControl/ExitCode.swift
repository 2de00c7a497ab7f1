/// mlctl's exit codes. Scripts branch on these, so the numbers never change meaning; a new
/// kind of failure gets a new number. `mlctl --help` prints this table from `all`.
public enum ExitCode: Int32, Sendable, CaseIterable {
    /// Everything asked for was done (or, for health/ready, the node is healthy/ready).
    case ok = 0
    /// A node answered and refused: CAS mismatch, artifact refused, not healthy, not ready.
    case refused = 1
    /// Bad command line: unknown command or option, missing argument.
    case usage = 2
    /// A node could not be reached, or stopped answering mid-call.
    case unreachable = 3
    /// A node rejected the controller token.
    case auth = 4
    /// A fleet operation left nodes serving different versions, or a node's state unknown; the
    /// report names each node and what it serves.
    case partial = 5
    /// A local failure: a file, the database, the child node of `demo`, or the demo's rollback
    /// did not happen.
    case local = 6
    /// Another fleet operation holds the fleet's lock (the report says who, since when).
    case busy = 7

    public var meaning: String {
        switch self {
        case .ok: "success (health/ready: the node is healthy/ready)"
        case .refused: "a node refused: CAS mismatch, artifact refused, not healthy or not ready"
        case .usage: "usage error: unknown command or option, missing argument"
        case .unreachable: "a node is unreachable or stopped answering"
        case .auth: "a node rejected the controller token"
        case .partial: "fleet split or unknown: nodes serve different versions, or a node's state is unknown (each node named)"
        case .local: "local failure: file, database, child node, or the demo's rollback did not happen"
        case .busy: "another fleet operation holds the fleet's lock (who and since when are printed)"
        }
    }
}
