import Foundation
import MLWire

/// The generator of `protocol/vectors/`. The files it wrote are the source of truth: tests read
/// them from disk and check them against `manifest.json`; `testVectorFilesMatchGenerator` only
/// makes sure this catalog and the files have not drifted apart.
///
/// Regenerate (vectors, manifest and the hex examples in PROTOCOL.md):
///
///     MLWIRE_WRITE_VECTORS=1 swift test --scratch-path .build-wire --filter VectorGeneratorTests
enum VectorCatalog {
    enum Expectation {
        /// A valid frame: it decodes to `message` with `requestID`.
        case message(requestID: UInt32, Message)
        /// An invalid stream: the server answers `error` with `requestID`, then closes or not.
        case error(WireError, requestID: UInt32, maxPayload: Int)
    }

    struct Vector {
        var file: String
        var direction: String
        var description: String
        var bytes: [UInt8]
        var expect: Expectation
        /// The protocol version whose layouts the bytes follow (what HELLO agreed on).
        var version: UInt8 = 1
    }

    // MARK: building blocks

    static func le16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    static func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    static func f32(_ v: Float) -> [UInt8] { le32(v.bitPattern) }
    static func str(_ s: String) -> [UInt8] { le16(UInt16(s.utf8.count)) + Array(s.utf8) }

    /// A frame with every header byte chosen by hand (for invalid vectors).
    static func rawFrame(type: UInt8, status: UInt8 = 0, flags: UInt8 = 0, reserved: UInt16 = 0, version: UInt8 = 1,
                         requestID: UInt32, payload: [UInt8], declaredLength: UInt32? = nil) -> [UInt8] {
        [0x4D, 0x4C, version, type, status, flags] + le16(reserved) + le32(requestID)
            + le32(declaredLength ?? UInt32(payload.count)) + payload
    }

    static func digest(from first: UInt8) -> Digest32 { Digest32((0..<32).map { first &+ UInt8($0) }) }

    static let activeSlot = SlotInfo(present: true, modelName: "fraud", version: "v2.1", kind: ModelKind.logistic.rawValue,
                                     featureCount: 4, checksum: digest(from: 0x10), loadedAtMicros: 1_717_171_200_000_000,
                                     artifact: "/models/fraud-v2.1.mla")
    static let standbySlot = SlotInfo(present: true, modelName: "fraud", version: "v2.0", kind: ModelKind.logistic.rawValue,
                                      featureCount: 4, checksum: digest(from: 0x40), loadedAtMicros: 1_717_084_800_000_000,
                                      artifact: "/models/fraud-v2.0.mla")
    static let loadedSlot = SlotInfo(present: true, modelName: "fraud", version: "v2.2", kind: ModelKind.mlp.rawValue,
                                     featureCount: 4, checksum: digest(from: 0xA0), loadedAtMicros: 1_717_257_600_000_000,
                                     artifact: "/models/fraud-v2.2.mla")

    static let metricsReply: MetricsReply = {
        // Reference proportions in 64ths, so every float is exact in JSON; they sum to 1.
        let reference: [Float] = [12, 10, 8, 6, 5, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1].map { $0 / 64 }
        let scores: [UInt64] = [190, 160, 125, 95, 80, 62, 48, 45, 30, 33, 17, 15, 16, 14, 15, 16, 14, 16, 0, 9]
        let latencies: [UInt64] = [180_000, 220_000, 260_000, 900_000, 2_500_000]
        let counts: [UInt64] = [400, 450, 120, 28, 2]
        let buckets = zip(latencies, counts).map { BucketCount(index: UInt16(LatencyBuckets.index(nanos: $0)), count: $1) }
        let v21 = VersionMetrics(version: "v2.1", requests: 1000, errors: 2, positives: 31, truePositives: 20,
                                 falsePositives: 5, trueNegatives: 60, falseNegatives: 3, latencySumNanos: 310_000_000,
                                 latencyCount: 1000, latencyBuckets: buckets, scoreBins: scores, referenceBins: reference)
        return MetricsReply(generation: 3, uptimeMillis: 86_400_000, timestampMicros: 1_717_257_660_000_000,
                            activeVersion: "v2.1", versions: [v21])
    }()

    static func valid(_ file: String, _ direction: String, _ description: String, id: UInt32, _ message: Message,
                      version: UInt8 = 1) -> Vector {
        Vector(file: file, direction: direction, description: description, bytes: message.frameBytes(requestID: id),
               expect: .message(requestID: id, message), version: version)
    }

    static func invalid(_ file: String, _ description: String, _ bytes: [UInt8], _ error: WireError, id: UInt32,
                        maxPayload: Int = FrameParser.defaultMaxPayload) -> Vector {
        Vector(file: "invalid_\(file).request.bin", direction: "request", description: description, bytes: bytes,
               expect: .error(error, requestID: id, maxPayload: maxPayload))
    }

    // MARK: the catalog

    static var all: [Vector] { validVectors + invalidVectors + v2Vectors }

    /// Protocol v2 (PROTOCOL.md §1): the negotiation and the typed ERROR layout. Later v2
    /// messages add theirs here.
    static var v2Vectors: [Vector] {
        [
            valid("hello_v2.request.bin", "request", "HELLO from a client that speaks versions 1 to 2", id: 1,
                  .hello(Hello(minVersion: 1, maxVersion: 2, role: .data, clientName: "py-client/2.0"))),
            valid("hello_v2.response.bin", "response", "HELLO_REPLY: version 2 agreed", id: 1,
                  .helloReply(HelloReply(version: 2, role: .data, maxPayload: 1 << 20, serverName: "mlserve/0.2"))),
            valid("error_v2.response.bin", "response",
                  "v2 ERROR FAILED_PRECONDITION with reason FENCE_ACTIVE_MISMATCH (300): a retried ROLLBACK whose fence no longer holds", id: 11,
                  .error(.failedPrecondition, ErrorReply(reason: .fenceActiveMismatch,
                                                         message: "expected active v2.2, but the active version is v2.1")),
                  version: 2),
            valid("predict_ids_v2.request.bin", "request", "PREDICT (v2) with flag WITH_IDS: 4 features, then prediction id 1234567890123", id: 2,
                  .predict(Predict(features: [0.5, -1.25, 3.0, 0.0], predictionID: 1_234_567_890_123)), version: 2),
            valid("predict_batch_ids_v2.request.bin", "request", "PREDICT_BATCH (v2) with flag WITH_IDS: 2 rows x 3 features, then ids 1001 and 1002", id: 3,
                  .predictBatch(PredictBatch(featureCount: 3, values: [0.5, 1.0, -1.5, 2.0, 0.25, -0.75], predictionIDs: [1001, 1002])), version: 2),
            valid("label_v2.request.bin", "request", "LABEL (v2): ids 1001 (truth 1), 1002 (truth 0), 77 (truth 1)", id: 12,
                  .label(LabelRequest(items: [.init(predictionID: 1001, actualLabel: 1), .init(predictionID: 1002, actualLabel: 0),
                                              .init(predictionID: 77, actualLabel: 1)])), version: 2),
            valid("label_v2.response.bin", "response", "LABEL_REPLY (v2): 2 matched, 1 unmatched", id: 12,
                  .labelReply(LabelReply(matched: 2, unmatched: 1, expired: 0, duplicate: 0)), version: 2),
            valid("metrics_v2.response.bin", "response",
                  "METRICS_REPLY (v2): the v1 version block plus model/client errors, label counts and label delay buckets", id: 8,
                  .metricsReply(metricsReplyV2), version: 2),
        ] + fleetV2Vectors
    }

    /// The v2 tails of LOAD_STANDBY, SWAP, ROLLBACK and INFO_REPLY (PROTOCOL.md §11.7, §11.9–11.11).
    static var fleetV2Vectors: [Vector] {
        let checksum = Digest32((0..<32).map { UInt8(0xa0 + $0) })
        let deadline: Int64 = 1_772_280_005_000_000
        return [
            valid("load_standby_v2.request.bin", "request",
                  "v2 LOAD_STANDBY of /models/fraud-v2.2.mla for operation op-7, deadline 2026-02-28T12:00:05Z, not forced", id: 9,
                  .loadStandby(LoadStandby(artifact: "/models/fraud-v2.2.mla", expectedChecksum: checksum,
                                           options: LoadOptions(operationID: "op-7", deadlineUnixMicros: deadline))),
                  version: 2),
            valid("swap_v2.request.bin", "request",
                  "v2 SWAP fenced on active v2.1 and standby v2.2 (with its checksum), deadline, operation op-7", id: 10,
                  .swap(SwapRequest(expectedActive: "v2.1", fence: SwapFence(expectedStandby: "v2.2", expectedStandbyChecksum: checksum,
                                                                            deadlineUnixMicros: deadline, operationID: "op-7"))),
                  version: 2),
            valid("rollback_v2.request.bin", "request",
                  "v2 ROLLBACK fenced on active v2.2 and standby v2.1 (any checksum), forced, operation op-8", id: 11,
                  .rollback(RollbackRequest(expectedActive: "v2.2", fence: SwapFence(expectedStandby: "v2.1", deadlineUnixMicros: deadline,
                                                                                    operationID: "op-8", flags: .force))),
                  version: 2),
            valid("info_v2.response.bin", "response", "v2 INFO_REPLY: the v1 fields, then both slots warm and the last operation op-7", id: 7,
                  .infoReply(InfoReply(generation: 3, ready: true, draining: false, active: activeSlot, standby: standbySlot,
                                       extension: InfoExtension(activeSlot: SlotExtension(warmState: 2), standbySlot: SlotExtension(warmState: 2),
                                                                lastOperationID: "op-7"))),
                  version: 2),
        ]
    }

    static let metricsReplyV2: MetricsReply = {
        var reply = metricsReply
        reply.layoutVersion = 2
        reply.versions[0].modelErrors = 1
        reply.versions[0].clientErrors = 1
        reply.versions[0].labels = 88
        reply.versions[0].labelsUnmatched = 3
        reply.versions[0].labelsExpired = 1
        reply.versions[0].labelsDuplicate = 2
        reply.versions[0].labelDelayBuckets = [2_000, 60_000, 3_600_000].enumerated().map {
            BucketCount(index: UInt16(LatencyBuckets.index(nanos: UInt64($0.element))), count: [50, 30, 8][$0.offset])
        }
        return reply
    }()

    static var validVectors: [Vector] {
        let predict = Predict(features: [0.5, -1.25, 3.0, 0.0])
        let batch = PredictBatch(featureCount: 3, values: [0.5, 1.0, -1.5, 2.0, 0.25, -0.75])
        return [
            valid("hello.request.bin", "request", "HELLO from a data (prediction) client, no token", id: 1,
                  .hello(Hello(maxVersion: 1, role: .data, clientName: "py-client/1.0"))),
            valid("hello_controller.request.bin", "request", "HELLO from a controller with its pre-shared token", id: 1,
                  .hello(Hello(maxVersion: 1, role: .controller, token: "s3cr3t-controller-token", clientName: "mlctl"))),
            valid("hello.response.bin", "response", "HELLO_REPLY: version 1 agreed, data role, 1 MiB max payload", id: 1,
                  .helloReply(HelloReply(version: 1, role: .data, maxPayload: 1 << 20, serverName: "mlserve/0.1"))),
            valid("predict.request.bin", "request", "PREDICT one row of 4 float32 features", id: 2, .predict(predict)),
            valid("predict.response.bin", "response", "PREDICT_RESULT: score 0.875, label 1, by v2.1 at generation 3", id: 2,
                  .predictResult(PredictResult(generation: 3, score: 0.875, label: 1, version: "v2.1"))),
            valid("predict_batch.request.bin", "request", "PREDICT_BATCH: 2 rows x 3 features, row-major", id: 3,
                  .predictBatch(batch)),
            valid("predict_batch.response.bin", "response", "PREDICT_BATCH_RESULT: 2 scores then 2 labels, one version", id: 3,
                  .predictBatchResult(PredictBatchResult(generation: 3, version: "v2.1", scores: [0.125, 0.9375], labels: [0, 1]))),
            valid("feedback.request.bin", "request", "FEEDBACK: v2.1 predicted 1, the truth was 0 (a false positive)", id: 4,
                  .feedback(Feedback(predictedLabel: 1, actualLabel: 0, version: "v2.1"))),
            valid("feedback.response.bin", "response", "FEEDBACK_ACK (empty payload)", id: 4, .feedbackAck),
            valid("health.request.bin", "request", "HEALTH (empty payload; allowed before HELLO)", id: 5, .health),
            valid("health.response.bin", "response", "HEALTH_REPLY: serving, up one day", id: 5,
                  .healthReply(HealthReply(serving: true, uptimeMillis: 86_400_000))),
            valid("ready.request.bin", "request", "READY (empty payload; allowed before HELLO)", id: 6, .ready),
            valid("ready.response.bin", "response", "READY_REPLY: ready, empty reason", id: 6,
                  .readyReply(ReadyReply(ready: true, reason: ""))),
            valid("ready_not_ready.response.bin", "response", "READY_REPLY: not ready, with the reason", id: 6,
                  .readyReply(ReadyReply(ready: false, reason: "no active model"))),
            valid("info.request.bin", "request", "INFO (empty payload)", id: 7, .info),
            valid("info.response.bin", "response", "INFO_REPLY: generation 3, active v2.1, standby v2.0", id: 7,
                  .infoReply(InfoReply(generation: 3, ready: true, draining: false, active: activeSlot, standby: standbySlot))),
            valid("metrics.request.bin", "request", "METRICS (empty payload)", id: 8, .metrics),
            valid("metrics.response.bin", "response", "METRICS_REPLY: one version with latency buckets and score bins", id: 8,
                  .metricsReply(metricsReply)),
            valid("load_standby.request.bin", "request", "LOAD_STANDBY: an artifact path and its expected SHA-256", id: 9,
                  .loadStandby(LoadStandby(artifact: "/models/fraud-v2.2.mla", expectedChecksum: digest(from: 0xA0)))),
            valid("load_standby.response.bin", "response", "LOAD_STANDBY_REPLY: the standby slot now holds v2.2", id: 9,
                  .loadStandbyReply(LoadStandbyReply(generation: 3, standby: loadedSlot))),
            valid("swap.request.bin", "request", "SWAP fenced on active == v2.1", id: 10, .swap(SwapRequest(expectedActive: "v2.1"))),
            valid("swap.response.bin", "response", "SWAP_REPLY: v2.1 -> v2.2, generation 4", id: 10,
                  .swapReply(SwapReply(SwapOutcome(previousVersion: "v2.1", activeVersion: "v2.2", generation: 4,
                                                   timestampMicros: 1_717_257_700_000_000, swapNanos: 1_800)))),
            valid("rollback.request.bin", "request", "ROLLBACK fenced on active == v2.2", id: 11,
                  .rollback(RollbackRequest(expectedActive: "v2.2"))),
            valid("rollback.response.bin", "response", "ROLLBACK_REPLY: rolled back from v2.2 to v2.1, generation 5", id: 11,
                  .rollbackReply(RollbackReply(SwapOutcome(previousVersion: "v2.2", activeVersion: "v2.1", generation: 5,
                                                           timestampMicros: 1_717_258_000_000_000, swapNanos: 2_100)))),
            valid("error.response.bin", "response", "ERROR FAILED_PRECONDITION answering a retried ROLLBACK whose fence no longer holds", id: 11,
                  .error(.failedPrecondition, ErrorReply(message: "expected active v2.2, but the active version is v2.1"))),
            valid("error_bad_magic.response.bin", "response", "ERROR INVALID_ARGUMENT with request id 0: the peer's bytes were not frames; the server closes after it", id: 0,
                  .error(.invalidArgument, ErrorReply(message: WireError.badMagic(found: 0x4547).description))),
        ]
    }

    static var invalidVectors: [Vector] {
        let predictPayload = f32s([0.5, -1.25, 3.0, 0.0], count: 4)
        let predictFrame = rawFrame(type: 0x02, requestID: 20, payload: predictPayload)
        return [
            invalid("truncated_header", "stream ends after 10 of the 16 header bytes", Array(predictFrame.prefix(10)),
                    .truncated(have: 10, need: 16), id: 0),
            invalid("truncated_payload", "PREDICT whose stream ends 3 bytes before the declared payload length",
                    Array(predictFrame.dropLast(3)), .truncated(have: predictFrame.count - 3, need: predictFrame.count), id: 0),
            invalid("bad_magic", "an HTTP request line sent to the binary port", Array("GET / HTTP/1.1\r\n".utf8),
                    .badMagic(found: 0x4547), id: 0),
            invalid("bad_frame_version", "HEALTH with frame version 2", rawFrame(type: 0x05, version: 2, requestID: 21, payload: []),
                    .unsupportedFrameVersion(found: 2), id: 0),
            invalid("oversized_length", "PREDICT header declaring 1 MiB + 1 payload bytes; only the header is sent",
                    rawFrame(type: 0x02, requestID: 22, payload: [], declaredLength: (1 << 20) + 1),
                    .frameTooLarge(declared: (1 << 20) + 1, limit: 1 << 20), id: 22),
            invalid("oversized_before_hello", "before HELLO the limit is 4096: a header declaring 4097 bytes",
                    rawFrame(type: 0x02, requestID: 23, payload: [], declaredLength: 4097),
                    .frameTooLarge(declared: 4097, limit: 4096), id: 23, maxPayload: FrameParser.preHelloMaxPayload),
            invalid("unknown_type", "type 0x7E is not a v1 message type", rawFrame(type: 0x7E, requestID: 24, payload: [1, 2, 3]),
                    .unknownType(0x7E), id: 24),
            invalid("response_as_request", "a PREDICT_RESULT (0x82) sent to the server as if it were a request",
                    MLWire.PredictResult(generation: 1, score: 0.5, label: 0, version: "v1").frameBytes(requestID: 25),
                    .unexpectedType(0x82), id: 25),
            invalid("reserved_flags", "HEALTH with flags byte 0x01", rawFrame(type: 0x05, flags: 0x01, requestID: 26, payload: []),
                    .reservedBitsSet(flags: 1, reserved: 0), id: 26),
            invalid("reserved_header_field", "HEALTH with the reserved u16 = 0x0100",
                    rawFrame(type: 0x05, reserved: 0x0100, requestID: 27, payload: []), .reservedBitsSet(flags: 0, reserved: 0x0100), id: 27),
            invalid("nonzero_status", "PREDICT carrying status 3 in its header (requests carry status 0)",
                    rawFrame(type: 0x02, status: 3, requestID: 28, payload: predictPayload), .unexpectedType(0x02), id: 28),
            invalid("predict_wrong_size", "PREDICT declaring 4 features but carrying 3",
                    rawFrame(type: 0x02, requestID: 29, payload: le32(4) + [0.5, 1, 2].flatMap(f32)),
                    .malformed(.predict, "4 features need 20 payload bytes, got 16"), id: 29),
            invalid("predict_zero_features", "PREDICT with feature_count 0",
                    rawFrame(type: 0x02, requestID: 30, payload: le32(0)), .badShape(rows: 1, features: 0), id: 30),
            invalid("predict_too_many_features", "PREDICT declaring 4097 features (limit 4096)",
                    rawFrame(type: 0x02, requestID: 31, payload: le32(4097)), .badShape(rows: 1, features: 4097), id: 31),
            invalid("predict_nan", "PREDICT whose feature 1 is a quiet NaN (0x7FC00000)",
                    rawFrame(type: 0x02, requestID: 32, payload: f32s([0.5, .nan, 1, 2], count: 4)), .nonFiniteFeature(index: 1), id: 32),
            invalid("predict_inf", "PREDICT whose feature 2 is +infinity",
                    rawFrame(type: 0x02, requestID: 33, payload: f32s([0.5, 1, .infinity, 2], count: 4)), .nonFiniteFeature(index: 2), id: 33),
            invalid("predict_batch_wrong_size", "PREDICT_BATCH declaring 2 x 3 but carrying 5 values",
                    rawFrame(type: 0x03, requestID: 34, payload: le32(2) + le32(3) + [1, 2, 3, 4, 5].flatMap(f32)),
                    .malformed(.predictBatch, "2x3 features need 32 payload bytes, got 28"), id: 34),
            invalid("predict_batch_zero_rows", "PREDICT_BATCH with rows 0",
                    rawFrame(type: 0x03, requestID: 35, payload: le32(0) + le32(3)), .badShape(rows: 0, features: 3), id: 35),
            invalid("predict_batch_neg_inf", "PREDICT_BATCH whose value 4 (row 1, feature 1) is -infinity",
                    rawFrame(type: 0x03, requestID: 36, payload: le32(2) + le32(3) + [1, 2, 3, 4, -.infinity, 6].flatMap(f32)),
                    .nonFiniteFeature(index: 4), id: 36),
            invalid("bad_utf8", "HELLO whose client_name is not UTF-8 (0xFF)",
                    rawFrame(type: 0x01, requestID: 37, payload: [1, 1, 0, 0] + str("") + le16(3) + [0x6D, 0xFF, 0x6C]),
                    .badString(field: "client_name", length: 3, limit: Limits.name), id: 37),
            invalid("overlong_string", "SWAP whose expected_active is 65 bytes (limit 64)",
                    rawFrame(type: 0x11, requestID: 38, payload: str(String(repeating: "v", count: 65))),
                    .badString(field: "expected_active", length: 65, limit: Limits.version), id: 38),
            invalid("string_past_payload", "SWAP whose string declares 10 bytes but the payload ends after 4",
                    rawFrame(type: 0x11, requestID: 39, payload: le16(10) + Array("v2.1".utf8)),
                    .malformed(.swap, "payload ends before string bytes (4 bytes left, 10 needed)"), id: 39),
            invalid("trailing_bytes", "FEEDBACK followed by one extra payload byte",
                    rawFrame(type: 0x04, requestID: 40, payload: [1, 0, 0, 0] + str("v2.1") + [0]),
                    .malformed(.feedback, "1 unexpected trailing bytes"), id: 40),
            invalid("empty_message_with_payload", "HEALTH (an empty message) with a 1-byte payload",
                    rawFrame(type: 0x05, requestID: 41, payload: [0]), .malformed(.health, "1 unexpected trailing bytes"), id: 41),
            invalid("hello_bad_role", "HELLO with role 2 (only 0 data and 1 controller exist)",
                    rawFrame(type: 0x01, requestID: 42, payload: [1, 1, 2, 0] + str("") + str("x")),
                    .malformed(.hello, "unknown role 2"), id: 42),
            invalid("hello_reserved_byte", "HELLO whose reserved payload byte 3 is 0x01",
                    rawFrame(type: 0x01, requestID: 43, payload: [1, 1, 0, 1] + str("") + str("x")),
                    .malformed(.hello, "reserved byte at payload offset 3 is not zero"), id: 43),
            invalid("feedback_bad_label", "FEEDBACK with actual_label 2 (labels are 0 or 1)",
                    rawFrame(type: 0x04, requestID: 44, payload: [1, 2, 0, 0] + str("v2.1")),
                    .malformed(.feedback, "labels must be 0 or 1 (got 1, 2)"), id: 44),
            invalid("load_standby_empty_artifact", "LOAD_STANDBY with an empty artifact reference",
                    rawFrame(type: 0x10, requestID: 45, payload: [UInt8](repeating: 0, count: 32) + str("")),
                    .malformed(.loadStandby, "empty artifact reference"), id: 45),
        ]
    }

    /// `values` as float32 bytes, after a u32 count.
    static func f32s(_ values: [Float], count: UInt32) -> [UInt8] { le32(count) + values.flatMap(f32) }

    // MARK: manifest

    static func manifest() -> JSON {
        .object([
            ("protocol_versions", .array([.int(1), .int(2)])),
            ("about", .string("MLServe wire protocol test vectors; see protocol/PROTOCOL.md. Each file is one byte stream as sent in `direction`, "
                + "in the layouts of protocol `version` (what HELLO agreed on; 1 for streams before HELLO). "
                + "outcome \"message\": the stream is exactly one frame that decodes to `fields` and re-encodes to the same bytes. "
                + "outcome \"error\": a server reading the stream with `max_payload` answers with an ERROR frame of `status` and `error_request_id`, "
                + "then closes the connection if `closes_connection` (otherwise it goes on reading the next frame). "
                + "Floats are exact binary values; checksums are lowercase hex of the 32 bytes in wire order.")),
            ("generator", .string("Tests/MLWireTests/Support/VectorCatalog.swift: MLWIRE_WRITE_VECTORS=1 swift test --filter VectorGeneratorTests")),
            ("vectors", .array(all.map(entry))),
        ])
    }

    static func entry(_ v: Vector) -> JSON {
        var pairs: [(String, JSON)] = [("file", .string(v.file)), ("direction", .string(v.direction)),
                                       ("description", .string(v.description)), ("version", .int(v.version)),
                                       ("size", .int(v.bytes.count))]
        switch v.expect {
        case .message(let id, let message):
            pairs.append(("expect", .object([
                ("outcome", .string("message")), ("type", .string(specName(message.type))), ("type_code", .int(message.type.rawValue)),
                ("status", .string(message.status.name)), ("request_id", .int(id)),
                ("payload_length", .int(v.bytes.count - FrameHeader.size)), ("fields", fields(of: message)),
            ])))
        case .error(let error, let id, let maxPayload):
            pairs.append(("expect", .object([
                ("outcome", .string("error")), ("status", .string(error.status.name)), ("status_code", .int(error.status.rawValue)),
                ("closes_connection", .bool(error.closesConnection)), ("error_request_id", .int(id)),
                ("max_payload", .int(maxPayload)), ("wire_error", .string(caseName(error))), ("reason", .string(error.description)),
            ])))
        }
        return .object(pairs)
    }

    // MARK: hex examples for PROTOCOL.md

    /// The hex block the spec shows for a vector: the 16 header bytes on one line, then the
    /// payload 16 bytes a line with its offset.
    static func hexBlock(_ bytes: [UInt8]) -> [String] {
        func hex(_ slice: ArraySlice<UInt8>) -> String {
            slice.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        }
        var lines = ["hdr:  " + hex(bytes.prefix(FrameHeader.size))]
        var offset = FrameHeader.size
        while offset < bytes.count {
            let label = String(offset - FrameHeader.size, radix: 16)
            lines.append(String(repeating: "0", count: 4 - label.count) + label + ": " + hex(bytes[offset..<min(offset + 16, bytes.count)]))
            offset += 16
        }
        return lines
    }

    static func totalLine(_ file: String, _ count: Int) -> String {
        let payload = max(0, count - FrameHeader.size)
        return "Total: \(count) bytes (16 header + \(payload) payload), `vectors/\(file)`."
    }

    static let markerPrefix = "<!-- vector: "

    /// Rewrites every `<!-- vector: NAME -->` example in `markdown` from the files in `directory`.
    static func fillExamples(_ markdown: String, read: (String) throws -> [UInt8]) rethrows -> String {
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var out: [String] = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            out.append(line)
            i += 1
            guard line.hasPrefix(markerPrefix), let end = line.range(of: " -->") else { continue }
            let name = String(line[line.index(line.startIndex, offsetBy: markerPrefix.count)..<end.lowerBound])
            // Drop the previous example: an optional ```hex block and its Total line.
            if i < lines.count, lines[i] == "```hex" {
                i += 1
                while i < lines.count, lines[i] != "```" { i += 1 }
                i += 1
            }
            if i < lines.count, lines[i].hasPrefix("Total: ") { i += 1 }
            let bytes = try read(name)
            out.append("```hex")
            out.append(contentsOf: hexBlock(bytes))
            out.append("```")
            out.append(totalLine(name, bytes.count))
        }
        return out.joined(separator: "\n")
    }
}
