import Foundation

/// One FLEET row: a node discovered by DNS appearing or vanishing, or the lookup failing.
public struct FleetRow: Equatable, Sendable {
    public enum Event: String, Sendable, CaseIterable {
        case appeared, vanished
        case lookupFailed = "lookup_failed"
        case lookupRecovered = "lookup_recovered"
    }

    public var timestamp: Date
    public var event: Event
    /// The node for appeared/vanished; nil for lookup rows.
    public var node: String?
    /// The `--nodes` sources, as given.
    public var source: String
    public var detail: String?

    public init(timestamp: Date, event: Event, node: String?, source: String, detail: String?) {
        self.timestamp = timestamp
        self.event = event
        self.node = node
        self.source = source
        self.detail = detail
    }
}
