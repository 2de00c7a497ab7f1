import Foundation
import Glibc
import MLModel
import MLWire

/// Reading the state file at start, and judging damage. A region torn by a kill mid-write, a file
/// cut short, a flipped byte: each may have destroyed the record of an acknowledged swap, so the
/// node refuses to start on a guess. The operator chooses the way out explicitly
/// (`--recover-state older-record|defaults`), and the choice is logged and shown in
/// `/model/info`.
extension StateFile {
    public enum Recovery: String, Sendable, CaseIterable {
        /// Damage refuses the start (the default).
        case refuse = "none"
        /// Damage: use the newest record that is intact.
        case olderRecord = "older-record"
        /// Ignore the records: start from --active/--standby, generations continuing above.
        case defaults
    }

    public struct Loaded: Sendable {
        /// The record to restore; nil means start from the defaults.
        public var record: Record?
        /// Starting from the defaults, the generation must be above this (it never goes back).
        public var generationFloor: UInt64
        /// What was damaged and what was done about it; nil when the file was clean.
        public var recovery: String?
    }

    enum RegionState {
        case blank
        case valid(sequence: UInt64, record: Record)
        case damaged(String, sequence: UInt64?)
    }

    /// The record to restore, strictly: damage is an error. nil when there is no file yet.
    public func read() throws(StartupError) -> Record? {
        try load(recovery: .refuse).record
    }

    public func load(recovery: Recovery) throws(StartupError) -> Loaded {
        let readFD = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard readFD >= 0 else {
            if errno == ENOENT { return Loaded(record: nil, generationFloor: 0, recovery: nil) }
            throw StartupError(.stateFileUnusable, "cannot read state file \(path): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(readFD) }
        var status = stat()
        fstat(readFD, &status)
        let bytes = StateFile.contents(of: readFD)
        var problems: [String] = []
        if status.st_size == 0 {
            problems.append("the file is empty (0 bytes)")
        } else if status.st_size < off_t(StateFile.fileSize) {
            problems.append("the file is cut short (\(status.st_size) of \(StateFile.fileSize) bytes)")
        }
        var newest: (sequence: UInt64, record: Record)?
        var damaged: [(index: Int, problem: String, sequence: UInt64?)] = []
        for index in 0..<2 {
            let start = index * StateFile.regionSize
            let region = start < bytes.count ? Array(bytes[start..<min(bytes.count, start + StateFile.regionSize)]) : []
            switch StateFile.judge(region) {
            case .blank: break
            case .valid(let sequence, let record):
                if newest == nil || sequence > newest!.sequence { newest = (sequence, record) }
            case .damaged(let problem, let sequence):
                damaged.append((index, problem, sequence))
            }
        }
        // Damage to a region older than an intact newer one loses nothing acknowledged.
        let harmless = damaged.filter { entry in entry.sequence.map { newest != nil && $0 < newest!.sequence } ?? false }
        let harmful = damaged.filter { entry in !harmless.contains { $0.index == entry.index } }
        problems += harmful.map { "region \($0.index): \($0.problem)" }
        if let newest { continueAfter(sequence: newest.sequence) }
        let floor = newest?.record.generation ?? 0

        if problems.isEmpty {
            let note = harmless.isEmpty ? nil
                : "state file \(path): older region \(harmless[0].index) damaged (\(harmless[0].problem)); the newest record (generation \(floor)) is intact"
            if recovery == .defaults, newest != nil {
                return Loaded(record: nil, generationFloor: floor,
                              recovery: "state file \(path) ignored as --recover-state defaults asked (it recorded generation \(floor)); started from --active/--standby")
            }
            return Loaded(record: newest?.record, generationFloor: floor, recovery: note)
        }
        let damage = "state file \(path) is damaged: \(problems.joined(separator: "; "))"
        switch recovery {
        case .olderRecord where newest != nil:
            return Loaded(record: newest!.record, generationFloor: floor,
                          recovery: "\(damage); started from the older intact record (generation \(floor)) as --recover-state older-record asked")
        case .defaults:
            // Nothing readable: wall-clock microseconds are above any generation a node reached.
            let above = newest == nil ? UInt64(max(0, Clock.wallMicros())) : floor
            return Loaded(record: nil, generationFloor: above,
                          recovery: "\(damage); started from --active/--standby above generation \(above) as --recover-state defaults asked")
        default:
            let older = newest.map { "--recover-state older-record to start from the intact record (generation \($0.record.generation)), or " } ?? ""
            throw StartupError(.damagedState, "\(damage). Refusing to start: the lost record may be an acknowledged swap. Start with \(older)--recover-state defaults to start from --active/--standby")
        }
    }

    static func contents(of fd: Int32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: fileSize)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        return Array(bytes.prefix(max(0, count)))
    }

    /// A region never written (reserved space reads as zeros; blanked regions are spaces) is blank.
    static func judge(_ region: [UInt8]) -> RegionState {
        if region.allSatisfy({ $0 == 0 || $0 == UInt8(ascii: " ") }) { return .blank }
        switch parseRegion(region) {
        case .success(let parsed): return .valid(sequence: parsed.sequence, record: parsed.record)
        case .failure(let problem):
            return .damaged(problem.text, sequence: headerSequence(region))
        }
    }

    /// The sequence a damaged region's header claims, when the header itself is readable.
    static func headerSequence(_ region: [UInt8]) -> UInt64? {
        guard let newline = region.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let fields = String(decoding: region[..<newline], as: UTF8.self).split(separator: " ")
        guard fields.count == 5, "\(fields[0]) \(fields[1])" == magic, fields[2].hasPrefix("seq=") else { return nil }
        return UInt64(fields[2].dropFirst(4))
    }

    /// What is wrong with a region that is not blank and does not hold a record.
    struct RegionProblem: Error {
        let text: String
    }

    static func parseRegion(_ region: [UInt8]) -> Result<(sequence: UInt64, record: Record), RegionProblem> {
        guard let newline = region.firstIndex(of: UInt8(ascii: "\n")) else {
            return .failure(RegionProblem(text: "no header line"))
        }
        let fields = String(decoding: region[..<newline], as: UTF8.self).split(separator: " ")
        guard fields.count == 5, "\(fields[0]) \(fields[1])" == magic,
              fields[2].hasPrefix("seq="), let sequence = UInt64(fields[2].dropFirst(4)),
              fields[3].hasPrefix("len="), let length = Int(fields[3].dropFirst(4)),
              fields[4].hasPrefix("sha256="), let digest = Digest32(hex: String(fields[4].dropFirst(7))) else {
            return .failure(RegionProblem(text: "bad header"))
        }
        let start = newline + 1
        guard length >= 0, start + length <= region.count else { return .failure(RegionProblem(text: "truncated record")) }
        let json = Array(region[start..<(start + length)])
        guard SHA256.hash(json) == digest else { return .failure(RegionProblem(text: "digest mismatch (torn write or corruption)")) }
        do {
            return .success((sequence, try JSONDecoder().decode(Record.self, from: Data(json))))
        } catch {
            return .failure(RegionProblem(text: "record does not parse: \(error)"))
        }
    }
}
