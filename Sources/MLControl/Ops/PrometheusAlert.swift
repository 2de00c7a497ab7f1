/// One alerting rule of `PrometheusRules`: its entry in the rules file, and the alert its unit
/// test expects, written from the same fields so the two cannot drift apart.
struct PrometheusAlert {
    var name, expr: String
    /// How long the condition must hold before the alert fires (`for:`).
    var pending: String
    /// Its labels, which name what the runbook does about it.
    var severity, action: String
    /// Annotations; they may name `{{ $labels.version }}` or `{{ $labels.instance }}`.
    var summary, runbook: String

    /// Its entry under the runbook group's `rules:`, indented as the file nests it.
    var rule: String {
        """
              - alert: \(name)
                expr: '\(expr)'
                for: \(pending)
                labels: { severity: \(severity), action: \(action) }
                annotations:
                  summary: '\(summary)'
                  runbook: '\(runbook)'
        """
    }

    /// The `exp_alerts` item a unit test expects: `labels` beyond severity and action, and the
    /// annotations with `values` (label name → value) in place of their `{{ $labels.… }}`.
    func expected(labels: String = "", _ values: [String: String] = [:]) -> String {
        func filled(_ text: String) -> String {
            values.reduce(text) { text, label in text.replacing("{{ $labels.\(label.key) }}", with: label.value) }
        }
        return """
                  - exp_labels: { severity: \(severity), action: \(action)\(labels) }
                    exp_annotations:
                      summary: '\(filled(summary))'
                      runbook: '\(filled(runbook))'
        """
    }
}
