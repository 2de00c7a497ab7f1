import MLTooling
import MLCommandLine
import Foundation
import MLClient
import MLControl

/// `mlctl demo`: a child mlserve, the demo scenario against it, the queries to try, SIGTERM.
enum DemoCommand {
    static func run(_ arguments: inout Arguments) throws -> ExitCode {
        var demo = DemoScenario.Options()
        demo.interval = try arguments.double("--interval", default: demo.interval, range: 0.1...10)
        demo.stabilityWindow = try arguments.double("--stability-window", default: demo.stabilityWindow, range: 0.5...300)
        let keep = arguments.flag("--keep")
        let options = try GlobalOptions(&arguments)
        try arguments.finish()

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlctl-demo-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let databasePath = options.databaseGiven ? options.databasePath
            : FileManager.default.temporaryDirectory.appendingPathComponent("mlctl-demo-\(getpid()).sqlite").path
        print("mlctl demo: the model-rollback runbook, automated, in about half a minute\n")
        // Built-in models, ephemeral port, admin HTTP off, state and token in a private directory.
        let child: LocalNode
        do {
            child = try LocalNode(arguments: [
                "--port", "0", "--admin-port", "off", "--loops", "2",
                "--state", directory.appendingPathComponent("mlserve.state").path,
                "--token-file", directory.appendingPathComponent("mlserve.token").path,
                "--name", "mlctl-demo-node"])
        } catch {
            throw ControlError.local(error.description)
        }
        print("started child mlserve pid \(child.process.processIdentifier) on \(child.endpoint) (state and token in \(directory.path))\n")
        defer {
            let status = child.stop()
            print("\nstopped child mlserve with SIGTERM: " + (status.map { "exit \($0)" } ?? "did not exit in time, killed"))
            if !keep { try? FileManager.default.removeItem(at: directory) }
        }
        let scenario = DemoScenario(endpoint: child.endpoint, token: child.token, databasePath: databasePath, options: demo,
                                    say: { print($0) })
        let result = try scenario.run()
        print("\nSQLite file: \(databasePath)")
        print("Try the runbook's queries (SQLite syntax; more in the README):")
        for line in queries(databasePath) { print("  " + line) }
        print("  mlctl incidents --db \(databasePath)")
        print("  mlctl history --db \(databasePath)")
        guard result.rolledBack, let incident = result.incident, incident.status == "resolved" else {
            Output.error("mlctl demo: the rollback did not happen (or was not verified) within the time limit")
            return .local
        }
        return .ok
    }

    static func queries(_ path: String) -> [String] {
        let model = "anomaly-detector"
        return [
            "sqlite3 -header -column \(path) \"" + RunbookQueries.recentMetrics.replacingOccurrences(of: "?", with: "'\(model)'") + "\"",
            "sqlite3 -header -column \(path) \"" + RunbookQueries.baseline24h.replacingOccurrences(of: "?", with: "'\(model)'") + "\"",
            "sqlite3 -header -column \(path) \"SELECT incident_id, alert_type, status, stability_outcome, root_cause FROM INCIDENTS\"",
            "sqlite3 -header -column \(path) \"SELECT timestamp, action, actor, from_version, to_version, swap_micros, status FROM DEPLOYMENTS\"",
        ]
    }
}
