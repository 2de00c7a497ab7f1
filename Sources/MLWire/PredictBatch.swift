/// N rows of the same width in one frame (PROTOCOL.md §11.3): u32 rows, u32 feature_count, values.
public struct PredictBatch: WireMessage {
    public static let messageType = MessageType.predictBatch

    public var featureCount: Int
    /// Row-major, rows × featureCount values.
    public var values: [Float]
    /// v2: one prediction id per row (flag `WITH_IDS`), or nil.
    public var predictionIDs: [UInt64]?

    public init(featureCount: Int, values: [Float], predictionIDs: [UInt64]? = nil) {
        precondition(featureCount > 0 && values.count % featureCount == 0)
        precondition(predictionIDs.map { $0.count == values.count / featureCount } ?? true, "one prediction id per row")
        self.featureCount = featureCount
        self.values = values
        self.predictionIDs = predictionIDs
    }

    public var rows: Int { values.count / featureCount }

    public var headerFlags: UInt8 { predictionIDs == nil ? 0 : PredictFlags.withIDs }

    public var payloadSize: Int { 8 + 4 * values.count + 8 * (predictionIDs?.count ?? 0) }

    public func write(to w: inout ByteWriter) {
        w.write(UInt32(rows))
        w.write(UInt32(featureCount))
        for value in values { w.write(value) }
        for id in predictionIDs ?? [] { w.write(id) }
    }

    public init(from r: inout ByteReader) throws(WireError) {
        try self.init(from: &r, withIDs: false)
    }

    /// Decodes with the header's flags: `withIDs` expects one id per row after the values.
    public init(from r: inout ByteReader, withIDs: Bool) throws(WireError) {
        let view = try PredictView(batchPayload: r.bytes, withIDs: withIDs)
        predictionIDs = withIDs ? (0..<view.rows).map { view.id($0) } : nil
        featureCount = view.featureCount
        values = []
        values.reserveCapacity(view.rows * view.featureCount)
        for i in 0..<(view.rows * view.featureCount) {
            let value = view.feature(i)
            // v2: NaN may mean "missing"; whether the active model takes it is the node's call.
            guard value.isFinite || (value.isNaN && r.version >= 2) else { throw .nonFiniteFeature(index: i) }
            values.append(value)
        }
        _ = try r.readBytes(r.remaining)
    }
}

/// Scores and labels for every row of a batch, all computed by one version (PROTOCOL.md §11.3).
public struct PredictBatchResult: WireMessage {
    public static let messageType = MessageType.predictBatchResult

    public var generation: UInt64
    public var version: String
    public var scores: [Float]
    public var labels: [UInt8]

    public init(generation: UInt64, version: String, scores: [Float], labels: [UInt8]) {
        precondition(scores.count == labels.count)
        self.generation = generation
        self.version = version
        self.scores = scores
        self.labels = labels
    }

    public var payloadSize: Int { 8 + ByteWriter.size(of: version) + 4 + 5 * scores.count }

    public func write(to w: inout ByteWriter) {
        w.write(generation)
        w.write(string: version)
        w.write(UInt32(scores.count))
        for score in scores { w.write(score) }
        for label in labels { w.write(label) }
    }

    public init(from r: inout ByteReader) throws(WireError) {
        generation = try r.readUInt64("generation")
        version = try r.readString("version", limit: Limits.version)
        let rows = Int(try r.readUInt32("rows"))
        guard rows <= Limits.rows, r.remaining == 5 * rows else {
            throw .malformed(.predictBatchResult, "\(rows) rows need \(5 * rows) bytes, \(r.remaining) left")
        }
        scores = []
        scores.reserveCapacity(rows)
        for _ in 0..<rows { scores.append(try r.readFloat("score")) }
        labels = Array(try r.readBytes(rows, "labels"))
    }

    /// Hot-path encoder: header, generation and version now; the caller then fills `rows` scores
    /// at the returned score offset and `rows` labels after them. Returns (scoresOffset, total).
    @inline(__always)
    public static func writeFramePrefix(to base: UnsafeMutableRawPointer, requestID: UInt32, generation: UInt64,
                                        versionUTF8: UnsafeRawBufferPointer, rows: Int) -> (scoresOffset: Int, total: Int) {
        let payload = 8 + 2 + versionUTF8.count + 4 + 5 * rows
        FrameHeader(type: .predictBatchResult, requestID: requestID, payloadLength: payload).write(to: base)
        var w = ByteWriter(base + FrameHeader.size, capacity: payload)
        w.write(generation)
        w.write(UInt16(versionUTF8.count))
        w.write(bytes: versionUTF8)
        w.write(UInt32(rows))
        return (FrameHeader.size + w.offset, FrameHeader.size + payload)
    }
}
