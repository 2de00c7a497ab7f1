import MLWire

/// Why a client call failed. `.remote` is the node's answer; the rest are local.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Could not reach the node at all.
    case connect(String)
    /// The connection failed or closed while a call was in flight.
    case io(String)
    /// No answer within the timeout.
    case timeout(String)
    /// The node answered with an error: its status, typed reason (`.unspecified` from a v1
    /// node) and message. Decide on the first two; the message is for people.
    case remote(Status, Reason, String)
    /// The node's bytes broke the protocol.
    case protocolViolation(WireError)
    /// The node answered with a message of the wrong type.
    case unexpected(String)

    public var description: String {
        switch self {
        case .connect(let why): "cannot connect: \(why)"
        case .io(let why): "connection failed: \(why)"
        case .timeout(let why): "timed out: \(why)"
        case .remote(let status, let reason, let message): "\(status) \(reason): \(message)"
        case .protocolViolation(let error): "protocol violation from node: \(error)"
        case .unexpected(let why): "unexpected reply: \(why)"
        }
    }

    /// The status a remote error carried, nil for local failures.
    public var status: Status? {
        if case .remote(let status, _, _) = self { return status }
        return nil
    }

    /// The reason a remote error carried, nil for local failures.
    public var reason: Reason? {
        if case .remote(_, let reason, _) = self { return reason }
        return nil
    }
}
