// libFuzzer target for the MLWire decoder. Built straight with swiftc (not SwiftPM), together
// with Sources/MLWire/*.swift, so it is one module and libFuzzer keeps its own main:
//
//     bench/fuzz/run 10000000
//
// For every input it checks, and traps on any violation:
//  1. the incremental FrameDecoder yields the same frames and errors whatever the chunking
//     (whole, 1 byte, and input-derived irregular chunks), and the same as FrameParser over one
//     buffer (the server's path);
//  2. every frame that decodes re-encodes to the same size, and decode(encode(m)) == m
//     (byte-identical re-encoding when m holds NaN floats, which == cannot compare);
//  3. the hot-path PredictView/copyValues agrees with Predict/PredictBatch decoding;
//  4. derived metrics (F1, PSI, quantiles, deltas) never trap on decoded counters.
// Stdlib only; no Foundation.

private enum Outcome: Equatable {
    case frame(Frame)
    case error(WireError)
}

/// The limit depends on the input size so all three regimes get exercised.
private func maxPayload(for size: Int) -> Int {
    switch size % 3 {
    case 0: 64
    case 1: FrameParser.preHelloMaxPayload
    default: FrameParser.defaultMaxPayload
    }
}

private func viaDecoder(_ input: UnsafeRawBufferPointer, limit: Int, chunk: (Int) -> Int) -> [Outcome] {
    var decoder = FrameDecoder(maxPayload: limit)
    var out: [Outcome] = []
    var offset = 0
    while offset < input.count {
        let size = max(1, min(chunk(offset), input.count - offset))
        decoder.feed(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + size)]))
        offset += size
        while true {
            do {
                guard let frame = try decoder.next() else { break }
                out.append(.frame(frame))
            } catch {
                out.append(.error(error))
                if error.closesConnection { return out }
            }
        }
    }
    if let end = decoder.finish() { out.append(.error(end)) }
    return out
}

private func viaParser(_ input: UnsafeRawBufferPointer, limit: Int) -> [Outcome] {
    var out: [Outcome] = []
    var offset = 0
    while offset < input.count {
        switch FrameParser.parse(UnsafeRawBufferPointer(rebasing: input[offset...]), maxPayload: limit) {
        case .needMore(let need):
            precondition(need > input.count - offset, "needMore asked for bytes it already has")
            out.append(.error(.truncated(have: input.count - offset, need: need)))
            return out
        case .reject(let error, _, let consumed):
            out.append(.error(error))
            precondition(error.closesConnection == (consumed == 0), "reject: closing flag and consumed disagree")
            if consumed == 0 { return out }
            offset += consumed
        case .frame(let header, let payload, let consumed):
            precondition(consumed == FrameHeader.size + payload.count && payload.count <= limit)
            out.append(.frame(Frame(header: header, payload: Array(payload))))
            offset += consumed
        }
    }
    return out
}

private func same(_ a: Message, _ b: Message) -> Bool {
    a == b || a.frameBytes(requestID: 0) == b.frameBytes(requestID: 0)
}

private func checkHotPath(_ frame: Frame, decoded: Result<Message, WireError>) {
    guard frame.header.status == 0, frame.header.type == MessageType.predict.rawValue || frame.header.type == MessageType.predictBatch.rawValue else { return }
    let batch = frame.header.type == MessageType.predictBatch.rawValue
    frame.payload.withUnsafeBytes { raw in
        let view: PredictView
        do throws(WireError) {
            view = batch ? try PredictView(batchPayload: raw) : try PredictView(payload: raw)
        } catch {
            guard case .failure(let expected) = decoded, expected == error else { preconditionFailure("PredictView refused what decode took") }
            return
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: view.rows * view.featureCount)
        defer { scratch.deallocate() }
        do throws(WireError) {
            try view.copyValues(into: scratch)
            let values = Array(UnsafeBufferPointer(start: scratch, count: view.rows * view.featureCount))
            switch decoded {
            case .success(.predict(let p)): precondition(p.features.map(\.bitPattern) == values.map(\.bitPattern))
            case .success(.predictBatch(let b)): precondition(b.values.map(\.bitPattern) == values.map(\.bitPattern) && b.featureCount == view.featureCount)
            default: preconditionFailure("copyValues took what decode refused")
            }
        } catch {
            guard case .failure(let expected) = decoded, expected == error else { preconditionFailure("copyValues and decode disagree") }
        }
    }
}

private func exerciseMetrics(_ reply: MetricsReply) {
    var previous: VersionMetrics?
    for v in reply.versions {
        _ = v.f1; _ = v.errorRate; _ = v.anomalyRate; _ = v.feedbackCount; _ = v.drift
        for q in [0.0, 0.5, 0.99, 0.999, 1.0] { _ = v.latencyQuantileNanos(q) }
        _ = v.since(previous)
        previous = v
        for b in v.latencyBuckets {
            let i = Int(b.index)
            precondition(LatencyBuckets.lowerBound(i) < LatencyBuckets.upperBound(i))
            _ = LatencyBuckets.index(nanos: b.count)
        }
        for r in v.referenceBins { _ = ScoreBins.index(score: r) }
    }
}

private func check(_ frame: Frame) {
    let decoded: Result<Message, WireError> = Result { () throws(WireError) -> Message in try frame.message() }
    checkHotPath(frame, decoded: decoded)
    guard case .success(let message) = decoded else { return }
    let bytes = message.frameBytes(requestID: frame.header.requestID)
    precondition(bytes.count == FrameHeader.size + frame.payload.count, "re-encoding changed the frame size")
    var decoder = FrameDecoder(maxPayload: FrameParser.absoluteMaxPayload)
    decoder.feed(bytes)
    let again: Message
    do {
        guard let f = try decoder.next() else { preconditionFailure("re-encoded frame incomplete") }
        again = try f.message()
    } catch { preconditionFailure("re-encoded frame does not decode: \(error)") }
    precondition(same(again, message), "decode(encode(m)) != m")
    precondition(again.frameBytes(requestID: frame.header.requestID) == bytes, "encoding is not canonical")
    if case .metricsReply(let reply) = message { exerciseMetrics(reply) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let limit = maxPayload(for: size)
    let reference = viaParser(input, limit: limit)
    // Irregular chunk sizes derived from the input itself, so a crash replays exactly.
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(size)
    // Byte-at-a-time costs one decoder call per byte, each heavily instrumented by libFuzzer;
    // beyond 96 bytes the irregular chunks (1–64 bytes) cover splits inside headers, lengths and
    // payloads at a fraction of the cost.
    var chunkings: [(Int) -> Int] = [
        { _ in size },
        { _ in state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 58) + 1 },
    ]
    if size <= 96 { chunkings.append { _ in 1 } }
    for chunking in chunkings {
        precondition(viaDecoder(input, limit: limit, chunk: chunking) == reference, "chunking changed the decoded stream")
    }
    for outcome in reference {
        if case .frame(let frame) = outcome { check(frame) }
    }
    if size >= 4 {
        _ = ScoreBins.index(score: Float(bitPattern: UInt32(littleEndian: input.loadUnaligned(fromByteOffset: size - 4, as: UInt32.self))))
    }
    return 0
}
