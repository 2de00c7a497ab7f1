import Foundation
import MLClient

/// What `watch` watches and for how long. Every time span is here or in the policy so tests
/// and the demo can compress them.
public struct WatchConfiguration: Sendable {
    public var nodes: [Endpoint]
    public var policy: RunbookPolicy
    /// Seconds between polls; the policy's poll interval unless overridden.
    public var interval: TimeInterval
    /// Stop after this long (nil: until stopped).
    public var duration: TimeInterval?
    /// Stop after this many polling rounds (nil: no limit). Tests bound their loops with it.
    public var maxRounds: Int?
    /// Further rollback attempts after a failure whose outcome is unknown (connection lost);
    /// each is fenced, so a retry can never flip back.
    public var rollbackRetries: Int
    /// Pause before each retry, so a restarting node has a moment.
    public var retryDelay: TimeInterval
    /// `--dry-run`: every rule only records what it would have done; the nodes are never changed.
    public var dryRun: Bool
    /// When set, each round also converges the nodes to this fleet's desired state (FLEET_DESIRED).
    public var fleet: String?
    /// The clock-skew bound used when a reconcile swap's reply is lost.
    public var clockSkew: TimeInterval = 0.5

    public init(nodes: [Endpoint], policy: RunbookPolicy = RunbookPolicy(), interval: TimeInterval? = nil,
                duration: TimeInterval? = nil, maxRounds: Int? = nil, rollbackRetries: Int = 2, retryDelay: TimeInterval = 0.2,
                dryRun: Bool = false) {
        self.dryRun = dryRun
        self.nodes = nodes
        self.policy = policy
        self.interval = interval ?? policy.pollIntervalSeconds
        self.duration = duration
        self.maxRounds = maxRounds
        self.rollbackRetries = rollbackRetries
        self.retryDelay = retryDelay
        self.fleet = nil
    }
}
