import Foundation

/// What the watch loop saw or did, in order. `mlctl watch` prints them; the demo builds its
/// timeline from them; tests assert on them. Incidents and DEPLOYMENTS rows are the durable
/// record, these are the live feed.
public enum WatchEvent: Sendable {
    /// One node polled; `rows` are the MODEL_METRICS rows written (empty on the first poll,
    /// which only sets the reference counters).
    case polled(node: String, at: Date, active: String, generation: UInt64, rows: [MetricsRow])
    /// The active version changed without this controller doing it; recorded in DEPLOYMENTS.
    case observedSwap(node: String, at: Date, from: String?, to: String, generation: UInt64)
    case rolledBack(node: String, at: Date, trigger: Trigger, result: SwapResult?, incidentID: String)
    /// Runbook step 3.
    case verified(node: String, at: Date, ok: Bool, detail: String)
    case rollbackFailed(node: String, at: Date, trigger: Trigger, attempt: Int, reason: String)
    case investigating(node: String, at: Date, trigger: Trigger, incidentID: String)
    /// A rollback trigger fired but rolling back would restore a version already judged bad.
    case rollbackWithheld(node: String, at: Date, trigger: Trigger, reason: String, incidentID: String)
    case nodeDown(node: String, at: Date, reason: String, incidentID: String)
    case nodeBack(node: String, at: Date, downFor: TimeInterval, incidentID: String)
    /// Runbook step 5's verdict, once final.
    case stability(node: String, at: Date, verdict: StabilityVerdict, incidentID: String)
    /// No rule fired, but some could not judge: neither healthy nor a trigger.
    case inconclusive(node: String, at: Date, version: String, reasons: [String])
    /// A rule with action `pause` fired: incident and notification, the node left as it is.
    case paused(node: String, at: Date, trigger: Trigger, incidentID: String)
    /// A paused incident is open for the active version: waiting for a person.
    case waiting(node: String, at: Date, version: String, incidentID: String)
    /// A rule fired in dry-run mode: what would have been done, recorded only.
    case dryRun(node: String, at: Date, trigger: Trigger, incidentID: String)
    /// Something the loop could not do but survived (database error, …).
    case problem(node: String, at: Date, message: String)
    /// `--nodes dns:`/`srv:` re-resolved: nodes appeared or vanished, or the lookup failed.
    case fleet(at: Date, change: FleetChange)
    /// The fleet's desired state compared with what a node serves, and what was done about it.
    case reconcile(node: String, at: Date, message: String)

    public var at: Date {
        switch self {
        case .polled(_, let at, _, _, _), .observedSwap(_, let at, _, _, _), .rolledBack(_, let at, _, _, _),
             .verified(_, let at, _, _), .rollbackFailed(_, let at, _, _, _), .investigating(_, let at, _, _),
             .rollbackWithheld(_, let at, _, _, _), .nodeDown(_, let at, _, _), .nodeBack(_, let at, _, _),
             .stability(_, let at, _, _), .problem(_, let at, _), .inconclusive(_, let at, _, _),
             .paused(_, let at, _, _), .waiting(_, let at, _, _), .dryRun(_, let at, _, _), .fleet(let at, _),
             .reconcile(_, let at, _):
            at
        }
    }

    /// One line for the `watch` output.
    public var line: String {
        let time = SQLTime.iso8601(at)
        switch self {
        case .polled(let node, _, let active, let generation, let rows):
            let figures = rows.map { row in
                "\(row.modelVersion): \(row.requestCount) req" + (row.f1Score.map { ", F1 \(Formatting.fixed($0, 3))" } ?? "")
                    + (row.latencyP99Ms.map { ", p99 \(Formatting.fixed($0, 2)) ms" } ?? "")
                    + (row.errorRate.map { ", err \(Formatting.percent($0))" } ?? "")
                    + (row.anomalyRate.map { ", anom \(Formatting.percent($0))" } ?? "")
            }
            return "\(time) poll \(node) active=\(active) gen=\(generation)" + (rows.isEmpty ? " (no rows: first poll sets the reference, or no traffic)" : " | " + figures.joined(separator: " | "))
        case .observedSwap(let node, _, let from, let to, let generation):
            return "\(time) OBSERVED swap on \(node): \(from ?? "?") -> \(to) (generation \(generation)), not made by this controller"
        case .rolledBack(let node, _, let trigger, let result, let id):
            let how = result.map { "in \(Formatting.fixed($0.swapMicros, 1)) µs (round trip \(Formatting.fixed($0.roundTripMicros, 0)) µs), generation \($0.outcome.generation)" }
                ?? "(already done: an earlier attempt or another controller)"
            return "\(time) ROLLED BACK \(node) \(trigger.version) -> \(result?.outcome.activeVersion ?? "previous") \(how); incident \(id)"
        case .verified(let node, _, let ok, let detail):
            return "\(time) \(ok ? "verified" : "VERIFY FAILED") \(node): \(detail)"
        case .rollbackFailed(let node, _, let trigger, let attempt, let reason):
            return "\(time) !!! ROLLBACK FAILED on \(node) (attempt \(attempt), \(trigger.version)): \(reason)"
        case .investigating(let node, _, let trigger, let id):
            return "\(time) INVESTIGATE \(node) \(trigger.version): \(trigger.sentence); incident \(id)"
        case .rollbackWithheld(let node, _, let trigger, let reason, let id):
            return "\(time) !!! NOT ROLLING BACK \(node) \(trigger.version): \(reason); incident \(id)"
        case .nodeDown(let node, _, let reason, let id):
            return "\(time) !!! NODE DOWN \(node): \(reason); incident \(id)"
        case .nodeBack(let node, _, let downFor, let id):
            return "\(time) node back \(node) after \(Formatting.duration(downFor)); incident \(id) resolved"
        case .stability(let node, _, let verdict, let id):
            let text: String
            switch verdict {
            case .stable(let why), .unstable(let why), .inconclusive(let why): text = why
            case .stillWatching(let remaining): text = "\(Formatting.duration(remaining)) to go"
            }
            return "\(time) stability \(verdict.outcome) on \(node): \(text); incident \(id)"
        case .problem(let node, _, let message):
            return "\(time) problem on \(node): \(message)"
        case .inconclusive(let node, _, let version, let reasons):
            return "\(time) inconclusive \(node) \(version): " + reasons.joined(separator: "; ")
        case .paused(let node, _, let trigger, let id):
            return "\(time) PAUSED \(node) \(trigger.version): \(trigger.sentence); no swap, waiting for mlctl rollback or mlctl resolve \(id)"
        case .waiting(let node, _, let version, let id):
            return "\(time) waiting \(node) \(version): incident \(id) is paused (mlctl rollback or mlctl resolve \(id))"
        case .dryRun(let node, _, let trigger, let id):
            return "\(time) DRY RUN \(node) \(trigger.version): would \(trigger.action.rawValue): \(trigger.sentence); incident \(id)"
        case .fleet(_, let change):
            return "\(time) \(change.line)"
        case .reconcile(let node, _, let message):
            return "\(time) reconcile \(node): \(message)"
        }
    }
}
