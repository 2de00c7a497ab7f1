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
    /// A fleet operation changed some nodes but not all, and could not put every one back.
    case partial = 5
    /// A local failure: a file, the database, the child node of `demo`, or the demo's rollback
    /// did not happen.
    case local = 6

    public var meaning: String {
        switch self {
        case .ok: "success (health/ready: the node is healthy/ready)"
        case .refused: "a node refused: CAS mismatch, artifact refused, not healthy or not ready"
        case .usage: "usage error: unknown command or option, missing argument"
        case .unreachable: "a node is unreachable or stopped answering"
        case .auth: "a node rejected the controller token"
        case .partial: "fleet partially applied: some nodes changed and could not be put back"
        case .local: "local failure: file, database, child node, or the demo's rollback did not happen"
        }
    }
}
