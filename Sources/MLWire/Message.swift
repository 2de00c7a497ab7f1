/// Every message, for code that handles frames generically (clients, tests, tools).
/// The server's prediction path does not go through this enum: it uses `PredictView`.
public enum Message: Equatable, Sendable {
    case hello(Hello)
    case predict(Predict)
    case predictBatch(PredictBatch)
    case feedback(Feedback)
    case health
    case ready
    case info
    case metrics
    case label(LabelRequest)
    case loadStandby(LoadStandby)
    case swap(SwapRequest)
    case rollback(RollbackRequest)

    case helloReply(HelloReply)
    case predictResult(PredictResult)
    case predictBatchResult(PredictBatchResult)
    case feedbackAck
    case healthReply(HealthReply)
    case readyReply(ReadyReply)
    case infoReply(InfoReply)
    case metricsReply(MetricsReply)
    case labelReply(LabelReply)
    case loadStandbyReply(LoadStandbyReply)
    case swapReply(SwapReply)
    case rollbackReply(RollbackReply)
    /// A failed request: the header status and the reason.
    case error(Status, ErrorReply)

    /// Decodes a frame's payload by its header, in the layout of protocol `version`. Only `.error`
    /// may carry a non-OK status, and it must carry one.
    public static func decode(header: FrameHeader, payload: UnsafeRawBufferPointer, version: UInt8 = 1) throws(WireError) -> Message {
        guard let type = header.messageType else { throw .unknownType(header.type) }
        if type == .error {
            guard let status = header.statusCode, status != .ok else {
                throw .malformed(.error, "error frame with status byte \(header.status)")
            }
            return .error(status, try ErrorReply.decode(payload: payload, version: version))
        }
        guard header.status == Status.ok.rawValue else { throw .unexpectedType(header.type) }
        switch type {
        case .hello: return .hello(try Hello.decode(payload: payload, version: version))
        case .predict, .predictBatch:
            // v2 flag WITH_IDS: a prediction id per row after the values. Other flags are reserved.
            guard header.flags & ~PredictFlags.withIDs == 0 else { throw .reservedBitsSet(flags: header.flags, reserved: header.reserved) }
            let withIDs = header.flags & PredictFlags.withIDs != 0
            var reader = ByteReader(payload, type: type, version: version)
            let message: Message = type == .predict ? .predict(try Predict(from: &reader, withIDs: withIDs))
                                                    : .predictBatch(try PredictBatch(from: &reader, withIDs: withIDs))
            try reader.finish()
            return message
        case .feedback: return .feedback(try Feedback.decode(payload: payload, version: version))
        case .health: _ = try HealthRequest.decode(payload: payload, version: version); return .health
        case .ready: _ = try ReadyRequest.decode(payload: payload, version: version); return .ready
        case .info: _ = try InfoRequest.decode(payload: payload, version: version); return .info
        case .metrics: _ = try MetricsRequest.decode(payload: payload, version: version); return .metrics
        case .label: return .label(try LabelRequest.decode(payload: payload, version: version))
        case .labelReply: return .labelReply(try LabelReply.decode(payload: payload, version: version))
        case .loadStandby: return .loadStandby(try LoadStandby.decode(payload: payload, version: version))
        case .swap: return .swap(try SwapRequest.decode(payload: payload, version: version))
        case .rollback: return .rollback(try RollbackRequest.decode(payload: payload, version: version))
        case .helloReply: return .helloReply(try HelloReply.decode(payload: payload, version: version))
        case .predictResult: return .predictResult(try PredictResult.decode(payload: payload, version: version))
        case .predictBatchResult: return .predictBatchResult(try PredictBatchResult.decode(payload: payload, version: version))
        case .feedbackAck: _ = try FeedbackAck.decode(payload: payload, version: version); return .feedbackAck
        case .healthReply: return .healthReply(try HealthReply.decode(payload: payload, version: version))
        case .readyReply: return .readyReply(try ReadyReply.decode(payload: payload, version: version))
        case .infoReply: return .infoReply(try InfoReply.decode(payload: payload, version: version))
        case .metricsReply: return .metricsReply(try MetricsReply.decode(payload: payload, version: version))
        case .loadStandbyReply: return .loadStandbyReply(try LoadStandbyReply.decode(payload: payload, version: version))
        case .swapReply: return .swapReply(try SwapReply.decode(payload: payload, version: version))
        case .rollbackReply: return .rollbackReply(try RollbackReply.decode(payload: payload, version: version))
        case .error: fatalError("handled above")
        }
    }

    /// The frame bytes for this message with `requestID`.
    public func frameBytes(requestID: UInt32) -> [UInt8] {
        switch self {
        case .hello(let m): m.frameBytes(requestID: requestID)
        case .predict(let m): m.frameBytes(requestID: requestID)
        case .predictBatch(let m): m.frameBytes(requestID: requestID)
        case .feedback(let m): m.frameBytes(requestID: requestID)
        case .health: HealthRequest().frameBytes(requestID: requestID)
        case .ready: ReadyRequest().frameBytes(requestID: requestID)
        case .info: InfoRequest().frameBytes(requestID: requestID)
        case .metrics: MetricsRequest().frameBytes(requestID: requestID)
        case .label(let m): m.frameBytes(requestID: requestID)
        case .labelReply(let m): m.frameBytes(requestID: requestID)
        case .loadStandby(let m): m.frameBytes(requestID: requestID)
        case .swap(let m): m.frameBytes(requestID: requestID)
        case .rollback(let m): m.frameBytes(requestID: requestID)
        case .helloReply(let m): m.frameBytes(requestID: requestID)
        case .predictResult(let m): m.frameBytes(requestID: requestID)
        case .predictBatchResult(let m): m.frameBytes(requestID: requestID)
        case .feedbackAck: FeedbackAck().frameBytes(requestID: requestID)
        case .healthReply(let m): m.frameBytes(requestID: requestID)
        case .readyReply(let m): m.frameBytes(requestID: requestID)
        case .infoReply(let m): m.frameBytes(requestID: requestID)
        case .metricsReply(let m): m.frameBytes(requestID: requestID)
        case .loadStandbyReply(let m): m.frameBytes(requestID: requestID)
        case .swapReply(let m): m.frameBytes(requestID: requestID)
        case .rollbackReply(let m): m.frameBytes(requestID: requestID)
        case .error(let status, let m): m.frameBytes(requestID: requestID, status: status)
        }
    }
}
