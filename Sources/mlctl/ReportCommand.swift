import MLCommandLine
import Foundation
import MLClient
import MLControl

/// `mlctl report [--incident ID] -o report.html`: the deploy timeline as one self-contained page.
enum ReportCommand {
    static func run(_ arguments: inout Arguments) throws -> ExitCode {
        let incident = try arguments.value("--incident")
        let output = try arguments.value("-o", "--output") ?? "report.html"
        let options = try GlobalOptions(&arguments)
        try arguments.finish()
        guard FileManager.default.fileExists(atPath: options.databasePath) else {
            throw ControlError.local("no database at \(options.databasePath) (pass --db PATH)")
        }
        let store = try options.openStore()
        let path = try write(store: store, incidentID: incident, to: output)
        print("wrote \(path)")
        return .ok
    }

    /// Writes the page and returns its absolute path; an unknown incident is a usage error (exit 2).
    static func write(store: ControlStore, incidentID: String?, to output: String) throws -> String {
        let report: IncidentReport?
        do { report = try IncidentReport.load(store: store, incidentID: incidentID) } catch {
            throw ControlError.local("cannot read the records: \(error)")
        }
        guard let report else {
            throw ControlError.usage("no incident \(incidentID ?? "") in this database (see mlctl incidents)")
        }
        let url = URL(fileURLWithPath: ChangeCommands.absolute(output))
        do { try ReportHTML.render(report, generatedAt: Date()).write(to: url, atomically: true, encoding: .utf8) } catch {
            throw ControlError.local("cannot write \(url.path): \(error.localizedDescription)")
        }
        return url.path
    }
}
