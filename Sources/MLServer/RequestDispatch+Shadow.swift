import MLModel
import MLWire

/// Shadow scoring on the prediction path. A sampled row is scored by the standby after the
/// active's reply is in the connection's output buffer and its latency recorded, so the reply
/// neither waits for nor depends on it; the standby's score goes only into the pair's counters.
/// No allocation, lock or String: a branch per request while shadowing is off.
extension EventLoop {
    /// Re-reads the shadow setting after the slot pair or the setting changed (never per request).
    func refreshShadow() {
        guard let setting = control.shadow.current(for: pair), let active = pair.active, let standby = pair.standby else {
            shadowKernel = nil
            shadowCells = nil
            shadowSetting = nil
            shadowBlock = nil
            shadowSampler = .off
            return
        }
        guard setting !== shadowSetting else { return }
        let block = control.shadowRegistry.block(active: active.version, standby: standby.version, loop: index)
        shadowSetting = setting
        shadowBlock = block
        shadowCells = block.cells
        shadowKernel = standby.kernel
        shadowSampler = ShadowSampler(rate: setting.rate)
    }

    /// One Predict row, already answered by the active with `score` / `label`.
    @inline(__always)
    func shadowPredict(score: Float, label: UInt8) {
        guard let standby = shadowKernel, let cells = shadowCells, shadowSampler.samplesNext() else { return }
        let started = Clock.monotonicNanos()
        let shadowScore = standby.score(row: featureScratch)
        cells.recordLatency(nanos: Clock.monotonicNanos() &- started)
        record(cells, standby, activeScore: score, activeLabel: label, standbyScore: shadowScore)
    }

    /// The sampled rows of an answered PredictBatch (features in `featureScratch`, the active's
    /// scores in `scoreScratch`); one latency sample for the frame.
    @inline(__always)
    func shadowBatch(rows: Int, featureCount: Int, active: ModelKernel) {
        guard let standby = shadowKernel, let cells = shadowCells else { return }
        var started: UInt64 = 0
        var sampled = false
        for row in 0..<rows where shadowSampler.samplesNext() {
            if !sampled {
                started = Clock.monotonicNanos()
                sampled = true
            }
            let score = scoreScratch[row]
            let shadowScore = standby.score(row: featureScratch + row &* featureCount)
            record(cells, standby, activeScore: score, activeLabel: active.label(for: score), standbyScore: shadowScore)
        }
        if sampled { cells.recordLatency(nanos: Clock.monotonicNanos() &- started) }
    }

    /// A standby that returns a non-finite score is a standby model error: counted, nothing more.
    @inline(__always)
    private func record(_ cells: ShadowCells, _ standby: ModelKernel, activeScore: Float, activeLabel: UInt8, standbyScore: Float) {
        guard standbyScore.isFinite else { return cells.recordStandbyError() }
        cells.recordRow(active: activeScore, activeLabel: activeLabel, standby: standbyScore, standbyLabel: standby.label(for: standbyScore))
    }
}
