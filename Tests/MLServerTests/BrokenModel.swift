import MLWire
@testable import MLModel
@testable import MLServer

/// A model that truly fails: every score NaN. No valid artifact can do this any more (ARTIFACT.md
/// §16: finite in, finite out), so it is built in-process around the validator (NaN bias) and
/// put in the slots directly — it stands for a kernel bug, the only thing left that makes a model
/// answer INTERNAL.
enum BrokenModel {
    static func make(version: String, featureCount: Int = 32) -> Model {
        let artifact = Artifact(name: "anomaly-detector", version: version, featureCount: featureCount, threshold: 0.5,
                                parameters: .logistic(weights: [Float](repeating: 0.1, count: featureCount), bias: .nan),
                                referenceBins: [Float](repeating: 0.05, count: ScoreBins.count))
        return Model(artifact: artifact, checksum: Digest32([UInt8](repeating: 0xEE, count: 32)), source: "test:broken-\(version)",
                     loadedAtMicros: 0)
    }

    /// Loads it into `control`'s standby slot and swaps it in, fenced on `expectedActive`.
    static func deploy(_ model: Model, on control: ControlPlane, expectedActive: String) throws {
        control.registry.register(model)  // as ControlPlane.loadStandby does
        _ = try control.slots.loadStandby(model, persist: { _ in }).get()
        WarmUp.run(model, golden: [], rows: 0)  // warm, as a load leaves it (its scores are all NaN anyway)
        _ = try control.swap(expectedActive: expectedActive).get()
    }
}
