import MLCommandLine
import MLClient
import MLControl

/// Dispatch: each command parses its own options, then the globals, then refuses leftovers.
enum Commands {
    static func run(_ command: String, _ arguments: inout Arguments) throws -> ExitCode {
        switch command {
        case "info", "health", "ready", "metrics": return try NodeCommands.run(command, &arguments)
        case "load", "deploy", "swap", "rollback": return try ChangeCommands.run(command, &arguments)
        case "incidents", "history", "resolve": return try RecordCommands.run(command, &arguments)
        case "watch": return try WatchCommand.run(&arguments)
        case "fleet": return try FleetCommand.run(&arguments)
        case "demo": return try DemoCommand.run(&arguments)
        case "artifact": return try ArtifactCommands.run(&arguments)
        default: throw Arguments.Failure("unknown command \(command)")
        }
    }
}
