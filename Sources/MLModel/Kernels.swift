import Glibc

/// Inference kernels over raw pointers: no allocation, no bounds checks, no ARC traffic.
/// Float reductions are not reassociated by the optimiser (no fast-math in Swift), so the dot
/// product vectorises by hand with two SIMD8 accumulators; the tail runs scalar.
enum Kernels {
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        while i &+ 16 <= count {
            acc0 += ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            acc1 += ra.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
            i &+= 16
        }
        if i &+ 8 <= count {
            acc0 += ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        var sum = (acc0 + acc1).sum()
        while i < count {
            sum += a[i] * b[i]
            i &+= 1
        }
        return sum
    }

    /// Never overflows: exp is only taken of a non-positive number.
    @inline(__always)
    static func sigmoid(_ z: Float) -> Float {
        if z >= 0 {
            return 1 / (1 + expf(-z))
        }
        let e = expf(z)
        return e / (1 + e)
    }

    /// The same in f64, for scores whose pre-activation left float32's range.
    @inline(__always)
    static func sigmoid(wide z: Double) -> Float {
        if z >= 0 {
            return Float(1 / (1 + exp(-z)))
        }
        let e = exp(z)
        return Float(e / (1 + e))
    }

    /// Rounds to float32, saturating at ±float32 max instead of becoming infinite.
    @inline(__always)
    static func clampToFloat(_ value: Double) -> Float {
        let f = Float(value)
        if f.isInfinite { return f > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude }
        return f
    }

    /// w · x + b, falling back to f64 (clamped back to float32) when float32 overflowed: the result
    /// is finite for every finite input and weight (ARTIFACT.md §16). Float32 stays the fast path:
    /// a finite float32 sum means no intermediate overflowed.
    @inline(__always)
    static func affine<Row: RowSource>(_ weights: UnsafePointer<Float>, _ bias: Float, _ input: Row, _ count: Int) -> Float {
        let z = input.dot(weights, count) + bias
        if z.isFinite { return z }
        return clampToFloat(input.dotDouble(weights, count) + Double(bias))
    }

    /// Σ w[i]·x[i] in f64 over f64 inputs (an MLP's hidden values), four partial sums.
    @inline(__always)
    static func dotWide(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Double>, _ count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i &+ 4 <= count {
            s0 += Double(w[i]) * x[i]
            s1 += Double(w[i &+ 1]) * x[i &+ 1]
            s2 += Double(w[i &+ 2]) * x[i &+ 2]
            s3 += Double(w[i &+ 3]) * x[i &+ 3]
            i &+= 4
        }
        var sum = (s0 + s1) + (s2 + s3)
        while i < count {
            sum += Double(w[i]) * x[i]
            i &+= 1
        }
        return sum
    }

    /// Keeps an f64 pre-activation within ±float32 max, as the float32 path's `clampToFloat`
    /// does: hidden values stay bounded, so no later f64 sum can overflow (ARTIFACT.md §16).
    @inline(__always)
    static func clampWide(_ z: Double) -> Double {
        let limit = Double(Float.greatestFiniteMagnitude)
        return z > limit ? limit : (z < -limit ? -limit : z)
    }

    @inline(__always)
    static func activateWide(_ z: Double, _ activation: UInt8) -> Double {
        switch activation {
        case Activation.relu.rawValue: return z > 0 ? z : 0
        case Activation.tanh.rawValue: return tanh(z)
        default:
            if z >= 0 { return 1 / (1 + exp(-z)) }
            let e = exp(z)
            return e / (1 + e)
        }
    }

    /// out[o] = act(W[o,:] · input + bias[o]) in f64 for a row-major outputs × inputs matrix;
    /// `dot` gives W[o,:] · input for a row of W.
    @inline(__always)
    static func denseWide(weights: UnsafePointer<Float>, biases: UnsafePointer<Float>, inputs: Int, outputs: Int,
                          activation: UInt8, output: UnsafeMutablePointer<Double>,
                          dot: (UnsafePointer<Float>) -> Double) {
        var o = 0
        while o < outputs {
            output[o] = activateWide(clampWide(dot(weights + o &* inputs) + Double(biases[o])), activation)
            o &+= 1
        }
    }
}
