import MLClient
import MLWire

/// Why an mlctl operation failed, worded for the operator and mapped to an exit code. Each case
/// names the node and carries what it said, so the message alone tells what to do next.
///
/// Two kinds of failure are kept apart: what a node answered (`refused`, `casMismatch`, `auth`:
/// a wire `Status` and `Reason`, decided on by code) and what went wrong on this side or between
/// (`unreachable`, `protocolViolation`, `verification`, `local`, `usage`).
public enum ControlError: Error, Equatable, Sendable, CustomStringConvertible {
    case usage(String)
    case unreachable(node: String, reason: String)
    case auth(node: String, reason: String)
    /// The swap's fence did not hold: the node's active version is not the one expected.
    case casMismatch(node: String, expected: String, actual: String?)
    /// The node answered with an error status and reason (artifact refused, empty standby, …).
    case refused(node: String, status: Status, reason: Reason, message: String)
    /// The node's bytes or replies broke the protocol (wrong type, undecodable frame).
    case protocolViolation(node: String, detail: String)
    /// The node accepted an operation but reading it back showed something else.
    case verification(node: String, detail: String)
    /// Some nodes of a fleet changed and could not all be put back.
    case partial(String)
    case local(String)
    /// `--nodes dns:`/`srv:` could not be resolved (no answer, NXDOMAIN, zero records, malformed reply).
    case discovery(source: String, reason: String)

    public var exitCode: ExitCode {
        switch self {
        case .usage: .usage
        case .unreachable: .unreachable
        case .auth: .auth
        case .casMismatch, .refused, .protocolViolation, .verification: .refused
        case .partial: .partial
        case .local: .local
        case .discovery: .unreachable
        }
    }

    public var description: String {
        switch self {
        case .usage(let text): text
        case .unreachable(let node, let reason): "node \(node) is unreachable: \(reason)"
        case .auth(let node, let reason):
            "node \(node) rejected the controller token (\(reason)); check --token-file / $MLCTL_TOKEN against the node's token"
        case .casMismatch(let node, let expected, let actual):
            "node \(node) refused: expected active version \(expected) but active is \(actual ?? "unknown"); nothing changed"
        case .refused(let node, .resourceExhausted, .connectionLimit, let message):
            "node \(node) is at its connection limit (\(message)); controllers have a reserve: pass the token to get in"
        case .refused(let node, let status, let reason, let message):
            "node \(node) refused (\(status.name) \(reason.name)): \(message)"
        case .protocolViolation(let node, let detail): "node \(node) broke the protocol: \(detail)"
        case .verification(let node, let detail): "node \(node) failed verification: \(detail)"
        case .partial(let text): text
        case .local(let text): text
        case .discovery(let source, let reason): "cannot find the nodes of \(source): \(reason)"
        }
    }

    /// The wire status and reason of a node's refusal; nil for every other failure.
    public var refusal: (status: Status, reason: Reason)? {
        if case .refused(_, let status, let reason, _) = self { return (status, reason) }
        return nil
    }

    /// Classifies a client failure talking to `node`.
    public static func from(_ error: ClientError, node: String) -> ControlError {
        switch error {
        case .connect(let why): return .unreachable(node: node, reason: why)
        case .io(let why): return .unreachable(node: node, reason: "connection lost: \(why)")
        case .timeout(let why): return .unreachable(node: node, reason: why)
        case .remote(let status, let reason, let message):
            // A path outside --model-dir is PERMISSION_DENIED too, but about the artifact, not us.
            let credentialsRefused = status == .unauthenticated || (status == .permissionDenied && reason != .pathOutsideModelDir)
            switch status {
            case _ where credentialsRefused:
                return .auth(node: node, reason: "\(status.name): \(message)")
            default: return .refused(node: node, status: status, reason: reason, message: message)
            }
        case .protocolViolation(let wire): return .protocolViolation(node: node, detail: "\(wire)")
        case .unexpected(let why): return .protocolViolation(node: node, detail: why)
        }
    }
}
