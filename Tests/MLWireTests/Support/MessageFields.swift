import MLWire

/// The names PROTOCOL.md uses for message types (upper snake case, as in its §4 table).
func specName(_ type: MessageType) -> String {
    switch type {
    case .hello: "HELLO"
    case .predict: "PREDICT"
    case .predictBatch: "PREDICT_BATCH"
    case .feedback: "FEEDBACK"
    case .health: "HEALTH"
    case .ready: "READY"
    case .info: "INFO"
    case .metrics: "METRICS"
    case .label: "LABEL"
    case .loadStandby: "LOAD_STANDBY"
    case .swap: "SWAP"
    case .rollback: "ROLLBACK"
    case .setShadow: "SET_SHADOW"
    case .helloReply: "HELLO_REPLY"
    case .predictResult: "PREDICT_RESULT"
    case .predictBatchResult: "PREDICT_BATCH_RESULT"
    case .feedbackAck: "FEEDBACK_ACK"
    case .healthReply: "HEALTH_REPLY"
    case .readyReply: "READY_REPLY"
    case .infoReply: "INFO_REPLY"
    case .metricsReply: "METRICS_REPLY"
    case .labelReply: "LABEL_REPLY"
    case .loadStandbyReply: "LOAD_STANDBY_REPLY"
    case .swapReply: "SWAP_REPLY"
    case .rollbackReply: "ROLLBACK_REPLY"
    case .setShadowReply: "SET_SHADOW_REPLY"
    case .error: "ERROR"
    }
}

extension Message {
    var type: MessageType {
        switch self {
        case .hello: .hello
        case .predict: .predict
        case .predictBatch: .predictBatch
        case .feedback: .feedback
        case .health: .health
        case .ready: .ready
        case .info: .info
        case .metrics: .metrics
        case .label: .label
        case .labelReply: .labelReply
        case .loadStandby: .loadStandby
        case .swap: .swap
        case .rollback: .rollback
        case .setShadow: .setShadow
        case .helloReply: .helloReply
        case .predictResult: .predictResult
        case .predictBatchResult: .predictBatchResult
        case .feedbackAck: .feedbackAck
        case .healthReply: .healthReply
        case .readyReply: .readyReply
        case .infoReply: .infoReply
        case .metricsReply: .metricsReply
        case .loadStandbyReply: .loadStandbyReply
        case .swapReply: .swapReply
        case .rollbackReply: .rollbackReply
        case .setShadowReply: .setShadowReply
        case .error: .error
        }
    }

    var status: Status {
        if case .error(let status, _) = self { return status }
        return .ok
    }
}

private func role(_ r: ConnectionRole) -> JSON {
    switch r {
    case .data: .string("data")
    case .controller: .string("controller")
    case .labeller: .string("labeller")
    }
}

private func slot(_ s: SlotInfo) -> JSON {
    .object([
        ("present", .bool(s.present)), ("kind", .int(s.kind)), ("model_name", .string(s.modelName)),
        ("version", .string(s.version)), ("feature_count", .int(s.featureCount)), ("checksum", .string(s.checksum.hex)),
        ("loaded_at_us", .int(s.loadedAtMicros)), ("artifact", .string(s.artifact)),
    ])
}

private func outcome(_ o: SwapOutcome) -> JSON {
    .object([
        ("previous_version", .string(o.previousVersion)), ("active_version", .string(o.activeVersion)),
        ("generation", .int(o.generation)), ("timestamp_us", .int(o.timestampMicros)), ("swap_ns", .int(o.swapNanos)),
    ])
}

private func versionMetrics(_ v: VersionMetrics, version: UInt8) -> JSON {
    .object([
        ("version", .string(v.version)), ("requests", .int(v.requests)), ("errors", .int(v.errors)),
        ("positives", .int(v.positives)), ("true_positives", .int(v.truePositives)),
        ("false_positives", .int(v.falsePositives)), ("true_negatives", .int(v.trueNegatives)),
        ("false_negatives", .int(v.falseNegatives)), ("latency_sum_ns", .int(v.latencySumNanos)),
        ("latency_count", .int(v.latencyCount)),
        ("latency_buckets", .array(v.latencyBuckets.map { .array([.int($0.index), .int($0.count)]) })),
        ("score_bins", .array(v.scoreBins.map { .int($0) })),
        ("reference_bins", .array(v.referenceBins.map { .float($0) })),
    ] + (version >= 2 ? [
        ("model_errors", .int(v.modelErrors)), ("client_errors", .int(v.clientErrors)), ("labels", .int(v.labels)),
        ("labels_unmatched", .int(v.labelsUnmatched)), ("labels_expired", .int(v.labelsExpired)),
        ("labels_duplicate", .int(v.labelsDuplicate)),
        ("label_delay_buckets", .array(v.labelDelayBuckets.map { .array([.int($0.index), .int($0.count)]) })),
    ] : []))
}

/// METRICS_REPLY v2 shadow block (PROTOCOL.md §12.6).
private func shadowBlock(_ s: ShadowStatus) -> JSON {
    func confusion(_ c: ConfusionCounts) -> JSON {
        .object([("tp", .int(c.truePositives)), ("fp", .int(c.falsePositives)), ("tn", .int(c.trueNegatives)), ("fn", .int(c.falseNegatives))])
    }
    let pairs: [JSON] = s.pairs.map { p in
        .object([("active_version", .string(p.activeVersion)), ("standby_version", .string(p.standbyVersion)),
                 ("rows", .int(p.rows)), ("agreements", .int(p.agreements)), ("standby_errors", .int(p.standbyErrors)),
                 ("active_confusion", confusion(p.activeConfusion)), ("standby_confusion", confusion(p.standbyConfusion)),
                 ("standby_latency_sum_ns", .int(p.standbyLatencySumNanos)),
                 ("standby_buckets", .array(p.standbyLatencyBuckets.map { .array([.int($0.index), .int($0.count)]) })),
                 ("difference_bins", .array(p.differenceBins.map { .int($0) })),
                 ("standby_score_bins", .array(p.standbyScoreBins.map { .int($0) })),
                 ("active_score_bins", .array(p.activeScoreBins.map { .int($0) }))])
    }
    return .object([("rate", .float(s.rate)), ("session", .int(s.session)), ("active_version", .string(s.activeVersion)),
                    ("standby_version", .string(s.standbyVersion)), ("pairs", .array(pairs))])
}

/// SWAP / ROLLBACK v2 tail.
private func fence(_ f: SwapFence?) -> [(String, JSON)] {
    guard let f else { return [] }
    return [("expected_standby", .string(f.expectedStandby)), ("expected_standby_checksum", .string(f.expectedStandbyChecksum.hex)),
            ("deadline_unix_us", .int(f.deadlineUnixMicros)), ("operation_id", .string(f.operationID)), ("flags", .int(f.flags.rawValue))]
}

/// The payload fields of a message as the manifest spells them (PROTOCOL.md field names).
func fields(of message: Message) -> JSON {
    switch message {
    case .hello(let m):
        return .object([("min_version", .int(m.minVersion)), ("max_version", .int(m.maxVersion)), ("role", role(m.role)),
                        ("token", .string(m.token)), ("client_name", .string(m.clientName))])
    case .predict(let m):
        return .object([("feature_count", .int(m.features.count)), ("features", .array(m.features.map { .float($0) }))]
                       + (m.predictionID.map { [("prediction_id", JSON.int($0))] } ?? []))
    case .predictBatch(let m):
        return .object([("rows", .int(m.rows)), ("feature_count", .int(m.featureCount)),
                        ("values", .array(m.values.map { .float($0) }))]
                       + (m.predictionIDs.map { [("prediction_ids", JSON.array($0.map { .int($0) }))] } ?? []))
    case .label(let m):
        return .object([("count", .int(m.items.count)), ("items", .array(m.items.map {
            .object([("prediction_id", .int($0.predictionID)), ("actual_label", .int($0.actualLabel))])
        }))])
    case .labelReply(let m):
        return .object([("matched", .int(m.matched)), ("unmatched", .int(m.unmatched)), ("expired", .int(m.expired)),
                        ("duplicate", .int(m.duplicate))])
    case .feedback(let m):
        return .object([("predicted_label", .int(m.predictedLabel)), ("actual_label", .int(m.actualLabel)),
                        ("version", .string(m.version))])
    case .health, .ready, .info, .metrics, .feedbackAck:
        return .object([])
    case .loadStandby(let m):
        var f: [(String, JSON)] = [("expected_checksum", .string(m.expectedChecksum.hex)), ("artifact", .string(m.artifact))]
        if let o = m.options {
            f += [("operation_id", .string(o.operationID)), ("deadline_unix_us", .int(o.deadlineUnixMicros)), ("flags", .int(o.flags.rawValue))]
        }
        return .object(f)
    case .swap(let m):
        return .object([("expected_active", .string(m.expectedActive))] + fence(m.fence))
    case .rollback(let m):
        return .object([("expected_active", .string(m.expectedActive))] + fence(m.fence))
    case .helloReply(let m):
        return .object([("version", .int(m.version)), ("role", role(m.role)), ("max_payload", .int(m.maxPayload)),
                        ("server_name", .string(m.serverName))])
    case .predictResult(let m):
        return .object([("generation", .int(m.generation)), ("score", .float(m.score)), ("label", .int(m.label)),
                        ("version", .string(m.version))])
    case .predictBatchResult(let m):
        return .object([("generation", .int(m.generation)), ("version", .string(m.version)), ("rows", .int(m.scores.count)),
                        ("scores", .array(m.scores.map { .float($0) })), ("labels", .array(m.labels.map { .int($0) }))])
    case .healthReply(let m):
        return .object([("serving", .bool(m.serving)), ("uptime_ms", .int(m.uptimeMillis))])
    case .readyReply(let m):
        return .object([("ready", .bool(m.ready)), ("reason", .string(m.reason))])
    case .infoReply(let m):
        var f: [(String, JSON)] = [("generation", .int(m.generation)), ("ready", .bool(m.ready)), ("draining", .bool(m.draining)),
                                   ("active", slot(m.active)), ("standby", slot(m.standby))]
        if let e = m.extension {
            f += [("active_warm_state", .int(e.activeSlot.warmState)), ("active_accepts_missing", .bool(e.activeSlot.acceptsMissing)),
                  ("standby_warm_state", .int(e.standbySlot.warmState)), ("standby_accepts_missing", .bool(e.standbySlot.acceptsMissing)),
                  ("last_operation_id", .string(e.lastOperationID)), ("shadow_rate", .float(e.shadowRate)),
                  ("standby_golden_rows_checked", .int(e.standbyGoldenRowsChecked))]
        }
        return .object(f)
    case .metricsReply(let m):
        return .object([("generation", .int(m.generation)), ("uptime_ms", .int(m.uptimeMillis)),
                        ("timestamp_us", .int(m.timestampMicros)), ("active_version", .string(m.activeVersion)),
                        ("versions", .array(m.versions.map { versionMetrics($0, version: m.layoutVersion) }))]
                       + (m.layoutVersion >= 2 ? [("shadow", shadowBlock(m.shadow))] : []))
    case .loadStandbyReply(let m):
        return .object([("generation", .int(m.generation)), ("standby", slot(m.standby))])
    case .swapReply(let m):
        return outcome(m.outcome)
    case .rollbackReply(let m):
        return outcome(m.outcome)
    case .setShadow(let m):
        return .object([("rate", .float(m.rate)), ("expected_standby", .string(m.expectedStandby))])
    case .setShadowReply(let m):
        return .object([("rate", .float(m.rate)), ("session", .int(m.session)), ("generation", .int(m.generation)),
                        ("active_version", .string(m.activeVersion)), ("standby_version", .string(m.standbyVersion))])
    case .error(_, let m):
        guard let reason = m.reason else { return .object([("message", .string(m.message))]) }
        return .object([("reason", .string(reason.name)), ("reason_code", .int(reason.rawValue)), ("message", .string(m.message))])
    }
}
