import Foundation
import Glibc
import MLClient

/// A child `mlserve` for `mlctl demo`: the binary next to mlctl's own, on an ephemeral port,
/// admin HTTP off, state and token in a private temporary directory, the token passed in
/// $MLSERVE_TOKEN (never on the command line, where `ps` shows it). Stopped with SIGTERM, which
/// the node answers by draining and exiting 0.
public final class ChildNode {
    public let process = Process()
    public let endpoint: Endpoint
    public let token: String
    public let directory: URL
    private let output = Pipe()

    public init(executable: URL, directory: URL, startupTimeout: TimeInterval = 20) throws(ControlError) {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw .local("mlserve not found at \(executable.path); build it first (swift build)")
        }
        self.directory = directory
        token = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        process.executableURL = executable
        process.arguments = ["--port", "0", "--admin-port", "off", "--loops", "2",
                             "--state", directory.appendingPathComponent("mlserve.state").path,
                             "--token-file", directory.appendingPathComponent("mlserve.token").path,
                             "--name", "mlctl-demo-node"]
        var environment = ProcessInfo.processInfo.environment
        environment["MLSERVE_TOKEN"] = token
        process.environment = environment
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw .local("cannot start \(executable.path): \(error.localizedDescription)") }
        // The node prints "ready port=N" once it accepts connections. Read on a helper thread
        // so a node that hangs without printing cannot hang us past the timeout.
        let found = DispatchSemaphore(value: 0)
        let box = PortBox()
        let handle = output.fileHandleForReading
        Thread.detachNewThread {
            var text = ""
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ready port=") }),
                   let port = UInt16(line.dropFirst("ready port=".count)) {
                    box.set(port)
                    found.signal()
                    // Keep draining so the node never blocks on a full pipe.
                    while !handle.availableData.isEmpty {}
                    return
                }
            }
            found.signal()
        }
        guard found.wait(timeout: .now() + startupTimeout) == .success, let port = box.get() else {
            process.terminate()
            throw .local("child mlserve did not print its ready line within \(Formatting.limit(startupTimeout))s")
        }
        endpoint = Endpoint(host: "127.0.0.1", port: port)
    }

    /// SIGTERM, then a bounded wait; SIGKILL if it does not go. Returns the exit status.
    @discardableResult
    public func stop(timeout: TimeInterval = 10) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { stop(timeout: 2) } }
}

/// The port found by the reader thread.
private final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var port: UInt16?  // protected by lock
    func set(_ value: UInt16) { lock.withLock { port = value } }
    func get() -> UInt16? { lock.withLock { port } }
}
