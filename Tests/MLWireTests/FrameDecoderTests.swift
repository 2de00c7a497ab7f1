import MLWire
import XCTest

/// The framing boundary: chunking, truncation, garbage and hostile lengths. Every randomized test
/// is seeded and bounded, so a failure replays exactly.
final class FrameDecoderTests: XCTestCase {
    /// Feeds `bytes` in chunks chosen by `nextChunk` and collects frames until a closing error.
    private func decodeAll(_ bytes: [UInt8], maxPayload: Int = FrameParser.defaultMaxPayload,
                           nextChunk: (Int) -> Int) -> (frames: [Frame], errors: [WireError], finish: WireError?) {
        var decoder = FrameDecoder(maxPayload: maxPayload)
        var frames: [Frame] = []
        var errors: [WireError] = []
        var offset = 0
        outer: while offset < bytes.count {
            let size = max(1, min(nextChunk(bytes.count - offset), bytes.count - offset))
            decoder.feed(Array(bytes[offset..<(offset + size)]))
            offset += size
            while true {
                do {
                    guard let frame = try decoder.next() else { break }
                    frames.append(frame)
                } catch {
                    errors.append(error)
                    if error.closesConnection { break outer }
                }
            }
        }
        return (frames, errors, decoder.finish())
    }

    func testRandomMessageSequencesSplitAtRandomPointsDecodeIdentically() throws {
        for seed in UInt64(1)...60 {
            var random = RandomMessages(seed: seed)
            let messages = (0..<random.int(1...25)).map { _ in random.message() }
            var stream: [UInt8] = []
            for (i, message) in messages.enumerated() { stream += message.frameBytes(requestID: UInt32(i) &* 2_654_435_761) }

            var rng = SeededRandom(seed: seed &* 31)
            let chunkings: [(String, (Int) -> Int)] = [
                ("whole", { $0 }),
                ("1-byte", { _ in 1 }),
                ("random", { left in Int.random(in: 1...max(1, min(left, 97)), using: &rng) }),
            ]
            for (name, chunker) in chunkings {
                let result = decodeAll(stream, nextChunk: chunker)
                XCTAssertEqual(result.errors, [], "seed \(seed) \(name)")
                XCTAssertNil(result.finish, "seed \(seed) \(name)")
                XCTAssertEqual(result.frames.count, messages.count, "seed \(seed) \(name)")
                for (i, frame) in result.frames.enumerated() where i < messages.count {
                    XCTAssertEqual(frame.header.requestID, UInt32(i) &* 2_654_435_761)
                    XCTAssertEqual(try frame.message(), messages[i], "seed \(seed) \(name) frame \(i)")
                }
            }
        }
    }

    func testRandomGarbageNeverCrashesAndEndsInAClearErrorOrNeedMore() {
        var rng = SeededRandom(seed: 0xBAD5EED)
        let validPrefix: [UInt8] = [0x4D, 0x4C, 0x01]
        for round in 0..<3_000 {
            var bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Two thirds start with a valid magic and version so the garbage reaches the payload decoders.
            if round % 3 != 0 { bytes = validPrefix + [UInt8.random(in: 0...0x20, using: &rng) | (round % 2 == 0 ? 0x80 : 0)] + bytes }
            let outcomes = serverRead(bytes, maxPayload: 256)
            // Each frame yields one outcome and consumes at least 16 bytes: bounded.
            XCTAssertLessThanOrEqual(outcomes.count, bytes.count / FrameHeader.size + 1)
            for (i, outcome) in outcomes.enumerated() {
                if case .error(let error, _) = outcome, error.closesConnection {
                    XCTAssertEqual(i, outcomes.count - 1, "nothing may follow a closing error")
                    XCTAssertNotEqual(error.status, .ok)
                }
            }
            let chunked = decodeAll(bytes, maxPayload: 256) { _ in 7 }
            XCTAssertTrue(chunked.errors.allSatisfy { $0.status != .ok })
            // The decoder holds at most one partial frame's worth of bytes when it ends.
            if let finish = chunked.finish, case .truncated(let have, let need) = finish {
                XCTAssertLessThan(have, need)
                XCTAssertLessThanOrEqual(need, FrameHeader.size + 256)
            }
        }
    }

    func testTruncatingAnyValidFrameAtEveryLengthNeedsMoreAndNeverCrashes() throws {
        for vector in VectorCatalog.validVectors {
            let bytes = vector.bytes
            for length in 0..<bytes.count {
                let prefix = Array(bytes.prefix(length))
                prefix.withUnsafeBytes { raw in
                    guard case .needMore(let need) = FrameParser.parse(raw, maxPayload: FrameParser.defaultMaxPayload) else {
                        return XCTFail("\(vector.file) cut at \(length): expected needMore")
                    }
                    XCTAssertEqual(need, length < FrameHeader.size ? FrameHeader.size : bytes.count)
                }
                var decoder = FrameDecoder()
                decoder.feed(prefix)
                XCTAssertNil(try decoder.next(), "\(vector.file) cut at \(length)")
                if length == 0 {
                    XCTAssertNil(decoder.finish())
                } else {
                    XCTAssertEqual(decoder.finish(), .truncated(have: length, need: length < FrameHeader.size ? FrameHeader.size : bytes.count))
                    XCTAssertTrue(decoder.finish()!.closesConnection)
                }
                // A payload cut short by a lying header length decodes to an error, not a crash.
                if length >= FrameHeader.size {
                    let header = bytes.withUnsafeBytes { FrameHeader.read(from: $0.baseAddress!).header }
                    let payload = Array(bytes[FrameHeader.size..<length])
                    _ = payload.withUnsafeBytes { raw in Result { () throws(WireError) in try Message.decode(header: header, payload: raw) } }
                }
            }
        }
    }

    func testReadMessageWithMaliciousLengthIsRejectedBeforeThePayloadArrives() throws {
        for declared: UInt32 in [UInt32(FrameParser.defaultMaxPayload) + 1, 0x7FFF_FFFF, 0xFFFF_FFFF] {
            let header = VectorCatalog.rawFrame(type: 0x02, requestID: 7, payload: [], declaredLength: declared)
            var decoder = FrameDecoder()
            // 15 bytes: not yet a header, so nothing to judge.
            decoder.feed(Array(header.prefix(15)))
            XCTAssertNil(try decoder.next())
            decoder.feed(Array(header.suffix(1)))
            XCTAssertThrowsError(try decoder.next()) { error in
                XCTAssertEqual(error as? WireError, .frameTooLarge(declared: declared, limit: FrameParser.defaultMaxPayload))
            }
            XCTAssertEqual(decoder.bufferedByteCount, FrameHeader.size, "nothing beyond the header is buffered")
            // Later bytes are ignored: the stream cannot be framed any more.
            decoder.feed([UInt8](repeating: 0xAB, count: 4096))
            XCTAssertEqual(decoder.bufferedByteCount, FrameHeader.size)
            XCTAssertThrowsError(try decoder.next())
            XCTAssertEqual(decoder.failed?.status, .resourceExhausted)
            XCTAssertTrue(decoder.failed!.closesConnection)

            // The server's parser says so with the request id, and asks for nothing more.
            header.withUnsafeBytes { raw in
                guard case .reject(let error, let id, let consumed) = FrameParser.parse(raw, maxPayload: FrameParser.defaultMaxPayload) else {
                    return XCTFail("oversized length accepted")
                }
                XCTAssertEqual(error.status, .resourceExhausted)
                XCTAssertEqual(id, 7)
                XCTAssertEqual(consumed, 0)
            }
        }
    }

    func testMaxPayloadIsInclusiveAndPreHelloLimitIsTighter() throws {
        let atLimit = VectorCatalog.rawFrame(type: 0x02, requestID: 1, payload: [], declaredLength: 4096)
        atLimit.withUnsafeBytes { raw in
            guard case .needMore(let need) = FrameParser.parse(raw, maxPayload: FrameParser.preHelloMaxPayload) else {
                return XCTFail("a payload of exactly the limit must be accepted")
            }
            XCTAssertEqual(need, 16 + 4096)
        }
        let over = VectorCatalog.rawFrame(type: 0x02, requestID: 1, payload: [], declaredLength: 4097)
        over.withUnsafeBytes { raw in
            guard case .reject(.frameTooLarge(4097, 4096), 1, 0) = FrameParser.parse(raw, maxPayload: FrameParser.preHelloMaxPayload) else {
                return XCTFail("4097 bytes before HELLO must be refused")
            }
            guard case .needMore = FrameParser.parse(raw, maxPayload: FrameParser.defaultMaxPayload) else {
                return XCTFail("4097 bytes after HELLO are fine")
            }
        }
    }

    func testRecoverableErrorsSkipOnlyTheirOwnFrame() throws {
        let stream = VectorCatalog.rawFrame(type: 0x05, flags: 0x80, requestID: 1, payload: [])
            + VectorCatalog.rawFrame(type: 0x7E, requestID: 2, payload: [9, 9])
            + VectorCatalog.rawFrame(type: 0x02, requestID: 3, payload: VectorCatalog.f32s([1, .nan], count: 2))
            + Message.predict(Predict(features: [1, 2])).frameBytes(requestID: 4)
        let outcomes = serverRead(stream)
        XCTAssertEqual(outcomes, [
            .error(.reservedBitsSet(flags: 0x80, reserved: 0), requestID: 1),
            .error(.unknownType(0x7E), requestID: 2),
            .error(.nonFiniteFeature(index: 1), requestID: 3),
            .request(requestID: 4, .predict(Predict(features: [1, 2]))),
        ])
        let statuses: [Status] = outcomes.prefix(3).map { outcome -> Status in
            if case .error(let error, _) = outcome { return error.status }
            return .ok
        }
        XCTAssertEqual(statuses, [.invalidArgument, .unimplemented, .invalidArgument])
    }

    func testHotPathPredictViewAgreesWithPredictDecode() throws {
        var random = RandomMessages(seed: 42)
        var scratch = [Float](repeating: .nan, count: 64)
        for _ in 0..<200 {
            let features = random.floats(random.int(1...64))
            let bytes = Predict(features: features).frameBytes(requestID: 1)
            try bytes.withUnsafeBytes { raw in
                guard case .frame(let header, let payload, let consumed) = FrameParser.parse(raw, maxPayload: 4096) else {
                    return XCTFail("not a frame")
                }
                XCTAssertEqual(consumed, bytes.count)
                XCTAssertEqual(header.messageType, .predict)
                let view = try PredictView(payload: payload)
                XCTAssertEqual(view.rows, 1)
                XCTAssertEqual(view.featureCount, features.count)
                try scratch.withUnsafeMutableBufferPointer { try view.copyValues(into: $0.baseAddress!) }
                XCTAssertEqual(Array(scratch.prefix(features.count)).map(\.bitPattern), features.map(\.bitPattern))
            }
        }
    }

    func testHotPathResponseWritersMatchTheMessageEncoders() {
        var buffer = [UInt8](repeating: 0, count: 512)
        let version = Array("v2.1".utf8)
        let count = buffer.withUnsafeMutableBytes { out in
            version.withUnsafeBytes { v in
                PredictResult.writeFrame(to: out.baseAddress!, requestID: 2, generation: 3, score: 0.875, label: 1, versionUTF8: v)
            }
        }
        XCTAssertEqual(Array(buffer.prefix(count)), try Repo.vector("predict.response.bin"))

        let scores: [Float] = [0.125, 0.9375]
        let labels: [UInt8] = [0, 1]
        let total = buffer.withUnsafeMutableBytes { out -> Int in
            version.withUnsafeBytes { v in
                let (scoresOffset, total) = PredictBatchResult.writeFramePrefix(to: out.baseAddress!, requestID: 3, generation: 3,
                                                                                versionUTF8: v, rows: 2)
                for (i, score) in scores.enumerated() {
                    out.storeBytes(of: score.bitPattern.littleEndian, toByteOffset: scoresOffset + 4 * i, as: UInt32.self)
                }
                for (i, label) in labels.enumerated() { out[scoresOffset + 8 + i] = label }
                return total
            }
        }
        XCTAssertEqual(Array(buffer.prefix(total)), try Repo.vector("predict_batch.response.bin"))
    }

    func testErrorReplyMessageIsCutToItsLimitOnACharacterBoundary() throws {
        let long = String(repeating: "é", count: Limits.message)  // 2 bytes each
        let reply = ErrorReply(message: long + "x")
        XCTAssertLessThanOrEqual(reply.message.utf8.count, Limits.message)
        let decoded = try Frame(header: FrameHeader(type: .error, status: .internal, requestID: 1, payloadLength: reply.payloadSize),
                                payload: Array(reply.frameBytes(requestID: 1, status: .internal).dropFirst(16))).message()
        XCTAssertEqual(decoded, .error(.internal, reply))
    }

    func testErrorFrameMustCarryAKnownNonOKStatus() {
        for status: UInt8 in [0, 1, 2, 200] {
            let bytes = VectorCatalog.rawFrame(type: 0xFF, status: status, requestID: 1, payload: VectorCatalog.str("x"))
            var decoder = FrameDecoder()
            decoder.feed(bytes)
            XCTAssertThrowsError(try decoder.next()?.message(), "status \(status)") { error in
                XCTAssertEqual((error as? WireError)?.status, .invalidArgument)
            }
        }
    }
}
