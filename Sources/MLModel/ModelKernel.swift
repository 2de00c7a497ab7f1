import MLWire

/// Where one dense layer's numbers sit in a model's parameter block.
struct LayerShape {
    var inputs: Int
    var outputs: Int
    var weightOffset: Int
    var biasOffset: Int
}

/// Inference over a model's parameters, as a value of raw pointers and scalars. Copying it costs
/// no reference count, which matters on the prediction path: every event loop on every core would
/// otherwise retain and release the same `Model` object per request, bouncing its cache line.
/// The owning `Model` must outlive every use; event loops guarantee it by holding the slot pair.
public struct ModelKernel: @unchecked Sendable {
    public let kind: ModelKind
    public let featureCount: Int
    public let threshold: Float
    let parameters: UnsafePointer<Float>
    let layers: UnsafePointer<LayerShape>
    let layerCount: Int
    /// The version label as UTF-8, for encoders that copy it into responses.
    public let versionUTF8: UnsafeRawBufferPointer

    /// Score in [0, 1] for one row of `featureCount` floats.
    @inline(__always)
    public func score(row: UnsafePointer<Float>) -> Float {
        kind == .logistic ? logisticScore(row) : mlpScore(row)
    }

    /// Scores `count` rows laid out back to back (count × featureCount floats).
    public func predict(rows: UnsafePointer<Float>, count: Int, scores: UnsafeMutablePointer<Float>) {
        var i = 0
        if kind == .logistic {
            while i < count {
                scores[i] = logisticScore(rows + i &* featureCount)
                i &+= 1
            }
        } else {
            while i < count {
                scores[i] = mlpScore(rows + i &* featureCount)
                i &+= 1
            }
        }
    }

    /// 1 (anomaly) when the score reaches the decision threshold.
    @inline(__always)
    public func label(for score: Float) -> UInt8 { score >= threshold ? 1 : 0 }

    @inline(__always)
    private func logisticScore(_ row: UnsafePointer<Float>) -> Float {
        Kernels.sigmoid(Kernels.dot(parameters, row, featureCount) + parameters[featureCount])
    }

    /// Hidden activations ping-pong between two stack buffers of maxHiddenWidth floats (1 KiB
    /// each: the size withUnsafeTemporaryAllocation always keeps on the stack). Per-model scratch
    /// would race between event loops; per-call heap scratch would allocate.
    private func mlpScore(_ row: UnsafePointer<Float>) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: ArtifactFormat.maxHiddenWidth) { first in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: ArtifactFormat.maxHiddenWidth) { second in
                var input = row
                var output = first.baseAddress!, spare = second.baseAddress!
                var l = 0
                while l < layerCount &- 1 {
                    let shape = layers[l]
                    Kernels.denseReLU(weights: parameters + shape.weightOffset, biases: parameters + shape.biasOffset,
                                      inputs: shape.inputs, outputs: shape.outputs, input: input, output: output)
                    input = UnsafePointer(output)
                    swap(&output, &spare)
                    l &+= 1
                }
                let last = layers[layerCount &- 1]
                let z = Kernels.dot(parameters + last.weightOffset, input, last.inputs) + parameters[last.biasOffset]
                return Kernels.sigmoid(z)
            }
        }
    }
}
