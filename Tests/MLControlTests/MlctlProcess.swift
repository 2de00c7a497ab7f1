import Foundation
import Glibc
import MLClient
import MLTooling
import XCTest

/// mlctl as a child via posix_spawn, output to a file, reaped with waitpid (bounded, 60 s).
/// Not Foundation's Process: with a dnsmasq Process running, its monitor never saw mlctl exit.
func runMlctl(_ arguments: [String]) throws -> (status: Int32, output: String) {
    try runChild(LocalNode.siblingExecutable().deletingLastPathComponent().appendingPathComponent("mlctl").path, arguments)
}

/// Any program, likewise: stdout and stderr together, exit status (128+N when killed by signal N).
func runChild(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("mlctl-\(UUID().uuidString).log").path
    defer { try? FileManager.default.removeItem(atPath: log) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    var environment: [String] = ProcessInfo.processInfo.environment.filter { $0.key != "MLCTL_TOKEN" }.map { "\($0.key)=\($0.value)" }
    environment.append("MLCTL_TOKEN=\(InProcessNode.token)")
    let env: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
    defer { (argv + env).forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, env)
    guard spawned == 0 else { throw NSError(domain: "spawn", code: Int(spawned)) }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(60)
    while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); throw NSError(domain: "mlctl", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(executable) did not exit within 60 s"]) }
        usleep(10_000)
    }
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
}

