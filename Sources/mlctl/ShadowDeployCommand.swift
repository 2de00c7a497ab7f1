import Foundation
import MLClient
import MLCommandLine
import MLControl
import MLWire

/// `mlctl deploy ARTIFACT --shadow DURATION [--gate gate.json] [--shadow-rate R] [--dry-run]
/// [--policy policy.json]`: the shadow-gated deploy (`ShadowDeployment`). The policy file, when
/// given, supplies only the notification settings (webhook_url, notify_command).
enum ShadowDeployCommand {
    struct Options {
        var window: TimeInterval
        var gate = ShadowGate()
        var rate: Float = 1
        var dryRun = false
        var policy: RunbookPolicy?

        /// Reads the shadow options; nil when `--shadow` is absent (a plain deploy).
        static func parse(_ arguments: inout Arguments) throws -> Options? {
            let window = try arguments.value("--shadow")
            let gatePath = try arguments.value("--gate")
            let rate = try arguments.double("--shadow-rate", default: 1, range: 0...1)
            let dryRun = arguments.flag("--dry-run")
            let policyPath = try arguments.value("--policy")
            guard let window else {
                if gatePath != nil || dryRun { throw Arguments.Failure("--gate and --dry-run need --shadow DURATION") }
                return nil
            }
            guard let seconds = duration(window), seconds > 0 else {
                throw Arguments.Failure("--shadow takes a duration like 30s, 5m, 1h or 500ms; got \(window)")
            }
            guard rate > 0 else { throw Arguments.Failure("--shadow-rate must be above 0 for a shadow deploy") }
            var options = Options(window: seconds, rate: Float(rate), dryRun: dryRun)
            if let gatePath {
                do { options.gate = try ShadowGate.load(path: gatePath) } catch {
                    // PolicyError words it for policy files; the gate file shares its rules.
                    throw Arguments.Failure("--gate \(gatePath): " + error.description.replacingOccurrences(of: "policy", with: "gate"))
                }
            }
            if let policyPath { options.policy = try RunbookPolicy.load(path: policyPath) }
            return options
        }
    }

    /// "30s", "5m", "1h", "500ms", or a plain number of seconds.
    static func duration(_ text: String) -> TimeInterval? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value.isFinite else { return nil }
            return value * scale
        }
        return Double(text).flatMap { $0.isFinite ? $0 : nil }
    }

    static func run(_ options: Options, artifact: String, checksum: Digest32, fleet: FleetOperations,
                    nodes: [Endpoint], json: Bool) -> ExitCode {
        // With --json, stdout carries only the JSON object: the notification's line goes to stderr.
        let toStderr: @Sendable (String) -> Void = { text in FileHandle.standardError.write(Data((text + "\n").utf8)) }
        let line = json ? toStderr : Notifier.writeToStdout
        let notifier = options.policy.map { Notifier(policy: $0, printLine: line) } ?? Notifier(printLine: line)
        let deployment = ShadowDeployment(fleet: fleet, gate: options.gate, window: options.window, rate: options.rate,
                                          dryRun: options.dryRun, notifier: notifier, say: { line in if !json { print(line) } })
        let report = deployment.run(artifact: artifact, checksum: checksum, nodes: nodes)
        if json {
            var object: [String: Any] = ["action": "deploy", "shadow_seconds": options.window, "shadow_rate": Double(options.rate),
                                         "outcome": report.outcome.rawValue, "exit_code": report.exitCode.rawValue,
                                         "verdicts": report.nodes.compactMap { $0.verdict?.json }]
            let aborted = report.nodes.compactMap { n in n.aborted.map { ["node": n.node, "reason": $0] } }
            if !aborted.isEmpty { object["aborted"] = aborted }
            if let fleet = report.fleet { object["nodes"] = fleet.nodes.map(ChangeCommands.json) }
            if let error = report.error { object["error"] = "\(error)" }
            Output.json(object)
        } else {
            for line in report.lines { print(line) }
            switch report.outcome {
            case .refused: Output.error("mlctl deploy: the shadow gate refused it; nothing swapped (standby left loaded)")
            case .aborted: Output.error("mlctl deploy: shadow window aborted; nothing swapped")
            case .failed: Output.error("mlctl deploy: " + (report.error.map { "\($0)" } ?? "the swap phase failed"))
            case .dryRun, .swapped: break
            }
        }
        return report.exitCode
    }
}
