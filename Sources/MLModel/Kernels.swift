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

    /// out[o] = relu(W[o,:] · input + bias[o]) for a row-major outputs × inputs matrix.
    @inline(__always)
    static func denseReLU(weights: UnsafePointer<Float>, biases: UnsafePointer<Float>, inputs: Int, outputs: Int,
                          input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        var o = 0
        while o < outputs {
            let z = dot(weights + o &* inputs, input, inputs) + biases[o]
            output[o] = z > 0 ? z : 0
            o &+= 1
        }
    }
}
