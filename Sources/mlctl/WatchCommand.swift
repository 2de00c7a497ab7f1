import MLCommandLine
import Foundation
import MLClient
import MLControl

/// `mlctl watch`: builds the policy and the loop, prints each event as a line.
enum WatchCommand {
    static func run(_ arguments: inout Arguments) throws -> ExitCode {
        let policyPath = try arguments.value("--policy")
        var policy = RunbookPolicy()
        if let policyPath { policy = try RunbookPolicy.load(path: policyPath) }
        let interval = try arguments.double("--interval", default: policy.pollIntervalSeconds, range: 0.01...86_400)
        let durationText = try arguments.value("--duration")
        let rounds = try arguments.value("--rounds").map { text -> Int in
            guard let n = Int(text), n >= 1 else { throw Arguments.Failure("--rounds must be a positive integer, got \(text)") }
            return n
        }
        policy.deployWindowSeconds = try arguments.double("--deploy-window", default: policy.deployWindowSeconds, range: 0.01...1e9)
        policy.stabilityWindowSeconds = try arguments.double("--stability-window", default: policy.stabilityWindowSeconds, range: 0.01...1e9)
        policy.baselineWindowSeconds = try arguments.double("--baseline-window", default: policy.baselineWindowSeconds, range: 0.01...1e9)
        policy.pollIntervalSeconds = interval
        let dryRun = arguments.flag("--dry-run")
        let options = try GlobalOptions(&arguments)
        try arguments.finish()
        var duration: TimeInterval?
        if let durationText {
            guard let d = Double(durationText), d > 0 else { throw Arguments.Failure("--duration must be a positive number of seconds") }
            duration = d
        }
        try policy.validate()
        let store = try options.openStore()
        let json = options.json
        var configuration = WatchConfiguration(nodes: options.nodes, policy: policy, interval: interval, duration: duration, maxRounds: rounds)
        configuration.fleet = options.fleet
        configuration.clockSkew = options.clockSkew
        configuration.dryRun = dryRun
        print("watching \(options.nodes.map(\.description).joined(separator: ", ")) every \(Formatting_limit(interval))s; "
            + "recording to \(options.databasePath)" + (dryRun ? "; DRY RUN: nothing will be changed on the nodes" : "") + (duration.map { " for \(Formatting_limit($0))s" } ?? " until stopped"))
        let loop = WatchLoop(configuration: configuration, store: store, access: options.access,
                             notifier: Notifier(policy: policy), onEvent: { event in
                                 if json {
                                     Output.json(["at": SQLTime.iso8601(event.at), "event": event.line])
                                 } else {
                                     print(event.line)
                                 }
                             })
        loop.run()
        return .ok
    }
}

func Formatting_limit(_ value: Double) -> String {
    value == value.rounded() ? String(Int64(value)) : String(value)
}
