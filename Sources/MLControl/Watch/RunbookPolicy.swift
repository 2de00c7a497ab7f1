import Foundation

/// The runbook's thresholds and the controller's knobs. Defaults are the runbook's table and
/// step 5; a JSON policy file overrides any subset (snake_case keys). Unknown keys are refused:
/// a misspelt "error_rate_limt" silently keeping the default is how a rollback fails to happen.
public struct RunbookPolicy: Codable, Equatable, Sendable {
    /// Rollback when F1 falls more than this below baseline within the deploy window.
    public var f1DropLimit: Double = 0.05
    /// Rollback when p99 exceeds this within the deploy window.
    public var latencyP99LimitMs: Double = 2_000
    /// How long after a deploy the F1 and latency rules apply ("within 30 min of deploy").
    public var deployWindowSeconds: Double = 30 * 60
    /// Rollback when the error rate exceeds this, at any time.
    public var errorRateLimit: Double = 0.05
    /// Investigate (no rollback) when the anomaly rate exceeds this multiple of baseline.
    public var anomalyRateMultiplier: Double = 3
    /// Step 5: how long to keep watching after a rollback.
    public var stabilityWindowSeconds: Double = 30 * 60
    /// Step 5: F1 must stay within this of baseline.
    public var stabilityF1Tolerance: Double = 0.02
    /// Step 5: p99 must stay below this.
    public var stabilityLatencyP99LimitMs: Double = 1_000
    /// Step 5's "no error rate increase", read with an absolute allowance for sampling noise:
    /// at 200 requests one extra error is 0.5 points. 0 makes it literal.
    public var stabilityErrorRateSlack: Double = 0.005
    /// Requests (or latency samples) a window needs before error, latency or anomaly rules judge it.
    public var minRequests: Int = 200
    /// Labels a window needs before the F1 rule judges it.
    public var minFeedback: Int = 100
    /// And the fraction of the window's predictions they cover (labels / requests): 100 labels
    /// on 1 prediction in 1000 say little about the other 999.
    public var minLabelCoverage: Double = 0.05
    /// Alert (action `notify` by default) when the clients' error rate exceeds this; nil = off.
    public var clientErrorRateLimit: Double?
    /// Alert (action `notify` by default) when PSI exceeds this and twice its noise floor; nil = off
    /// (the runbook only records drift).
    public var driftLimit: Double?
    /// Scores a window needs before drift is computed at all (MODEL_METRICS.drift_score is NULL below).
    public var minDriftScores: Int = 1_000
    /// Per rule, what firing does: `rollback`, `pause`, `notify` or `dry_run` (default: each
    /// rule's `defaultAction`).
    public var actions: [RunbookRule: TriggerAction] = [:]
    /// Seconds between polls of each node.
    public var pollIntervalSeconds: Double = 10
    /// Length of the baseline window ("previous 24h"), ending at the new version's deploy.
    public var baselineWindowSeconds: Double = 24 * 3600
    /// http:// URL that receives each notification as a JSON POST.
    public var webhookURL: String?
    /// Shell command run with each notification's JSON on stdin.
    public var notifyCommand: String?
    /// Bound on each webhook call or notify command.
    public var notifyTimeoutSeconds: Double = 5

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case f1DropLimit = "f1_drop_limit"
        case latencyP99LimitMs = "latency_p99_limit_ms"
        case deployWindowSeconds = "deploy_window_seconds"
        case errorRateLimit = "error_rate_limit"
        case anomalyRateMultiplier = "anomaly_rate_multiplier"
        case stabilityWindowSeconds = "stability_window_seconds"
        case stabilityF1Tolerance = "stability_f1_tolerance"
        case stabilityLatencyP99LimitMs = "stability_latency_p99_limit_ms"
        case stabilityErrorRateSlack = "stability_error_rate_slack"
        case minRequests = "min_requests"
        case minFeedback = "min_feedback"
        case minLabelCoverage = "min_label_coverage"
        case clientErrorRateLimit = "client_error_rate_limit"
        case driftLimit = "drift_limit"
        case minDriftScores = "min_drift_scores"
        case actions
        case pollIntervalSeconds = "poll_interval_seconds"
        case baselineWindowSeconds = "baseline_window_seconds"
        case webhookURL = "webhook_url"
        case notifyCommand = "notify_command"
        case notifyTimeoutSeconds = "notify_timeout_seconds"
    }

    /// Missing keys keep their defaults; unknown keys are an error.
    public init(from decoder: Decoder) throws {
        let c = try PolicyFile.strictContainer(decoder, keyedBy: CodingKeys.self)
        let d = RunbookPolicy()
        f1DropLimit = try c.value(.f1DropLimit, or: d.f1DropLimit)
        latencyP99LimitMs = try c.value(.latencyP99LimitMs, or: d.latencyP99LimitMs)
        deployWindowSeconds = try c.value(.deployWindowSeconds, or: d.deployWindowSeconds)
        errorRateLimit = try c.value(.errorRateLimit, or: d.errorRateLimit)
        anomalyRateMultiplier = try c.value(.anomalyRateMultiplier, or: d.anomalyRateMultiplier)
        stabilityWindowSeconds = try c.value(.stabilityWindowSeconds, or: d.stabilityWindowSeconds)
        stabilityF1Tolerance = try c.value(.stabilityF1Tolerance, or: d.stabilityF1Tolerance)
        stabilityLatencyP99LimitMs = try c.value(.stabilityLatencyP99LimitMs, or: d.stabilityLatencyP99LimitMs)
        stabilityErrorRateSlack = try c.value(.stabilityErrorRateSlack, or: d.stabilityErrorRateSlack)
        minRequests = try c.value(.minRequests, or: d.minRequests)
        minFeedback = try c.value(.minFeedback, or: d.minFeedback)
        minLabelCoverage = try c.value(.minLabelCoverage, or: d.minLabelCoverage)
        clientErrorRateLimit = try c.decodeIfPresent(Double.self, forKey: .clientErrorRateLimit)
        driftLimit = try c.decodeIfPresent(Double.self, forKey: .driftLimit)
        minDriftScores = try c.value(.minDriftScores, or: d.minDriftScores)
        if let raw = try c.decodeIfPresent([String: String].self, forKey: .actions) {
            for (ruleName, actionName) in raw.sorted(by: { $0.key < $1.key }) {
                guard let rule = RunbookRule(rawValue: ruleName) else {
                    throw PolicyError.invalid(key: "actions", reason: "unknown rule \(ruleName); rules: \(RunbookRule.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard let action = TriggerAction(rawValue: actionName) else {
                    throw PolicyError.invalid(key: "actions.\(ruleName)", reason: "unknown action \(actionName); actions: \(TriggerAction.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                actions[rule] = action
            }
        }
        pollIntervalSeconds = try c.value(.pollIntervalSeconds, or: d.pollIntervalSeconds)
        baselineWindowSeconds = try c.value(.baselineWindowSeconds, or: d.baselineWindowSeconds)
        webhookURL = try c.decodeIfPresent(String.self, forKey: .webhookURL)
        notifyCommand = try c.decodeIfPresent(String.self, forKey: .notifyCommand)
        notifyTimeoutSeconds = try c.value(.notifyTimeoutSeconds, or: d.notifyTimeoutSeconds)
    }

    /// What `rule` does when it fires.
    public func action(for rule: RunbookRule) -> TriggerAction { actions[rule] ?? rule.defaultAction }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(f1DropLimit, forKey: .f1DropLimit)
        try c.encode(latencyP99LimitMs, forKey: .latencyP99LimitMs)
        try c.encode(deployWindowSeconds, forKey: .deployWindowSeconds)
        try c.encode(errorRateLimit, forKey: .errorRateLimit)
        try c.encode(anomalyRateMultiplier, forKey: .anomalyRateMultiplier)
        try c.encode(stabilityWindowSeconds, forKey: .stabilityWindowSeconds)
        try c.encode(stabilityF1Tolerance, forKey: .stabilityF1Tolerance)
        try c.encode(stabilityLatencyP99LimitMs, forKey: .stabilityLatencyP99LimitMs)
        try c.encode(stabilityErrorRateSlack, forKey: .stabilityErrorRateSlack)
        try c.encode(minRequests, forKey: .minRequests)
        try c.encode(minFeedback, forKey: .minFeedback)
        try c.encode(minLabelCoverage, forKey: .minLabelCoverage)
        try c.encodeIfPresent(clientErrorRateLimit, forKey: .clientErrorRateLimit)
        try c.encodeIfPresent(driftLimit, forKey: .driftLimit)
        try c.encode(minDriftScores, forKey: .minDriftScores)
        try c.encode(Dictionary(uniqueKeysWithValues: actions.map { ($0.key.rawValue, $0.value.rawValue) }), forKey: .actions)
        try c.encode(pollIntervalSeconds, forKey: .pollIntervalSeconds)
        try c.encode(baselineWindowSeconds, forKey: .baselineWindowSeconds)
        try c.encodeIfPresent(webhookURL, forKey: .webhookURL)
        try c.encodeIfPresent(notifyCommand, forKey: .notifyCommand)
        try c.encode(notifyTimeoutSeconds, forKey: .notifyTimeoutSeconds)
    }

    /// Decodes and validates a policy document.
    public static func decode(_ data: Data) throws(PolicyError) -> RunbookPolicy {
        // JSONDecoder keeps one of two equal keys silently: a policy that says a threshold twice
        // is refused rather than obeyed half.
        let keys = topLevelKeys(Array(data))
        if let duplicate = keys.first(where: { key in keys.filter { $0 == key }.count > 1 }) {
            throw .invalid(key: duplicate, reason: "appears more than once")
        }
        let policy: RunbookPolicy
        do {
            policy = try JSONDecoder().decode(RunbookPolicy.self, from: data)
        } catch let error as PolicyError {
            throw error
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let key = context.codingPath.last?.stringValue ?? "(top level)"
            throw .invalid(key: key, reason: "must be \(type == String.self ? "a string" : "a number")")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw .invalid(key: context.codingPath.last!.stringValue, reason: "has a value of the wrong type (\(context.debugDescription))")
        } catch {
            // Foundation on Linux reports some mismatches (1.5 for a whole number) as invalid
            // JSON with no key: find the key by decoding the document one key at a time.
            if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                for key in object.keys.sorted() {
                    guard let single = try? JSONSerialization.data(withJSONObject: [key: object[key]!]) else { continue }
                    if (try? JSONDecoder().decode(RunbookPolicy.self, from: single)) == nil {
                        throw .invalid(key: key, reason: "has a value of the wrong type (\(object[key]!))")
                    }
                }
            }
            throw .malformed("\(error)")
        }
        try policy.validate()
        return policy
    }

    /// Reads, decodes and validates the policy file at `path`.
    public static func load(path: String) throws(PolicyError) -> RunbookPolicy {
        try PolicyFile.read(path: path, decode: decode)
    }

    /// Refuses values that would make a rule never fire, always fire, or divide by zero.
    public func validate() throws(PolicyError) {
        let positive: [(CodingKeys, Double)] = [
            (.latencyP99LimitMs, latencyP99LimitMs), (.deployWindowSeconds, deployWindowSeconds),
            (.anomalyRateMultiplier, anomalyRateMultiplier), (.stabilityWindowSeconds, stabilityWindowSeconds),
            (.stabilityLatencyP99LimitMs, stabilityLatencyP99LimitMs), (.pollIntervalSeconds, pollIntervalSeconds),
            (.baselineWindowSeconds, baselineWindowSeconds), (.notifyTimeoutSeconds, notifyTimeoutSeconds),
        ]
        for (key, v) in positive where !(v.isFinite && v > 0) {
            throw .invalid(key: key.rawValue, reason: "must be a positive number, got \(v)")
        }
        let fractions: [(CodingKeys, Double)] = [
            (.f1DropLimit, f1DropLimit), (.errorRateLimit, errorRateLimit),
            (.stabilityF1Tolerance, stabilityF1Tolerance), (.stabilityErrorRateSlack, stabilityErrorRateSlack),
            (.minLabelCoverage, minLabelCoverage),
        ]
        for (key, v) in fractions where !(v >= 0 && v <= 1) {
            throw .invalid(key: key.rawValue, reason: "must be between 0 and 1, got \(v)")
        }
        for (key, v) in [(CodingKeys.clientErrorRateLimit, clientErrorRateLimit), (.driftLimit, driftLimit)] {
            if let v, !(v.isFinite && v > 0) { throw .invalid(key: key.rawValue, reason: "must be a positive number (omit it to switch the alert off), got \(v)") }
        }
        if let v = clientErrorRateLimit, v > 1 { throw .invalid(key: CodingKeys.clientErrorRateLimit.rawValue, reason: "must be between 0 and 1, got \(v)") }
        for (key, v) in [(CodingKeys.minRequests, minRequests), (.minFeedback, minFeedback), (.minDriftScores, minDriftScores)] where v < 1 {
            throw .invalid(key: key.rawValue, reason: "must be at least 1, got \(v)")
        }
        if let url = webhookURL {
            if url.lowercased().hasPrefix("https://") {
                throw .invalid(key: CodingKeys.webhookURL.rawValue, reason: "uses https, which mlctl's built-in client does not support; use an http:// URL (e.g. a local relay) or notify_command with curl")
            }
            guard url.lowercased().hasPrefix("http://") else {
                throw .invalid(key: CodingKeys.webhookURL.rawValue, reason: "must start with http://, got \(url)")
            }
        }
        if let command = notifyCommand, command.trimmingCharacters(in: .whitespaces).isEmpty {
            throw .invalid(key: CodingKeys.notifyCommand.rawValue, reason: "is empty")
        }
    }
}

extension RunbookPolicy {
    /// The keys of a JSON document's top-level object as written (duplicates kept), by a scan
    /// that tracks strings and nesting; not a validator (JSONDecoder does that).
    static func topLevelKeys(_ bytes: [UInt8]) -> [String] {
        var keys: [String] = []
        var depth = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                var end = index + 1
                while end < bytes.count && bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
                var next = end + 1
                while next < bytes.count && [0x20, 0x09, 0x0a, 0x0d].contains(bytes[next]) { next += 1 }
                if depth == 1 && next < bytes.count && bytes[next] == UInt8(ascii: ":") && end <= bytes.count {
                    keys.append(String(decoding: bytes[(index + 1)..<min(end, bytes.count)], as: UTF8.self))
                }
                index = end + 1
                continue
            }
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
            if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") { depth -= 1 }
            index += 1
        }
        return keys
    }
}

