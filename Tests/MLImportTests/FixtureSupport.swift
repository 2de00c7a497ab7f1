import Foundation
import MLTooling
import XCTest

/// The committed fixtures (bench/parity/make_fixtures.py): model files, the libraries' scores on
/// float32 rows, and their labels.
struct Fixture {
    let name: String
    let model: String
    let format: String
    let csv: String
    let labels: [Int]
    let bestIteration: Int?

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func all() throws -> [Fixture] {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try XCTUnwrap(root["fixtures"] as? [[String: Any]])
        return try entries.map { entry in
            Fixture(name: try XCTUnwrap(entry["name"] as? String), model: path(try XCTUnwrap(entry["model"] as? String)),
                    format: try XCTUnwrap(entry["format"] as? String), csv: path(try XCTUnwrap(entry["csv"] as? String)),
                    labels: try XCTUnwrap(entry["labels"] as? [Int]), bestIteration: entry["best_iteration"] as? Int)
        }
    }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

/// `mlctl` run as a user runs it: a child process, its exit status and output.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum Mlctl {
    static var executable: URL {
        LocalNode.siblingExecutable().deletingLastPathComponent().appendingPathComponent("mlctl")
    }

    static func run(_ arguments: [String]) throws -> CommandResult {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw XCTSkip("mlctl not built at \(executable.path); run swift build first")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a chatty child can never block on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mlimport-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
