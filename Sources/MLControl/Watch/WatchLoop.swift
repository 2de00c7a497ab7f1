import Foundation
import MLClient
import MLWire

/// `mlctl watch`: the runbook, automated. Each round polls every node (Info + Metrics on one
/// controller connection), writes MODEL_METRICS rows from counter differences, judges the
/// active version with `RunbookRules` against the previous version's baseline, and acts:
/// rollback (fenced, verified, recorded, notified, then watched for stability), or an
/// investigating incident. A node that stops answering gets an incident and is retried each
/// round. Nothing a node does can crash the loop.
///
/// Time comes only from `clock` and passes only through `sleep`, so tests run hours of policy
/// time in milliseconds and the demo compresses the windows. Single-threaded: the store and
/// the connections belong to the thread that calls `run` / `pollRound`.
public final class WatchLoop {
    public let configuration: WatchConfiguration
    let store: ControlStore
    let access: NodeAccess
    let notifier: Notifier
    let rules: RunbookRules
    let clock: () -> Date
    let sleep: (TimeInterval) -> Void
    let onEvent: (WatchEvent) -> Void
    var states: [NodeWatchState]
    /// Asked after each round; true ends `run` early (the demo stops once step 5 is decided).
    public var shouldStop: (() -> Bool)?
    /// Runs just before an automatic rollback is sent. Tests use it to race the controller.
    public var beforeRollback: ((Endpoint) -> Void)?
    public private(set) var rounds = 0
    /// Re-resolves `--nodes dns:`/`srv:` before each round (WatchLoop+Discovery); nil: fixed nodes.
    public var discovery: FleetDiscovery?
    /// MODEL_METRICS rows already reported (printed) that the database did not take yet (it was
    /// locked past the busy timeout): written first on the next round, so a printed row is a
    /// stored row. Bounded: beyond `maxUnstoredRows` the oldest are dropped, and said so.
    public private(set) var unstoredRows: [MetricsRow] = []
    static let maxUnstoredRows = 100_000

    public init(configuration: WatchConfiguration, store: ControlStore, access: NodeAccess, notifier: Notifier,
                clock: @escaping () -> Date = Date.init, sleep: @escaping (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) },
                onEvent: @escaping (WatchEvent) -> Void = { _ in }) {
        self.configuration = configuration
        self.store = store
        self.access = access
        self.notifier = notifier
        self.rules = RunbookRules(policy: configuration.policy, dryRun: configuration.dryRun)
        self.clock = clock
        self.sleep = sleep
        self.onEvent = onEvent
        self.states = configuration.nodes.map(NodeWatchState.init)
    }

    deinit {
        for index in states.indices { states[index].disconnect() }
    }

    /// Writes the rows not yet stored, then `rows`, in one transaction; retried once at once
    /// (the busy timeout has already waited); what still fails is kept for the next round.
    func storeMetrics(_ rows: [MetricsRow], node: String, at now: Date) {
        let batch = unstoredRows + rows
        guard !batch.isEmpty else { return }
        var lastError: Error?
        for _ in 0..<2 {
            do {
                try store.insertMetrics(batch)
                unstoredRows.removeAll()
                return
            } catch { lastError = error }
        }
        unstoredRows = batch
        if unstoredRows.count > Self.maxUnstoredRows {
            let dropped = unstoredRows.count - Self.maxUnstoredRows
            unstoredRows.removeFirst(dropped)
            onEvent(.problem(node: node, at: now, message: "MODEL_METRICS: dropped the \(dropped) oldest unstored rows"))
        }
        onEvent(.problem(node: node, at: now, message: "MODEL_METRICS insert failed (\(lastError.map { "\($0)" } ?? "?")); \(unstoredRows.count) rows kept for the next round"))
    }

    /// Polls every `interval` until the duration or round limit is reached or `shouldStop`.
    public func run() {
        let start = clock()
        while true {
            pollRound()
            if let limit = configuration.maxRounds, rounds >= limit { break }
            if shouldStop?() == true { break }
            if let duration = configuration.duration, clock().timeIntervalSince(start) + configuration.interval > duration { break }
            sleep(configuration.interval)
        }
        if !unstoredRows.isEmpty { storeMetrics([], node: "-", at: clock()) }  // a last try before exit
    }

    /// One round: every node once.
    public func pollRound() {
        refreshFleet()
        for index in states.indices { poll(&states[index]) }
        if let fleet = configuration.fleet { reconcile(fleet) }
        rounds += 1
    }

    /// Level-triggered: whatever happened before, each round moves every node toward the
    /// fleet's desired state. Connections are dropped first so the swap goes on a fresh one.
    private func reconcile(_ fleet: String) {
        let operations = NodeOperations(access: access, store: store, actor: "reconcile", clock: clock, sleep: sleep,
                                        clockSkew: configuration.clockSkew)
        let lines = FleetReconciler(operations: operations, fleet: fleet).reconcile(only: configuration.nodes)
        for line in lines { onEvent(.reconcile(node: line.node, at: clock(), message: line.message)) }
    }

    /// Whether every rollback this loop made has a final step-5 verdict.
    public var stabilitySettled: Bool { states.allSatisfy { $0.stability == nil } }

    // MARK: one node

    private func poll(_ state: inout NodeWatchState) {
        let now = clock()
        let info: InfoReply
        let metrics: MetricsReply
        do {
            if state.client == nil { state.client = try access.connect(state.endpoint, controller: true) }
            let replies = try pipeline(state.client!, state.node)
            (info, metrics) = replies
        } catch {
            state.disconnect()
            nodeDown(&state, reason: "\(error)", now: now)
            return
        }
        if let down = state.down { nodeBack(&state, down: down, now: now) }
        noteObservedSwap(&state, info: info, now: now)

        var windows: [String: VersionMetrics] = [:]
        for current in metrics.versions {
            if state.hasReference { windows[current.version] = current.since(state.previous[current.version]) }
            state.previous[current.version] = current
        }
        let first = !state.hasReference
        state.hasReference = true
        // Versions with no traffic in the window get no row: an idle standby's NULL figures
        // would only be noise in the runbook's queries.
        let rows = windows.values.filter { $0.requests + $0.errors + $0.feedbackCount > 0 }
            .sorted { $0.version < $1.version }
            .map { MetricsRow(window: $0, modelName: modelName(info, version: $0.version), node: state.node, at: now,
                             minDriftScores: configuration.policy.minDriftScores) }
        storeMetrics(rows, node: state.node, at: now)
        onEvent(.polled(node: state.node, at: now, active: metrics.activeVersion, generation: metrics.generation, rows: rows))
        if first { return }

        if state.stability != nil {
            trackStability(&state, window: windows[state.stability!.version], now: now)
        }
        guard let window = windows[info.active.version] else { return }
        judge(&state, window: window, info: info, now: now)
    }

    private func pipeline(_ client: NodeClient, _ node: String) throws(ControlError) -> (InfoReply, MetricsReply) {
        let replies: [Message]
        do { replies = try client.pipeline([.info, .metrics]) } catch { throw ControlError.from(error, node: node) }
        guard replies.count == 2, case .infoReply(let info) = replies[0], case .metricsReply(let metrics) = replies[1] else {
            if case .error(let status, let body) = replies.first(where: { if case .error = $0 { true } else { false } }) {
                throw ControlError.from(.remote(status, body.reason ?? .unspecified, body.message), node: node)
            }
            throw ControlError.protocolViolation(node: node, detail: "Info/Metrics answered with other types")
        }
        return (info, metrics)
    }

    private func modelName(_ info: InfoReply, version: String) -> String {
        info.standby.present && info.standby.version == version && info.active.version != version
            ? info.standby.modelName : info.active.modelName
    }

    /// Applies the rules to the active version's window and acts on the decision.
    private func judge(_ state: inout NodeWatchState, window: VersionMetrics, info: InfoReply, now: Date) {
        let context: BaselineContext
        do { context = try baselineContext(node: state.node, info: info, now: now) } catch {
            onEvent(.problem(node: state.node, at: now, message: "baseline query failed: \(error)"))
            return
        }
        // A paused incident for the active version hands the node to a person: no automatic
        // action until `mlctl rollback` changes the version or `mlctl resolve` closes it.
        if let paused = openIncident(node: state.node, status: "paused", version: info.active.version) {
            onEvent(.waiting(node: state.node, at: now, version: info.active.version, incidentID: paused.incidentID))
            return
        }
        let input = RuleInput(window: window, modelName: info.active.modelName, deployedAt: context.deployedAt,
                              baseline: context.baseline, now: now)
        switch rules.evaluate(input) {
        case .healthy:
            return
        case .inconclusive(let reasons):
            onEvent(.inconclusive(node: state.node, at: now, version: info.active.version, reasons: reasons))
        case .pause(let trigger):
            pause(&state, trigger: trigger, now: now)
        case .dryRun(let trigger):
            recordDryRun(&state, trigger: trigger, info: info, now: now)
        case .rollback(let trigger):
            if let reason = context.withholdRollback {
                withhold(&state, trigger: trigger, reason: reason, now: now)
            } else if state.stability == nil {
                respond(&state, trigger: trigger, info: info, context: context, now: now)
            }
        case .investigate(let trigger):
            investigate(&state, trigger: trigger, now: now)
        }
    }

    // MARK: node reachability

    private func nodeDown(_ state: inout NodeWatchState, reason: String, now: Date) {
        guard state.down == nil else { return }  // one incident per outage, not one per round
        let id = IncidentRow.makeID(at: now, alertType: "node_unreachable", node: state.node)
        let root = "node \(state.node) stopped answering the controller: \(reason)"
        insertIncident(IncidentRow(incidentID: id, alertType: "node_unreachable", severity: "critical",
                                   affectedComponent: state.node, rootCause: root, status: "investigating", createdAt: now,
                                   modelName: nil, node: state.node, fromVersion: state.lastActive,
                                   notes: "\(SQLTime.string(now)) unreachable: \(reason)"), node: state.node, now: now)
        state.down = (now, id)
        onEvent(.nodeDown(node: state.node, at: now, reason: reason, incidentID: id))
        notify(AlertNotification(incidentID: id, alertType: "node_unreachable", severity: "critical", action: "alert",
                                 status: "investigating", node: state.node, model: "", fromVersion: state.lastActive,
                                 toVersion: nil, trigger: root, at: now), incidentID: id, now: now)
    }

    private func nodeBack(_ state: inout NodeWatchState, down: (since: Date, incidentID: String), now: Date) {
        state.down = nil
        let downFor = now.timeIntervalSince(down.since)
        updateIncident(down.incidentID, status: "resolved", resolution: "Node answered again after \(Formatting.duration(downFor))",
                       note: "\(SQLTime.string(now)) node answered again; watching resumed", now: now)
        onEvent(.nodeBack(node: state.node, at: now, downFor: downFor, incidentID: down.incidentID))
        notify(AlertNotification(incidentID: down.incidentID, alertType: "node_unreachable", severity: "critical", action: "recovered",
                                 status: "resolved", node: state.node, model: "", fromVersion: nil, toVersion: nil,
                                 trigger: "node \(state.node) answered again after \(Formatting.duration(downFor))", at: now),
               incidentID: down.incidentID, now: now)
    }

    /// A change of active version this controller did not make (another mlctl, the admin HTTP
    /// endpoint) is recorded, so the deploy window and the baseline still start at the right time.
    private func noteObservedSwap(_ state: inout NodeWatchState, info: InfoReply, now: Date) {
        defer {
            state.lastActive = info.active.version
            state.lastGeneration = info.generation
        }
        guard let lastGeneration = state.lastGeneration, info.generation != lastGeneration,
              info.active.version != state.lastActive else { return }
        let known = (try? store.deployments(limit: 5, node: state.node))?.contains {
            $0.status == "ok" && $0.generation == Int64(clamping: info.generation) && $0.toVersion == info.active.version
        } ?? false
        guard !known else { return }
        do {
            try store.insertDeployment(DeploymentRow(timestamp: now, action: .swap, actor: "observed", node: state.node,
                                                     fromVersion: state.lastActive, toVersion: info.active.version,
                                                     generation: Int64(clamping: info.generation), status: "ok",
                                                     detail: "seen by watch between polls; made by another controller"))
        } catch {
            onEvent(.problem(node: state.node, at: now, message: "DEPLOYMENTS insert failed: \(error)"))
        }
        onEvent(.observedSwap(node: state.node, at: now, from: state.lastActive, to: info.active.version, generation: info.generation))
    }

    // MARK: store and notify helpers (failures are reported, never fatal)

    func insertIncident(_ row: IncidentRow, node: String, now: Date) {
        do { try store.insertIncident(row) } catch {
            onEvent(.problem(node: node, at: now, message: "INCIDENTS insert failed for \(row.incidentID): \(error)"))
        }
    }

    func updateIncident(_ id: String, status: String? = nil, resolution: String? = nil, stability: String? = nil, note: String, now: Date) {
        do {
            try store.updateIncident(id: id, status: status, resolution: resolution, stabilityOutcome: stability, appendingNote: note, at: now)
        } catch {
            onEvent(.problem(node: "-", at: now, message: "INCIDENTS update failed for \(id): \(error)"))
        }
    }

    func notify(_ notification: AlertNotification, incidentID: String, now: Date) {
        let outcomes = notifier.notify(notification)
        let failed = outcomes.filter { !$0.succeeded }
        guard !failed.isEmpty || outcomes.count > 1 else { return }
        updateIncident(incidentID, note: "\(SQLTime.string(now)) notified \(notification.action): " + outcomes.map(\.description).joined(separator: ", "), now: now)
    }
}
