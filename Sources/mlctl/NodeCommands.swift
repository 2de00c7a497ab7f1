import MLCommandLine
import MLClient
import MLControl
import MLWire

/// info, health, ready, metrics: read-only, no token needed, one row per node.
enum NodeCommands {
    static func run(_ command: String, _ arguments: inout Arguments) throws -> ExitCode {
        let options = try GlobalOptions(&arguments)
        try arguments.finish()
        let access = options.access
        var codes: [ExitCode] = []
        var objects: [[String: Any]] = []
        var rows: [[String]] = []
        var tables: [String] = []
        for endpoint in options.nodes {
            let node = endpoint.description
            do {
                switch command {
                case "info":
                    let info = try access.with(endpoint, controller: false) { c throws(ClientError) in try c.info() }
                    objects.append(["node": node, "generation": info.generation, "ready": info.ready, "draining": info.draining,
                                    "active": slot(info.active), "standby": slot(info.standby)])
                    rows.append([node, String(info.generation), info.ready ? "yes" : "no", describe(info.active), describe(info.standby)])
                case "health":
                    let h = try access.with(endpoint, controller: false) { c throws(ClientError) in try c.health() }
                    objects.append(["node": node, "serving": h.serving, "uptime_ms": h.uptimeMillis])
                    rows.append([node, h.serving ? "serving" : "NOT SERVING", "\(h.uptimeMillis / 1000) s"])
                    if !h.serving { codes.append(.refused) }
                case "ready":
                    let r = try access.with(endpoint, controller: false) { c throws(ClientError) in try c.ready() }
                    objects.append(["node": node, "ready": r.ready, "reason": r.reason])
                    rows.append([node, r.ready ? "ready" : "NOT READY", r.reason])
                    if !r.ready { codes.append(.refused) }
                default:
                    let m = try access.with(endpoint, controller: false) { c throws(ClientError) in try c.metrics() }
                    objects.append(["node": node, "generation": m.generation, "active_version": m.activeVersion, "uptime_ms": m.uptimeMillis,
                                    "versions": m.versions.map { RecordViews.json($0, active: $0.version == m.activeVersion) }])
                    tables.append(RecordViews.metricsTable(node: node, reply: m).rendered)
                }
            } catch {
                codes.append(error.exitCode)
                objects.append(["node": node, "error": "\(error)", "exit_code": error.exitCode.rawValue])
                if !options.json { Output.error("mlctl \(command): \(error)") }
            }
        }
        if options.json {
            Output.json(options.nodes.count == 1 && objects.count == 1 ? objects[0] : objects as Any)
        } else if command == "metrics" {
            print(tables.joined(separator: "\n\n"))
        } else if !rows.isEmpty {
            let headers = switch command {
            case "info": ["node", "generation", "ready", "active", "standby"]
            case "health": ["node", "health", "uptime"]
            default: ["node", "ready", "reason"]
            }
            print(TextTable(headers: headers, rows: rows, maxWidth: 90).rendered)
        }
        return Output.worst(codes)
    }

    static func slot(_ s: SlotInfo) -> [String: Any] {
        guard s.present else { return ["present": false] }
        return ["present": true, "model_name": s.modelName, "version": s.version, "kind": ModelKind(rawValue: s.kind)?.name ?? "\(s.kind)",
                "feature_count": s.featureCount, "checksum": s.checksum.hex, "artifact": s.artifact]
    }

    static func describe(_ s: SlotInfo) -> String {
        guard s.present else { return "(empty)" }
        return "\(s.version) [\(s.modelName), \(ModelKind(rawValue: s.kind)?.name ?? "?"), sha256 \(s.checksum.hex.prefix(12))…, \(s.artifact)]"
    }
}
