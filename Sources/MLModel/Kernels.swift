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

    @inline(__always)
    static func activate(_ z: Float, _ activation: UInt8) -> Float {
        switch activation {
        case Activation.relu.rawValue: return z > 0 ? z : 0
        case Activation.tanh.rawValue: return tanhf(z)
        default: return sigmoid(z)
        }
    }

    /// out[o] = act(W[o,:] · input + bias[o]) for a row-major outputs × inputs matrix.
    @inline(__always)
    static func dense<Row: RowSource>(weights: UnsafePointer<Float>, biases: UnsafePointer<Float>, inputs: Int, outputs: Int,
                                      activation: UInt8, input: Row, output: UnsafeMutablePointer<Float>) {
        var o = 0
        while o < outputs {
            output[o] = activate(affine(weights + o &* inputs, biases[o], input, inputs), activation)
            o &+= 1
        }
    }
}
