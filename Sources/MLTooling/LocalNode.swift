import MLClient
import Foundation
import Glibc

/// An `mlserve` child process on this machine, for `mlctl demo`, `mlbench` and the tests: started
/// with the caller's arguments (which should include `--port 0`), the controller token passed in
/// $MLSERVE_TOKEN (never on the command line, where `ps` shows it), and ready once it prints
/// `ready port=N`. Its output is read to the end on a helper thread, so the node never blocks on a
/// full pipe and a node that hangs without printing cannot hang the caller past the timeout.
public final class LocalNode {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let process = Process()
    public let endpoint: Endpoint
    public let token: String
    public let executable: URL
    private let output = OutputBox()
    private let errors = OutputBox()

    public var pid: Int32 { process.processIdentifier }

    /// The `mlserve` in the same directory as the running executable (so a release mlbench starts
    /// a release node, and a test bundle the node built with it).
    public static func siblingExecutable() -> URL {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let me = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("mlserve")
    }

    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<3).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
    }

    /// `captureErrors`: keep the node's stderr (its log lines) in `logged`; otherwise discarded.
    public init(executable: URL = LocalNode.siblingExecutable(), arguments: [String], token: String = LocalNode.randomToken(),
                startupTimeout: TimeInterval = 20, captureErrors: Bool = false) throws(Failure) {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw Failure(description: "mlserve not found at \(executable.path); build the package first (swift build)")
        }
        self.executable = executable
        self.token = token
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MLSERVE_TOKEN"] = token
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        let errorPipe = captureErrors ? Pipe() : nil
        if let errorPipe { process.standardError = errorPipe } else { process.standardError = FileHandle.nullDevice }
        do { try process.run() } catch { throw Failure(description: "cannot start \(executable.path): \(error.localizedDescription)") }
        LocalNode.drain(pipe.fileHandleForReading, into: output)
        if let errorPipe { LocalNode.drain(errorPipe.fileHandleForReading, into: errors) }
        guard let port = output.waitForPort(timeout: startupTimeout) else {
            process.terminate()
            process.waitUntilExit()
            throw Failure(description: "\(executable.path) did not print `ready port=N` within \(Int(startupTimeout)) s (exit status \(process.terminationStatus))")
        }
        endpoint = Endpoint(host: "127.0.0.1", port: port)
    }

    deinit { if process.isRunning { stop(timeout: 2) } }

    private static func drain(_ handle: FileHandle, into box: OutputBox) {
        Thread.detachNewThread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                box.append(chunk)
            }
            box.finish()
        }
    }

    /// SIGTERM (the node drains and exits 0), then SIGKILL after `timeout`. The exit status, or
    /// nil when it had to be killed.
    @discardableResult
    public func stop(timeout: TimeInterval = 10) -> Int32? {
        signal(SIGTERM)
        return waitForExit(timeout: timeout)
    }

    public func signal(_ number: Int32) {
        if process.isRunning { kill(pid, number) }
    }

    /// The exit status once the process ends within `timeout`; otherwise SIGKILL and nil.
    @discardableResult
    public func waitForExit(timeout: TimeInterval = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// Everything the node printed so far (all of it once it has exited).
    public var printed: String { output.text }

    /// What the node wrote on stderr so far (its log), when started with `captureErrors`.
    public var logged: String { errors.text }

    /// Waits until the log has a line containing `text`; false after `timeout`.
    public func waitForLog(_ text: String, timeout: TimeInterval = 10) -> Bool {
        errors.waitFor(text, timeout: timeout)
    }
}

/// The child's stdout, shared between the reader thread and the owner.
private final class OutputBox: @unchecked Sendable {
    private let condition = NSCondition()
    private var bytes = Data()  // protected by condition
    private var ended = false  // protected by condition

    func append(_ chunk: Data) {
        condition.lock()
        bytes.append(chunk)
        condition.broadcast()
        condition.unlock()
    }

    func finish() {
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func waitFor(_ text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if String(decoding: bytes, as: UTF8.self).contains(text) { return true }
            if ended || !condition.wait(until: deadline) { return String(decoding: bytes, as: UTF8.self).contains(text) }
        }
    }

    func waitForPort(timeout: TimeInterval) -> UInt16? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
            if let line = lines.first(where: { $0.hasPrefix("ready port=") }) {
                return UInt16(line.dropFirst("ready port=".count).trimmingCharacters(in: .whitespaces))
            }
            if ended || !condition.wait(until: deadline) { return nil }
        }
    }
}
