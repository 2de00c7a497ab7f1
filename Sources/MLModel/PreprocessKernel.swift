/// The preprocessing steps of a model as raw pointers (ARTIFACT.md §13), applied one feature at a
/// time as a kernel reads it: every step is per-feature, so no scratch row is ever needed.
struct PreprocessKernel {
    static let impute: UInt8 = 1
    static let scale: UInt8 = 2

    let stepCount: Int
    /// Step type codes.
    let types: UnsafePointer<UInt8>
    /// Per step: impute → fill[F]; scale → mean[F] then scale[F].
    let values: UnsafePointer<Double>
    /// Where each step's values start in `values`.
    let offsets: UnsafePointer<Int>
    let featureCount: Int

    /// The feature as the model sees it. Clamped to ±float32 max: finite in, finite out.
    @inline(__always)
    func apply(_ feature: Int, _ raw: Float) -> Float {
        var x = raw
        var s = 0
        while s < stepCount {
            let base = values + offsets[s]
            if types[s] == PreprocessKernel.impute {
                if x.isNaN { x = Float(base[feature]) }
            } else if !x.isNaN {
                let centred = Kernels.clampToFloat(Double(x) - base[feature])
                x = Kernels.clampToFloat(Double(centred) / base[featureCount &+ feature])
            }
            s &+= 1
        }
        return x
    }
}

/// Where a kernel reads a row's features from: the raw request values, or those values through
/// the model's preprocessing. Kernels are generic over it so the raw path stays SIMD.
protocol RowSource {
    func feature(_ index: Int) -> Float
    /// Σ weights[i]·x[i] in float32 (may overflow to ±Inf or NaN; callers then use `dotDouble`).
    func dot(_ weights: UnsafePointer<Float>, _ count: Int) -> Float
}

extension RowSource {
    /// The same sum in f64, which cannot overflow for float32 inputs: |Σ| ≤ 4096·(3.4e38)².
    /// Four partial sums, so the adds do not wait on each other.
    @inline(__always)
    func dotDouble(_ weights: UnsafePointer<Float>, _ count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i &+ 4 <= count {
            s0 += Double(weights[i]) * Double(feature(i))
            s1 += Double(weights[i &+ 1]) * Double(feature(i &+ 1))
            s2 += Double(weights[i &+ 2]) * Double(feature(i &+ 2))
            s3 += Double(weights[i &+ 3]) * Double(feature(i &+ 3))
            i &+= 4
        }
        var sum = (s0 + s1) + (s2 + s3)
        while i < count {
            sum += Double(weights[i]) * Double(feature(i))
            i &+= 1
        }
        return sum
    }
}

struct RawRow: RowSource {
    let row: UnsafePointer<Float>

    @inline(__always) func feature(_ index: Int) -> Float { row[index] }
    @inline(__always) func dot(_ weights: UnsafePointer<Float>, _ count: Int) -> Float { Kernels.dot(weights, row, count) }
}

struct PreprocessedRow: RowSource {
    let row: UnsafePointer<Float>
    let steps: PreprocessKernel

    @inline(__always) func feature(_ index: Int) -> Float { steps.apply(index, row[index]) }

    @inline(__always) func dot(_ weights: UnsafePointer<Float>, _ count: Int) -> Float {
        var sum: Float = 0
        var i = 0
        while i < count {
            sum += weights[i] * feature(i)
            i &+= 1
        }
        return sum
    }
}
