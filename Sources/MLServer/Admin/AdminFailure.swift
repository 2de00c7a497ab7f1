import MLWire

/// A refused admin operation: the wire `Status` and `Reason` the node would have answered with, and a message
/// for the operator. The HTTP code is derived, so the binary protocol and HTTP always agree.
///
/// | Status              | HTTP | why this code                                           |
/// |---------------------|------|---------------------------------------------------------|
/// | INVALID_ARGUMENT    | 400  | the request itself is wrong; resending it fails again    |
/// | UNAUTHENTICATED     | 401  | no credentials                                          |
/// | PERMISSION_DENIED   | 403  | credentials present but not good enough                 |
/// | NOT_FOUND           | 404  | the named artifact or version does not exist             |
/// | FAILED_PRECONDITION | 409  | state conflict: CAS mismatch, empty standby              |
/// | DATA_LOSS           | 422  | the artifact is well-formed HTTP but its bytes are bad   |
/// | UNAVAILABLE         | 503  | retry later (draining, no model)                         |
/// | anything else       | 500  | a node bug or a status HTTP has no better word for       |
///
/// `reason` is the same typed reason the binary protocol sends, so scripts decide on it, not on text.
public typealias AdminFailure = Refusal<AdminRefusal>

public enum AdminRefusal: RefusalKind {
    /// A refusal of the HTTP request itself (bad body), which has no slot-level reason.
    public static func reason(for status: Status) -> Reason { status == .invalidArgument ? .malformedPayload : .unspecified }
}

extension AdminFailure {
    public var httpStatusCode: Int { AdminFailure.httpStatusCode(for: status) }

    public static func httpStatusCode(for status: Status) -> Int {
        switch status {
        case .invalidArgument: 400
        case .unauthenticated: 401
        case .permissionDenied: 403
        case .notFound: 404
        case .failedPrecondition: 409
        case .dataLoss: 422
        case .unavailable: 503
        default: 500
        }
    }
}
