import MLModel

/// A freshly loaded model's warm-up: its artifact's golden rows, then `rows` warm-up predictions
/// on deterministic synthetic rows, so the first real request after a swap does not pay for cold
/// pages and caches. Runs on the load thread, after the model is in the standby slot (Info says
/// `warming`) and before the load is acknowledged; then the model is marked warm.
public enum WarmUp {
    public static let defaultRows = 1_000
    /// Rows scored per kernel call.
    private static let chunk = 64

    /// Returns how many warm-up scores were not finite (the load still succeeds: the shadow gate
    /// and the watch loop judge a model's errors on real traffic).
    @discardableResult
    static func run(_ model: Model, golden: [[Float]], rows: Int) -> Int {
        let width = model.featureCount
        var nonFinite = 0
        var goldenRun = 0
        var scores = [Float](repeating: 0, count: chunk)
        for row in golden where row.count == width {
            row.withUnsafeBufferPointer { if !model.score(row: $0.baseAddress!).isFinite { nonFinite += 1 } }
            goldenRun += 1
        }
        var generator = SplitMix64(seed: 0x5741_524D)  // "WARM"
        var block = [Float](repeating: 0, count: chunk * width)
        var left = rows
        while left > 0 {
            let count = min(chunk, left)
            for i in 0..<(count * width) {
                // Uniform in [-1, 1): finite, of the magnitude standardised features have.
                block[i] = Float(generator.next() >> 40) / Float(1 << 23) - 1
            }
            block.withUnsafeBufferPointer { input in
                scores.withUnsafeMutableBufferPointer { output in
                    model.predict(rows: input.baseAddress!, count: count, scores: output.baseAddress!)
                }
            }
            for i in 0..<count where !scores[i].isFinite { nonFinite += 1 }
            left -= count
        }
        model.warmth.markWarm(goldenRowsRun: goldenRun)
        return nonFinite
    }
}

extension WarmUp {
    /// The artifact's golden rows (format v2, already matched against their expected scores when
    /// the artifact was loaded), one array per row; none for v1 artifacts and built-ins.
    public static func goldenRows(of model: Model) -> [[Float]] {
        guard let golden = model.goldenRows, model.featureCount > 0 else { return [] }
        return stride(from: 0, to: golden.features.count, by: model.featureCount).map {
            Array(golden.features[$0..<min($0 + model.featureCount, golden.features.count)])
        }
    }
}
