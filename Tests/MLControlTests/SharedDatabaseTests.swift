import Foundation
import MLClient
import MLTooling
import XCTest

/// Several real `mlctl` processes opening one database that does not exist yet, at once (the
/// switch to WAL and the schema creation race): each must wait its turn, none may fail with
/// "database is locked".
final class SharedDatabaseTests: XCTestCase {
    func testControllersCreatingTheSameNewDatabaseAtOnceAllSucceed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlctl-shared-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let mlctl = LocalNode.siblingExecutable().deletingLastPathComponent().appendingPathComponent("mlctl")
        for round in 0..<10 {
            let path = directory.appendingPathComponent("round\(round).sqlite").path
            let processes = try (0..<6).map { _ -> (Process, Pipe) in
                let process = Process()
                process.executableURL = mlctl
                process.arguments = ["history", "--db", path]
                let errors = Pipe()
                process.standardOutput = FileHandle.nullDevice
                process.standardError = errors
                try process.run()
                return (process, errors)
            }
            for (process, errors) in processes {
                let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                XCTAssertEqual(process.terminationStatus, 0, "round \(round): \(text)")
            }
        }
    }
}
