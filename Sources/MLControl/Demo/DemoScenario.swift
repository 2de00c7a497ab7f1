import Foundation
import MLClient
import MLModel
import MLWire

/// `mlctl demo` against a node that is already running (the CLI starts a child mlserve; the
/// test an in-process one): labelled traffic, a baseline for the good model, a deploy of the
/// worse one, and the watch loop doing the runbook — detect, roll back, verify, record, notify,
/// watch for stability — with a timeline printed as it happens. Time windows are compressed
/// through the policy; nothing else differs from `mlctl watch`.
public final class DemoScenario {
    public struct Options: Sendable {
        public var interval: TimeInterval = 0.5
        /// Rounds before the deploy; the first only sets the reference counters.
        public var baselineRounds = 4
        public var stabilityWindow: TimeInterval = 4
        public var deployWindow: TimeInterval = 120
        public var trafficRate: Double = 3_000
        /// Hard bound on the whole run.
        public var timeLimit: TimeInterval = 45
        public var badArtifact = "builtin:v2.1"
        /// Act 1: how long the standby shadows the traffic before the gate judges it.
        public var shadowWindow: TimeInterval = 1.5
        public init() {}
    }

    public struct Result {
        public var rolledBack: Bool
        public var incident: IncidentRow?
        public var deployments: [DeploymentRow]
        public var stabilityOutcome: String?
        /// Act 1: the shadow gate's verdict on the bad model, which must have refused it.
        public var gate: GateVerdict?
        public var gateRefused: Bool { gate.map { !$0.passed } ?? false }
    }

    private let endpoint: Endpoint
    private let access: NodeAccess
    private let databasePath: String
    private let options: Options
    private let say: @Sendable (String) -> Void
    private let start = Date()
    // Filled by watch events; the scenario runs on one thread.
    private var deployedAt: Date?
    private var baselineF1: [Double] = []
    private var badF1: (value: Double, at: Date)?
    private var recoveredF1: [Double] = []
    private var rollback: (at: Date, micros: Double?, roundTrip: Double?)?
    private var verified: String?
    private var stability: StabilityVerdict?
    private var goodVersion = "v2.0"

    public init(endpoint: Endpoint, token: String, databasePath: String, options: Options = Options(),
                say: @escaping @Sendable (String) -> Void) {
        self.endpoint = endpoint
        self.access = NodeAccess(token: token, clientName: "mlctl-demo")
        self.databasePath = databasePath
        self.options = options
        self.say = say
    }

    private func t(_ date: Date = Date()) -> String { "t+" + Formatting.fixed(date.timeIntervalSince(start), 1) + "s" }

    public func run() throws(ControlError) -> Result {
        let store: ControlStore
        do { store = try ControlStore(path: databasePath) } catch { throw .local("cannot open database \(databasePath): \(error)") }
        var policy = RunbookPolicy()
        policy.pollIntervalSeconds = options.interval
        policy.stabilityWindowSeconds = options.stabilityWindow
        policy.deployWindowSeconds = options.deployWindow
        let operations = NodeOperations(access: access, store: store)
        let info = try operations.info(endpoint)
        goodVersion = info.active.version
        say("\(t()) node \(endpoint): active \(info.active.version), standby \(info.standby.present ? info.standby.version : "empty") "
            + "(model \(info.active.modelName), generation \(info.generation))")
        say("\(t()) policy: the runbook's thresholds; windows compressed: poll \(Formatting.limit(options.interval))s, "
            + "deploy window \(Formatting.limit(options.deployWindow))s, stability window \(Formatting.limit(options.stabilityWindow))s")

        let traffic = DemoTraffic(endpoint: endpoint, labellerToken: access.token, ratePerSecond: options.trafficRate,
                                  maxDuration: options.timeLimit + 5)
        traffic.start()
        defer { traffic.stop() }
        say("\(t()) traffic: \(Int(options.trafficRate)) predictions/s with prediction ids, their true labels sent by id (LABEL, DemoData)")

        let watch = WatchLoop(configuration: WatchConfiguration(nodes: [endpoint], policy: policy), store: store, access: access,
                              notifier: Notifier(policy: policy, printLine: { [say] in say("      notify: " + $0) }),
                              onEvent: { [unowned self] in self.observe($0) })
        let deadline = start.addingTimeInterval(options.timeLimit)
        for round in 0..<options.baselineRounds {
            if round > 0 { Thread.sleep(forTimeInterval: options.interval) }
            watch.pollRound()
        }

        let fleet = FleetOperations(operations: operations)
        let gate = gateAct(fleet)
        say("\(t()) ACT 2: deploy \(options.badArtifact) WITHOUT the gate; the watch loop must catch it")
        let report = fleet.deploy(artifact: options.badArtifact, nodes: [endpoint])
        guard report.succeeded, let swap = report.nodes.first?.swap else {
            throw report.nodes.compactMap(\.error).first ?? .local("deploy failed: \(report.lines.joined(separator: "; "))")
        }
        deployedAt = swap.at
        say("\(t(swap.at)) DEPLOY \(swap.outcome.activeVersion): loaded into standby, verified via Info, swapped "
            + "\(swap.outcome.previousVersion) -> \(swap.outcome.activeVersion) in \(Formatting.fixed(swap.swapMicros, 1)) µs (generation \(swap.outcome.generation))")

        while rollback == nil && Date() < deadline {
            Thread.sleep(forTimeInterval: options.interval)
            watch.pollRound()
        }
        while rollback != nil && !watch.stabilitySettled && Date() < deadline {
            Thread.sleep(forTimeInterval: options.interval)
            watch.pollRound()
        }
        traffic.stop()
        let counts = traffic.snapshot
        say("\(t()) traffic stopped: \(counts.predictions) predictions, \(counts.feedback) labels"
            + (counts.failures > 0 ? ", \(counts.failures) failed batches (\(counts.lastError ?? ""))" : ""))

        let incidents = (try? store.incidents(limit: 10)) ?? []
        let incident = incidents.first { $0.alertType == RunbookRule.f1Drop.rawValue || $0.toVersion != nil }
        let deployments = (try? store.deployments(limit: 20)) ?? []
        printSummary()
        if let incident {
            say("\nINCIDENTS row:\n" + RecordViews.incidentDetail(incident))
        }
        say("\nDEPLOYMENTS rows (newest first):\n" + RecordViews.deploymentsTable(deployments).rendered)
        return Result(rolledBack: rollback != nil, incident: incident, deployments: deployments, stabilityOutcome: incident?.stabilityOutcome,
                      gate: gate)
    }

    /// Act 1: the bad model through the shadow gate, judged on the rows the node is serving (label
    /// agreement, and F1 from the labels that arrive by prediction id); it must be refused.
    private func gateAct(_ fleet: FleetOperations) -> GateVerdict? {
        say("\(t()) ACT 1: deploy \(options.badArtifact) through the shadow gate (default thresholds, "
            + "\(Formatting.limit(options.shadowWindow))s window, every row shadowed)")
        let deployment = ShadowDeployment(fleet: fleet, window: options.shadowWindow, rate: 1,
                                          notifier: Notifier(printLine: { [say] in say("      notify: " + $0) }),
                                          say: { [say] line in say("      " + line) })
        let report = deployment.run(artifact: options.badArtifact, nodes: [endpoint])
        guard let verdict = report.nodes.first?.verdict else {
            say("\(t()) GATE did not judge: \(report.outcome.rawValue) \(report.lines.joined(separator: "; "))")
            return nil
        }
        for check in verdict.checks { say("      \(check.outcome.rawValue.uppercased()): \(check.sentence)") }
        say("\(t()) GATE \(verdict.passed ? "PASSED (unexpected)" : "REFUSED \(verdict.standbyVersion): nothing swapped, exit code \(report.exitCode.rawValue) for mlctl deploy --shadow")")
        return verdict
    }

    private func observe(_ event: WatchEvent) {
        switch event {
        case .polled(_, let at, let active, _, let rows):
            for row in rows where row.modelVersion == active || rows.count == 1 {
                let figures = "\(row.modelVersion): \(row.requestCount) req, \(row.feedbackCount) labels, F1 "
                    + (row.f1Score.map { Formatting.fixed($0, 3) } ?? "-") + ", p99 "
                    + (row.latencyP99Ms.map { Formatting.fixed($0, 2) + " ms" } ?? "-")
                    + ", anomaly rate " + (row.anomalyRate.map(Formatting.percent) ?? "-")
                say("\(t(at)) poll  \(figures)")
                guard let f1 = row.f1Score else { continue }
                if deployedAt == nil { baselineF1.append(f1) }
                else if rollback == nil, row.modelVersion != goodVersion { badF1 = badF1 ?? (f1, at) }
                else if rollback != nil, row.modelVersion == goodVersion { recoveredF1.append(f1) }
            }
        case .rolledBack(_, let at, let trigger, let result, _):
            say("\(t(at)) TRIGGER \(trigger.rule.rawValue): \(trigger.sentence)")
            rollback = (at, result?.swapMicros, result?.roundTripMicros)
            say("\(t(at)) ROLLED BACK \(trigger.version) -> \(result?.outcome.activeVersion ?? goodVersion)"
                + (result.map { " in \(Formatting.fixed($0.swapMicros, 1)) µs on the node (round trip \(Formatting.fixed($0.roundTripMicros, 0)) µs), generation \($0.outcome.generation)" } ?? ""))
        case .verified(_, let at, let ok, let detail):
            verified = ok ? detail : nil
            say("\(t(at)) \(ok ? "VERIFIED" : "VERIFY FAILED") (runbook step 3): \(detail)")
        case .stability(_, let at, let verdict, _):
            stability = verdict
            say("\(t(at)) STABILITY (runbook step 5): " + event.line.components(separatedBy: ": ").dropFirst().joined(separator: ": "))
        default:
            say("\(t(event.at)) " + event.line.split(separator: " ", maxSplits: 1).last.map(String.init)!)
        }
    }

    private func printSummary() {
        say("\nTimeline")
        guard let deployedAt else { return }
        say("  deploy at \(t(deployedAt))")
        let base = baselineF1.isEmpty ? "?" : Formatting.fixed(baselineF1.reduce(0, +) / Double(baselineF1.count), 2)
        if let badF1 {
            say("  F1 \(base) -> \(Formatting.fixed(badF1.value, 2)) at \(t(badF1.at)) (\(Formatting.fixed(badF1.at.timeIntervalSince(deployedAt), 1))s after deploy)")
        }
        if let rollback {
            say("  rolled back at \(t(rollback.at)) in \(rollback.micros.map { Formatting.fixed($0, 1) } ?? "?") µs on the node"
                + (rollback.roundTrip.map { ", \(Formatting.fixed($0, 0)) µs round trip" } ?? ""))
            say("  verified: \(verified ?? "NO")")
            if !recoveredF1.isEmpty {
                say("  F1 recovered: \(Formatting.fixed(recoveredF1.reduce(0, +) / Double(recoveredF1.count), 2)) (baseline \(base))")
            }
            if let stability { say("  stability window: \(stability.outcome)") }
        } else {
            say("  NO ROLLBACK happened within \(Formatting.limit(options.timeLimit))s")
        }
    }
}
