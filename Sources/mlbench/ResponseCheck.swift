import Glibc
import MLWire

/// Validates one prediction response frame without allocating: type and status, payload shape,
/// scores finite in [0, 1], labels 0/1, reserved bytes zero, and which known version served it.
struct ResponseCheck {
    enum Verdict {
        case ok(generation: UInt64, version: Int)
        /// The node answered with an error frame (status byte).
        case errorStatus(UInt8)
        /// Wrong type, wrong shape or out-of-range values.
        case malformed
    }

    /// Index returned for a version that is neither of the two known ones.
    static let otherVersion = 2
    static let versionSlots = 3

    let batch: Int
    private let version0: UnsafeMutableRawBufferPointer
    private let version1: UnsafeMutableRawBufferPointer

    /// `versions`: the active and standby versions from Info (index 0 and 1).
    init(batch: Int, versions: (String, String)) {
        self.batch = batch
        version0 = ResponseCheck.copy(versions.0)
        version1 = ResponseCheck.copy(versions.1)
    }

    func deallocate() {
        version0.deallocate()
        version1.deallocate()
    }

    private static func copy(_ text: String) -> UnsafeMutableRawBufferPointer {
        let bytes = Array(text.utf8)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        buffer.copyBytes(from: bytes)
        return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bytes.count])
    }

    @inline(__always)
    func check(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer) -> Verdict {
        if header.status != 0 || header.type == MessageType.error.rawValue { return .errorStatus(header.status) }
        guard let base = payload.baseAddress else { return .malformed }
        let count = payload.count
        if batch == 1 {
            guard header.type == MessageType.predictResult.rawValue, count >= 18 else { return .malformed }
            let generation = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
            let score = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
            let label = base.load(fromByteOffset: 12, as: UInt8.self)
            let reserved = base.load(fromByteOffset: 13, as: UInt8.self) | base.load(fromByteOffset: 14, as: UInt8.self)
                | base.load(fromByteOffset: 15, as: UInt8.self)
            let length = Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt16.self)))
            guard count == 18 + length, reserved == 0, label <= 1, score >= 0, score <= 1 else { return .malformed }
            return .ok(generation: generation, version: versionIndex(base + 18, length))
        }
        guard header.type == MessageType.predictBatchResult.rawValue, count >= 14 else { return .malformed }
        let generation = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        let length = Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt16.self)))
        guard count >= 14 + length else { return .malformed }
        let rows = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 10 + length, as: UInt32.self)))
        let scores = 14 + length
        guard rows == batch, count == scores + 5 * rows else { return .malformed }
        for row in 0..<rows {
            let score = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: scores + 4 * row, as: UInt32.self)))
            let label = base.load(fromByteOffset: scores + 4 * rows + row, as: UInt8.self)
            guard score >= 0, score <= 1, label <= 1 else { return .malformed }
        }
        return .ok(generation: generation, version: versionIndex(base + 10, length))
    }

    @inline(__always)
    private func versionIndex(_ bytes: UnsafeRawPointer, _ length: Int) -> Int {
        if length == version0.count && memcmp(bytes, version0.baseAddress!, length) == 0 { return 0 }
        if length == version1.count && memcmp(bytes, version1.baseAddress!, length) == 0 { return 1 }
        return ResponseCheck.otherVersion
    }
}

/// How many responses each (generation, version) pair produced, counted by the load thread and
/// compared after the run with the generation → version map built from Info and the swap acks.
/// Fixed size: generations from the initial one up to `capacity` swaps later.
struct GenerationTable {
    let initialGeneration: UInt64
    let capacity: Int
    private let counts: UnsafeMutablePointer<UInt64>
    /// Responses whose generation is below the initial one or beyond the table.
    private let outOfRange: UnsafeMutablePointer<UInt64>

    init(initialGeneration: UInt64, capacity: Int) {
        self.initialGeneration = initialGeneration
        self.capacity = capacity
        counts = .allocate(capacity: capacity * ResponseCheck.versionSlots)
        counts.initialize(repeating: 0, count: capacity * ResponseCheck.versionSlots)
        outOfRange = .allocate(capacity: 1)
        outOfRange.initialize(to: 0)
    }

    func deallocate() {
        counts.deallocate()
        outOfRange.deallocate()
    }

    @inline(__always)
    func record(generation: UInt64, version: Int) {
        let offset = generation &- initialGeneration
        guard generation >= initialGeneration, offset < UInt64(capacity) else { outOfRange.pointee &+= 1; return }
        counts[Int(offset) * ResponseCheck.versionSlots + version] &+= 1
    }

    /// Responses whose version is not the one `expected` maps their generation to (nil: a
    /// generation no swap ack or Info reported — also a disagreement).
    func mismatches(expected: (UInt64) -> Int?) -> Int {
        var total = Int(outOfRange.pointee)
        for g in 0..<capacity {
            for v in 0..<ResponseCheck.versionSlots {
                let n = Int(counts[g * ResponseCheck.versionSlots + v])
                guard n > 0 else { continue }
                if expected(initialGeneration + UInt64(g)) != v { total += n }
            }
        }
        return total
    }

    /// Responses per generation (for the report), as (generation, count) where count > 0.
    func servedPerGeneration() -> [(UInt64, Int)] {
        (0..<capacity).compactMap { g in
            let n = (0..<ResponseCheck.versionSlots).reduce(0) { $0 + Int(counts[g * ResponseCheck.versionSlots + $1]) }
            return n > 0 ? (initialGeneration + UInt64(g), n) : nil
        }
    }
}
