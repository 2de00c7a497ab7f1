import Foundation
import MLClient
import MLWire

/// What the watch loop remembers about one node between polls. Owned by the loop's thread.
struct NodeWatchState {
    /// After a rollback: runbook step 5 in progress.
    struct PendingStability {
        var incidentID: String
        var trigger: Trigger
        /// The version restored, whose windows are judged.
        var version: String
        var rolledBackAt: Date
        /// The restored version's averages before the bad deploy.
        var baseline: BaselineFigures
        var windows: [VersionMetrics] = []
    }

    let endpoint: Endpoint
    var client: NodeClient?
    /// Cumulative counters from the last successful poll, per version.
    var previous: [String: VersionMetrics] = [:]
    var hasReference = false
    var lastActive: String?
    var lastGeneration: UInt64?
    /// Set while the node is unreachable: since when, and the incident opened for it.
    var down: (since: Date, incidentID: String)?
    var stability: PendingStability?

    init(endpoint: Endpoint) { self.endpoint = endpoint }

    var node: String { endpoint.description }

    mutating func disconnect() {
        client?.close()
        client = nil
    }
}
