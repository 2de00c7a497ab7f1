import MLWire

/// Format-2 encoding (ARTIFACT.md §10–§14): the header, then tagged sections in tag order.
extension ArtifactWriter {
    /// `artifact` is already validated.
    static func encodeVersion2(_ artifact: Artifact) -> [UInt8] {
        var out = LittleEndianBytes(capacity: ArtifactFormat.fixedSizeVersion2 + artifact.parameters.encodedSize(formatVersion: 2) + 4096)
        out.append(ArtifactFormat.magic)
        out.append(ArtifactFormat.formatVersion2)
        out.append(artifact.kind.rawValue)
        out.append(UInt8(artifact.acceptsMissing ? 1 : 0))
        out.append(UInt32(artifact.featureCount))
        out.append(artifact.threshold)
        out.append(UInt16(artifact.name.utf8.count))
        out.append(UInt16(artifact.version.utf8.count))
        let bodyLengthOffset = out.count
        out.append(UInt32(0))
        out.appendPadded(Array(artifact.name.utf8), to: ArtifactFormat.nameField)
        out.appendPadded(Array(artifact.version.utf8), to: ArtifactFormat.versionField)

        section(.model, &out) { out in appendModel(artifact.parameters, &out) }
        if !artifact.preprocessing.isEmpty {
            section(.preprocessing, &out) { out in
                out.append(UInt16(artifact.preprocessing.count))
                out.append(UInt16(0))
                for step in artifact.preprocessing {
                    out.append(step.typeCode)
                    out.appendZeros(3)
                    switch step {
                    case .impute(let fill): out.append(fill)
                    case .scale(let mean, let scale):
                        out.append(mean)
                        out.append(scale)
                    }
                }
            }
        }
        if !artifact.featureNames.isEmpty {
            section(.featureNames, &out) { out in artifact.featureNames.forEach { out.appendString16($0) } }
        }
        if !artifact.referenceBins.isEmpty {
            section(.referenceHistogram, &out) { out in out.append(artifact.referenceBins) }
        }
        if let golden = artifact.goldenRows {
            section(.goldenRows, &out) { out in
                out.append(UInt16(golden.count))
                out.append(UInt16(0))
                out.append(golden.tolerance)
                for row in 0..<golden.count {
                    out.append(Array(golden.features[row * artifact.featureCount..<(row + 1) * artifact.featureCount]))
                    out.append(golden.expected[row])
                }
            }
        }
        if !artifact.metadata.isEmpty {
            section(.metadata, &out) { out in
                out.append(UInt16(artifact.metadata.count))
                for entry in artifact.metadata {
                    out.appendString16(entry.key)
                    out.appendString16(entry.value)
                }
            }
        }
        out.patch(UInt32(out.count - ArtifactFormat.headerSize), at: bodyLengthOffset)
        return seal(out.bytes)
    }

    private static func section(_ tag: ArtifactFormat.Section, _ out: inout LittleEndianBytes,
                                _ payload: (inout LittleEndianBytes) -> Void) {
        out.append(tag.rawValue)
        out.append(UInt16(0))
        let lengthOffset = out.count
        out.append(UInt32(0))
        payload(&out)
        out.patch(UInt32(out.count - lengthOffset - 4), at: lengthOffset)
    }

    private static func appendModel(_ parameters: ModelParameters, _ out: inout LittleEndianBytes) {
        switch parameters {
        case .logistic(let weights, let bias):
            out.append(weights)
            out.append(bias)
        case .mlp(let layers):
            out.append(UInt32(layers.count))
            for (index, layer) in layers.enumerated() {
                out.append(UInt32(layer.inputs))
                out.append(UInt32(layer.outputs))
                out.append(index == layers.count - 1 ? Activation.sigmoid.rawValue : layer.activation.rawValue)
                out.appendZeros(3)
            }
            for layer in layers {
                out.append(layer.weights)
                out.append(layer.biases)
            }
        case .treeEnsemble(let ensemble):
            out.append(UInt32(ensemble.treeNodeCounts.count))
            out.append(UInt32(ensemble.nodes.count))
            out.append(UInt32(ensemble.categoryWords.count))
            out.append(ensemble.comparison.rawValue)
            out.append(ensemble.aggregation.rawValue)
            out.append(ensemble.transform.rawValue)
            out.append(UInt8(0))
            out.append(ensemble.baseMargin)
            out.append(ensemble.transformParameter)
            for count in ensemble.treeNodeCounts { out.append(UInt32(count)) }
            for node in ensemble.nodes {
                out.append(node.feature)
                out.append(node.left)
                out.append(node.right)
                out.append(node.flags)
                out.appendZeros(3)
                if node.isCategorical {
                    out.append(node.categoryStart)
                    out.append(node.categoryCount)
                } else {
                    out.append(node.value)
                }
            }
            for word in ensemble.categoryWords { out.append(word) }
        }
    }
}
