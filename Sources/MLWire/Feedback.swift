/// Ground truth for an earlier prediction (PROTOCOL.md §11.4). It names the version that made the
/// prediction (from its PredictResult) so the node can credit that version's confusion matrix
/// without remembering individual requests.
public struct Feedback: WireMessage {
    public static let messageType = MessageType.feedback

    public var predictedLabel: UInt8
    public var actualLabel: UInt8
    public var version: String

    public init(predictedLabel: UInt8, actualLabel: UInt8, version: String) {
        self.predictedLabel = predictedLabel
        self.actualLabel = actualLabel
        self.version = version
    }

    public var payloadSize: Int { 4 + ByteWriter.size(of: version) }

    public func write(to w: inout ByteWriter) {
        w.write(predictedLabel)
        w.write(actualLabel)
        w.write(UInt16(0))
        w.write(string: version)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        predictedLabel = try r.readUInt8("predicted label")
        actualLabel = try r.readUInt8("actual label")
        guard predictedLabel <= 1, actualLabel <= 1 else {
            throw .malformed(.feedback, "labels must be 0 or 1 (got \(predictedLabel), \(actualLabel))")
        }
        try r.readReserved(2)
        version = try r.readString("version", limit: Limits.version)
    }
}
