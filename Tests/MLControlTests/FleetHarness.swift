import Foundation
import Glibc
import MLClient
import MLTooling
import MLWire
import XCTest

/// Three real `mlserve` children, each behind a `FaultRelay` (its stable address), with state
/// files so a killed node can be restarted where it was, and a runner for real `mlctl`
/// processes sharing one controller database. Relays are sorted by port, so index order is the
/// canonical order mlctl visits them in.
final class FleetHarness {
    static let token = "fleet-test-token-0123456789abcdef"
    let directory: URL
    private(set) var nodes: [LocalNode] = []
    private(set) var relays: [FaultRelay] = []
    let database: String

    init(count: Int = 3) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlctl-fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = directory.appendingPathComponent("control.sqlite").path
        var started: [(LocalNode, FaultRelay, Int)] = []
        for i in 0..<count {
            let node = try Self.start(directory: directory, index: i)
            started.append((node, try FaultRelay(upstream: node.endpoint), i))
        }
        started.sort { $0.1.port < $1.1.port }
        // State files are named by start index; remember which belongs to which slot.
        stateIndex = started.map(\.2)
        nodes = started.map(\.0)
        relays = started.map(\.1)
    }

    private var stateIndex: [Int] = []

    private static func start(directory: URL, index: Int) throws -> LocalNode {
        try LocalNode(arguments: ["--port", "0", "--admin-port", "off", "--loops", "1",
                                  "--state", directory.appendingPathComponent("node\(index).state").path],
                      token: token)
    }

    func stop() {
        for node in nodes {
            Glibc.kill(node.pid, SIGCONT)
            node.stop(timeout: 5)
        }
        relays.forEach { $0.stop() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGSTOP to node `i`, returning once the kernel shows it stopped (state T in /proc).
    func freeze(_ i: Int) {
        let pid = nodes[i].pid
        Glibc.kill(pid, SIGSTOP)
        for _ in 0..<500 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "T" { return }
            usleep(2_000)
        }
    }

    func thaw(_ i: Int) { Glibc.kill(nodes[i].pid, SIGCONT) }

    /// Kills node `i` (SIGKILL) and waits for it to be gone.
    func kill(_ i: Int) {
        nodes[i].signal(SIGKILL)
        nodes[i].waitForExit(timeout: 10)
    }

    /// Starts node `i` again on its state file and points its relay at it.
    func restart(_ i: Int) throws {
        if nodes[i].process.isRunning { kill(i) }
        nodes[i] = try Self.start(directory: directory, index: stateIndex[i])
        relays[i].repoint(nodes[i].endpoint)
    }

    var endpoints: [Endpoint] { relays.map(\.endpoint) }
    var nodeArguments: [String] { endpoints.flatMap { ["--node", $0.description] } }

    /// Info straight from node `i` (not through its relay), v2.
    func info(_ i: Int) throws -> InfoReply {
        let client = try NodeClient(nodes[i].endpoint, timeout: 5)
        defer { client.close() }
        try client.hello(role: .data)
        return try client.info()
    }

    func actives() throws -> [String] { try (0..<nodes.count).map { try info($0).active.version } }

    /// Polls node `i` until it answers Info (a resumed or restarted node), bounded.
    func waitUntilAnswering(_ i: Int, timeout: TimeInterval = 10) throws -> InfoReply {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do { return try info(i) } catch {
                if Date() > deadline { throw error }
                usleep(20_000)
            }
        }
    }

    // MARK: mlctl

    struct Run {
        let process: Process
        let output: Pipe
        let errors: Pipe

        /// Exit status and stdout; the process is killed if it runs past `timeout`.
        func finish(timeout: TimeInterval = 60) -> (code: Int32, stdout: String, stderr: String) {
            let deadline = Date().addingTimeInterval(timeout)
            let out = Collected()
            let err = Collected()
            let group = DispatchGroup()
            let outHandle = output.fileHandleForReading
            let errHandle = errors.fileHandleForReading
            DispatchQueue.global().async(group: group) { out.set(outHandle.readDataToEndOfFile()) }
            DispatchQueue.global().async(group: group) { err.set(errHandle.readDataToEndOfFile()) }
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            group.wait()
            return (process.terminationStatus, out.text, err.text)
        }
    }

    /// A pipe's contents, handed from its reader thread.
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()  // protected by lock
        func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
    }

    func start(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = LocalNode.siblingExecutable().deletingLastPathComponent().appendingPathComponent("mlctl")
        process.arguments = arguments + ["--db", database]
        var environment = ProcessInfo.processInfo.environment
        environment["MLCTL_TOKEN"] = Self.token
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        return Run(process: process, output: output, errors: errors)
    }

    func mlctl(_ arguments: [String], timeout: TimeInterval = 60) throws -> (code: Int32, stdout: String, stderr: String) {
        try start(arguments).finish(timeout: timeout)
    }

    /// The per-node objects of a `--json` fleet report, keyed by node.
    static func report(_ stdout: String) -> [String: [String: Any]] {
        guard let data = stdout.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let nodes = object["nodes"] as? [[String: Any]] else { return [:] }
        var result: [String: [String: Any]] = [:]
        for node in nodes { if let name = node["node"] as? String { result[name] = node } }
        return result
    }

    /// Every node's Info agrees with what the report says it serves (a node reported `unknown`
    /// is not checked: mlctl said it does not know).
    func assertReportMatchesNodes(_ stdout: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let report = Self.report(stdout)
        XCTAssertEqual(report.count, nodes.count, "report: \(stdout)", file: file, line: line)
        for i in 0..<nodes.count {
            guard let entry = report[endpoints[i].description] else { continue }
            if entry["outcome"] as? String == "unknown" { continue }
            XCTAssertEqual(entry["serves"] as? String, try info(i).active.version, "node \(i) in \(stdout)", file: file, line: line)
        }
    }

    /// One watch round with reconciliation, then `fleet status` must exit 0 and every node serve
    /// its desired version.
    func assertConvergesAfterOneWatchRound(file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let watch = try mlctl(["watch", "--rounds", "1", "--interval", "0.01", "--timeout", "1"] + nodeArguments)
        XCTAssertEqual(watch.code, 0, watch.stdout + watch.stderr, file: file, line: line)
        let status = try mlctl(["fleet", "status", "--timeout", "1"] + nodeArguments)
        XCTAssertEqual(status.code, 0, "not converged after one watch round:\n\(watch.stdout)\n\(status.stdout)", file: file, line: line)
        return try actives()
    }
}
