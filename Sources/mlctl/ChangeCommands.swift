import MLCommandLine
import Foundation
import MLClient
import MLControl
import MLModel
import MLWire

/// load, deploy, swap, rollback: controller actions, two-phase across the --node list,
/// recorded in DEPLOYMENTS with actor 'manual'.
enum ChangeCommands {
    static func run(_ command: String, _ arguments: inout Arguments) throws -> ExitCode {
        let checksumText = command == "load" || command == "deploy" ? try arguments.value("--checksum") : nil
        let expect = command == "swap" || command == "rollback" ? try arguments.value("--expect") : nil
        let force = arguments.flag("--force")
        let lockWait = try arguments.double("--lock-wait", default: 0, range: 0...3_600)
        let staleLock = try arguments.double("--stale-lock", default: 120, range: 1...86_400)
        let options = try GlobalOptions(&arguments)
        // After every option has taken its value, so `load --node H:P builtin:v2.1` works.
        let artifactText = command == "load" || command == "deploy" ? arguments.positional() : nil
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
        let operations = NodeOperations(access: options.access, store: store, clockSkew: options.clockSkew)
        let settings = FleetSettings(fleet: options.fleet, lockWait: lockWait, staleLockAfter: staleLock, force: force)

        if command == "load" {
            var codes: [ExitCode] = []
            var objects: [[String: Any]] = []
            for endpoint in options.nodes {
                do {
                    let slot = try operations.load(endpoint, artifact: artifact!, checksum: checksum,
                                                   operationID: settings.operationID, force: force)
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

        let fleet = FleetOperations(operations: operations, settings: settings)
        let report: FleetReport = switch command {
        case "deploy": fleet.deploy(artifact: artifact!, checksum: checksum, target: localIdentity(artifact!, checksum: checksum), nodes: options.nodes)
        case "swap": fleet.swap(expect: expect!, nodes: options.nodes)
        default: fleet.rollback(expect: expect, nodes: options.nodes)
        }
        let objects = report.nodes.map(json)
        if options.json {
            if let busy = report.busy {
                Output.json(["action": command, "ok": false, "busy": ["fleet": busy.fleet, "operation_id": busy.operationID, "action": busy.action,
                                                                     "holder": busy.holder, "since": SQLTime.iso8601(busy.acquiredAt)]] as [String: Any])
            } else {
                Output.json(command == "rollback" && objects.count == 1 ? objects[0]
                    : ["action": command, "ok": report.succeeded, "operation_id": report.operationID, "exit_code": report.exitCode.rawValue,
                       "nodes": objects] as [String: Any])
            }
        } else {
            for line in report.lines { print(line) }
            if command == "rollback" {
                for response in report.nodes.compactMap({ $0.swap?.rollbackResponse }) { Output.json(responseJSON(response)) }
            }
            if report.busy != nil {
                Output.error("mlctl \(command): another fleet operation holds the lock; retry later or pass --lock-wait S")
            } else if !report.succeeded {
                Output.error("mlctl \(command): " + (report.partiallyApplied ? "FLEET SPLIT OR UNKNOWN — each node above says what it serves; `mlctl watch --fleet \(options.fleet)` converges it to the desired state"
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

    /// The artifact's version and checksum when this host can read it (a built-in, or a file
    /// that is here too), so nodes that already serve it are left alone; nil otherwise.
    static func localIdentity(_ artifact: String, checksum: Digest32) -> SlotIdentity? {
        if artifact.hasPrefix("builtin:") {
            guard let model = BuiltinModels.model(artifact: artifact), checksum.isZero || checksum == model.checksum else { return nil }
            return SlotIdentity(version: model.version, checksum: model.checksum)
        }
        guard FileManager.default.isReadableFile(atPath: artifact),
              let model = try? Model.load(path: artifact, expectedChecksum: checksum) else { return nil }
        return SlotIdentity(version: model.version, checksum: model.checksum)
    }

    static func json(_ n: NodeReport) -> [String: Any] {
        var o: [String: Any] = n.swap.map { responseJSON($0.rollbackResponse) } ?? ["status": "failed"]
        if n.outcome == .alreadyActive || n.outcome == .swapped { o["status"] = "success" } else if n.outcome != .swapped { o["status"] = n.outcome == .unknown ? "unknown" : "failed" }
        o["serves"] = n.serves ?? NSNull()
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
