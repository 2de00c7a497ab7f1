import MLCommandLine
import Foundation
import MLClient
import MLControl
import MLWire

/// load, deploy, swap, rollback: controller actions, two-phase across the --node list,
/// recorded in DEPLOYMENTS with actor 'manual'.
enum ChangeCommands {
    static func run(_ command: String, _ arguments: inout Arguments) throws -> ExitCode {
        let checksumText = command == "load" || command == "deploy" ? try arguments.value("--checksum") : nil
        let expect = command == "swap" || command == "rollback" ? try arguments.value("--expect") : nil
        let artifactText = command == "load" || command == "deploy" ? arguments.positional() : nil
        let options = try GlobalOptions(&arguments)
        try arguments.finish()
        var checksum = Digest32.zero
        if let checksumText {
            guard let parsed = Digest32(hex: checksumText) else { throw Arguments.Failure("--checksum must be 64 hex digits, got \(checksumText)") }
            checksum = parsed
        }
        if (command == "load" || command == "deploy") && artifactText == nil { throw Arguments.Failure("\(command) needs an <artifact>") }
        if command == "swap" && expect == nil { throw Arguments.Failure("swap needs --expect VERSION (the version you believe is active)") }
        let artifact = artifactText.map(absolute)
        let store = try options.openStore()
        let operations = NodeOperations(access: options.access, store: store)

        if command == "load" {
            var codes: [ExitCode] = []
            var objects: [[String: Any]] = []
            for endpoint in options.nodes {
                do {
                    let slot = try operations.load(endpoint, artifact: artifact!, checksum: checksum)
                    objects.append(["node": endpoint.description, "status": "loaded", "standby": NodeCommands.slot(slot)])
                    if !options.json { print("\(endpoint): standby now \(NodeCommands.describe(slot))") }
                } catch {
                    codes.append(error.exitCode)
                    objects.append(["node": endpoint.description, "status": "failed", "error": "\(error)"])
                    if !options.json { Output.error("mlctl load: \(error)") }
                }
            }
            if options.json { Output.json(objects.count == 1 ? objects[0] : objects as Any) }
            return Output.worst(codes)
        }

        let fleet = FleetOperations(operations: operations)
        let report: FleetReport = switch command {
        case "deploy": fleet.deploy(artifact: artifact!, checksum: checksum, nodes: options.nodes)
        case "swap": fleet.swap(expect: expect!, nodes: options.nodes)
        default: fleet.rollback(expect: expect, nodes: options.nodes)
        }
        let objects = report.nodes.map(json)
        if options.json {
            Output.json(command == "rollback" && objects.count == 1 ? objects[0] : ["action": command, "ok": report.succeeded, "nodes": objects] as [String: Any])
        } else {
            for line in report.lines { print(line) }
            if command == "rollback" {
                for response in report.nodes.compactMap({ $0.swap?.rollbackResponse }) { Output.json(responseJSON(response)) }
            }
            if !report.succeeded {
                Output.error("mlctl \(command): " + (report.partiallyApplied ? "FLEET PARTIALLY APPLIED — see the nodes marked compensation_failed"
                    : "nothing changed" + (report.nodes.contains { $0.outcome == .compensated } ? " (nodes that moved were swapped back)" : "")))
            }
        }
        return report.exitCode
    }

    /// The node opens the path itself, from its own working directory: send it absolute.
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("builtin:") || path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path).standardizedFileURL.path
    }

    static func responseJSON(_ r: RollbackResponse) -> [String: Any] {
        ["status": r.status, "previous_version": r.previousVersion, "rolled_back_to": r.rolledBackTo, "timestamp": r.timestamp,
         "node": r.node, "generation": r.generation, "swap_micros": r.swapMicros, "round_trip_micros": r.roundTripMicros]
    }

    static func json(_ n: NodeReport) -> [String: Any] {
        var o: [String: Any] = n.swap.map { responseJSON($0.rollbackResponse) } ?? ["status": "failed"]
        if n.outcome != .swapped { o["status"] = "failed" }
        o["node"] = n.node
        o["outcome"] = n.outcome.rawValue
        o["from_version"] = n.fromVersion
        o["to_version"] = n.toVersion
        o["prepared"] = n.prepared
        o["note"] = n.note
        if let e = n.error {
            o["error"] = "\(e)"
            o["exit_code"] = e.exitCode.rawValue
        }
        return o
    }
}
