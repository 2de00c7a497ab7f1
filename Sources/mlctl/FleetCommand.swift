import Foundation
import MLCommandLine
import MLClient
import MLControl
import MLWire

/// `mlctl fleet status`: the desired state recorded for the fleet against what each node serves.
enum FleetCommand {
    static func run(_ arguments: inout Arguments) throws -> ExitCode {
        guard let sub = arguments.positional(), sub == "status" else {
            throw Arguments.Failure("fleet needs a subcommand: status")
        }
        let options = try GlobalOptions(&arguments)
        try arguments.finish()
        let store = try options.openStore()
        let operations = NodeOperations(access: options.access, store: store)
        let reconciler = FleetReconciler(operations: operations, fleet: options.fleet)
        let statuses = try reconciler.status(extra: options.nodesGiven ? options.nodes : [])
        let lock = try store.fleetLock(fleet: options.fleet)
        if options.json {
            var lockObject: Any = NSNull()
            if let lock {
                lockObject = ["operation_id": lock.operationID, "action": lock.action, "holder": lock.holder,
                              "since": SQLTime.iso8601(lock.acquiredAt)] as [String: Any]
            }
            let nodes: [[String: Any]] = statuses.map(json)
            Output.json(["fleet": options.fleet, "lock": lockObject, "converged": statuses.allSatisfy { $0.converged },
                         "nodes": nodes] as [String: Any])
        } else {
            print("fleet \(options.fleet)" + (lock.map { ": LOCKED by \($0)" } ?? ""))
            for s in statuses {
                let desired = s.desired.map(\.version) ?? "(none)"
                let actual = s.actual.map { $0.active.present ? $0.active.version : "(empty)" } ?? "UNREACHABLE"
                var line = "\(s.node): desired \(desired), serves \(actual)"
                if let info = s.actual { line += ", standby \(info.standby.present ? info.standby.version : "(empty)")" }
                if let op = s.actual?.lastOperationID, !op.isEmpty { line += ", last operation \(op)" }
                line += s.converged ? "  ok" : "  DIFFERS"
                if let error = s.error { line += " (\(error))" }
                print(line)
            }
        }
        return statuses.allSatisfy { $0.converged } ? .ok : .partial
    }

    static func json(_ s: FleetReconciler.NodeStatus) -> [String: Any] {
        var o: [String: Any] = ["node": s.node, "converged": s.converged]
        if let d = s.desired {
            o["desired"] = ["version": d.version, "checksum": d.checksum, "operation_id": d.operationID ?? ""] as [String: Any]
        }
        if let info = s.actual {
            o["active"] = info.active.present ? info.active.version : ""
            o["active_checksum"] = info.active.checksum.hex
            o["standby"] = info.standby.present ? info.standby.version : ""
            o["last_operation_id"] = info.lastOperationID ?? ""
        }
        if let error = s.error { o["error"] = error }
        return o
    }
}
