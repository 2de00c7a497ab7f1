import Foundation
import MLClient
import MLWire

/// The watch loop's actions on a decision: the runbook's rollback procedure (steps 2–3, the
/// post-rollback incident and notification, then step 5), "If Rollback Fails", and the
/// investigate-first path.
extension WatchLoop {
    func respond(_ state: inout NodeWatchState, trigger: Trigger, info: InfoReply, context: BaselineContext, now: Date) {
        let node = state.node
        let target = info.standby.version
        let id = IncidentRow.makeID(at: now, alertType: trigger.rule.rawValue, node: node)
        var notes = ["\(SQLTime.string(now)) \(trigger.rule.rawValue) fired on \(trigger.version): \(trigger.sentence)"]
        // The judged version is the fence: if anything (an earlier attempt whose reply was lost,
        // another controller) already moved the node, the node refuses and nothing flips twice.
        state.disconnect()
        beforeRollback?(state.endpoint)
        let operations = NodeOperations(access: access, store: store, actor: trigger.rule.rawValue, clock: clock)
        var result: SwapResult?
        var alreadyDone = false
        var failure: String?
        for attempt in 1...(1 + configuration.rollbackRetries) {
            do {
                result = try operations.swap(state.endpoint, expect: trigger.version, action: .rollback, detail: trigger.sentence,
                                             why: TriggerRecord(trigger))
                notes.append("\(SQLTime.string(clock())) rolled back \(trigger.version) -> \(result!.outcome.activeVersion) in "
                    + "\(Formatting.fixed(result!.swapMicros, 1)) µs (round trip \(Formatting.fixed(result!.roundTripMicros, 0)) µs), generation \(result!.outcome.generation)")
                failure = nil
                break
            } catch .casMismatch(_, _, let actual) {
                if actual == target {
                    alreadyDone = true
                    failure = nil
                    notes.append("\(SQLTime.string(clock())) rollback refused by the fence: \(node) already runs \(target); not flipped again")
                } else {
                    failure = "the fence refused: expected \(trigger.version), node runs \(actual ?? "unknown"); another change is in progress, not retried"
                }
                break
            } catch {
                failure = "\(error)"
                notes.append("\(SQLTime.string(clock())) ROLLBACK FAILED (attempt \(attempt)): \(error)")
                onEvent(.rollbackFailed(node: node, at: clock(), trigger: trigger, attempt: attempt, reason: "\(error)"))
                if attempt > configuration.rollbackRetries { break }
                // "If Rollback Fails" step 1: check health before anything else. The next attempt
                // is fenced, so even if the lost reply was a success it cannot flip back.
                sleep(configuration.retryDelay)
                let health = (try? access.with(state.endpoint, controller: false) { c throws(ClientError) in try c.health() })
                notes.append("\(SQLTime.string(clock())) health check: " + (health.map { $0.serving ? "serving" : "NOT serving" } ?? "unreachable"))
            }
        }

        let restored = result != nil || alreadyDone
        if restored, let fleet = configuration.fleet {
            // Otherwise reconciliation would put the version just rolled back from right back.
            do {
                try store.setDesired([DesiredState(fleet: fleet, node: node, version: target, checksum: info.standby.checksum.hex,
                                                   artifact: nil, operationID: nil, updatedAt: clock())])
            } catch {
                onEvent(.problem(node: node, at: clock(), message: "could not record the desired state after the rollback: \(error)"))
            }
        }
        let verification = restored ? verify(state.endpoint, expected: target) : (false, "not attempted: rollback did not happen")
        if restored {
            notes.append("\(SQLTime.string(clock())) step 3 \(verification.0 ? "verified" : "VERIFY FAILED"): \(verification.1)")
        }
        let status = !restored ? "rollback_failed" : (verification.0 ? "resolved" : "investigating")
        insertIncident(IncidentRow(incidentID: id, alertType: trigger.rule.rawValue, severity: trigger.rule.severity,
                                   affectedComponent: "\(trigger.modelName) on \(node)", rootCause: trigger.sentence,
                                   resolution: restored ? "Rolled back to previous version" : "Rollback failed: \(failure ?? "unknown")",
                                   status: status, createdAt: now, modelName: trigger.modelName, node: node,
                                   fromVersion: trigger.version, toVersion: restored ? target : nil,
                                   stabilityOutcome: restored ? "watching" : nil, notes: notes.joined(separator: "\n"),
                                   why: TriggerRecord(trigger)),
                       node: node, now: now)
        if restored {
            onEvent(.rolledBack(node: node, at: result?.at ?? clock(), trigger: trigger, result: result, incidentID: id))
            onEvent(.verified(node: node, at: clock(), ok: verification.0, detail: verification.1))
            notify(AlertNotification(incidentID: id, trigger: trigger, node: node, restoredVersion: target, at: clock()), incidentID: id, now: clock())
            let baseline = (try? store.baseline(modelName: trigger.modelName, version: target, node: node,
                                                before: context.deployedAt ?? now, window: configuration.policy.baselineWindowSeconds)) ?? context.baseline
            state.stability = .init(incidentID: id, trigger: trigger, version: target, rolledBackAt: result?.at ?? clock(), baseline: baseline)
        } else {
            // Loud on every channel: the bad version is still serving.
            notify(AlertNotification(incidentID: id, alertType: trigger.rule.rawValue, severity: "critical", action: "rollback_failed",
                                     status: "rollback_failed", node: node, model: trigger.modelName, fromVersion: trigger.version,
                                     toVersion: target, trigger: "ROLLBACK FAILED, \(trigger.version) STILL SERVING: \(failure ?? "unknown"); "
                                        + "cause: \(trigger.sentence)", at: clock(), why: TriggerRecord(trigger)), incidentID: id, now: clock())
        }
    }

    /// Runbook step 3: health, readiness, and the active version is the one restored.
    func verify(_ endpoint: Endpoint, expected: String) -> (Bool, String) {
        do {
            let (health, ready, info) = try access.with(endpoint, controller: false) { c throws(ClientError) in
                (try c.health(), try c.ready(), try c.info())
            }
            var problems: [String] = []
            if !health.serving { problems.append("health: not serving") }
            if !ready.ready { problems.append("ready: no (\(ready.reason))") }
            if info.active.version != expected { problems.append("active is \(info.active.version), expected \(expected)") }
            let text = "health OK, ready, active \(info.active.version) (generation \(info.generation))"
            return problems.isEmpty ? (true, text) : (false, problems.joined(separator: "; "))
        } catch {
            return (false, "\(error)")
        }
    }

    func withhold(_ state: inout NodeWatchState, trigger: Trigger, reason: String, now: Date) {
        guard !hasOpenIncident(node: state.node, alertType: trigger.rule.rawValue, version: trigger.version) else { return }
        let id = IncidentRow.makeID(at: now, alertType: trigger.rule.rawValue, node: state.node)
        insertIncident(IncidentRow(incidentID: id, alertType: trigger.rule.rawValue, severity: "critical",
                                   affectedComponent: "\(trigger.modelName) on \(state.node)", rootCause: trigger.sentence,
                                   resolution: "Rollback withheld: \(reason); escalate", status: "investigating", createdAt: now,
                                   modelName: trigger.modelName, node: state.node, fromVersion: trigger.version,
                                   why: TriggerRecord(trigger)), node: state.node, now: now)
        onEvent(.rollbackWithheld(node: state.node, at: now, trigger: trigger, reason: reason, incidentID: id))
        notify(AlertNotification(incidentID: id, alertType: trigger.rule.rawValue, severity: "critical", action: "escalate",
                                 status: "investigating", node: state.node, model: trigger.modelName, fromVersion: trigger.version,
                                 toVersion: nil, trigger: "\(trigger.sentence); NOT rolled back: \(reason)", at: now,
                                 why: TriggerRecord(trigger)), incidentID: id, now: now)
    }

    /// The anomaly rule: an incident to investigate, once per node and version while open.
    func investigate(_ state: inout NodeWatchState, trigger: Trigger, now: Date) {
        guard !hasOpenIncident(node: state.node, alertType: trigger.rule.rawValue, version: trigger.version) else { return }
        let id = IncidentRow.makeID(at: now, alertType: trigger.rule.rawValue, node: state.node)
        insertIncident(IncidentRow(incidentID: id, alertType: trigger.rule.rawValue, severity: trigger.rule.severity,
                                   affectedComponent: "\(trigger.modelName) on \(state.node)", rootCause: trigger.sentence,
                                   status: "investigating", createdAt: now, modelName: trigger.modelName, node: state.node,
                                   fromVersion: trigger.version, why: TriggerRecord(trigger)), node: state.node, now: now)
        onEvent(.investigating(node: state.node, at: now, trigger: trigger, incidentID: id))
        notify(AlertNotification(incidentID: id, trigger: trigger, node: state.node, restoredVersion: nil, at: now), incidentID: id, now: now)
    }

    /// Action `pause`: an incident that holds the node for a person, a notification, no swap.
    func pause(_ state: inout NodeWatchState, trigger: Trigger, now: Date) {
        let id = IncidentRow.makeID(at: now, alertType: trigger.rule.rawValue, node: state.node)
        insertIncident(IncidentRow(incidentID: id, alertType: trigger.rule.rawValue, severity: trigger.rule.severity,
                                   affectedComponent: "\(trigger.modelName) on \(state.node)", rootCause: trigger.sentence,
                                   resolution: "Paused: waiting for mlctl rollback or mlctl resolve \(id)", status: "paused",
                                   createdAt: now, modelName: trigger.modelName, node: state.node, fromVersion: trigger.version,
                                   why: TriggerRecord(trigger)), node: state.node, now: now)
        onEvent(.paused(node: state.node, at: now, trigger: trigger, incidentID: id))
        notify(AlertNotification(incidentID: id, trigger: trigger, node: state.node, restoredVersion: nil, at: now), incidentID: id, now: now)
    }

    /// A dry run: what the rule's action would have done, recorded (once per node, version and
    /// rule while the record is open) and announced; nothing is sent to the node.
    func recordDryRun(_ state: inout NodeWatchState, trigger: Trigger, info: InfoReply, now: Date) {
        guard openIncident(node: state.node, status: "dry_run", version: trigger.version, alertType: trigger.rule.rawValue) == nil else { return }
        let id = IncidentRow.makeID(at: now, alertType: trigger.rule.rawValue, node: state.node)
        let wouldRestore = trigger.action == .rollback && info.standby.present ? info.standby.version : nil
        insertIncident(IncidentRow(incidentID: id, alertType: trigger.rule.rawValue, severity: trigger.rule.severity,
                                   affectedComponent: "\(trigger.modelName) on \(state.node)", rootCause: trigger.sentence,
                                   resolution: "Dry run: would \(trigger.action.rawValue)" + (wouldRestore.map { " to \($0)" } ?? "") + "; nothing done",
                                   status: "dry_run", createdAt: now, modelName: trigger.modelName, node: state.node,
                                   fromVersion: trigger.version, toVersion: wouldRestore, why: TriggerRecord(trigger)),
                       node: state.node, now: now)
        if trigger.action == .rollback {
            do {
                try store.insertDeployment(DeploymentRow(timestamp: now, action: .rollback, actor: trigger.rule.rawValue, node: state.node,
                                                         fromVersion: trigger.version, toVersion: wouldRestore, status: "dry_run",
                                                         detail: "dry run: " + trigger.sentence, why: TriggerRecord(trigger)))
            } catch {
                onEvent(.problem(node: state.node, at: now, message: "DEPLOYMENTS insert failed: \(error)"))
            }
        }
        onEvent(.dryRun(node: state.node, at: now, trigger: trigger, incidentID: id))
        notify(AlertNotification(incidentID: id, trigger: trigger, node: state.node, restoredVersion: wouldRestore, at: now), incidentID: id, now: now)
    }

    func hasOpenIncident(node: String, alertType: String, version: String) -> Bool {
        openIncident(node: node, status: "investigating", version: version, alertType: alertType) != nil
    }

    func openIncident(node: String, status: String, version: String, alertType: String? = nil) -> IncidentRow? {
        let open = (try? store.incidents(limit: 200, status: status)) ?? []
        return open.first { $0.node == node && $0.fromVersion == version && (alertType == nil || $0.alertType == alertType) }
    }

    /// Runbook step 5: add the restored version's window and record the verdict once final.
    func trackStability(_ state: inout NodeWatchState, window: VersionMetrics?, now: Date) {
        guard var pending = state.stability else { return }
        if let window { pending.windows.append(window) }
        let verdict = StabilityCheck(policy: configuration.policy)
            .evaluate(windows: pending.windows, baseline: pending.baseline, rolledBackAt: pending.rolledBackAt, now: now)
        guard verdict.isFinal else {
            state.stability = pending
            return
        }
        state.stability = nil
        let text: String
        switch verdict {
        case .stable(let why), .unstable(let why), .inconclusive(let why): text = why
        case .stillWatching: text = ""
        }
        updateIncident(pending.incidentID, stability: verdict.outcome, note: "\(SQLTime.string(now)) step 5 \(verdict.outcome): \(text)", now: now)
        onEvent(.stability(node: state.node, at: now, verdict: verdict, incidentID: pending.incidentID))
        notify(AlertNotification(incidentID: pending.incidentID, alertType: pending.trigger.rule.rawValue, severity: pending.trigger.rule.severity,
                                 action: "stability", status: verdict.outcome, node: state.node, model: pending.trigger.modelName,
                                 fromVersion: pending.trigger.version, toVersion: pending.version, trigger: text, at: now),
               incidentID: pending.incidentID, now: now)
    }
}
