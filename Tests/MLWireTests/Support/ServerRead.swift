import MLWire

/// What a server makes of one frame of a request stream (PROTOCOL.md §9 and §10).
enum ReadOutcome: Equatable, CustomStringConvertible {
    /// A well-formed request.
    case request(requestID: UInt32, Message)
    /// An error frame goes back with `requestID`; if `error.closesConnection`, the stream ends here.
    case error(WireError, requestID: UInt32)

    var description: String {
        switch self {
        case .request(let id, let m): "request #\(id) \(specName(m.type))"
        case .error(let e, let id): "error #\(id) \(e.status.name) \(e)"
        }
    }
}

/// Checks a framed request the way the server's dispatch does before it looks at its state:
/// known type, a request type (not a response), OK status byte, then the payload layout.
func decodeRequest(header: FrameHeader, payload: UnsafeRawBufferPointer, version: UInt8 = 1) throws(WireError) -> Message {
    guard let type = header.messageType, type.minimumVersion <= version else { throw .unknownType(header.type) }
    guard type.isRequest else { throw .unexpectedType(header.type) }
    return try Message.decode(header: header, payload: payload, version: version)
}

/// Reads a whole request stream as a server would, with `FrameParser` over one buffer: one
/// outcome per frame, stopping after the first error that closes the connection. Bytes left
/// at the end of the stream are a truncated frame (request id 0).
/// `version`: the protocol version the connection agreed on (v2 allows flag `WITH_IDS`).
func serverRead(_ bytes: [UInt8], maxPayload: Int = FrameParser.defaultMaxPayload, version: UInt8 = 1) -> [ReadOutcome] {
    var outcomes: [ReadOutcome] = []
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let flags = version >= 2 ? PredictFlags.withIDs : 0
            switch FrameParser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...]), maxPayload: maxPayload, allowedFlags: flags) {
            case .needMore(let need):
                outcomes.append(.error(.truncated(have: raw.count - offset, need: need), requestID: 0))
                return
            case .reject(let error, let requestID, let consumed):
                outcomes.append(.error(error, requestID: requestID))
                if consumed == 0 { return }
                offset += consumed
            case .frame(let header, let payload, let consumed):
                offset += consumed
                do throws(WireError) {
                    outcomes.append(.request(requestID: header.requestID, try decodeRequest(header: header, payload: payload, version: version)))
                } catch {
                    outcomes.append(.error(error, requestID: header.requestID))
                }
            }
        }
    }
    return outcomes
}

/// The WireError case name the manifest records (`wire_error`).
func caseName(_ error: WireError) -> String {
    switch error {
    case .badMagic: "badMagic"
    case .unsupportedFrameVersion: "unsupportedFrameVersion"
    case .frameTooLarge: "frameTooLarge"
    case .reservedBitsSet: "reservedBitsSet"
    case .unknownType: "unknownType"
    case .unexpectedType: "unexpectedType"
    case .malformed: "malformed"
    case .nonFiniteFeature: "nonFiniteFeature"
    case .badShape: "badShape"
    case .badString: "badString"
    case .truncated: "truncated"
    }
}

/// A deterministic generator (SplitMix64) so property tests replay from their seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
