/// How one notification channel fared. Failures are values, not errors: a broken webhook must
/// never stop the controller from watching, only be reported.
public struct NotificationOutcome: Equatable, Sendable, CustomStringConvertible {
    public enum Channel: String, Sendable { case stdout, webhook, command }

    public var channel: Channel
    public var succeeded: Bool
    /// "HTTP 200", "exit 0", or what went wrong.
    public var detail: String

    public init(channel: Channel, succeeded: Bool, detail: String) {
        self.channel = channel
        self.succeeded = succeeded
        self.detail = detail
    }

    public var description: String { "\(channel.rawValue): \(succeeded ? "ok" : "FAILED") (\(detail))" }
}
