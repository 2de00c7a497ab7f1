import Foundation
import Glibc
import MLClient
import MLTooling
import MLWire
import XCTest

/// The real `mlserve` binary for the hardening tests: started as a child in its own temporary
/// directory, optionally under resource limits (through `sh -c 'ulimit …; exec mlserve …'`, so the
/// PID stays the node's), with its log on stderr captured.
final class NodeProcess {
    let directory: URL
    let token = "hardening-token-0123456789"

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: LocalNode.siblingExecutable().path) else {
            throw XCTSkip("mlserve not built at \(LocalNode.siblingExecutable().path); run swift build first")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlserve-hardening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Arguments every test node gets: ephemeral port, no admin unless asked, files in `directory`.
    func arguments(_ extra: [String], state: String? = nil) -> [String] {
        var arguments = ["--port", "0", "--loops", "2", "--token-file", path("token"), "--state", state ?? path("mlserve.state")]
        if !extra.contains("--admin-port") { arguments += ["--admin-port", "off"] }
        return arguments + extra
    }

    /// A running node (ready printed), under `ulimit` settings when given (e.g. "-n 128").
    func start(_ extra: [String] = [], state: String? = nil, ulimit: String? = nil,
               environment: [String: String] = [:]) throws -> LocalNode {
        let (executable, arguments) = command(arguments(extra, state: state), ulimit: ulimit)
        for (key, value) in environment { setenv(key, value, 1) }
        defer { for key in environment.keys { unsetenv(key) } }
        return try LocalNode(executable: executable, arguments: arguments, token: token, captureErrors: true)
    }

    /// Runs a node that is expected to exit by itself (a refused start): status and stderr.
    func runToExit(_ extra: [String], state: String? = nil, ulimit: String? = nil, timeout: TimeInterval = 20,
                   environment extraEnvironment: [String: String] = [:]) throws -> (status: Int32, errors: String) {
        let (executable, arguments) = command(arguments(extra, state: state), ulimit: ulimit)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MLSERVE_TOKEN"] = token
        environment.merge(extraEnvironment) { $1 }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("mlserve \(extra) did not exit within \(timeout) s")
        }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }

    private func command(_ arguments: [String], ulimit: String?) -> (URL, [String]) {
        let node = LocalNode.siblingExecutable()
        guard let ulimit else { return (node, arguments) }
        return (URL(fileURLWithPath: "/bin/sh"), ["-c", "ulimit \(ulimit) && exec \"$0\" \"$@\"", node.path] + arguments)
    }

    /// A controller connection to `node`.
    func controller(_ node: LocalNode) throws -> NodeClient {
        let client = try NodeClient(node.endpoint, timeout: 10)
        try client.hello(role: .controller, token: token)
        return client
    }
}

/// A small tmpfs: a real file system that fills up. Root only (mount); skipped otherwise.
final class SmallFileSystem {
    let path: String

    init(kilobytes: Int) throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mlserve-tmpfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard SmallFileSystem.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", path]) == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw XCTSkip("mount -t tmpfs failed here")
        }
    }

    /// Writes a filler file until the file system refuses (ENOSPC); returns its path.
    @discardableResult
    func fill() -> String {
        let filler = path + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let block = [UInt8](repeating: 0x5a, count: 1024)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress!, $0.count) }) > 0 {}
        var one: UInt8 = 1
        while write(fd, &one, 1) > 0 {}
        close(fd)
        return filler
    }

    func unmount() {
        _ = SmallFileSystem.run("/usr/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
