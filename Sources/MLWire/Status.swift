/// Status codes carried in byte 4 of every response header. The numbers are gRPC's, so anyone who
/// knows gRPC knows what each means; PROTOCOL.md §6 is the normative table.
public enum Status: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The request succeeded.
    case ok = 0
    /// The request itself is wrong (bad shape, NaN feature, malformed payload, bad magic).
    /// Retrying the same bytes fails the same way.
    case invalidArgument = 3
    /// The node gave up waiting on something it needed in time.
    case deadlineExceeded = 4
    /// A named thing (artifact file, version) does not exist.
    case notFound = 5
    /// The connection is not allowed to do this (a data connection sending Swap).
    case permissionDenied = 7
    /// A limit was hit: frame too large, too many connections. Retryable later for connection limits.
    case resourceExhausted = 8
    /// The caller could fix it but did not: CAS mismatch, empty standby, HELLO first, shape change.
    case failedPrecondition = 9
    /// Unknown message type, unsupported protocol or frame version.
    case unimplemented = 12
    /// A bug in the node. Should never happen.
    case `internal` = 13
    /// The node cannot serve right now (no active model, draining). Retryable.
    case unavailable = 14
    /// Stored bytes are corrupt: an artifact whose checksum does not match.
    case dataLoss = 15
    /// The controller token is missing or wrong.
    case unauthenticated = 16

    public var name: String {
        switch self {
        case .ok: "OK"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }

    public init?(name: String) {
        guard let found = Status.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }

    /// Whether the same request may succeed if sent again later, unchanged.
    public var isRetryable: Bool {
        switch self {
        case .unavailable, .deadlineExceeded, .resourceExhausted: true
        default: false
        }
    }

    public var description: String { name }
}
