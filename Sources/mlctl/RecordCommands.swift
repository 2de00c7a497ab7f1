import MLCommandLine
import MLClient
import MLControl

/// incidents and history: read the database; no node is contacted.
enum RecordCommands {
    static func run(_ command: String, _ arguments: inout Arguments) throws -> ExitCode {
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
}
