import Foundation
import XCTest

/// `mlbench swap --check` is CI's correctness gate for swaps under load: these tests hold it to
/// its contract from outside — exit 0 with every counter zero on a healthy node, exit 1 as soon
/// as a counter is non-zero, exit 2 from a debug build without --allow-debug.
final class BenchHarnessTests: XCTestCase {
    private static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mlbench")
    }

    private func runBench(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, stdout: String) {
        let (status, stdout, _) = try runBenchCapturingErrors(arguments, environment: extra)
        return (status, stdout)
    }

    private func runBenchCapturingErrors(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            throw XCTSkip("mlbench not built at \(Self.executable.path); run swift build first")
        }
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Both pipes at once: a child that fills one while we wait on the other would block.
        let errorText = LockedText()
        let readingErrors = DispatchGroup()
        DispatchQueue.global().async(group: readingErrors) {
            errorText.set(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        readingErrors.wait()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), errorText.value)
    }

    /// Usage mistakes in the micro-benchmarks' options: exit 2, the mistake named on stderr.
    func testMicroBenchmarkOptionMistakesExitTwoNamingTheFlag() throws {
        let cases: [([String], String)] = [
            (["codec", "--runs", "x"], "mlbench codec: --runs needs a positive number"),
            (["codec", "--frames"], "mlbench codec: --frames needs a positive number"),
            (["codec", "--bogus", "1"], "mlbench codec: unknown option --bogus"),
            (["kernel", "--allow-debug", "--rows", "5"], "mlbench kernel: --artifact is required"),
            (["kernel", "--artifact"], "mlbench kernel: --artifact needs a value"),
            (["kernel", "--artifact", "a.mlart", "--batch", "0"], "mlbench kernel: --batch needs a positive number"),
        ]
        for (arguments, expected) in cases {
            let (status, stdout, stderr) = try runBenchCapturingErrors(arguments)
            XCTAssertEqual(status, 2, "\(arguments)")
            XCTAssertTrue(stderr.contains(expected), "\(arguments): \(stderr)")
            XCTAssertTrue(stdout.contains("usage: mlbench \(arguments[0])"), "\(arguments): \(stdout)")
        }
    }

    private func counters(_ json: String) throws -> [String: Int] {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return try XCTUnwrap(object?["correctness"] as? [String: Int])
    }

    func testSwapUnderLoadPassesCheckWithEveryCounterZero() throws {
        let (status, stdout) = try runBench(["swap", "-c", "4", "-P", "2", "-d", "1", "--warmup", "0.2",
                                             "--swap-every", "20", "--check", "--json", "--allow-debug"])
        XCTAssertEqual(status, 0, stdout)
        let correctness = try counters(stdout)
        XCTAssertEqual(correctness["total"], 0, stdout)
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
        let swaps = try XCTUnwrap((object?["swaps"] as? [String: Any])?["count"] as? Int)
        XCTAssertGreaterThan(swaps, 10, "the controller should have swapped every 20 ms")
        XCTAssertGreaterThan(try XCTUnwrap(object?["requests"] as? Int), 0)
    }

    func testCheckExitsOneWhenACounterIsNonZero() throws {
        let (status, stdout) = try runBench(["swap", "-c", "2", "-d", "0.3", "--warmup", "0", "--check", "--json", "--allow-debug"],
                                            environment: ["MLBENCH_TEST_FAKE_VIOLATION": "1"])
        XCTAssertEqual(status, 1, stdout)
        XCTAssertEqual(try counters(stdout)["linearizabilityViolations"], 1)
    }

    func testDebugBuildRefusesWithoutAllowDebug() throws {
        #if DEBUG
        let (status, _) = try runBench(["load", "-c", "1", "-d", "0.1"])
        XCTAssertEqual(status, 2)
        #else
        throw XCTSkip("release build: nothing to refuse")
        #endif
    }
}

/// Text one thread sets once and another reads after.
private final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text: String?
    func set(_ value: String) { lock.lock(); text = value; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return text ?? "" }
}
