import Foundation
import MLClient
import MLDiscovery

/// What one re-resolution of the fleet found, for the watch feed.
public enum FleetChange: Sendable, Equatable {
    case changed(appeared: [String], vanished: [String])
    /// The lookup failed (or found zero records); the last good set is kept.
    case lookupFailed(reason: String, kept: [String])
    /// The first good lookup after failures.
    case lookupRecovered

    public var line: String {
        switch self {
        case .changed(let appeared, let vanished):
            "fleet changed: " + (appeared.isEmpty ? "" : "+\(appeared.joined(separator: " +"))") + (appeared.isEmpty || vanished.isEmpty ? "" : " ")
                + (vanished.isEmpty ? "" : "-\(vanished.joined(separator: " -"))")
        case .lookupFailed(let reason, let kept):
            "!!! fleet lookup failed: \(reason); keeping the last good set (\(kept.count) node\(kept.count == 1 ? "" : "s"))"
        case .lookupRecovered: "fleet lookup works again"
        }
    }
}

/// The watch loop's node set from `--nodes dns:`/`srv:` (plus any fixed `--node`), resolved
/// again each round. A failed lookup or an empty answer keeps the last good set, so a DNS
/// hiccup never makes the controller forget a fleet. Every change lands in the FLEET table:
/// `appeared` / `vanished` per node, `lookup_failed` once per run of failures, `lookup_recovered`.
public final class FleetDiscovery {
    public let sources: [NodeSource]
    let resolver: DNSResolver?
    public private(set) var current: [Endpoint]
    private var failing = false

    /// `initial` is the set resolved at start, recorded as appeared.
    public init(sources: [NodeSource], resolver: DNSResolver?, initial: [Endpoint]) {
        self.sources = sources
        self.resolver = resolver
        self.current = initial
    }

    public var sourceText: String { sources.map(\.description).joined(separator: " ") }

    /// Records the starting set in FLEET.
    public func recordStart(store: ControlStore, at now: Date) throws(SQLiteError) {
        try store.insertFleet(current.map { FleetRow(timestamp: now, event: .appeared, node: $0.description, source: sourceText, detail: "first lookup") })
    }

    /// Resolves again and records what changed; nil when nothing did.
    public func refresh(store: ControlStore, at now: Date) -> (change: FleetChange?, storeError: SQLiteError?) {
        let found: [Endpoint]
        do { found = try NodeSource.resolveAll(sources, with: resolver) } catch {
            guard !failing else { return (nil, nil) }  // one row per run of failures, not one per round
            failing = true
            let row = FleetRow(timestamp: now, event: .lookupFailed, node: nil, source: sourceText,
                               detail: "\(error); kept \(current.map(\.description).joined(separator: ", "))")
            return (.lookupFailed(reason: "\(error)", kept: current.map(\.description)), insert([row], store))
        }
        var rows: [FleetRow] = []
        var recovered = false
        if failing {
            failing = false
            recovered = true
            rows.append(FleetRow(timestamp: now, event: .lookupRecovered, node: nil, source: sourceText, detail: "\(found.count) nodes"))
        }
        let before = Set(current), after = Set(found)
        let appeared = found.filter { !before.contains($0) }.map(\.description)
        let vanished = current.filter { !after.contains($0) }.map(\.description)
        rows += appeared.map { FleetRow(timestamp: now, event: .appeared, node: $0, source: sourceText, detail: nil) }
        rows += vanished.map { FleetRow(timestamp: now, event: .vanished, node: $0, source: sourceText, detail: nil) }
        current = found
        let error = rows.isEmpty ? nil : insert(rows, store)
        if !appeared.isEmpty || !vanished.isEmpty { return (.changed(appeared: appeared, vanished: vanished), error) }
        return (recovered ? .lookupRecovered : nil, error)
    }

    private func insert(_ rows: [FleetRow], _ store: ControlStore) -> SQLiteError? {
        do { try store.insertFleet(rows) } catch { return error }
        return nil
    }
}
