import Foundation

/// The deploy gate's thresholds (`mlctl deploy --shadow D --gate gate.json`): what a standby must
/// show on the node's own traffic, over the shadow window, before it may be swapped in. Strict
/// JSON like the runbook policy: snake_case keys, any subset, unknown keys refused.
public struct ShadowGate: Codable, Equatable, Sendable {
    /// Share of shadowed rows where the standby's label equals the active's, at least.
    public var minAgreement: Double = 0.95
    /// Standby F1 may be at most this far below the active's, on the same labelled rows.
    public var f1DropLimit: Double = 0.05
    /// Labelled shadow rows needed before the F1 check judges.
    public var minLabels: Int = 100
    /// Whether too few labels fails the gate (true) or leaves F1 unjudged (false).
    public var requireLabels: Bool = false
    /// Standby scoring p99 per request, at most (the runbook's p99 limit by default).
    public var standbyP99LimitMs: Double = 2_000
    /// Standby model errors (non-finite scores) allowed in the window.
    public var maxStandbyErrors: Int = 0
    /// Standby drift (PSI against its artifact's reference) may exceed the active's drift on the
    /// same rows by at most this.
    public var driftIncreaseLimit: Double = 0.1
    /// Shadowed rows needed to judge at all; fewer fails the gate (no evidence, no swap).
    public var minRows: Int = 200

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minAgreement = "min_agreement"
        case f1DropLimit = "f1_drop_limit"
        case minLabels = "min_labels"
        case requireLabels = "require_labels"
        case standbyP99LimitMs = "standby_p99_limit_ms"
        case maxStandbyErrors = "max_standby_errors"
        case driftIncreaseLimit = "drift_increase_limit"
        case minRows = "min_rows"
    }

    public init(from decoder: Decoder) throws {
        let c = try PolicyFile.strictContainer(decoder, keyedBy: CodingKeys.self)
        let d = ShadowGate()
        minAgreement = try c.value(.minAgreement, or: d.minAgreement)
        f1DropLimit = try c.value(.f1DropLimit, or: d.f1DropLimit)
        minLabels = try c.value(.minLabels, or: d.minLabels)
        requireLabels = try c.value(.requireLabels, or: d.requireLabels)
        standbyP99LimitMs = try c.value(.standbyP99LimitMs, or: d.standbyP99LimitMs)
        maxStandbyErrors = try c.value(.maxStandbyErrors, or: d.maxStandbyErrors)
        driftIncreaseLimit = try c.value(.driftIncreaseLimit, or: d.driftIncreaseLimit)
        minRows = try c.value(.minRows, or: d.minRows)
    }

    public static func decode(_ data: Data) throws(PolicyError) -> ShadowGate {
        let gate: ShadowGate
        do {
            gate = try JSONDecoder().decode(ShadowGate.self, from: data)
        } catch let error as PolicyError {
            throw error
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let key = context.codingPath.last?.stringValue ?? "(top level)"
            throw .invalid(key: key, reason: "must be \(type == Bool.self ? "true or false" : "a number")")
        } catch {
            throw .malformed("\(error)")
        }
        try gate.validate()
        return gate
    }

    public static func load(path: String) throws(PolicyError) -> ShadowGate {
        try PolicyFile.read(path: path, decode: decode)
    }

    /// Refuses thresholds that cannot mean anything (a gate that always or never passes by typo).
    public func validate() throws(PolicyError) {
        for (key, v) in [(CodingKeys.minAgreement, minAgreement), (.f1DropLimit, f1DropLimit)] where !(v >= 0 && v <= 1) {
            throw .invalid(key: key.rawValue, reason: "must be between 0 and 1, got \(v)")
        }
        if !(standbyP99LimitMs.isFinite && standbyP99LimitMs > 0) {
            throw .invalid(key: CodingKeys.standbyP99LimitMs.rawValue, reason: "must be a positive number, got \(standbyP99LimitMs)")
        }
        if !(driftIncreaseLimit.isFinite && driftIncreaseLimit >= 0) {
            throw .invalid(key: CodingKeys.driftIncreaseLimit.rawValue, reason: "must be a number ≥ 0, got \(driftIncreaseLimit)")
        }
        for (key, v) in [(CodingKeys.minLabels, minLabels), (.minRows, minRows)] where v < 1 {
            throw .invalid(key: key.rawValue, reason: "must be at least 1, got \(v)")
        }
        if maxStandbyErrors < 0 {
            throw .invalid(key: CodingKeys.maxStandbyErrors.rawValue, reason: "must be ≥ 0, got \(maxStandbyErrors)")
        }
    }
}

