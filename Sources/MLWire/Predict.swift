/// The header flag (byte 5) of a v2 PREDICT / PREDICT_BATCH whose rows each carry a u64
/// prediction id after the values (PROTOCOL.md §11.2).
public enum PredictFlags {
    public static let withIDs: UInt8 = 0x01
}

/// One row of float32 features (PROTOCOL.md §11.2): u32 feature_count, then the features, then
/// (v2, flag `WITH_IDS`) the row's u64 prediction id.
public struct Predict: WireMessage {
    public static let messageType = MessageType.predict

    public var features: [Float]
    /// The client's id for this prediction (an event or transaction id), for LABEL to name later.
    public var predictionID: UInt64?

    public init(features: [Float], predictionID: UInt64? = nil) {
        self.features = features
        self.predictionID = predictionID
    }

    public var headerFlags: UInt8 { predictionID == nil ? 0 : PredictFlags.withIDs }

    public var payloadSize: Int { 4 + 4 * features.count + (predictionID == nil ? 0 : 8) }

    public func write(to w: inout ByteWriter) {
        w.write(UInt32(features.count))
        for value in features { w.write(value) }
        if let predictionID { w.write(predictionID) }
    }

    public init(from r: inout ByteReader) throws(WireError) {
        try self.init(from: &r, withIDs: false)
    }

    /// Decodes with the header's flags: `withIDs` expects the id after the features.
    public init(from r: inout ByteReader, withIDs: Bool) throws(WireError) {
        let view = try PredictView(payload: r.bytes, withIDs: withIDs)
        predictionID = withIDs ? view.id(0) : nil
        features = []
        features.reserveCapacity(view.featureCount)
        for i in 0..<view.featureCount {
            let value = view.feature(i)
            // v2: NaN may mean "missing"; whether the active model takes it is the node's call.
            guard value.isFinite || (value.isNaN && r.version >= 2) else { throw .nonFiniteFeature(index: i) }
            features.append(value)
        }
        _ = try r.readBytes(r.remaining)
    }
}

/// Zero-copy view of a Predict or PredictBatch payload for the serving hot path: checks the
/// declared shape against the payload size, and copies features out only when asked.
public struct PredictView {
    public let rows: Int
    public let featureCount: Int
    /// The rows × featureCount little-endian float32 values.
    public let values: UnsafeRawBufferPointer
    /// `rows` little-endian u64 prediction ids (flag `WITH_IDS`), or empty.
    public let ids: UnsafeRawBufferPointer

    /// Parses a Predict payload (one row), with its prediction id after the features if `withIDs`.
    @inline(__always)
    public init(payload: UnsafeRawBufferPointer, withIDs: Bool = false) throws(WireError) {
        guard payload.count >= 4 else { throw .malformed(.predict, "payload of \(payload.count) bytes has no feature count") }
        let declared = UInt32(littleEndian: payload.baseAddress!.loadUnaligned(as: UInt32.self))
        guard declared >= 1, declared <= Limits.features else { throw .badShape(rows: 1, features: declared) }
        let valuesEnd = 4 + 4 * Int(declared)
        let expected = valuesEnd + (withIDs ? 8 : 0)
        guard payload.count == expected else {
            throw .malformed(.predict, "\(declared) features\(withIDs ? " and an id" : "") need \(expected) payload bytes, got \(payload.count)")
        }
        rows = 1
        featureCount = Int(declared)
        values = UnsafeRawBufferPointer(rebasing: payload[4..<valuesEnd])
        ids = UnsafeRawBufferPointer(rebasing: payload[valuesEnd...])
    }

    /// Parses a PredictBatch payload: u32 rows, u32 feature_count, the values, then one u64
    /// prediction id per row if `withIDs`.
    @inline(__always)
    public init(batchPayload payload: UnsafeRawBufferPointer, withIDs: Bool = false) throws(WireError) {
        guard payload.count >= 8 else { throw .malformed(.predictBatch, "payload of \(payload.count) bytes has no shape") }
        let declaredRows = UInt32(littleEndian: payload.baseAddress!.loadUnaligned(as: UInt32.self))
        let declaredFeatures = UInt32(littleEndian: payload.baseAddress!.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard declaredRows >= 1, declaredRows <= Limits.rows, declaredFeatures >= 1, declaredFeatures <= Limits.features else {
            throw .badShape(rows: declaredRows, features: declaredFeatures)
        }
        let valuesEnd = 8 + 4 * Int(declaredRows) * Int(declaredFeatures)
        let expected = valuesEnd + (withIDs ? 8 * Int(declaredRows) : 0)
        guard payload.count == expected else {
            throw .malformed(.predictBatch, "\(declaredRows)x\(declaredFeatures) features\(withIDs ? " and ids" : "") need \(expected) payload bytes, got \(payload.count)")
        }
        rows = Int(declaredRows)
        featureCount = Int(declaredFeatures)
        values = UnsafeRawBufferPointer(rebasing: payload[8..<valuesEnd])
        ids = UnsafeRawBufferPointer(rebasing: payload[valuesEnd...])
    }

    public var hasIDs: Bool { !ids.isEmpty }

    /// Row `row`'s prediction id; only when `hasIDs`.
    @inline(__always)
    public func id(_ row: Int) -> UInt64 {
        UInt64(littleEndian: ids.baseAddress!.loadUnaligned(fromByteOffset: 8 * row, as: UInt64.self))
    }

    @inline(__always)
    public func feature(_ index: Int) -> Float {
        Float(bitPattern: UInt32(littleEndian: values.baseAddress!.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
    }

    /// Copies all values into aligned memory, refusing infinities always and NaN unless
    /// `allowingMissing` (a v2 connection to a model that accepts missing values, PROTOCOL.md
    /// §11.2). `destination` must hold rows × featureCount floats.
    @inline(__always)
    public func copyValues(into destination: UnsafeMutablePointer<Float>, allowingMissing: Bool = false) throws(WireError) {
        let count = rows * featureCount
        for i in 0..<count {
            let value = feature(i)
            // A float is finite iff its exponent bits are not all ones; NaN has a non-zero mantissa.
            guard value.isFinite || (allowingMissing && value.isNaN) else { throw .nonFiniteFeature(index: i) }
            destination[i] = value
        }
    }
}

/// The answer to a Predict (PROTOCOL.md §11.2): the generation and version that computed it.
public struct PredictResult: WireMessage {
    public static let messageType = MessageType.predictResult
    public static let fixedSize = 16

    public var generation: UInt64
    public var score: Float
    public var label: UInt8
    public var version: String

    public init(generation: UInt64, score: Float, label: UInt8, version: String) {
        self.generation = generation
        self.score = score
        self.label = label
        self.version = version
    }

    public var payloadSize: Int { PredictResult.fixedSize + ByteWriter.size(of: version) }

    public func write(to w: inout ByteWriter) {
        w.write(generation)
        w.write(score)
        w.write(label)
        w.writeZeros(3)
        w.write(string: version)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        generation = try r.readUInt64("generation")
        score = try r.readFloat("score")
        label = try r.readUInt8("label")
        try r.readReserved(3)
        version = try r.readString("version", limit: Limits.version)
    }

    /// The hot-path encoder: writes a whole PredictResult frame at `base` from a version label
    /// already encoded as UTF-8, without building a struct or touching a String.
    @inline(__always)
    public static func writeFrame(to base: UnsafeMutableRawPointer, requestID: UInt32, generation: UInt64,
                                  score: Float, label: UInt8, versionUTF8: UnsafeRawBufferPointer) -> Int {
        let payload = fixedSize + 2 + versionUTF8.count
        FrameHeader(type: .predictResult, requestID: requestID, payloadLength: payload).write(to: base)
        var w = ByteWriter(base + FrameHeader.size, capacity: payload)
        w.write(generation)
        w.write(score)
        w.write(label)
        w.writeZeros(3)
        w.write(UInt16(versionUTF8.count))
        w.write(bytes: versionUTF8)
        return FrameHeader.size + payload
    }
}
