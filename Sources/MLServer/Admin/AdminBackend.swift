import MLWire

/// What the admin HTTP server needs from the serving node. The node implements it over its slot
/// pair and metrics; tests implement it with a fake.
///
/// Threading: the admin server calls the read-only methods (`health`, `ready`, `info`,
/// `metrics`, `checkToken`) on its poll thread, and the two mutations (`rollback`, `reload`) on a
/// separate serial queue, one at a time, so a multi-second reload never stalls a liveness probe.
/// Implementations must therefore be safe to call from two threads at once.
public protocol AdminBackend: Sendable {
    /// Liveness: the process is up and its loops answer.
    func health() -> (serving: Bool, uptimeMillis: UInt64)
    /// Readiness: an active model is loaded and the node is not draining; `reason` says why not.
    func ready() -> (ready: Bool, reason: String)
    func info() -> InfoReply
    func metrics() -> MetricsReply
    /// Client errors per version and status, for `mlserve_client_errors_total{version,status}`.
    func clientErrorsByStatus() -> [(version: String, status: Status, count: UInt64)]
    /// Swap active ↔ standby. With `expectedActive`, refuse (FAILED_PRECONDITION) unless that
    /// version is active: a retried rollback must not flip back to the bad model.
    func rollback(expectedActive: String?) -> Result<SwapOutcome, AdminFailure>
    /// The runbook's deploy: load `artifact` into standby (verifying a non-zero checksum), then
    /// swap, fenced on `expectedActive` like rollback.
    func reload(artifact: String, expectedChecksum: Digest32, expectedActive: String?) -> Result<SwapOutcome, AdminFailure>
    /// Compare a presented bearer token with the controller token in constant time.
    func checkToken(_ presented: String) -> TokenCheck
    /// What recovering a damaged state file took at start; nil when it was clean.
    func stateRecovery() -> String?
}

extension AdminBackend {
    public func stateRecovery() -> String? { nil }
}

extension AdminBackend {
    /// Without a breakdown, each version's total is reported under INVALID_ARGUMENT.
    public func clientErrorsByStatus() -> [(version: String, status: Status, count: UInt64)] {
        metrics().versions.filter { $0.clientErrors > 0 }.map { ($0.version, .invalidArgument, $0.clientErrors) }
    }
}

/// The result of a token comparison. An enum, not a Bool, so a call site reads as what it means.
public enum TokenCheck: Sendable, Equatable {
    case ok
    case wrong
}
