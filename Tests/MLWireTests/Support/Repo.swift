import Foundation

/// Paths in the repository, found from this file's location so tests run from any directory.
enum Repo {
    /// Tests/MLWireTests/Support/Repo.swift → the package root.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let vectors = root.appendingPathComponent("protocol/vectors")
    static let protocolSpec = root.appendingPathComponent("protocol/PROTOCOL.md")

    struct Missing: Error, CustomStringConvertible {
        var path: String
        var description: String { "cannot read \(path)" }
    }

    static func bytes(_ url: URL) throws -> [UInt8] {
        guard let contents = FileManager.default.contents(atPath: url.path) else { throw Missing(path: url.path) }
        return [UInt8](contents)
    }

    static func vector(_ name: String) throws -> [UInt8] { try bytes(vectors.appendingPathComponent(name)) }

    static func text(_ url: URL) throws -> String { String(decoding: try bytes(url), as: UTF8.self) }

    static func write(_ bytes: [UInt8], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: url.path, contents: Data(bytes)) else { throw Missing(path: url.path) }
    }

    static func vectorFileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: vectors.path).filter { $0.hasSuffix(".bin") }.sorted()
    }
}
