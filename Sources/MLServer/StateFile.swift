import Foundation
import Glibc
import MLModel
import MLWire

/// Which artifact is in which slot, persisted before a load or swap is acknowledged
/// (DESIGN invariant 6). Written to a temp file and renamed over the old one, so a kill at any
/// moment leaves either the old or the new file, never a torn one. `fsync` adds durability
/// against power loss at the cost of a disk flush per swap; a killed process needs only rename.
public struct StateFile: Sendable {
    public struct SlotRecord: Codable, Equatable, Sendable {
        public var artifact: String
        public var version: String
        public var checksum: String
    }

    public struct Record: Codable, Equatable, Sendable {
        public var format: Int
        public var generation: UInt64
        public var active: SlotRecord?
        public var standby: SlotRecord?
    }

    public let path: String
    public let fsync: Bool

    public init(path: String, fsync: Bool) {
        self.path = path
        self.fsync = fsync
    }

    public static func record(of pair: SlotPair) -> Record {
        func slot(_ model: Model?) -> SlotRecord? {
            model.map { SlotRecord(artifact: $0.artifact, version: $0.version, checksum: $0.checksum.hex) }
        }
        return Record(format: 1, generation: pair.generation, active: slot(pair.active), standby: slot(pair.standby))
    }

    /// The record as JSON, encoded by hand: this runs inside every swap's critical section, and
    /// JSONEncoder costs more than the rename that makes the write durable.
    public static func encode(_ pair: SlotPair) -> [UInt8] {
        func slot(_ model: Model?) -> String {
            guard let model else { return "null" }
            return "{\"artifact\":\(jsonString(model.artifact)),\"checksum\":\"\(model.checksum.hex)\",\"version\":\(jsonString(model.version))}"
        }
        let text = "{\"active\":\(slot(pair.active)),\"format\":1,\"generation\":\(pair.generation),\"standby\":\(slot(pair.standby))}\n"
        return Array(text.utf8)
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    public func write(_ pair: SlotPair) throws {
        let bytes = StateFile.encode(pair)
        let temporary = path + ".tmp"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SocketError("open \(temporary)") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let code = errno
                Glibc.close(fd)
                throw SocketError("write \(temporary)", code: code)
            }
            written += n
        }
        if fsync { Glibc.fsync(fd) }
        Glibc.close(fd)
        guard Glibc.rename(temporary, path) == 0 else { throw SocketError("rename \(temporary) -> \(path)") }
        if fsync {
            let directory = (path as NSString).deletingLastPathComponent
            let dirFD = Glibc.open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
            if dirFD >= 0 {
                Glibc.fsync(dirFD)
                Glibc.close(dirFD)
            }
        }
    }

    /// The persisted record, nil when there is no file yet. A file that exists but does not parse
    /// is an error: starting on defaults would silently serve a different version.
    public func read() throws -> Record? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SlotError(.internal, "cannot read state file \(path)")
        }
        do {
            return try JSONDecoder().decode(Record.self, from: data)
        } catch {
            throw SlotError(.dataLoss, "state file \(path) is corrupt: \(error)")
        }
    }
}
