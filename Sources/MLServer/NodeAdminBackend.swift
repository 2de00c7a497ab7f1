import MLWire

/// The admin HTTP routes served from the node's own control plane, so HTTP and the binary
/// protocol change the same slots through the same fenced operations.
public struct NodeAdminBackend: AdminBackend {
    let control: ControlPlane

    public init(control: ControlPlane) { self.control = control }

    public func health() -> (serving: Bool, uptimeMillis: UInt64) {
        let reply = control.health()
        return (reply.serving, reply.uptimeMillis)
    }

    public func ready() -> (ready: Bool, reason: String) {
        let reply = control.ready()
        return (reply.ready, reply.reason)
    }

    public func info() -> InfoReply { control.info() }

    public func metrics() -> MetricsReply { control.metrics() }

    public func clientErrorsByStatus() -> [(version: String, status: Status, count: UInt64)] { control.clientErrorsByStatus() }

    public func rollback(expectedActive: String?) -> Result<SwapOutcome, AdminFailure> {
        control.swap(expectedActive: expectedActive, actor: "admin").mapError { AdminFailure($0.status, $0.reason, $0.message) }
    }

    public func reload(artifact: String, expectedChecksum: Digest32, expectedActive: String?) -> Result<SwapOutcome, AdminFailure> {
        // Check the fence before the slow load, and again (inside swap) after it.
        if let expected = expectedActive, !expected.isEmpty, let active = control.slots.current().active, active.version != expected {
            return .failure(AdminFailure(.failedPrecondition, .fenceActiveMismatch, "expected active version \(expected) but active is \(active.version); nothing changed"))
        }
        switch control.loadStandby(artifact: artifact, expectedChecksum: expectedChecksum, actor: "admin") {
        case .failure(let error): return .failure(AdminFailure(error.status, error.reason, error.message))
        case .success: return rollback(expectedActive: expectedActive)
        }
    }

    public func stateRecovery() -> String? { control.stateRecovery }

    public func checkToken(_ presented: String) -> TokenCheck {
        control.checkToken(presented) ? .ok : .wrong
    }
}
