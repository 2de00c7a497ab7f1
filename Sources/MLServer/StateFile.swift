import Foundation
import Glibc
import MLModel
import MLWire

/// Which artifact is in which slot, persisted before a load or swap is acknowledged
/// (DESIGN invariant 6).
///
/// The file holds two fixed-size regions written alternately with `pwrite`, each a header line
/// (`MLSERVE-STATE 1 seq=… len=… sha256=…`) and the JSON record, padded with spaces. A kill during
/// a write can only tear the region being written, and the other region still holds the previous
/// record. No rename: on ext4 renaming over an existing file forces a data flush (auto_da_alloc)
/// that cost ~400 µs per swap; a `pwrite` into the page cache costs a few µs.
///
/// The file's space is reserved when it is created (`posix_fallocate` of both regions), so a full
/// file system cannot fail a later swap; a write that fails anyway (the file was cut short under
/// the node, an I/O error) is a refused operation with nothing changed, never a crash. `pwrite`,
/// not a shared mapping: a mapped store into a page the file system cannot allocate is SIGBUS.
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
    public static let fileSize = 2 * regionSize
    static let magic = "MLSERVE-STATE 1"

    public let path: String
    public let fsync: Bool
    private let lock = Lock()
    private var fd: Int32 = -1  // protected by lock
    /// Sequence of the newest record; the next write goes to the other region.
    private var sequence: UInt64 = 0  // protected by lock
    /// Per region, how many bytes this process last wrote there (initially all of it).
    private var lengthWritten = [regionSize, regionSize]  // protected by lock
    /// A write failed: reserve the space again before the next one (the file may have been cut).
    private var reserveBeforeWrite = false  // protected by lock

    public init(path: String, fsync: Bool) {
        self.path = path
        self.fsync = fsync
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Opens the file, creating it when missing, and reserves both regions' space. Called at
    /// start, so a node that could not record a swap never starts serving. A file created here
    /// and not completed is removed again (no 0-byte leftover), and with `fsync` the directory
    /// entry is flushed too.
    public func prepare() throws(StartupError) {
        let failure = lock.withLock { () -> StartupError? in
            do throws(SlotError) { try openLocked() } catch { return StartupError(.stateFileUnusable, error.message) }
            return nil
        }
        if let failure { throw failure }
    }

    private func openLocked() throws(SlotError) {
        guard fd < 0 else { return }
        var created = false
        var opened = Glibc.open(path, O_RDWR | O_CLOEXEC)
        if opened < 0 && errno == ENOENT {
            opened = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            created = opened >= 0
        }
        guard opened >= 0 else { throw StateFile.failure("open state file \(path)", errno) }
        // Continue above every sequence already in the file, even if nobody read it first.
        let bytes = StateFile.contents(of: opened)
        for index in 0..<2 where index * StateFile.regionSize < bytes.count {
            let start = index * StateFile.regionSize
            let region = Array(bytes[start..<min(bytes.count, start + StateFile.regionSize)])
            if let found = StateFile.headerSequence(region) { sequence = max(sequence, found) }
        }
        // Reserve the space: fills holes (files from older versions were sparse) and extends a new
        // file; data already there is kept. posix_fallocate returns the error, not -1.
        let reserved = posix_fallocate(opened, 0, off_t(StateFile.fileSize))
        if reserved != 0 {
            Glibc.close(opened)
            if created { unlink(path) }
            throw StateFile.failure("reserve \(StateFile.fileSize) bytes for state file \(path)", reserved)
        }
        if created && fsync {
            guard Glibc.fsync(opened) == 0, StateFile.syncDirectory(of: path) else {
                let code = errno
                Glibc.close(opened)
                unlink(path)
                throw StateFile.failure("flush new state file \(path)", code)
            }
        }
        fd = opened
    }

    /// A failed write as the refusal the caller answers with: UNAVAILABLE, nothing changed.
    static func failure(_ what: String, _ code: Int32) -> SlotError {
        let why = code == ENOSPC ? "disk full" : String(cString: strerror(code))
        return SlotError(.unavailable, .stateWriteFailed, "cannot \(what): \(why) (errno \(code)); nothing changed")
    }

    /// fsync of the directory holding `path`, so a newly created file's entry is durable.
    static func syncDirectory(of path: String) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = Glibc.open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { return false }
        defer { Glibc.close(dirFD) }
        return Glibc.fsync(dirFD) == 0
    }

    public static func record(of pair: SlotPair) -> Record {
        func slot(_ model: Model?) -> SlotRecord? {
            model.map { SlotRecord(artifact: $0.artifact, version: $0.version, checksum: $0.checksum.hex) }
        }
        return Record(format: 1, generation: pair.generation, active: slot(pair.active), standby: slot(pair.standby))
    }

    /// The record as JSON, encoded by hand: this runs inside every swap's critical section, and
    /// JSONEncoder costs more than the write that makes it durable.
    public static func encode(_ pair: SlotPair) -> [UInt8] {
        func slot(_ model: Model?) -> String {
            guard let model else { return "null" }
            return "{\"artifact\":\(AdminJSON.quoted(model.artifact)),\"checksum\":\"\(model.checksum.hex)\",\"version\":\(AdminJSON.quoted(model.version))}"
        }
        let text = "{\"active\":\(slot(pair.active)),\"format\":1,\"generation\":\(pair.generation),\"standby\":\(slot(pair.standby))}"
        return Array(text.utf8)
    }

    /// Whether `pair`'s record fits a region (paths escaped in JSON can grow up to 6×).
    public static func fits(_ pair: SlotPair) -> Bool {
        !region(sequence: UInt64.max, json: encode(pair), padTo: 0).isEmpty
    }

    /// Makes `pair` durable (as far as `fsync` says) or throws, leaving the previous record the
    /// newest one on disk.
    public func write(_ pair: SlotPair) throws(SlotError) {
        let json = StateFile.encode(pair)
        let failure = lock.withLock { () -> SlotError? in
            do throws(SlotError) { try writeLocked(json) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    private func writeLocked(_ json: [UInt8]) throws(SlotError) {
        try openLocked()
        // Cut short under us (or a write failed): reserve the space again before writing into it.
        var status = stat()
        if fstat(fd, &status) != 0 || status.st_size < off_t(StateFile.fileSize) { reserveBeforeWrite = true }
        if reserveBeforeWrite {
            let reserved = posix_fallocate(fd, 0, off_t(StateFile.fileSize))
            guard reserved == 0 else { throw StateFile.failure("reserve space in state file \(path)", reserved) }
            reserveBeforeWrite = false
        }
        let next = sequence + 1
        let index = Int(next % 2)
        // Blank only what an earlier, longer record left in this region; the first write of
        // each region in a process blanks all of it.
        let region = StateFile.region(sequence: next, json: json, padTo: lengthWritten[index])
        guard !region.isEmpty else {
            throw SlotError(.invalidArgument, .pathRefused, "slot state of \(json.count) bytes does not fit the state file's \(StateFile.regionSize)-byte region (artifact paths too long); nothing changed")
        }
        let offset = off_t(index * StateFile.regionSize)
        let written = region.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, offset) }
        var failure: SlotError?
        if written != region.count {
            failure = StateFile.failure("write state file \(path)", written < 0 ? errno : ENOSPC)
        } else if fsync && fdatasync(fd) != 0 {
            failure = StateFile.failure("flush state file \(path)", errno)
        }
        if let failure {
            // Whatever reached the region must not outlive the refusal: blank its header so
            // the previous record stays the newest (best effort: the disk may refuse this too).
            let blank = [UInt8](repeating: UInt8(ascii: " "), count: region.count)
            _ = blank.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, offset) }
            lengthWritten[index] = StateFile.regionSize
            reserveBeforeWrite = true
            throw failure
        }
        lengthWritten[index] = StateFile.usedLength(of: region)
        sequence = next
    }

    /// The sequence number that reading found newest, so writes continue after it.
    func continueAfter(sequence found: UInt64) {
        lock.withLock { sequence = max(sequence, found) }
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
}
