import Foundation
import MLClient
import XCTest

/// The real `mlserve` executable as a child process, for tests that kill it.
final class NodeProcess {
    let process = Process()
    let port: UInt16
    private let output = Pipe()

    /// The executable sits beside the test bundle in the build directory.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mlserve")
    }

    init(directory: URL, token: String, extra: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: NodeProcess.executable.path) else {
            throw XCTSkip("mlserve not built at \(NodeProcess.executable.path); run swift build first")
        }
        process.executableURL = NodeProcess.executable
        process.arguments = ["--port", "0", "--admin-port", "off", "--loops", "2",
                             "--state", directory.appendingPathComponent("mlserve.state").path,
                             "--token-file", directory.appendingPathComponent("token").path] + extra
        var environment = ProcessInfo.processInfo.environment
        environment["MLSERVE_TOKEN"] = token
        process.environment = environment
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The node prints "ready port=N" once it accepts connections.
        var text = ""
        let handle = output.fileHandleForReading
        let deadline = Date().addingTimeInterval(20)
        while !text.contains("ready port="), Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ready port=") }),
              let port = UInt16(line.dropFirst("ready port=".count)) else {
            process.terminate()
            throw NSError(domain: "NodeProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: "node did not start: \(text)"])
        }
        self.port = port
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    func kill(_ signal: Int32) {
        Glibc.kill(process.processIdentifier, signal)
    }

    /// Waits for exit; returns the status, or nil if it did not exit in time.
    func waitForExit(seconds: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            return nil
        }
        return process.terminationStatus
    }

    /// Everything the node printed after the ready line.
    func remainingOutput() -> String {
        String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
