/// Why the controller acted, as INCIDENTS and DEPLOYMENTS record it (columns `trigger_rule`,
/// `observed_value`, `baseline_value`, `threshold`, `sample_count`, `trigger_action`, `dry_run`)
/// and the notification carries it: the numbers of the rule that fired, not only a sentence.
public struct TriggerRecord: Equatable, Sendable {
    public var rule: String
    public var observed: Double?
    public var baseline: Double?
    public var threshold: Double?
    public var samples: Int64?
    /// `rollback`, `pause`, `notify` (or `dry_run` when the policy names that as the action).
    public var action: String
    public var dryRun: Bool

    public init(rule: String, observed: Double?, baseline: Double?, threshold: Double?, samples: Int64?, action: String, dryRun: Bool) {
        self.rule = rule
        self.observed = observed
        self.baseline = baseline
        self.threshold = threshold
        self.samples = samples
        self.action = action
        self.dryRun = dryRun
    }

    public init(_ trigger: Trigger) {
        self.init(rule: trigger.rule.rawValue, observed: trigger.observed, baseline: trigger.baseline, threshold: trigger.threshold,
                  samples: Int64(clamping: trigger.samples), action: trigger.action.rawValue, dryRun: trigger.dryRun)
    }

    var values: [SQLiteValue] {
        [.text(rule), SQLiteValue(observed), SQLiteValue(baseline), SQLiteValue(threshold), SQLiteValue(samples),
         .text(action), .integer(dryRun ? 1 : 0)]
    }

    static let columns = "trigger_rule, observed_value, baseline_value, threshold, sample_count, trigger_action, dry_run"
    static let nullValues: [SQLiteValue] = [.null, .null, .null, .null, .null, .null, .integer(0)]

    /// Reads the seven columns starting at `first`; nil when no rule was recorded.
    static func read(_ statement: SQLiteStatement, from first: Int32) -> TriggerRecord? {
        guard let rule = statement.optionalString(first) else { return nil }
        return TriggerRecord(rule: rule, observed: statement.optionalDouble(first + 1), baseline: statement.optionalDouble(first + 2),
                             threshold: statement.optionalDouble(first + 3), samples: statement.optionalInt64(first + 4),
                             action: statement.optionalString(first + 5) ?? "", dryRun: (statement.optionalInt64(first + 6) ?? 0) != 0)
    }
}
