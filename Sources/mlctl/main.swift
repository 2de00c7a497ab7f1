import MLCommandLine
import Foundation
import MLClient
import MLControl

// mlctl: argument parsing and wiring only; what the commands do lives in MLControl.

var arguments = Arguments(Array(CommandLine.arguments.dropFirst()))
let wantsHelp = arguments.flag("-h", "--help")
// The command is the first known command word wherever it stands, so options may come first
// (`mlctl --node H:P info`) without the option's value being taken for the command.
let commandWords = ["info", "health", "ready", "metrics", "load", "deploy", "swap", "rollback", "incidents", "history",
                    "watch", "demo", "artifact", "help"]
let command = arguments.first(of: commandWords) ?? arguments.positional()

if command == nil || command == "help" {
    let topic = command == "help" ? arguments.positional() : nil
    print(topic.flatMap(Help.text(for:)) ?? Help.main)
    exit(command == nil && !wantsHelp ? ExitCode.usage.rawValue : 0)
}
if wantsHelp {
    guard let text = Help.text(for: command!) else {
        FileHandle.standardError.write(Data("mlctl: unknown command \(command!) (see mlctl --help)\n".utf8))
        exit(ExitCode.usage.rawValue)
    }
    print(text)
    exit(0)
}

do {
    let code = try Commands.run(command!, &arguments)
    exit(code.rawValue)
} catch let failure as Arguments.Failure {
    let help = Help.text(for: command!) == nil ? "mlctl --help" : "mlctl \(command!) --help"
    FileHandle.standardError.write(Data("mlctl \(command!): \(failure) (see \(help))\n".utf8))
    exit(ExitCode.usage.rawValue)
} catch let error as ControlError {
    FileHandle.standardError.write(Data("mlctl \(command!): \(error)\n".utf8))
    exit(error.exitCode.rawValue)
} catch {
    FileHandle.standardError.write(Data("mlctl \(command!): \(error)\n".utf8))
    exit(ExitCode.local.rawValue)
}
