/// Ground truth joined by prediction id (PROTOCOL.md §11.13, v2): each item names a prediction
/// the node made with flag `WITH_IDS` and says what actually happened. The node finds the
/// version that made it in its prediction window, so the labeller needs nothing but the id and
/// the truth. Labeller or controller connections only.
public struct LabelRequest: WireMessage {
    public static let messageType = MessageType.label
    /// Bytes per item: u64 prediction id, u8 actual label.
    public static let itemSize = 9

    public struct Item: Equatable, Sendable {
        public var predictionID: UInt64
        /// 0 or 1.
        public var actualLabel: UInt8

        public init(predictionID: UInt64, actualLabel: UInt8) {
            self.predictionID = predictionID
            self.actualLabel = actualLabel
        }
    }

    public var items: [Item]

    public init(items: [Item]) { self.items = items }

    public var payloadSize: Int { 4 + LabelRequest.itemSize * items.count }

    public func write(to w: inout ByteWriter) {
        w.write(UInt32(items.count))
        for item in items {
            w.write(item.predictionID)
            w.write(item.actualLabel)
        }
    }

    public init(from r: inout ByteReader) throws(WireError) {
        let view = try LabelView(payload: r.bytes)
        items = (0..<view.count).map { Item(predictionID: view.predictionID($0), actualLabel: view.actualLabel($0)) }
        _ = try r.readBytes(r.remaining)
    }
}

/// Zero-copy view of a LABEL payload for the node: checks count, size and every label first, so
/// a bad item refuses the whole message before anything is counted.
public struct LabelView {
    public let count: Int
    private let items: UnsafeRawBufferPointer

    public init(payload: UnsafeRawBufferPointer) throws(WireError) {
        guard payload.count >= 4 else { throw .malformed(.label, "payload of \(payload.count) bytes has no count") }
        let declared = UInt32(littleEndian: payload.baseAddress!.loadUnaligned(as: UInt32.self))
        guard declared >= 1, declared <= Limits.rows else {
            throw .malformed(.label, "count \(declared) outside 1...\(Limits.rows)")
        }
        let expected = 4 + LabelRequest.itemSize * Int(declared)
        guard payload.count == expected else {
            throw .malformed(.label, "\(declared) labels need \(expected) payload bytes, got \(payload.count)")
        }
        count = Int(declared)
        items = UnsafeRawBufferPointer(rebasing: payload[4...])
        for i in 0..<count where actualLabel(i) > 1 {
            throw .malformed(.label, "item \(i): actual label must be 0 or 1 (got \(actualLabel(i)))")
        }
    }

    public func predictionID(_ i: Int) -> UInt64 {
        UInt64(littleEndian: items.baseAddress!.loadUnaligned(fromByteOffset: LabelRequest.itemSize * i, as: UInt64.self))
    }

    public func actualLabel(_ i: Int) -> UInt8 {
        items[LabelRequest.itemSize * i + 8]
    }
}

/// What the node did with one LABEL message's items: every item lands in exactly one count.
public struct LabelReply: WireMessage {
    public static let messageType = MessageType.labelReply

    /// Joined to a remembered, not yet labelled prediction: counted for the version that made it.
    public var matched: UInt32
    /// No remembered prediction has that id (never seen, or pushed out of the window).
    public var unmatched: UInt32
    /// The prediction is remembered but older than the window's age limit.
    public var expired: UInt32
    /// The prediction was already labelled; the first label stands.
    public var duplicate: UInt32

    public init(matched: UInt32 = 0, unmatched: UInt32 = 0, expired: UInt32 = 0, duplicate: UInt32 = 0) {
        self.matched = matched
        self.unmatched = unmatched
        self.expired = expired
        self.duplicate = duplicate
    }

    public var payloadSize: Int { 16 }

    public func write(to w: inout ByteWriter) {
        w.write(matched)
        w.write(unmatched)
        w.write(expired)
        w.write(duplicate)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        matched = try r.readUInt32("matched")
        unmatched = try r.readUInt32("unmatched")
        expired = try r.readUInt32("expired")
        duplicate = try r.readUInt32("duplicate")
    }
}
