import MLModel
import MLWire

/// Shadow scoring on the prediction path. A sampled row is scored by the standby after the
/// active's reply is in the connection's output buffer and its latency recorded, so the reply
/// neither waits for nor depends on it; the standby's score goes only into the pair's counters.
/// No allocation, lock or String: one branch per request while shadowing is off.
extension EventLoop {
    /// Re-reads the shadow setting after the slot pair or the setting changed (never per request).
    func refreshShadow() {
        guard let setting = control.shadow.current(for: pair), let active = pair.active, let standby = pair.standby else {
            shadowKernel = nil
            shadowCells = nil
            shadowSetting = nil
            shadowBlock = nil
            shadowSampler = .off
            shadowSkipsMissing = false
            return
        }
        guard setting !== shadowSetting else { return }
        let number = control.shadowRegistry.number(active: active.version, standby: standby.version)
        guard let block = control.shadowRegistry.block(number: number, loop: index) else { return }
        shadowSetting = setting
        shadowBlock = block
        shadowCells = block.cells
        shadowPairNumber = number
        shadowKernel = standby.kernel
        shadowSampler = ShadowSampler(rate: setting.rate)
        shadowSkipsMissing = active.acceptsMissing && !standby.acceptsMissing
    }

    /// A row with a missing value (NaN) that the standby would have refused as a client error
    /// (INVALID_ARGUMENT nonFiniteFeature) says nothing about its model: not shadowed.
    @inline(__always)
    private func standbyRefuses(_ row: UnsafePointer<Float>, _ count: Int) -> Bool {
        guard shadowSkipsMissing else { return false }
        for i in 0..<count where row[i].isNaN { return true }
        return false
    }

    /// One Predict row, already answered by the active with `score` / `label`.
    @inline(__always)
    func shadowPredict(_ view: PredictView, score: Float, label: UInt8, receivedAt: UInt64) {
        guard let standby = shadowKernel, let cells = shadowCells else { return }
        guard view.hasIDs ? shadowSampler.samples(id: view.id(0)) : shadowSampler.samplesNext() else { return }
        guard !standbyRefuses(featureScratch, view.featureCount) else { return }
        let started = Clock.monotonicNanos()
        let shadowScore = standby.score(row: featureScratch)
        cells.recordLatency(nanos: Clock.monotonicNanos() &- started)
        record(cells, standby, view, row: 0, activeScore: score, activeLabel: label, standbyScore: shadowScore, receivedAt: receivedAt)
    }

    /// The sampled rows of an answered PredictBatch (features in `featureScratch`, the active's
    /// scores in `scoreScratch`); one latency sample for the frame.
    @inline(__always)
    func shadowBatch(_ view: PredictView, active: ModelKernel, receivedAt: UInt64) {
        guard let standby = shadowKernel, let cells = shadowCells else { return }
        var started: UInt64 = 0
        var sampled = false
        for row in 0..<view.rows {
            guard view.hasIDs ? shadowSampler.samples(id: view.id(row)) : shadowSampler.samplesNext() else { continue }
            guard !standbyRefuses(featureScratch + row &* view.featureCount, view.featureCount) else { continue }
            if !sampled {
                started = Clock.monotonicNanos()
                sampled = true
            }
            let score = scoreScratch[row]
            let shadowScore = standby.score(row: featureScratch + row &* view.featureCount)
            record(cells, standby, view, row: row, activeScore: score, activeLabel: active.label(for: score),
                   standbyScore: shadowScore, receivedAt: receivedAt)
        }
        if sampled { cells.recordLatency(nanos: Clock.monotonicNanos() &- started) }
    }

    /// A standby that returns a non-finite score is a standby model error: counted, nothing more.
    /// A row with a prediction id is remembered so its LABEL scores both models.
    @inline(__always)
    private func record(_ cells: ShadowCells, _ standby: ModelKernel, _ view: PredictView, row: Int,
                        activeScore: Float, activeLabel: UInt8, standbyScore: Float, receivedAt: UInt64) {
        guard standbyScore.isFinite else { return cells.recordStandbyError() }
        let standbyLabel = standby.label(for: standbyScore)
        cells.recordRow(active: activeScore, activeLabel: activeLabel, standby: standbyScore, standbyLabel: standbyLabel)
        if view.hasIDs, let table = shadowTable {
            table.remember(id: view.id(row), version: shadowPairNumber, generation: 0, score: standbyScore,
                           label: activeLabel << 1 | standbyLabel, atNanos: receivedAt)
        }
    }

    /// The LABEL path: if the labelled prediction was shadowed, both models' confusion on it.
    func shadowLabel(id: UInt64, actual: UInt8, nowNanos: UInt64) {
        guard case .matched(let row) = shared.shadowWindow.claim(id: id, nowNanos: nowNanos) else { return }
        let number = row.version
        var block: ShadowBlock? = number < shadowLabelBlocks.count ? shadowLabelBlocks[number] : nil
        if block == nil {
            block = control.shadowRegistry.block(number: number, loop: index)
            while shadowLabelBlocks.count <= number { shadowLabelBlocks.append(nil) }
            shadowLabelBlocks[number] = block
        }
        block?.cells.recordLabel(activeLabel: row.label >> 1, standbyLabel: row.label & 1, actual: actual)
    }
}
