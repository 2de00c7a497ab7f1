import Dispatch
import Foundation
import MLClient
import MLServer
import MLWire
import XCTest

/// The independent Python client in protocol/python, written from PROTOCOL.md alone, held to
/// the vectors and to a real node: (a) `check_vectors.py` passes every vector of the manifest;
/// (b) `live_check.py` talks to an in-process node (hello, predict, info, a fenced swap and its
/// refused retry) and agrees with the Swift `NodeClient` on versions, generations, statuses
/// and the score's exact bits.
final class PythonClientTests: XCTestCase {
    /// The repository root: Tests/MLServerTests/<this file> → three levels up.
    private static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
        var transcript: String { "exit \(status)\(timedOut ? " (timed out)" : "")\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
    }

    /// python3 from PATH, or skip.
    private func python3() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("python3").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw XCTSkip("python3 is not on PATH")
    }

    /// Runs `python3 arguments…` in the repository root, killing it after `timeout` seconds.
    /// Output goes to temporary files, so a chatty child can never block on a full pipe.
    private func runPython(_ arguments: [String], environment extra: [String: String] = [:],
                           timeout: TimeInterval) throws -> Run {
        let python = try python3()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pyclient-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        process.currentDirectoryURL = Self.root
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["PYTHONDONTWRITEBYTECODE"] = "1"  // no __pycache__ in the source tree
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            if exited.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = exited.wait(timeout: .now() + 5)
            }
        }
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return Run(status: process.isRunning ? -1 : process.terminationStatus, stdout: stdout, stderr: stderr,
                   timedOut: timedOut)
    }

    // MARK: (a) vectors

    func testPythonCodecPassesEveryVector() throws {
        let run = try runPython(["protocol/python/check_vectors.py"], timeout: 120)
        XCTAssertFalse(run.timedOut, run.transcript)
        XCTAssertEqual(run.status, 0, run.transcript)
        let summary = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertNotNil(summary.range(of: #"^[0-9]+ passed, 0 failed$"#, options: .regularExpression), run.transcript)

        // Every vector of the manifest was counted.
        let manifestURL = Self.root.appendingPathComponent("protocol/vectors/manifest.json")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any]
        let vectors = try XCTUnwrap(manifest?["vectors"] as? [[String: Any]])
        XCTAssertEqual(summary, "\(vectors.count) passed, 0 failed", run.transcript)
    }

    // MARK: (b) a live node

    func testPythonClientAgreesWithSwiftClientOnALiveNode() throws {
        _ = try python3()
        let node = try TestNode()  // active builtin:v2.0, standby builtin:v2.1, generation 1
        defer { node.stop() }
        let row = [Float](repeating: 0.1, count: 32)

        let swiftBefore = try node.client()
        let before = try swiftBefore.predict(row)
        swiftBefore.close()
        XCTAssertEqual(before.version, "v2.0")
        XCTAssertEqual(before.generation, 1)

        let run = try runPython(["protocol/python/live_check.py", "--port", String(node.port), "--timeout", "10"],
                                environment: ["MLSERVE_TOKEN": TestNode.token], timeout: 60)
        XCTAssertFalse(run.timedOut, run.transcript)
        XCTAssertEqual(run.status, 0, run.transcript)
        let line = try XCTUnwrap(run.stdout.split(separator: "\n").last.map(String.init), run.transcript)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], run.transcript)
        func object(_ key: String) throws -> [String: Any] {
            try XCTUnwrap(result[key] as? [String: Any], "\(key) missing: \(run.transcript)")
        }

        let hello = try object("hello")
        XCTAssertEqual(hello["version"] as? Int, 2)
        XCTAssertEqual(hello["role"] as? String, "controller")
        XCTAssertEqual(hello["max_payload"] as? Int, FrameParser.defaultMaxPayload)

        // The Python-decoded score is the Swift client's score for the same row, bit for bit.
        let predict = try object("predict")
        XCTAssertEqual(predict["version"] as? String, "v2.0")
        XCTAssertEqual(predict["generation"] as? Int, 1)
        XCTAssertEqual(predict["label"] as? Int, Int(before.label))
        XCTAssertEqual((predict["score"] as? NSNumber)?.doubleValue, Double(before.score))
        XCTAssertEqual(predict["score_bits"] as? String, String(format: "0x%08x", before.score.bitPattern))

        let info = try object("info")
        XCTAssertEqual(info["generation"] as? Int, 1)
        XCTAssertEqual(info["ready"] as? Bool, true)
        XCTAssertEqual(info["draining"] as? Bool, false)
        XCTAssertEqual(info["active_version"] as? String, "v2.0")
        XCTAssertEqual(info["standby_version"] as? String, "v2.1")
        XCTAssertEqual(info["active_feature_count"] as? Int, 32)

        let swap = try object("swap")
        XCTAssertEqual(swap["previous_version"] as? String, "v2.0")
        XCTAssertEqual(swap["active_version"] as? String, "v2.1")
        XCTAssertEqual(swap["generation"] as? Int, 2)

        let refused = try object("refused_swap")
        XCTAssertEqual(refused["status"] as? String, "FAILED_PRECONDITION")
        XCTAssertEqual(refused["status_code"] as? Int, Int(Status.failedPrecondition.rawValue))

        // The node agrees: one swap happened (the refused one changed nothing), and the Swift
        // client gets the same bits as Python from the new active version.
        let swiftAfter = try node.controller()
        defer { swiftAfter.close() }
        let state = try swiftAfter.info()
        XCTAssertEqual(state.generation, 2)
        XCTAssertEqual(state.active.version, "v2.1")
        XCTAssertEqual(state.standby.version, "v2.0")
        let after = try swiftAfter.predict(row)
        let pythonAfter = try object("predict_after_swap")
        XCTAssertEqual(pythonAfter["version"] as? String, after.version)
        XCTAssertEqual(pythonAfter["generation"] as? Int, Int(after.generation))
        XCTAssertEqual(pythonAfter["score_bits"] as? String, String(format: "0x%08x", after.score.bitPattern))
    }
}
