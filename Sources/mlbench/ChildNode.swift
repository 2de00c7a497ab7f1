import Foundation
import Glibc
import MLClient

/// A child `mlserve` started from the same build directory as this mlbench, on an ephemeral port,
/// with no admin HTTP, a generated controller token in $MLSERVE_TOKEN, and a state file only when
/// asked (`--durable`).
final class ChildNode {
    let process: Process
    let endpoint: Endpoint
    let token: String
    let executable: String

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The mlserve beside this executable (so a release mlbench starts a release mlserve).
    static func siblingExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let me = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("mlserve").path
    }

    /// With `durableState`, the child persists its slots to a state file in a temporary directory
    /// before acknowledging each swap, as a production node does; otherwise it keeps them in memory.
    init(loops: Int, durableState: Bool) throws {
        executable = ChildNode.siblingExecutable()
        guard access(executable, X_OK) == 0 else {
            throw Failure(description: "no mlserve beside mlbench at \(executable); build the package first or pass --node HOST:PORT")
        }
        token = ChildNode.randomToken()
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        var arguments = ["--port", "0", "--admin-port", "off", "--loops", String(loops)]
        if durableState {
            let directory = NSTemporaryDirectory() + "mlbench-\(getpid())"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            stateDirectory = directory
            arguments += ["--state", directory + "/mlserve.state", "--token-file", directory + "/mlserve.token"]
        } else {
            arguments += ["--no-state"]
        }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MLSERVE_TOKEN"] = token
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch {
            throw Failure(description: "cannot start \(executable): \(error)")
        }
        let port = try ChildNode.waitForReadyLine(fd: output.fileHandleForReading.fileDescriptor, timeoutMillis: 15_000)
        guard let port else {
            process.terminate()
            process.waitUntilExit()
            throw Failure(description: "\(executable) did not print `ready port=N` (exit status \(process.terminationStatus))")
        }
        endpoint = Endpoint(host: "127.0.0.1", port: port)
        // Keep the pipe open (the node prints a line or two on shutdown); it is small.
        retainedPipe = output
    }

    private var retainedPipe: Pipe?
    private var stateDirectory: String?

    var pid: Int32 { process.processIdentifier }

    /// SIGTERM (the node drains), then SIGKILL if it takes longer than two seconds.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        if let stateDirectory { try? FileManager.default.removeItem(atPath: stateDirectory) }
    }

    private static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
    }

    /// Reads the child's stdout until `ready port=N`; nil on EOF or timeout.
    private static func waitForReadyLine(fd: Int32, timeoutMillis: Int32) throws -> UInt16? {
        var seen: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMillis) * 1_000_000
        while DispatchTime.now().uptimeNanoseconds < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready <= 0 { continue }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            seen += chunk[0..<n]
            for line in String(decoding: seen, as: UTF8.self).split(separator: "\n") where line.hasPrefix("ready port=") {
                return UInt16(line.dropFirst("ready port=".count).trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }
}
