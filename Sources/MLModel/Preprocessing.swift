/// One per-feature step applied to a request row before the model (ARTIFACT.md §13). Every step
/// acts on each feature independently, so kernels apply it as they read a feature.
public enum PreprocessStep: Equatable, Sendable {
    /// NaN in feature i becomes float32(fill[i]).
    case impute(fill: [Double])
    /// x := float32(f64(float32(f64(x) − mean)) / scale), numpy's arithmetic on float32 data.
    case scale(mean: [Double], scale: [Double])

    public var typeCode: UInt8 {
        switch self {
        case .impute: 1
        case .scale: 2
        }
    }

    var encodedSize: Int {
        switch self {
        case .impute(let fill): 4 + 8 * fill.count
        case .scale(let mean, let scale): 4 + 8 * (mean.count + scale.count)
        }
    }
}

/// Input rows with the reference library's expected scores (ARTIFACT.md §14).
public struct GoldenRows: Equatable, Sendable {
    /// rows × featureCount, row-major, exactly as a client would send them.
    public var features: [Float]
    public var expected: [Float]
    public var tolerance: Float

    public init(features: [Float], expected: [Float], tolerance: Float) {
        self.features = features
        self.expected = expected
        self.tolerance = tolerance
    }

    public var count: Int { expected.count }
}

/// An informational key/value pair (ARTIFACT.md §11, tag 6): library, objective, best iteration.
public struct MetadataEntry: Equatable, Sendable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}
