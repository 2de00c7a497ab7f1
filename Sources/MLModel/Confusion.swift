/// Confusion counts of binary predictions against ground truth, and the F1 the runbook watches.
public struct Confusion: Equatable, Sendable {
    public var truePositives = 0
    public var falsePositives = 0
    public var trueNegatives = 0
    public var falseNegatives = 0

    public init() {}

    public mutating func record(predicted: UInt8, actual: UInt8) {
        switch (predicted != 0, actual != 0) {
        case (true, true): truePositives += 1
        case (true, false): falsePositives += 1
        case (false, false): trueNegatives += 1
        case (false, true): falseNegatives += 1
        }
    }

    public var precision: Double {
        let predicted = truePositives + falsePositives
        return predicted == 0 ? 0 : Double(truePositives) / Double(predicted)
    }

    public var recall: Double {
        let actual = truePositives + falseNegatives
        return actual == 0 ? 0 : Double(truePositives) / Double(actual)
    }

    /// 2·TP / (2·TP + FP + FN); 0 when there is nothing to score.
    public var f1: Double {
        let denominator = 2 * truePositives + falsePositives + falseNegatives
        return denominator == 0 ? 0 : Double(2 * truePositives) / Double(denominator)
    }

    /// Scores `count` DemoData rows drawn from `seed` with `model` (which must take 32 features).
    public static func measure(_ model: Model, seed: UInt64, count: Int) -> Confusion {
        precondition(model.featureCount == DemoData.featureCount, "DemoData has \(DemoData.featureCount) features")
        let data = DemoData.samples(seed: seed, count: count)
        var scores = [Float](repeating: 0, count: count)
        data.features.withUnsafeBufferPointer { rows in
            scores.withUnsafeMutableBufferPointer { model.predict(rows: rows.baseAddress!, count: count, scores: $0.baseAddress!) }
        }
        var confusion = Confusion()
        for i in 0..<count { confusion.record(predicted: model.label(for: scores[i]), actual: data.labels[i]) }
        return confusion
    }
}
