import Glibc
import MLModel
import MLWire

/// Decoding and answering requests: the loop's per-frame work. Predict and PredictBatch are the
/// hot path: no allocation, no lock, no String — features go from the read buffer into scratch,
/// the response is encoded straight into the connection's output buffer.
extension EventLoop {
    /// Decodes and answers every complete frame buffered on `connection`, until it pauses.
    func process(_ connection: Connection, receivedAt: UInt64) {
        while connection.decodes && connection.inputEnd > connection.inputStart {
            // Unauthenticated peers get a tight limit until their HELLO is accepted.
            let limit = connection.greeted ? config.maxPayload : FrameParser.preHelloMaxPayload
            // v2 defines one header flag, WITH_IDS, for PREDICT / PREDICT_BATCH (checked in handle).
            let flags = connection.protocolVersion >= 2 ? PredictFlags.withIDs : 0
            switch FrameParser.parse(connection.bufferedInput, maxPayload: limit, allowedFlags: flags) {
            case .needMore(let need):
                connection.ensureInputCapacity(need)
                return
            case .frame(let header, let payload, let consumed):
                handle(connection, header: header, payload: payload, receivedAt: receivedAt)
                connection.inputStart += consumed
            case .reject(let error, let requestID, let consumed):
                protocolError(connection, error, requestID: requestID)
                if consumed == 0 { return }
                connection.inputStart += consumed
            }
        }
    }

    /// The one protocol-error path: an error frame, and a close when the stream is lost.
    func protocolError(_ connection: Connection, _ error: WireError, requestID: UInt32) {
        reject(connection, error.status, error.reason, error.description, requestID: requestID)
        if error.closesConnection { connection.lifecycle.closeAfterFlush() }
        logProtocolError(connection, error, requestID: requestID)
    }

    /// One rate-limited line per protocol error, with the peer and a hex sample of the bytes.
    func logProtocolError(_ connection: Connection, _ error: WireError, requestID: UInt32) {
        guard logLimit.admit(now: Clock.monotonicNanos()) else { return }
        NodeLog.event("protocol_error", level: "warn", [
            ("peer", NodeLog.peer(connection.fd)), ("status", error.status.name), ("request", String(requestID)),
            ("closes", error.closesConnection ? "yes" : "no"), ("error", error.description),
            ("sample", NodeLog.sample(connection.bufferedInput))])
    }

    /// Every refusal is answered here: the status, and the typed reason on v2 connections.
    func reject(_ connection: Connection, _ status: Status, _ reason: Reason, _ message: String, requestID: UInt32) {
        connection.append(ErrorReply(reason, message, version: connection.protocolVersion), requestID: requestID, status: status)
    }

    func reject(_ connection: Connection, _ error: SlotError, requestID: UInt32) {
        reject(connection, error.status, error.reason, error.message, requestID: requestID)
    }

    private func handle(_ connection: Connection, header: FrameHeader, payload: UnsafeRawBufferPointer, receivedAt: UInt64) {
        let id = header.requestID
        guard let type = header.messageType, type.minimumVersion <= connection.protocolVersion else {
            return protocolError(connection, .unknownType(header.type), requestID: id)
        }
        guard type.isRequest, header.status == 0 else {
            return protocolError(connection, .unexpectedType(header.type), requestID: id)
        }
        if header.flags != 0 && type != .predict && type != .predictBatch {
            return protocolError(connection, .reservedBitsSet(flags: header.flags, reserved: header.reserved), requestID: id)
        }
        guard connection.greeted || type.allowedBeforeHello else {
            return reject(connection, .failedPrecondition, .helloRequired, "send HELLO first: \(type) is not accepted before the handshake", requestID: id)
        }
        if type.needsController && connection.role != .controller {
            return reject(connection, .permissionDenied, .roleNotAllowed, "\(type) needs a controller connection (HELLO with role controller and the node's token)", requestID: id)
        }
        // Ground truth moves F1, which the controller rolls back on: never from a data connection.
        if type == .feedback && connection.role != .controller {
            return reject(connection, .permissionDenied, .roleNotAllowed, "FEEDBACK needs a controller connection; labellers send LABEL by prediction id", requestID: id)
        }
        if type == .label && connection.role == .data {
            return reject(connection, .permissionDenied, .roleNotAllowed, "LABEL needs a labeller or controller connection (HELLO with the node's labeller token)", requestID: id)
        }
        do {
            switch type {
            case .predict: try predict(connection, payload: payload, flags: header.flags, requestID: id, receivedAt: receivedAt)
            case .predictBatch: try predictBatch(connection, payload: payload, flags: header.flags, requestID: id, receivedAt: receivedAt)
            case .feedback: try feedback(connection, payload: payload, requestID: id)
            case .label: try label(connection, payload: payload, requestID: id)
            case .hello: try hello(connection, payload: payload, requestID: id)
            case .health:
                _ = try HealthRequest.decode(payload: payload)
                connection.append(control.health(), requestID: id)
            case .ready:
                _ = try ReadyRequest.decode(payload: payload)
                connection.append(control.ready(), requestID: id)
            case .info:
                _ = try InfoRequest.decode(payload: payload)
                connection.append(control.info(protocolVersion: connection.protocolVersion), requestID: id)
            case .metrics:
                _ = try MetricsRequest.decode(payload: payload)
                var reply = control.metrics()
                reply.layoutVersion = connection.protocolVersion
                connection.append(reply, requestID: id)
            case .loadStandby:
                submitLoad(try LoadStandby.decode(payload: payload, version: connection.protocolVersion), connection: connection, requestID: id)
            case .swap, .rollback:
                // One fenced flip; only the reply's type differs (Rollback answers the runbook).
                let version = connection.protocolVersion
                let (expected, fence) = type == .swap
                    ? try SwapRequest.decode(payload: payload, version: version).parts
                    : try RollbackRequest.decode(payload: payload, version: version).parts
                switch control.swap(expectedActive: expected, fence: fence, actor: "rpc:" + NodeLog.peer(connection.fd)) {
                case .success(let outcome) where type == .swap: connection.append(SwapReply(outcome), requestID: id)
                case .success(let outcome): connection.append(RollbackReply(outcome), requestID: id)
                case .failure(let error): reject(connection, error, requestID: id)
                }
                refreshSlots()
            case .setShadow:
                let request = try SetShadowRequest.decode(payload: payload)
                switch control.setShadow(rate: request.rate, expectedStandby: request.expectedStandby) {
                case .success(let reply): connection.append(reply, requestID: id)
                case .failure(let error): reject(connection, error, requestID: id)
                }
                refreshSlots()
            default:
                protocolError(connection, .unexpectedType(header.type), requestID: id)
            }
        } catch {
            // A request the client got wrong is the client's error, never the model's.
            if type == .predict || type == .predictBatch { activeCounters?.recordClientError(error.status) }
            protocolError(connection, error, requestID: id)
        }
    }

    // MARK: Hot path

    /// The active model and its counters for a decoded request, with its features copied to
    /// scratch (refusing NaN and infinities); nil once the refusal is answered. The layout was
    /// checked first, as PROTOCOL.md §9 orders it, then the node's state.
    @inline(__always)
    private func prepare(_ view: PredictView, _ connection: Connection, requestID: UInt32) throws(WireError) -> (ModelKernel, CounterCells)? {
        guard let model = activeKernel, let block = activeCounters else {
            reject(connection, .unavailable, .noActiveModel, "no active model", requestID: requestID)
            return nil
        }
        guard view.featureCount == model.featureCount else {
            block.recordClientError(.invalidArgument)
            reject(connection, .invalidArgument, .featureCountMismatch,
                   "model \(pair.active?.version ?? "?") takes \(model.featureCount) features, request rows have \(view.featureCount)", requestID: requestID)
            return nil
        }
        // NaN is refused here, once the model is known: it means "missing" only to a model that
        // accepts missing values, and only on v2 connections (PROTOCOL.md §11.2).
        try view.copyValues(into: featureScratch, allowingMissing: model.acceptsMissing && connection.protocolVersion >= 2)
        return (model, block)
    }

    /// A model that scores NaN or infinity is broken, not the request: INTERNAL, a model error.
    private func nonFiniteScore(_ connection: Connection, _ block: CounterCells, row: Int?, requestID: UInt32) {
        block.add(CounterCells.modelErrors)
        reject(connection, .internal, .modelFailed, "model \(pair.active?.version ?? "?") produced a non-finite score\(row.map { " for row \($0)" } ?? "")", requestID: requestID)
    }

    @inline(__always)
    private func predict(_ connection: Connection, payload: UnsafeRawBufferPointer, flags: UInt8, requestID: UInt32, receivedAt: UInt64) throws(WireError) {
        let view = try PredictView(payload: payload, withIDs: flags & PredictFlags.withIDs != 0)
        guard let (model, block) = try prepare(view, connection, requestID: requestID) else { return }
        let score = model.score(row: featureScratch)
        guard score.isFinite else { return nonFiniteScore(connection, block, row: nil, requestID: requestID) }
        let label = model.label(for: score)
        let out = connection.reserveOutput(FrameHeader.size + PredictResult.fixedSize + 2 + Limits.version)
        connection.commitOutput(PredictResult.writeFrame(to: out, requestID: requestID, generation: cachedGeneration,
                                                         score: score, label: label, versionUTF8: model.versionUTF8))
        block.recordPrediction(score: score, label: label)
        if view.hasIDs, let table = predictionTable {
            table.remember(id: view.id(0), version: activeNumber, generation: cachedGeneration, score: score, label: label, atNanos: receivedAt)
        }
        block.recordLatency(nanos: Clock.monotonicNanos() &- receivedAt)
        shadowPredict(view, score: score, label: label, receivedAt: receivedAt)
    }

    private func predictBatch(_ connection: Connection, payload: UnsafeRawBufferPointer, flags: UInt8, requestID: UInt32, receivedAt: UInt64) throws(WireError) {
        let view = try PredictView(batchPayload: payload, withIDs: flags & PredictFlags.withIDs != 0)
        guard let (model, block) = try prepare(view, connection, requestID: requestID) else { return }
        model.predict(rows: featureScratch, count: view.rows, scores: scoreScratch)
        for row in 0..<view.rows where !scoreScratch[row].isFinite {
            return nonFiniteScore(connection, block, row: row, requestID: requestID)
        }
        let rows = view.rows
        let out = connection.reserveOutput(FrameHeader.size + 8 + 2 + Limits.version + 4 + 5 * rows)
        let (scoresOffset, total) = PredictBatchResult.writeFramePrefix(
            to: out, requestID: requestID, generation: cachedGeneration, versionUTF8: model.versionUTF8, rows: rows)
        for row in 0..<rows {
            let score = scoreScratch[row]
            let label = model.label(for: score)
            out.storeBytes(of: score.bitPattern.littleEndian, toByteOffset: scoresOffset + 4 * row, as: UInt32.self)
            out.storeBytes(of: label, toByteOffset: scoresOffset + 4 * rows + row, as: UInt8.self)
            block.recordPrediction(score: score, label: label)
        }
        if view.hasIDs, let table = predictionTable {
            for row in 0..<rows {
                let score = scoreScratch[row]
                table.remember(id: view.id(row), version: activeNumber, generation: cachedGeneration,
                               score: score, label: model.label(for: score), atNanos: receivedAt)
            }
        }
        connection.commitOutput(total)
        block.recordLatency(nanos: Clock.monotonicNanos() &- receivedAt)
        shadowBatch(view, active: model, receivedAt: receivedAt)
    }

    // MARK: Other requests

    private func feedback(_ connection: Connection, payload: UnsafeRawBufferPointer, requestID: UInt32) throws(WireError) {
        var reader = ByteReader(payload, type: .feedback)
        let predicted = try reader.readUInt8("predicted label")
        let actual = try reader.readUInt8("actual label")
        guard predicted <= 1, actual <= 1 else {
            throw .malformed(.feedback, "labels must be 0 or 1 (got \(predicted), \(actual))")
        }
        try reader.readReserved(2)
        let length = Int(try reader.readUInt16("string length"))
        guard length <= Limits.version else { throw .badString(field: "version", length: length, limit: Limits.version) }
        let version = try reader.readBytes(length, "version")
        try reader.finish()
        guard let block = feedbackBlock(version) else {
            return reject(connection, .notFound, .unknownVersion, "no version \(String(decoding: version, as: UTF8.self)) has been loaded on this node", requestID: requestID)
        }
        block.cells.recordFeedback(predicted: predicted, actual: actual)
        let out = connection.reserveOutput(FrameHeader.size)
        FrameHeader(type: .feedbackAck, requestID: requestID, payloadLength: 0).write(to: out)
        connection.commitOutput(FrameHeader.size)
    }

    /// Joins each label to the prediction its id names, and counts it for the version that made
    /// that prediction (whatever is active now). Unmatched labels have no version to go to: they
    /// are counted on the version active when they arrive, so they show up somewhere.
    private func label(_ connection: Connection, payload: UnsafeRawBufferPointer, requestID: UInt32) throws(WireError) {
        let view = try LabelView(payload: payload)
        var reply = LabelReply()
        let now = Clock.monotonicNanos()
        for i in 0..<view.count {
            switch shared.window.claim(id: view.predictionID(i), nowNanos: now) {
            case .matched(let prediction):
                let delay = now > prediction.atNanos ? (now - prediction.atNanos) / 1_000_000 : 0
                labelBlock(prediction.version)?.cells.recordLabel(predicted: prediction.label, actual: view.actualLabel(i), delayMillis: delay)
                reply.matched += 1
            case .expired(let prediction):
                labelBlock(prediction.version)?.cells.add(CounterCells.labelsExpired)
                reply.expired += 1
            case .duplicate(let prediction):
                labelBlock(prediction.version)?.cells.add(CounterCells.labelsDuplicate)
                reply.duplicate += 1
            case .unmatched:
                activeCounters?.add(CounterCells.labelsUnmatched)
                reply.unmatched += 1
            }
            shadowLabel(id: view.predictionID(i), actual: view.actualLabel(i), nowNanos: now)
        }
        connection.append(reply, requestID: requestID)
    }

    /// This loop's counters for the version with registry number `number`.
    private func labelBlock(_ number: Int) -> CounterBlock? {
        if number < labelBlocks.count, let block = labelBlocks[number] { return block }
        guard let block = control.registry.block(number: number, loop: index) else { return nil }
        while labelBlocks.count <= number { labelBlocks.append(nil) }
        labelBlocks[number] = block
        return block
    }

    /// This loop's counters for a version named by raw bytes; the registry is asked only once.
    private func feedbackBlock(_ version: UnsafeRawBufferPointer) -> CounterBlock? {
        guard !version.isEmpty else { return nil }
        for entry in feedbackBlocks where entry.version.count == version.count {
            let same = entry.version.withUnsafeBytes { memcmp($0.baseAddress!, version.baseAddress!, version.count) == 0 }
            if same { return entry.block }
        }
        guard let name = String(validating: version, as: UTF8.self),
              let block = control.registry.block(version: name, loop: index) else { return nil }
        feedbackBlocks.append((Array(version), block))
        return block
    }

    private func hello(_ connection: Connection, payload: UnsafeRawBufferPointer, requestID: UInt32) throws(WireError) {
        let hello = try Hello.decode(payload: payload)
        guard !connection.greeted else {
            return reject(connection, .failedPrecondition, .secondHello, "HELLO was already accepted on this connection", requestID: requestID)
        }
        let supported = Hello.supportedVersions
        guard hello.maxVersion >= supported.lowerBound, hello.minVersion <= supported.upperBound else {
            return reject(connection, .unimplemented, .versionUnsupported,
                          "no common protocol version: client speaks \(hello.minVersion)...\(hello.maxVersion), node speaks \(supported.lowerBound)...\(supported.upperBound)",
                          requestID: requestID)
        }
        if connection.lifecycle.reserveOnly && hello.role != .controller {
            // About the connection, not the request: id 0, as for the limit at accept (and in the
            // v1 layout, since no version is agreed), so clients read it as connectionLimit.
            connection.lifecycle.closeAfterFlush()
            return reject(connection, .resourceExhausted, .connectionLimit,
                          "connection limit: the last \(config.controllerReserve) of \(config.maxConnections) connections are kept for controllers; retry later",
                          requestID: 0)
        }
        let agreed = min(hello.maxVersion, supported.upperBound)
        switch hello.role {
        case .controller:
            guard control.checkToken(hello.token) else {
                connection.lifecycle.closeAfterFlush()
                let why = control.hasToken ? "controller token rejected" : "this node has no controller token configured"
                return reject(connection, .unauthenticated, .tokenRejected, why, requestID: requestID)
            }
        case .labeller:
            // Role 2 does not exist in v1, where an unknown role is INVALID_ARGUMENT.
            guard agreed >= 2 else {
                return reject(connection, .invalidArgument, .malformedPayload, "role labeller needs protocol version 2 (agreed \(agreed))", requestID: requestID)
            }
            guard control.checkLabellerToken(hello.token) else {
                connection.lifecycle.closeAfterFlush()
                let why = control.hasLabellerToken ? "labeller token rejected" : "this node has no labeller token configured"
                return reject(connection, .unauthenticated, .tokenRejected, why, requestID: requestID)
            }
        case .data:
            break
        }
        connection.lifecycle.greet(role: hello.role, version: agreed, handOff: controlLoop != nil)
        connection.append(HelloReply(version: agreed, role: hello.role,
                                     maxPayload: UInt32(config.maxPayload), serverName: control.serverName),
                          requestID: requestID)
    }
}
