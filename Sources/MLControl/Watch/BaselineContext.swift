import Foundation
import MLWire

/// What the rules compare the active version with, worked out from DEPLOYMENTS:
///
/// - after a deploy or swap to the active version: the deploy time starts the deploy window,
///   and the baseline is the version it replaced (`from_version`, now the standby), averaged
///   over the baseline window ending at the deploy;
/// - after a rollback to it: no deploy window (a rollback is not a deploy; step 5 watches it),
///   and the baseline is its own history before the bad version arrived;
/// - never activated while we watched: no deploy window; the standby's recent history.
struct BaselineContext {
    var deployedAt: Date?
    var baselineVersion: String?
    var baseline: BaselineFigures
    /// Set when a rollback would restore a version this controller already rolled back from:
    /// flipping to it again would be the "flip twice" the runbook's fence exists to prevent.
    var withholdRollback: String?
}

extension WatchLoop {
    func baselineContext(node: String, info: InfoReply, now: Date) throws(SQLiteError) -> BaselineContext {
        let active = info.active.version
        let model = info.active.modelName
        let window = configuration.policy.baselineWindowSeconds
        var context: BaselineContext
        if let activation = try store.lastActivation(node: node, version: active) {
            if activation.action == .rollback {
                var badArrived: DeploymentRow?
                if let bad = activation.fromVersion { badArrived = try store.lastActivation(node: node, version: bad) }
                let before = badArrived.map { $0.timestamp < activation.timestamp ? $0.timestamp : activation.timestamp } ?? activation.timestamp
                context = BaselineContext(deployedAt: nil, baselineVersion: active,
                                          baseline: try store.baseline(modelName: model, version: active, node: node, before: before, window: window))
            } else {
                let previous = activation.fromVersion
                var figures = BaselineFigures.empty
                if let previous {
                    figures = try store.baseline(modelName: model, version: previous, node: node, before: activation.timestamp, window: window)
                }
                context = BaselineContext(deployedAt: activation.timestamp, baselineVersion: previous, baseline: figures)
            }
        } else {
            let standby = info.standby.present ? info.standby.version : nil
            var figures = BaselineFigures.empty
            if let standby {
                figures = try store.baseline(modelName: model, version: standby, node: node, before: now, window: window)
            }
            context = BaselineContext(deployedAt: nil, baselineVersion: standby, baseline: figures)
        }
        if info.standby.present {
            let history = try store.deployments(limit: 20, node: node)
            let standby = info.standby.version
            let flips = history.filter { (row: DeploymentRow) -> Bool in
                row.action == DeploymentAction.rollback && row.status == "ok" && row.fromVersion == standby && row.toVersion == active
            }
            if let flip = flips.first {
                context.withholdRollback = "standby \(info.standby.version) is the version rolled back from at "
                    + "\(SQLTime.iso8601(flip.timestamp)) (actor \(flip.actor)); restoring it would flip back to a version judged bad"
            }
        }
        return context
    }
}
