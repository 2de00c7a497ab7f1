import Foundation
import Glibc
import MLModel
import MLWire

/// Which artifact is in which slot, persisted before a load or swap is acknowledged
/// (DESIGN invariant 6).
///
/// The file holds two fixed-size regions written alternately with `pwrite`, each a header line
/// (`MLSERVE-STATE 1 seq=… len=… sha256=…`) and the JSON record, padded with spaces. A kill during
/// a write can only tear the region being written, whose digest then fails, and the other region
/// still holds the previous — the last acknowledged — record. No rename: on ext4 renaming over an
/// existing file forces a data flush (auto_da_alloc) that cost ~400 µs per swap; a `pwrite` into
/// the page cache costs a few µs. `fsync` adds an fdatasync per write for power-loss durability.
public final class StateFile: @unchecked Sendable {
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

    /// Room for both slots' artifact paths at their 4 KiB limit, and the header.
    public static let regionSize = 12 * 1024
    static let magic = "MLSERVE-STATE 1"

    public let path: String
    public let fsync: Bool
    private let lock = Lock()
    private var fd: Int32 = -1  // protected by lock
    private var mapping: UnsafeMutableRawPointer?  // protected by lock
    /// Sequence of the newest valid region; the next write goes to the other one.
    private var sequence: UInt64 = 0  // protected by lock
    /// Per region, how many bytes this process last wrote there (initially all of it).
    private var lengthWritten = [regionSize, regionSize]  // protected by lock

    public init(path: String, fsync: Bool) {
        self.path = path
        self.fsync = fsync
    }

    deinit {
        if let mapping { munmap(mapping, 2 * StateFile.regionSize) }
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Sizes the file to both regions and maps it shared. Caller holds the lock.
    private func mapFile() throws {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw SocketError("stat state file \(path)") }
        if status.st_size < 2 * StateFile.regionSize {
            guard ftruncate(fd, off_t(2 * StateFile.regionSize)) == 0 else { throw SocketError("size state file \(path)") }
        }
        let address = mmap(nil, 2 * StateFile.regionSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else { throw SocketError("map state file \(path)") }
        mapping = address
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
            return "{\"artifact\":\(AdminJSON.quoted(model.artifact)),\"checksum\":\"\(model.checksum.hex)\",\"version\":\(AdminJSON.quoted(model.version))}"
        }
        let text = "{\"active\":\(slot(pair.active)),\"format\":1,\"generation\":\(pair.generation),\"standby\":\(slot(pair.standby))}"
        return Array(text.utf8)
    }

    public func write(_ pair: SlotPair) throws {
        let json = StateFile.encode(pair)
        try lock.withLock {
            if fd < 0 {
                fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw SocketError("open state file \(path)") }
                if sequence == 0 { sequence = (try? StateFile.newestRegion(StateFile.contents(of: fd), path: path))?.sequence ?? 0 }
                try mapFile()
            }
            let next = sequence + 1
            let index = Int(next % 2)
            // Blank only what an earlier, longer record left in this region; the first write of
            // each region in a process blanks all of it.
            let region = StateFile.region(sequence: next, json: json, padTo: lengthWritten[index])
            guard !region.isEmpty else {
                throw SlotError(.invalidArgument, "slot state of \(json.count) bytes does not fit the state file's region")
            }
            // A store into the shared mapping is a store into the page cache: it survives the
            // process being killed, and unlike write() it does not journal an mtime update each time.
            region.withUnsafeBytes { (mapping! + index * StateFile.regionSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            if fsync { msync(mapping!, 2 * StateFile.regionSize, MS_SYNC) }
            lengthWritten[index] = StateFile.usedLength(of: region)
            sequence = next
        }
    }

    /// One region: header line, JSON, newline, then spaces up to `padTo` bytes (empty if it
    /// won't fit the region).
    static func region(sequence: UInt64, json: [UInt8], padTo: Int) -> [UInt8] {
        let digest = SHA256.hash(json).hex
        let header = "\(magic) seq=\(sequence) len=\(json.count) sha256=\(digest)\n"
        var bytes = Array(header.utf8) + json
        bytes.append(UInt8(ascii: "\n"))
        guard bytes.count < regionSize else { return [] }
        if bytes.count < padTo {
            bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: min(padTo, regionSize) - bytes.count))
        }
        return bytes
    }

    /// Bytes up to and including the record's newline (the rest of a region is padding).
    static func usedLength(of region: [UInt8]) -> Int {
        guard let header = region.firstIndex(of: UInt8(ascii: "\n")),
              let end = region[(header + 1)...].firstIndex(of: UInt8(ascii: "\n")) else { return region.count }
        return end + 1
    }

    /// The persisted record, nil when there is no file yet (or it is empty). A file with no valid
    /// region is an error: starting on defaults would silently serve a different version.
    public func read() throws -> Record? {
        let readFD = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard readFD >= 0 else {
            if errno == ENOENT { return nil }
            throw SlotError(.internal, "cannot read state file \(path): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(readFD) }
        let bytes = StateFile.contents(of: readFD)
        if bytes.isEmpty { return nil }
        let newest = try StateFile.newestRegion(bytes, path: path)
        lock.withLock { sequence = max(sequence, newest.sequence) }
        return newest.record
    }

    static func contents(of fd: Int32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 2 * regionSize)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        return Array(bytes.prefix(max(0, count)))
    }

    /// The valid region with the highest sequence number.
    static func newestRegion(_ bytes: [UInt8], path: String) throws -> (sequence: UInt64, record: Record) {
        var best: (sequence: UInt64, record: Record)?
        var problems: [String] = []
        for index in 0..<2 {
            let start = index * regionSize
            guard start < bytes.count else { break }
            let region = Array(bytes[start..<min(bytes.count, start + regionSize)])
            switch parseRegion(region) {
            case .success(let parsed):
                if best == nil || parsed.sequence > best!.sequence { best = parsed }
            case .failure(let problem):
                problems.append("region \(index): \(problem.message)")
            }
        }
        guard let best else {
            throw SlotError(.dataLoss, "state file \(path) is corrupt (\(problems.joined(separator: "; "))); refusing to start on a guess")
        }
        return best
    }

    static func parseRegion(_ region: [UInt8]) -> Result<(sequence: UInt64, record: Record), SlotError> {
        guard let newline = region.firstIndex(of: UInt8(ascii: "\n")) else {
            return .failure(SlotError(.dataLoss, "no header line"))
        }
        let fields = String(decoding: region[..<newline], as: UTF8.self).split(separator: " ")
        guard fields.count == 5, "\(fields[0]) \(fields[1])" == magic,
              fields[2].hasPrefix("seq="), let sequence = UInt64(fields[2].dropFirst(4)),
              fields[3].hasPrefix("len="), let length = Int(fields[3].dropFirst(4)),
              fields[4].hasPrefix("sha256="), let digest = Digest32(hex: String(fields[4].dropFirst(7))) else {
            return .failure(SlotError(.dataLoss, "bad header"))
        }
        let start = newline + 1
        guard length >= 0, start + length <= region.count else { return .failure(SlotError(.dataLoss, "truncated record")) }
        let json = Array(region[start..<(start + length)])
        guard SHA256.hash(json) == digest else { return .failure(SlotError(.dataLoss, "digest mismatch (torn write)")) }
        do {
            return .success((sequence, try JSONDecoder().decode(Record.self, from: Data(json))))
        } catch {
            return .failure(SlotError(.dataLoss, "record does not parse: \(error)"))
        }
    }
}
