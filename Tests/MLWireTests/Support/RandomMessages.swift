import MLWire

/// Random valid messages of every type, for the seeded property tests. Floats are finite (NaN
/// would make `==` fail for reasons that have nothing to do with the codec); strings mix ASCII
/// and multi-byte UTF-8 and stay within their field limits.
struct RandomMessages {
    var rng: SeededRandom

    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func u64() -> UInt64 { rng.next() >> UInt64(int(0...63)) }
    mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: rng.next()) }
    mutating func bool() -> Bool { rng.next() & 1 == 1 }
    mutating func float() -> Float {
        switch int(0...4) {
        case 0: 0
        case 1: -0.0
        case 2: Float.greatestFiniteMagnitude * (bool() ? 1 : -1)
        case 3: Float.leastNonzeroMagnitude
        default: Float.random(in: -1000...1000, using: &rng)
        }
    }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }

    mutating func string(limit: Int) -> String {
        let alphabet: [String] = ["a", "Z", "0", ".", "-", "é", "ß", "€", "漢", "🙂", " ", "\u{0}"]
        var s = ""
        let target = int(0...min(limit, 24))
        while true {
            let piece = alphabet[int(0...(alphabet.count - 1))]
            if s.utf8.count + piece.utf8.count > target { break }
            s += piece
        }
        return s
    }

    mutating func digest() -> Digest32 { Digest32(bytes: (rng.next(), rng.next(), rng.next(), rng.next())) }

    mutating func slot() -> SlotInfo {
        if int(0...3) == 0 { return .empty }
        return SlotInfo(present: true, modelName: string(limit: Limits.name), version: string(limit: Limits.version),
                        kind: UInt8(int(1...2)), featureCount: UInt32(int(1...4096)), checksum: digest(),
                        loadedAtMicros: Int64(bitPattern: u64()), artifact: string(limit: Limits.artifact))
    }

    mutating func outcome() -> SwapOutcome {
        SwapOutcome(previousVersion: string(limit: Limits.version), activeVersion: string(limit: Limits.version),
                    generation: u64(), timestampMicros: Int64(bitPattern: u64()), swapNanos: u64())
    }

    mutating func versionMetrics() -> VersionMetrics {
        let bucketIndexes = (0..<int(0...6)).map { _ in UInt16(int(0...(LatencyBuckets.count - 1))) }
        let buckets = Set(bucketIndexes).sorted().map { BucketCount(index: $0, count: u64()) }
        let bins = int(0...1) == 0 ? 0 : ScoreBins.count
        // The v1 layout: a v1 reader takes every error as the model's.
        let errors = u64()
        return VersionMetrics(version: string(limit: Limits.version), requests: u64(), errors: errors, positives: u64(),
                              truePositives: u64(), falsePositives: u64(), trueNegatives: u64(), falseNegatives: u64(),
                              latencySumNanos: u64(), latencyCount: u64(), latencyBuckets: buckets,
                              scoreBins: (0..<bins).map { _ in u64() }, referenceBins: (0..<bins).map { _ in float() },
                              modelErrors: errors)
    }

    mutating func message() -> Message {
        switch int(0...22) {
        case 0: return .hello(Hello(minVersion: UInt8(int(0...1)), maxVersion: UInt8(int(1...3)), role: bool() ? .data : .controller,
                                    token: string(limit: Limits.token), clientName: string(limit: Limits.name)))
        case 1: return .predict(Predict(features: floats(int(1...64))))
        case 2:
            let width = int(1...16)
            return .predictBatch(PredictBatch(featureCount: width, values: floats(width * int(1...8))))
        case 3: return .feedback(Feedback(predictedLabel: UInt8(int(0...1)), actualLabel: UInt8(int(0...1)), version: string(limit: Limits.version)))
        case 4: return .health
        case 5: return .ready
        case 6: return .info
        case 7: return .metrics
        case 8:
            var artifact = string(limit: Limits.artifact)
            if artifact.isEmpty { artifact = "builtin:v1" }
            return .loadStandby(LoadStandby(artifact: artifact, expectedChecksum: digest()))
        case 9: return .swap(SwapRequest(expectedActive: string(limit: Limits.version)))
        case 10: return .rollback(RollbackRequest(expectedActive: string(limit: Limits.version)))
        case 11: return .helloReply(HelloReply(version: 1, role: bool() ? .data : .controller, maxPayload: u32(), serverName: string(limit: Limits.name)))
        case 12: return .predictResult(PredictResult(generation: u64(), score: float(), label: UInt8(int(0...1)), version: string(limit: Limits.version)))
        case 13:
            let rows = int(0...12)
            return .predictBatchResult(PredictBatchResult(generation: u64(), version: string(limit: Limits.version), scores: floats(rows),
                                                          labels: (0..<rows).map { _ in UInt8(int(0...1)) }))
        case 14: return .feedbackAck
        case 15: return .healthReply(HealthReply(serving: bool(), uptimeMillis: u64()))
        case 16: return .readyReply(ReadyReply(ready: bool(), reason: string(limit: Limits.reason)))
        case 17: return .infoReply(InfoReply(generation: u64(), ready: bool(), draining: bool(), active: slot(), standby: slot()))
        case 18: return .metricsReply(MetricsReply(generation: u64(), uptimeMillis: u64(), timestampMicros: Int64(bitPattern: u64()),
                                                   activeVersion: string(limit: Limits.version), versions: (0..<int(0...3)).map { _ in versionMetrics() }))
        case 19: return .loadStandbyReply(LoadStandbyReply(generation: u64(), standby: slot()))
        case 20: return .swapReply(SwapReply(outcome()))
        case 21: return .rollbackReply(RollbackReply(outcome()))
        default:
            let statuses = Status.allCases.filter { $0 != .ok }
            return .error(statuses[int(0...(statuses.count - 1))], ErrorReply(message: string(limit: Limits.message)))
        }
    }
}
