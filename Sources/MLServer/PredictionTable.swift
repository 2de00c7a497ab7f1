import Synchronization

/// The predictions one event loop made with a prediction id, remembered so a later LABEL can be
/// joined to them: id → (version number, generation, score, label, time). Fixed capacity, set
/// associative (4 entries per bucket, the oldest replaced), allocated once: remembering a row is
/// a handful of plain stores, with no lock and no allocation.
///
/// Thread rule: `remember` is called by the owning loop only (single writer); `claim` may be
/// called from any thread at the same time (the label path runs on whichever loop holds the
/// labeller's connection, and two labellers may race on one id).
///
/// Why it is correct (a seqlock per entry, plus a claim bit; every word is an `Atomic<UInt64>`,
/// so there is no data race in the language's sense and ThreadSanitizer sees every access):
/// - Each entry has a `stamp` = sequence << 2 | busy << 1 | labelled. Only the writer changes the
///   sequence and busy bits; claimers only set `labelled`, by compare-and-exchange.
/// - The writer stores `stamp = seq' | busy` (relaxed), then a release fence, then the fields
///   (relaxed), then `stamp = seq'` (release). The fields of one entry are therefore never read
///   as a mixture by anyone who checks the stamp around the read.
/// - A claimer loads the stamp (acquire), the fields (relaxed), an acquire fence, and the stamp
///   again. If the two stamps differ in anything but `labelled`, or either is busy, the entry was
///   being rewritten: the old prediction is gone (the window evicted it), so the fields are not
///   used. Otherwise the release/acquire pairs guarantee the fields are those of sequence `seq`.
/// - To count a label the claimer compare-and-exchanges the exact stamp it validated to
///   `stamp | labelled`. It succeeds only if no rewrite began (a rewrite stores a new busy stamp)
///   and nobody else labelled the entry first: exactly one label per prediction is matched; the
///   others see `labelled` and count as duplicates. A claim ordered before a rewrite labelled the
///   old prediction, which is what the label was for.
/// - The writer overwriting an entry a claimer is reading costs the claimer a miss ("unmatched"),
///   never a wrong version: the bound of a window is that its oldest entries go.
final class PredictionTable: @unchecked Sendable {
    static let ways = 4
    /// Atomic words per entry: stamp, id, packed (score bits << 32 | version << 8 | label),
    /// generation, time. 40 bytes.
    static let wordsPerEntry = 5
    static let bytesPerEntry = wordsPerEntry * 8

    private static let busy: UInt64 = 2
    private static let labelled: UInt64 = 1

    let capacity: Int
    private let buckets: Int
    private let words: UnsafeMutablePointer<Atomic<UInt64>>

    /// Room for `entries` predictions (rounded up to whole buckets, at least one).
    init(entries: Int) {
        buckets = max(1, (entries + PredictionTable.ways - 1) / PredictionTable.ways)
        capacity = buckets * PredictionTable.ways
        let count = capacity * PredictionTable.wordsPerEntry
        words = .allocate(capacity: count)
        for i in 0..<count { (words + i).initialize(to: Atomic(0)) }
    }

    deinit {
        words.deinitialize(count: capacity * PredictionTable.wordsPerEntry)
        words.deallocate()
    }

    @inline(__always)
    private func word(_ entry: Int, _ field: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        words + (entry &* PredictionTable.wordsPerEntry &+ field)
    }

    /// The first entry of the bucket for `id`: a 64-bit mix, then a multiply-shift range cut.
    @inline(__always)
    private func bucketStart(_ id: UInt64) -> Int {
        var z = id &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(truncatingIfNeeded: z.multipliedFullWidth(by: UInt64(buckets)).high) &* PredictionTable.ways
    }

    /// Remembers one prediction. Owning loop only. Replaces, in order of preference, an entry
    /// with the same id (the newest prediction for an id wins), an empty one, the oldest one.
    @inline(__always)
    func remember(id: UInt64, version: Int, generation: UInt64, score: Float, label: UInt8, atNanos: UInt64) {
        let start = bucketStart(id)
        var victim = start
        var oldest = UInt64.max
        for entry in start..<(start &+ PredictionTable.ways) {
            let stamp = word(entry, 0).pointee.load(ordering: .relaxed)
            if stamp == 0 { victim = entry; break }
            if word(entry, 1).pointee.load(ordering: .relaxed) == id { victim = entry; break }
            let made = word(entry, 4).pointee.load(ordering: .relaxed)
            if made < oldest { oldest = made; victim = entry }
        }
        let stampWord = word(victim, 0)
        let sequence = (stampWord.pointee.load(ordering: .relaxed) >> 2) &+ 1
        stampWord.pointee.store(sequence << 2 | PredictionTable.busy, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        word(victim, 1).pointee.store(id, ordering: .relaxed)
        let packed = UInt64(score.bitPattern) << 32 | UInt64(UInt16(truncatingIfNeeded: version)) << 8 | UInt64(label)
        word(victim, 2).pointee.store(packed, ordering: .relaxed)
        word(victim, 3).pointee.store(generation, ordering: .relaxed)
        word(victim, 4).pointee.store(atNanos, ordering: .relaxed)
        stampWord.pointee.store(sequence << 2, ordering: .releasing)
    }

    /// Looks `id` up and, if it is remembered, not expired and not yet labelled, marks it
    /// labelled. Any thread. `maxAgeNanos` is the window's age bound.
    func claim(id: UInt64, nowNanos: UInt64, maxAgeNanos: UInt64) -> LabelMatch {
        let start = bucketStart(id)
        for entry in start..<(start &+ PredictionTable.ways) {
            let stampWord = word(entry, 0)
            // A failed exchange means a racing claim or rewrite: look again, a bounded number of times.
            for _ in 0..<4 {
                let before = stampWord.pointee.load(ordering: .acquiring)
                if before == 0 || before & PredictionTable.busy != 0 { break }
                let storedID = word(entry, 1).pointee.load(ordering: .relaxed)
                let packed = word(entry, 2).pointee.load(ordering: .relaxed)
                let generation = word(entry, 3).pointee.load(ordering: .relaxed)
                let made = word(entry, 4).pointee.load(ordering: .relaxed)
                atomicMemoryFence(ordering: .acquiring)
                let after = stampWord.pointee.load(ordering: .relaxed)
                guard after | PredictionTable.labelled == before | PredictionTable.labelled, storedID == id else { break }
                let prediction = RememberedPrediction(
                    version: Int((packed >> 8) & 0xFFFF), generation: generation,
                    score: Float(bitPattern: UInt32(truncatingIfNeeded: packed >> 32)),
                    label: UInt8(truncatingIfNeeded: packed), atNanos: made)
                if after & PredictionTable.labelled != 0 { return .duplicate(prediction) }
                if nowNanos > made, nowNanos - made > maxAgeNanos { return .expired(prediction) }
                if stampWord.pointee.compareExchange(expected: after, desired: after | PredictionTable.labelled,
                                                     ordering: .acquiringAndReleasing).exchanged {
                    return .matched(prediction)
                }
            }
        }
        return .unmatched
    }
}

/// A prediction as the window remembers it.
struct RememberedPrediction: Equatable, Sendable {
    /// The version's number in `MetricsRegistry`.
    var version: Int
    var generation: UInt64
    var score: Float
    var label: UInt8
    /// Monotonic time of the request that made it.
    var atNanos: UInt64
}

/// What a label's id found in the window.
enum LabelMatch: Equatable, Sendable {
    /// Remembered and not labelled before: this label now counts for it.
    case matched(RememberedPrediction)
    /// Remembered but older than the window's age bound.
    case expired(RememberedPrediction)
    /// Remembered and already labelled.
    case duplicate(RememberedPrediction)
    /// Never seen, or evicted by newer predictions.
    case unmatched
}
