import MLWire

extension Model {
    /// Recomputes every golden row with this node's kernel (ARTIFACT.md §14); the first row off by
    /// more than the tolerance refuses the artifact, naming the row, both values and the tolerance.
    func verify(_ golden: GoldenRows, source: String) throws(ArtifactError) {
        for row in 0..<golden.count {
            let computed = golden.features.withUnsafeBufferPointer { score(row: $0.baseAddress! + row * featureCount) }
            let expected = golden.expected[row]
            guard abs(Double(computed) - Double(expected)) <= Double(golden.tolerance) else {
                throw ArtifactError.goldenRowMismatch(
                    source, "golden row \(row): computed \(computed) but the reference library says \(expected) (tolerance \(golden.tolerance)); an export bug, refusing to serve it")
            }
        }
    }
}

extension ArtifactError {
    static func goldenRowMismatch(_ source: String, _ problem: String) -> ArtifactError {
        ArtifactError(.failedPrecondition, .goldenRowMismatch, "artifact \(source): \(problem)")
    }
}
