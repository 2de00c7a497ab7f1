/// A refused operation as a reply would carry it: the wire status and typed reason, and a
/// message for people. `ArtifactError`, `SlotError` and `AdminFailure` are this struct with
/// their own `Kind`: the fields are written once, the kinds stay distinct types (a `catch` for
/// one never takes another), and each kind says which reason a bare status gets.
public struct Refusal<Kind: RefusalKind>: Error, Equatable, Sendable {
    public var status: Status
    public var reason: Reason
    public var message: String

    public init(_ status: Status, _ reason: Reason, _ message: String) {
        self.status = status
        self.reason = reason
        self.message = message
    }

    /// A refusal whose reason follows from its status, as `Kind` maps it.
    public init(_ status: Status, _ message: String) {
        self.init(status, Kind.reason(for: status), message)
    }
}

/// What tells one layer's refusals from another's.
public protocol RefusalKind: Sendable {
    /// The reason that goes with `status` when the caller names none.
    static func reason(for status: Status) -> Reason
}

/// A kind whose refusals print in their own form.
public protocol DescribedRefusalKind: RefusalKind {
    static func description(of refusal: Refusal<Self>) -> String
}

extension Refusal: CustomStringConvertible where Kind: DescribedRefusalKind {
    public var description: String { Kind.description(of: self) }
}
