import Foundation
import MLWire
import XCTest
@testable import MLModel

/// Shared fixtures: small deterministic artifacts and unique temp paths.
enum Fixtures {
    /// A unique path under the temp directory; the file is removed by the caller's tearDown.
    static func tempPath(_ label: String) -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("mlmodel-\(label)-\(getpid())-\(UUID().uuidString).mlart").path
    }

    static func seededFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = Xoshiro256(seed: seed)
        return (0..<count).map { _ in Float(rng.nextUnit() * 2 - 1) * scale }
    }

    static func logistic(features: Int = 8, seed: UInt64 = 1) -> Artifact {
        Artifact(name: "fixture", version: "v1.0", featureCount: features, threshold: 0.5,
                 parameters: .logistic(weights: seededFloats(features, seed: seed), bias: 0.25),
                 referenceBins: Artifact.uniformBins)
    }

    /// features → hidden… → 1, weights in ±1/√inputs so activations stay moderate.
    static func mlp(features: Int = 8, hidden: [Int] = [6, 4], seed: UInt64 = 2) -> Artifact {
        let sizes = [features] + hidden + [1]
        let layers = (0..<(sizes.count - 1)).map { l in
            DenseLayer(inputs: sizes[l], outputs: sizes[l + 1],
                       weights: seededFloats(sizes[l] * sizes[l + 1], seed: seed + UInt64(l), scale: 2 / Float(sizes[l]).squareRoot()),
                       biases: seededFloats(sizes[l + 1], seed: seed + 100 + UInt64(l), scale: 0.5))
        }
        return Artifact(name: "fixture-mlp", version: "v1.0-mlp", featureCount: features, threshold: 0.4,
                        parameters: .mlp(layers: layers), referenceBins: Artifact.uniformBins)
    }

    static func write(_ bytes: [UInt8], label: String) -> String {
        let path = tempPath(label)
        precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot create \(path)")
        return path
    }
}

/// Independent reference inference in Double, straight from the artifact's numbers.
enum Reference {
    static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

    static func score(_ artifact: Artifact, row: [Float]) -> Double {
        switch artifact.parameters {
        case .logistic(let weights, let bias):
            var z = Double(bias)
            for i in weights.indices { z += Double(weights[i]) * Double(row[i]) }
            return sigmoid(z)
        case .mlp(let layers):
            var activations = row.map(Double.init)
            for (index, layer) in layers.enumerated() {
                var next = [Double](repeating: 0, count: layer.outputs)
                for o in 0..<layer.outputs {
                    var z = Double(layer.biases[o])
                    for i in 0..<layer.inputs { z += Double(layer.weights[o * layer.inputs + i]) * activations[i] }
                    if index == layers.count - 1 {
                        next[o] = sigmoid(z)
                    } else {
                        switch layer.activation {
                        case .relu: next[o] = max(z, 0)
                        case .tanh: next[o] = tanh(z)
                        case .sigmoid: next[o] = sigmoid(z)
                        }
                    }
                }
                activations = next
            }
            return activations[0]
        case .treeEnsemble(let ensemble):
            return treeScore(ensemble, row: row)
        }
    }

    /// A direct reading of ARTIFACT.md §12.3 over the file's own node order (no relayout).
    static func treeScore(_ ensemble: TreeEnsemble, row: [Float]) -> Double {
        var sum = 0.0, first = 0
        for count in ensemble.treeNodeCounts {
            var index = 0
            while !ensemble.nodes[first + index].isLeaf {
                let node = ensemble.nodes[first + index]
                let x = row[Int(node.feature)]
                var left: Bool
                if node.isCategorical {
                    if x.isNaN {
                        left = node.defaultLeft
                    } else {
                        var category: Int? = nil
                        if ensemble.comparison == .xgboost {
                            if x >= 0 && x < 16_777_216 { category = Int(x.rounded(.towardZero)) }
                        } else if x < 2_147_483_648 && x.rounded(.towardZero) >= 0 {
                            category = Int(x.rounded(.towardZero))
                        }
                        var member = false
                        if let c = category, c < 32 * Int(node.categoryCount) {
                            member = ensemble.categoryWords[Int(node.categoryStart) + c / 32] & (1 << UInt32(c % 32)) != 0
                        }
                        left = node.membersGoRight ? !member : member
                    }
                } else if ensemble.comparison == .xgboost {
                    left = x.isNaN ? node.defaultLeft : x < Float(node.value)
                } else {
                    var d = Double(x)
                    if node.missingType != .nan && d.isNaN { d = 0 }
                    if (node.missingType == .zero && abs(d) <= Double(Float(1e-35))) || (node.missingType == .nan && d.isNaN) {
                        left = node.defaultLeft
                    } else {
                        left = d <= node.value
                    }
                }
                index = Int(left ? node.left : node.right)
            }
            sum += ensemble.nodes[first + index].value
            first += count
        }
        let z = (ensemble.aggregation == .mean ? sum / Double(ensemble.treeNodeCounts.count) : sum) + ensemble.baseMargin
        switch ensemble.transform {
        case .identity: return min(max(z, 0), 1)
        case .sigmoid: return sigmoid(z)
        case .isolation: return ensemble.transformParameter > 0 ? pow(2, -z / ensemble.transformParameter) : 0.5
        }
    }
}

extension XCTestCase {
    /// Asserts `body` throws an ArtifactError with `status` whose message contains `fragments`.
    func assertRefused(_ status: Status, containing fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected \(status.name), but it was accepted", file: file, line: line)
        } catch let error as ArtifactError {
            XCTAssertEqual(error.status, status, "message: \(error.message)", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected ArtifactError, got \(error)", file: file, line: line)
        }
    }
}
