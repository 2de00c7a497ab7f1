import Foundation
import MLCommandLine
import MLClient
import MLControl

/// incidents and history: read the database; resolve closes an incident. No node is contacted.
enum RecordCommands {
    static func run(_ command: String, _ arguments: inout Arguments) throws -> ExitCode {
        if command == "resolve" { return try resolve(&arguments) }
        let limit = try arguments.integer("--limit", default: 20, range: 1...10_000)
        let status = command == "incidents" ? try arguments.value("--status") : nil
        let id = command == "incidents" ? try arguments.value("--id") : nil
        let options = try GlobalOptions(&arguments)
        try arguments.finish()
        let store = try options.openStore()
        if command == "history" {
            let rows = try store.deployments(limit: limit)
            if options.json { Output.json(rows.map(RecordViews.json)) }
            else { print(rows.isEmpty ? "no deployments recorded in \(options.databasePath)" : RecordViews.deploymentsTable(rows).rendered) }
            return .ok
        }
        if let id {
            guard let row = try store.incident(id: id) else { throw ControlError.local("no incident \(id) in \(options.databasePath)") }
            if options.json { Output.json(RecordViews.json(row)) } else { print(RecordViews.incidentDetail(row)) }
            return .ok
        }
        let rows = try store.incidents(limit: limit, status: status)
        if options.json { Output.json(rows.map(RecordViews.json)) }
        else { print(rows.isEmpty ? "no incidents recorded in \(options.databasePath)" : RecordViews.incidentsTable(rows).rendered) }
        return .ok
    }

    /// `mlctl resolve INCIDENT [--note TEXT]`: a person closes an incident (a `paused` one lets
    /// the watch loop act on that node again).
    private static func resolve(_ arguments: inout Arguments) throws -> ExitCode {
        let note = try arguments.value("--note")
        let options = try GlobalOptions(&arguments)
        guard let id = arguments.positional() else { throw Arguments.Failure("resolve needs an incident id (see mlctl incidents)") }
        try arguments.finish()
        let store = try options.openStore()
        guard let row = try store.incident(id: id) else { throw ControlError.local("no incident \(id) in \(options.databasePath)") }
        let now = Date()
        try store.updateIncident(id: id, status: "resolved", resolution: row.resolution.map { $0 + "; resolved by hand" } ?? "Resolved by hand",
                                 appendingNote: "\(SQLTime.string(now)) resolved by hand (was \(row.status))" + (note.map { ": \($0)" } ?? ""), at: now)
        print("\(id) resolved (was \(row.status))")
        return .ok
    }
}
