import MLWire

/// Where one dense layer's numbers sit in a model's parameter block.
struct LayerShape {
    var inputs: Int
    var outputs: Int
    var weightOffset: Int
    var biasOffset: Int
    /// `Activation` raw value (hidden layers); the last layer is always sigmoid.
    var activation: UInt8
}

/// Inference over a model's parameters, as a value of raw pointers and scalars. Copying it costs
/// no reference count, which matters on the prediction path: every event loop on every core would
/// otherwise retain and release the same `Model` object per request, bouncing its cache line.
/// The owning `Model` must outlive every use; event loops guarantee it by holding the slot pair.
public struct ModelKernel: @unchecked Sendable {
    public let kind: ModelKind
    public let featureCount: Int
    public let threshold: Float
    /// NaN in a row means "missing" for this model (ARTIFACT.md §15).
    public let acceptsMissing: Bool
    let parameters: UnsafePointer<Float>
    let layers: UnsafePointer<LayerShape>
    let layerCount: Int
    let trees: TreeKernel?
    let preprocess: PreprocessKernel?
    /// The version label as UTF-8, for encoders that copy it into responses.
    public let versionUTF8: UnsafeRawBufferPointer

    /// Score in [0, 1] for one row of `featureCount` floats: finite for every finite row (and,
    /// when `acceptsMissing`, for rows with NaN).
    @inline(__always)
    public func score(row: UnsafePointer<Float>) -> Float {
        if let preprocess {
            return score(PreprocessedRow(row: row, steps: preprocess))
        }
        return score(RawRow(row: row))
    }

    /// Scores `count` rows laid out back to back (count × featureCount floats).
    public func predict(rows: UnsafePointer<Float>, count: Int, scores: UnsafeMutablePointer<Float>) {
        if let trees {
            if let preprocess {
                trees.predict(rows: rows, count: count, featureCount: featureCount, scores: scores) {
                    PreprocessedRow(row: $0, steps: preprocess)
                }
            } else {
                trees.predict(rows: rows, count: count, featureCount: featureCount, scores: scores) { RawRow(row: $0) }
            }
            return
        }
        var i = 0
        while i < count {
            scores[i] = score(row: rows + i &* featureCount)
            i &+= 1
        }
    }

    /// 1 (anomaly) when the score reaches the decision threshold.
    @inline(__always)
    public func label(for score: Float) -> UInt8 { score >= threshold ? 1 : 0 }

    @inline(__always)
    private func score<Row: RowSource>(_ row: Row) -> Float {
        switch kind {
        case .logistic: Kernels.sigmoid(Kernels.affine(parameters, parameters[featureCount], row, featureCount))
        case .mlp: mlpScore(row)
        case .treeEnsemble: trees.unsafelyUnwrapped.score(row)
        }
    }

    /// An MLP with hidden layers accumulates in f64 (ARTIFACT.md §16): float32 weights and inputs, f64 products,
    /// sums, activations and hidden values; only the score is rounded to float32. A float32
    /// accumulation drifts by more than 1e-6 from the library's own float64 result on a 64-32
    /// relu network over 40 features (bench/README.md, parity). Hidden values ping-pong between
    /// two fixed-size stack arrays of maxHiddenWidth doubles: per-model scratch would race between
    /// event loops; per-call heap scratch would allocate.
    private func mlpScore<Row: RowSource>(_ row: Row) -> Float {
        let last = layers[layerCount &- 1]
        if layerCount == 1 {
            // No hidden layer: exactly the logistic model's float32 arithmetic (ARTIFACT.md §3).
            return Kernels.sigmoid(Kernels.affine(parameters + last.weightOffset, parameters[last.biasOffset], row, last.inputs))
        }
        var first = HiddenValues(repeating: 0), second = HiddenValues(repeating: 0)
        return withUnsafeMutablePointer(to: &first) { first in
            withUnsafeMutablePointer(to: &second) { second in
                var output = UnsafeMutableRawPointer(first).assumingMemoryBound(to: Double.self)
                var spare = UnsafeMutableRawPointer(second).assumingMemoryBound(to: Double.self)
                firstLayer(row, into: output)
                var input = UnsafePointer(output)
                swap(&output, &spare)
                var l = 1
                while l < layerCount &- 1 {
                    let shape = layers[l], values = input
                    Kernels.denseWide(weights: parameters + shape.weightOffset, biases: parameters + shape.biasOffset,
                                      inputs: shape.inputs, outputs: shape.outputs, activation: shape.activation,
                                      output: output) { Kernels.dotWide($0, values, shape.inputs) }
                    input = UnsafePointer(output)
                    swap(&output, &spare)
                    l &+= 1
                }
                let z = Kernels.dotWide(parameters + last.weightOffset, input, last.inputs) + Double(parameters[last.biasOffset])
                return Kernels.sigmoid(wide: Kernels.clampWide(z))
            }
        }
    }

    /// The first hidden layer, feature by feature into zeroed `output`: each feature is read
    /// (preprocessed, widened) once, not once per unit, which is most of an MLP's work when the
    /// row has preprocessing steps. Each unit's sum runs over the features in order.
    @inline(__always)
    private func firstLayer<Row: RowSource>(_ row: Row, into output: UnsafeMutablePointer<Double>) {
        let shape = layers[0]
        let weights = parameters + shape.weightOffset
        var i = 0
        while i < shape.inputs {
            let x = Double(row.feature(i))
            var w = weights + i
            var o = 0
            while o < shape.outputs {
                output[o] += Double(w.pointee) * x
                w += shape.inputs
                o &+= 1
            }
            i &+= 1
        }
        let biases = parameters + shape.biasOffset
        var o = 0
        while o < shape.outputs {
            output[o] = Kernels.activateWide(Kernels.clampWide(output[o] + Double(biases[o])), shape.activation)
            o &+= 1
        }
    }
}

/// One MLP layer's f64 activations on the stack (a fixed-size value, never on the heap); its
/// count is ArtifactFormat.maxHiddenWidth (checked by a test).
typealias HiddenValues = InlineArray<256, Double>
