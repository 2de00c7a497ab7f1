import Foundation
import MLClient
import MLCommandLine
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
            Output.json([
                "fleet": options.fleet,
                "lock": lock.map { ["operation_id": $0.operationID, "action": $0.action, "holder": $0.holder,
                                    "since": SQLTime.iso8601($0.acquiredAt)] as [String: Any] } ?? NSNull(),
                "converged": statuses.allSatisfy(\.converged),
                "nodes": statuses.map { s in
                    [
                        "node": s.node, "converged": s.converged,
                        "desired": s.desired.map { ["version": $0.version, "checksum": $0.checksum, "operation_id": $0.operationID ?? NSNull()] as [String: Any] } ?? NSNull(),
                        "active": s.actual.map { $0.active.present ? $0.active.version : "" } ?? NSNull(),
                        "active_checksum": s.actual.map { $0.active.checksum.hex } ?? NSNull(),
                        "standby": s.actual.map { $0.standby.present ? $0.standby.version : "" } ?? NSNull(),
                        "last_operation_id": s.actual?.lastOperationID ?? NSNull(),
                        "error": s.error ?? NSNull(),
                    ] as [String: Any]
                },
            ] as [String: Any])
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
        return statuses.allSatisfy(\.converged) ? .ok : .partial
    }
}
