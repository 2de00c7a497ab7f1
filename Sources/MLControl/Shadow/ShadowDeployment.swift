import Foundation
import MLClient
import MLWire

/// `mlctl deploy ARTIFACT --shadow D [--gate gate.json] [--dry-run]`: verify before you swap.
///
/// 1. load the artifact into every node's standby and wait until each says it is warm;
/// 2. turn shadow scoring on (SET_SHADOW, fenced on the standby version) on every node, so the
///    standby scores the node's own traffic next to the active for the window `D`;
/// 3. judge each node's window with the gate (agreement, F1 on the same labelled rows, standby
///    p99, standby errors, drift); every node must pass;
/// 4. pass → the fleet's fenced two-phase swap (unless `--dry-run`); fail → no swap, the standby
///    stays loaded for inspection, the verdict goes to DEPLOYMENTS and the notification.
///
/// A swap, a load or a restart on any node during the window ends that node's shadow session
/// (the node does it by itself); the deploy sees the session gone, reports `aborted`, swaps
/// nothing and leaves every node as it was (the standby loaded).
public struct ShadowDeployment {
    public enum Outcome: String, Sendable {
        case swapped
        case refused = "gate_refused"
        case aborted
        case dryRun = "dry_run"
        /// A load, a warm-up wait or a node call failed before judging.
        case failed
    }

    /// One node's part: what was loaded, the session, the verdict or why it was cut short.
    public struct NodeShadow: Sendable {
        public var node: String
        public var active: SlotIdentity
        public var standby: SlotIdentity
        public var session: UInt64 = 0
        public var verdict: GateVerdict?
        public var aborted: String?
    }

    public struct Report: Sendable {
        public var outcome: Outcome
        public var nodes: [NodeShadow]
        public var fleet: FleetReport?
        public var error: ControlError?
        public var lines: [String]

        public var exitCode: ExitCode {
            switch outcome {
            case .swapped: .ok
            case .dryRun: nodes.allSatisfy { $0.verdict?.passed == true } ? .ok : .gateRefused
            case .refused: .gateRefused
            case .aborted: .shadowAborted
            case .failed: fleet?.exitCode ?? error?.exitCode ?? .refused
            }
        }
    }

    public var fleet: FleetOperations
    public var gate: ShadowGate
    public var window: TimeInterval
    public var rate: Float
    public var dryRun: Bool
    public var notifier: Notifier?
    /// How often the window checks that no node was swapped, loaded or restarted.
    public var checkInterval: TimeInterval
    public var warmTimeout: TimeInterval = 60
    public var say: (String) -> Void
    /// Runs once every node shadows, before the window's first check (tests interfere here).
    public var windowStarted: (() -> Void)?

    public init(fleet: FleetOperations, gate: ShadowGate = ShadowGate(), window: TimeInterval, rate: Float = 1,
                dryRun: Bool = false, notifier: Notifier? = nil, checkInterval: TimeInterval? = nil,
                say: @escaping (String) -> Void = { print($0) }) {
        self.fleet = fleet
        self.gate = gate
        self.window = window
        self.rate = rate
        self.dryRun = dryRun
        self.notifier = notifier
        self.checkInterval = checkInterval ?? min(1, max(0.05, window / 10))
        self.say = say
    }

    private var operations: NodeOperations { fleet.operations }
    private var access: NodeAccess { operations.access }

    public func run(artifact: String, checksum: Digest32 = .zero, nodes endpoints: [Endpoint]) -> Report {
        let endpoints = FleetOperations.canonical(endpoints)
        var nodes: [NodeShadow] = []
        var lines: [String] = []
        func fail(_ error: ControlError, _ what: String) -> Report {
            stopShadow(endpoints, nodes)
            lines.append("\(what): \(error)")
            return Report(outcome: .failed, nodes: nodes, error: error, lines: lines)
        }
        // 1. Load and warm.
        for endpoint in endpoints {
            do throws(ControlError) {
                let before = try operations.info(endpoint, controller: true)
                guard before.active.present else {
                    throw .refused(node: endpoint.description, status: .failedPrecondition, reason: .noActiveModel,
                                   message: "no active model to shadow against")
                }
                let standby = try operations.load(endpoint, artifact: artifact, checksum: checksum)
                try waitWarm(endpoint, standby: SlotIdentity(standby))
                nodes.append(NodeShadow(node: endpoint.description, active: SlotIdentity(before.active), standby: SlotIdentity(standby)))
                say("\(endpoint): standby \(SlotIdentity(standby)) loaded and warm; active \(SlotIdentity(before.active))")
            } catch {
                return fail(error, "\(endpoint)")
            }
        }
        // 2. Shadow on every node, with each pair's counters at the start.
        var starts: [ShadowPairMetrics?] = []
        for (i, endpoint) in endpoints.enumerated() {
            do throws(ControlError) {
                let (reply, metrics) = try access.with(endpoint, controller: true) { c throws(ClientError) in
                    (try c.setShadow(rate: rate, expectedStandby: nodes[i].standby.version), try c.metrics())
                }
                nodes[i].session = reply.session
                starts.append(metrics.shadow.pair(active: nodes[i].active.version, standby: nodes[i].standby.version))
            } catch {
                return fail(error, "\(endpoint): could not start shadowing")
            }
        }
        say("shadowing \(Formatting.percent(Double(rate))) of rows on \(endpoints.count) node\(endpoints.count == 1 ? "" : "s") for \(Formatting.limit(window))s")
        windowStarted?()

        // 3. The window, checking that every session is still the one we started.
        let deadline = Date().addingTimeInterval(window)
        var ends: [MetricsReply?] = Array(repeating: nil, count: endpoints.count)
        while true {
            let left = deadline.timeIntervalSinceNow
            if left > 0 { Thread.sleep(forTimeInterval: min(checkInterval, left)) }
            let last = deadline.timeIntervalSinceNow <= 0
            for (i, endpoint) in endpoints.enumerated() where nodes[i].aborted == nil {
                switch check(endpoint, nodes[i]) {
                case .running(let metrics): ends[i] = metrics
                case .over(let why): nodes[i].aborted = why
                }
            }
            if nodes.contains(where: { $0.aborted != nil }) || last { break }
        }
        stopShadow(endpoints, nodes)

        if nodes.contains(where: { $0.aborted != nil }) {
            for n in nodes where n.aborted != nil {
                lines.append("\(n.node): shadow window ABORTED: \(n.aborted!); nothing swapped")
                record(n, status: "aborted", detail: "shadow window aborted: \(n.aborted!); nothing swapped")
            }
            notify(nodes.filter { $0.aborted != nil }, action: "deploy_aborted",
                   why: nodes.compactMap { n in n.aborted.map { "\(n.node): \($0)" } }.joined(separator: "; "))
            return Report(outcome: .aborted, nodes: nodes, lines: lines)
        }

        // 4. Judge.
        for i in nodes.indices {
            guard let end = ends[i], let pair = end.shadow.pair(active: nodes[i].active.version, standby: nodes[i].standby.version) else {
                nodes[i].verdict = gate.judge(ShadowPairMetrics(activeVersion: nodes[i].active.version, standbyVersion: nodes[i].standby.version),
                                              node: nodes[i].node, activeReference: [], standbyReference: [])
                continue
            }
            func reference(_ version: String) -> [Float] { end.versions.first { $0.version == version }?.referenceBins ?? [] }
            nodes[i].verdict = gate.judge(pair.since(starts[i]), node: nodes[i].node,
                                          activeReference: reference(nodes[i].active.version),
                                          standbyReference: reference(nodes[i].standby.version))
        }
        let verdicts = nodes.compactMap(\.verdict)
        lines += verdicts.map(\.summary)
        let passed = verdicts.allSatisfy(\.passed)
        for n in nodes {
            if let store = operations.store {
                do {
                    try store.insertShadowMetrics(n.verdict!, at: operations.clock(), windowSeconds: window,
                                                  outcome: (dryRun ? "dry_run_" : "") + (n.verdict!.passed ? "passed" : "refused"))
                } catch {
                    say("mlctl: could not record the shadow verdict of \(n.node) in SHADOW_METRICS: \(error)")
                }
            }
            record(n, status: dryRun ? (n.verdict!.passed ? "dry_run_passed" : "dry_run_failed") : (n.verdict!.passed ? "gate_passed" : "gate_refused"),
                   detail: n.verdict!.summary)
        }
        if !passed {
            notify(nodes.filter { $0.verdict?.passed == false }, action: "deploy_refused",
                   why: verdicts.filter { !$0.passed }.map(\.summary).joined(separator: " | "))
            lines.append("gate refused \(nodes.first?.standby.version ?? "the standby"): nothing swapped; the standby stays loaded for inspection")
            return Report(outcome: dryRun ? .dryRun : .refused, nodes: nodes, lines: lines)
        }
        if dryRun {
            lines.append("dry run: the gate passed on every node; nothing swapped")
            return Report(outcome: .dryRun, nodes: nodes, lines: lines)
        }
        // 5. Promote: the fleet's fenced two-phase swap, fenced on the pair that was judged.
        let report = fleet.promote(nodes.enumerated().map { (endpoints[$0.offset], $0.element.active, $0.element.standby) })
        lines += report.lines
        return Report(outcome: report.succeeded ? .swapped : .failed, nodes: nodes, fleet: report, lines: lines)
    }

    /// Polls Info until the standby is the one loaded and warm (a v2 node says so).
    private func waitWarm(_ endpoint: Endpoint, standby: SlotIdentity) throws(ControlError) {
        let node = endpoint.description
        let deadline = Date().addingTimeInterval(warmTimeout)
        while true {
            let info = try operations.info(endpoint)
            guard let ext = info.extension else {
                throw .refused(node: node, status: .unimplemented, reason: .versionUnsupported,
                               message: "the node speaks protocol v1: shadow scoring needs v2")
            }
            guard SlotIdentity(info.standby) == standby else {
                throw .refused(node: node, status: .failedPrecondition, reason: .fenceStandbyMismatch,
                               message: "standby is now \(SlotIdentity(info.standby)), not the \(standby) just loaded; another controller is acting on this node")
            }
            if ext.standbySlot.warmState == 2 { return }
            if Date() > deadline {
                throw .refused(node: node, status: .failedPrecondition, reason: .standbyNotWarm,
                               message: "standby \(standby.version) still warming after \(Formatting.limit(warmTimeout))s")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// The node's metrics, or why its window is over: the session gone means a swap, a load or a
    /// restart ended it (Info says which).
    private enum WindowCheck {
        case running(MetricsReply)
        case over(String)
    }

    private func check(_ endpoint: Endpoint, _ n: NodeShadow) -> WindowCheck {
        let read: Result<(MetricsReply, InfoReply), ControlError> = Result { () throws(ControlError) in
            try access.with(endpoint, controller: false) { c throws(ClientError) in (try c.metrics(), try c.info()) }
        }
        switch read {
        case .failure(let error):
            return .over("node stopped answering during the window (\(error))")
        case .success(let (metrics, info)):
            if metrics.shadow.session == n.session { return .running(metrics) }
            if SlotIdentity(info.active) != n.active {
                return .over("the active changed to \(SlotIdentity(info.active)) (a swap or rollback)")
            }
            if SlotIdentity(info.standby) != n.standby {
                return .over("the standby changed to \(info.standby.present ? SlotIdentity(info.standby).description : "empty") (a load)")
            }
            if metrics.shadow.session == 0 && metrics.shadow.pairs.isEmpty {
                return .over("the node restarted (its shadow counters are gone)")
            }
            return .over("shadow session \(n.session) was replaced by \(metrics.shadow.session) (another SET_SHADOW, a reload or a restart)")
        }
    }

    /// Turns shadowing off where our session is still the one in force.
    private func stopShadow(_ endpoints: [Endpoint], _ nodes: [NodeShadow]) {
        for (i, n) in nodes.enumerated() where n.session != 0 {
            _ = try? access.with(endpoints[i], controller: true) { c throws(ClientError) in
                if try c.metrics().shadow.session == n.session { _ = try c.setShadow(rate: 0) }
            }
        }
    }

    private func record(_ n: NodeShadow, status: String, detail: String) {
        _ = operations.record(DeploymentRow(timestamp: operations.clock(), action: .deploy, actor: operations.actor, node: n.node,
                                            fromVersion: n.active.version, toVersion: n.standby.version, status: status,
                                            detail: detail, operationID: fleet.settings.operationID))
    }

    private func notify(_ nodes: [NodeShadow], action: String, why: String) {
        guard let notifier, let first = nodes.first else { return }
        let at = operations.clock()
        let note = AlertNotification(incidentID: "DEPLOY-\(SQLTime.iso8601(at))", alertType: "shadow_gate", severity: "warning",
                                     action: action, status: "not_deployed", node: nodes.map(\.node).joined(separator: ","),
                                     model: first.standby.version, fromVersion: first.active.version, toVersion: first.standby.version,
                                     trigger: why, at: at)
        _ = notifier.notify(note)
    }
}
