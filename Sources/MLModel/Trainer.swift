import Glibc

/// Mini-batch SGD with momentum for the built-in models: a dense net with ReLU hidden layers and
/// one sigmoid output, trained on log-loss. A logistic model is the zero-hidden-layer case.
/// Deterministic: seeded init and shuffling, fixed float operation order. All parameters live in
/// one flat array (layer l's weights at `weightOffset[l]`, then its biases) and the loops run on
/// raw pointers, so the three built-ins train in tens of milliseconds.
struct Trainer {
    struct Settings {
        var epochs: Int
        var batchSize = 32
        var learningRate: Float
        var momentum: Float = 0.9
    }

    /// sizes[0] inputs, sizes.last == 1.
    let sizes: [Int]
    private(set) var parameters: [Float]
    private let weightOffset: [Int]
    private let biasOffset: [Int]

    /// Hidden layers get He-normal weights from `seed`; a lone output layer starts at zero (the
    /// convex logistic case needs no symmetry breaking, and zero weights stay exactly zero for
    /// features that are always zero).
    init(sizes: [Int], seed: UInt64) {
        precondition(sizes.count >= 2 && sizes.last == 1)
        self.sizes = sizes
        var rng = Xoshiro256(seed: seed)
        var parameters: [Float] = [], weightOffset: [Int] = [], biasOffset: [Int] = []
        for l in 0..<(sizes.count - 1) {
            let inputs = sizes[l], outputs = sizes[l + 1]
            let scale = sizes.count == 2 ? 0 : (2 / Double(inputs)).squareRoot()
            weightOffset.append(parameters.count)
            parameters += (0..<(inputs * outputs)).map { _ in Float(Trainer.gaussian(&rng) * scale) }
            biasOffset.append(parameters.count)
            parameters += [Float](repeating: 0, count: outputs)
        }
        self.parameters = parameters
        self.weightOffset = weightOffset
        self.biasOffset = biasOffset
    }

    var layers: [DenseLayer] {
        (0..<(sizes.count - 1)).map { l in
            DenseLayer(inputs: sizes[l], outputs: sizes[l + 1],
                       weights: Array(parameters[weightOffset[l]..<biasOffset[l]]),
                       biases: Array(parameters[biasOffset[l]..<biasOffset[l] + sizes[l + 1]]))
        }
    }

    mutating func train(features: [Float], labels: [UInt8], settings: Settings, seed: UInt64) {
        let n = labels.count, depth = sizes.count - 1
        var rng = Xoshiro256(seed: seed)
        var order = Array(0..<n)
        var velocity = [Float](repeating: 0, count: parameters.count)
        var gradient = velocity
        // Activations: the input of layer l starts at activationOffset[l]; deltas likewise per output.
        let activationOffset = Trainer.startOffsets(sizes.dropLast())
        let deltaOffset = Trainer.startOffsets(sizes.dropFirst())
        var activations = [Float](repeating: 0, count: sizes.dropLast().reduce(0, +))
        var deltas = [Float](repeating: 0, count: sizes.dropFirst().reduce(0, +))
        let sizes = self.sizes, weightOffset = self.weightOffset, biasOffset = self.biasOffset

        parameters.withUnsafeMutableBufferPointer { pBuffer in
        velocity.withUnsafeMutableBufferPointer { vBuffer in
        gradient.withUnsafeMutableBufferPointer { gBuffer in
        activations.withUnsafeMutableBufferPointer { aBuffer in
        deltas.withUnsafeMutableBufferPointer { dBuffer in
        features.withUnsafeBufferPointer { xBuffer in
            let p = pBuffer.baseAddress!, v = vBuffer.baseAddress!, g = gBuffer.baseAddress!
            let a = aBuffer.baseAddress!, d = dBuffer.baseAddress!, x = xBuffer.baseAddress!
            let count = pBuffer.count
            for _ in 0..<settings.epochs {
                for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.next(below: i + 1)) }
                var start = 0
                while start < n {
                    let end = min(start + settings.batchSize, n)
                    g.update(repeating: 0, count: count)
                    for sample in order[start..<end] {
                        a.update(from: x + sample * sizes[0], count: sizes[0])
                        // Forward.
                        var output: Float = 0
                        for l in 0..<depth {
                            let ins = sizes[l], outs = sizes[l + 1], input = a + activationOffset[l]
                            for o in 0..<outs {
                                let z = Kernels.dot(p + weightOffset[l] + o * ins, input, ins) + p[biasOffset[l] + o]
                                if l == depth - 1 { output = Kernels.sigmoid(z) } else { input[ins + o] = max(z, 0) }
                            }
                        }
                        // Backward: d(log-loss)/dz at a sigmoid output is p − y.
                        d[deltaOffset[depth - 1]] = output - Float(labels[sample])
                        for l in stride(from: depth - 1, through: 0, by: -1) {
                            let ins = sizes[l], outs = sizes[l + 1], input = a + activationOffset[l]
                            let delta = d + deltaOffset[l], w = p + weightOffset[l], gw = g + weightOffset[l]
                            if l > 0 {
                                let below = d + deltaOffset[l - 1]
                                for i in 0..<ins { below[i] = 0 }
                                for o in 0..<outs {
                                    let row = w + o * ins
                                    for i in 0..<ins { below[i] += row[i] * delta[o] }
                                }
                                for i in 0..<ins where input[i] <= 0 { below[i] = 0 }
                            }
                            for o in 0..<outs {
                                g[biasOffset[l] + o] += delta[o]
                                let row = gw + o * ins
                                for i in 0..<ins { row[i] += delta[o] * input[i] }
                            }
                        }
                    }
                    let step = settings.learningRate / Float(end - start)
                    for k in 0..<count {
                        v[k] = settings.momentum * v[k] - step * g[k]
                        p[k] += v[k]
                    }
                    start = end
                }
            }
        }
        }
        }
        }
        }
        }
    }

    /// The threshold in 0.05...0.95 (steps of 0.01) with the best F1 on these scores; ties keep
    /// the lower threshold.
    static func bestThreshold(scores: [Float], labels: [UInt8]) -> Float {
        var best: (threshold: Float, f1: Double) = (0.5, -1)
        for step in 5...95 {
            let threshold = Float(step) / 100
            var confusion = Confusion()
            for i in scores.indices { confusion.record(predicted: scores[i] >= threshold ? 1 : 0, actual: labels[i]) }
            if confusion.f1 > best.f1 { best = (threshold, confusion.f1) }
        }
        return best.threshold
    }

    /// Where each of consecutive blocks of these sizes starts.
    private static func startOffsets(_ blockSizes: ArraySlice<Int>) -> [Int] {
        var offsets: [Int] = [], total = 0
        for size in blockSizes {
            offsets.append(total)
            total += size
        }
        return offsets
    }

    private static func gaussian(_ rng: inout Xoshiro256) -> Double {
        let u1 = 1 - rng.nextUnit(), u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
