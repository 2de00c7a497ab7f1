import MLWire

/// Format-2 decoding (ARTIFACT.md §10–§17). Every read is bounds-checked against the section it
/// belongs to, and every count is checked against the bytes left before anything is allocated
/// from it, so a hostile file can only be refused, never trap or over-allocate.
extension ArtifactReader {
    static func decodeVersion2(_ bytes: [UInt8], source: String,
                               expectedChecksum: Digest32) throws(ArtifactError) -> (Artifact, Digest32) {
        let fixed = ArtifactFormat.fixedSizeVersion2
        guard bytes.count >= fixed else {
            throw .invalid(source, "truncated: \(bytes.count) bytes, the smallest format-2 artifact is \(fixed)")
        }
        let header = BoundedCursor(bytes: bytes, start: 0, end: ArtifactFormat.headerSize, source: source)
        let bodyBytes = Int(header.u32(at: ArtifactFormat.offsetParameterBytes))
        guard bodyBytes == bytes.count - fixed else {
            throw .invalid(source, "length mismatch: header declares \(bodyBytes + fixed) bytes, file has \(bytes.count) (truncated or padded)")
        }
        let bodyCount = bytes.count - ArtifactFormat.digestSize
        let computed = bytes.withUnsafeBytes { SHA256.hash(UnsafeRawBufferPointer(rebasing: $0[0..<bodyCount])) }
        try checkDigest(computed: computed, stored: Digest32(Array(bytes[bodyCount...])), expected: expectedChecksum, source: source)

        let kindRaw = header.u8(at: ArtifactFormat.offsetKind)
        guard let kind = ModelKind(rawValue: kindRaw) else {
            throw .invalid(source, "unknown model kind \(kindRaw) (1 logistic, 2 mlp, 3 tree ensemble)")
        }
        let flags = header.u8(at: ArtifactFormat.offsetReserved)
        guard flags & ~1 == 0 else { throw .invalid(source, "header flags \(flags) has bits other than accepts_missing") }
        let featureCount = Int(header.u32(at: ArtifactFormat.offsetFeatureCount))
        guard featureCount >= 1, featureCount <= ArtifactFormat.maxFeatures else {
            throw .invalid(source, "feature count must be 1...\(ArtifactFormat.maxFeatures), got \(featureCount)")
        }
        let name = try header.paddedString(at: ArtifactFormat.offsetName, field: ArtifactFormat.nameField,
                                           length: Int(header.u16(at: ArtifactFormat.offsetNameLength)), what: "model name")
        let version = try header.paddedString(at: ArtifactFormat.offsetVersion, field: ArtifactFormat.versionField,
                                              length: Int(header.u16(at: ArtifactFormat.offsetVersionLength)), what: "version")
        var artifact = Artifact(name: name, version: version, featureCount: featureCount,
                                threshold: header.f32(at: ArtifactFormat.offsetThreshold),
                                parameters: .logistic(weights: [], bias: 0), referenceBins: [], acceptsMissing: flags & 1 != 0)

        var body = BoundedCursor(bytes: bytes, start: ArtifactFormat.headerSize, end: bodyCount, source: source)
        var lastTag: UInt16 = 0
        var sawModel = false
        while !body.atEnd {
            let tag = try body.u16(), reserved = try body.u16(), length = Int(try body.u32())
            guard let section = ArtifactFormat.Section(rawValue: tag) else { throw .invalid(source, "unknown section tag \(tag)") }
            guard tag > lastTag else { throw .invalid(source, "section \(tag) repeated or out of order (after \(lastTag))") }
            guard reserved == 0 else { throw .invalid(source, "section \(tag) reserved field is not zero") }
            var payload = try body.subCursor(length: length, what: "section \(tag)")
            lastTag = tag
            switch section {
            case .model:
                sawModel = true
                artifact.parameters = try decodeModel(kind: kind, featureCount: featureCount, &payload)
            case .preprocessing: artifact.preprocessing = try decodePreprocessing(featureCount: featureCount, &payload)
            case .featureNames:
                artifact.featureNames = try (0..<featureCount).map { _ throws(ArtifactError) in try payload.string16(what: "feature name") }
            case .referenceHistogram: artifact.referenceBins = try payload.floats(ScoreBins.count)
            case .goldenRows: artifact.goldenRows = try decodeGoldenRows(featureCount: featureCount, &payload)
            case .metadata:
                let count = Int(try payload.u16())
                guard count <= ArtifactFormat.maxMetadataEntries else { throw .invalid(source, "metadata has \(count) entries, at most \(ArtifactFormat.maxMetadataEntries)") }
                artifact.metadata = try (0..<count).map { _ throws(ArtifactError) in
                    MetadataEntry(try payload.string16(what: "metadata key"), try payload.string16(what: "metadata value"))
                }
            }
            guard payload.atEnd else { throw .invalid(source, "section \(tag) is \(length) bytes, its content uses \(length - payload.remaining)") }
        }
        guard sawModel else { throw .invalid(source, "no model section (tag 1)") }
        try artifact.validate(source: source)
        return (artifact, computed)
    }

    private static func decodeModel(kind: ModelKind, featureCount: Int, _ r: inout BoundedCursor) throws(ArtifactError) -> ModelParameters {
        switch kind {
        case .logistic:
            return .logistic(weights: try r.floats(featureCount), bias: try r.f32())
        case .mlp:
            let count = Int(try r.u32())
            guard count >= 1, count <= ArtifactFormat.maxLayers else {
                throw r.fail("mlp must have 1...\(ArtifactFormat.maxLayers) layers, got \(count)")
            }
            var shapes: [(inputs: Int, outputs: Int, activation: Activation)] = []
            for index in 0..<count {
                let inputs = Int(try r.u32()), outputs = Int(try r.u32()), code = try r.u8()
                guard try r.u8() == 0, try r.u8() == 0, try r.u8() == 0 else { throw r.fail("layer \(index) reserved bytes are not zero") }
                guard inputs >= 1, inputs <= ArtifactFormat.maxFeatures, outputs >= 1, outputs <= ArtifactFormat.maxFeatures else {
                    throw r.fail("layer \(index) shape \(outputs)x\(inputs) is out of range")
                }
                guard let activation = Activation(rawValue: code) else {
                    throw r.fail("layer \(index) has unknown activation \(code) (1 relu, 2 tanh, 3 sigmoid)")
                }
                if index == count - 1 && activation != .sigmoid { throw r.fail("the last layer's activation must be 3 (sigmoid), got \(code)") }
                shapes.append((inputs, outputs, index == count - 1 ? .relu : activation))
            }
            var layers: [DenseLayer] = []
            for shape in shapes {
                let weights = try r.floats(shape.inputs * shape.outputs)
                layers.append(DenseLayer(inputs: shape.inputs, outputs: shape.outputs, weights: weights,
                                         biases: try r.floats(shape.outputs), activation: shape.activation))
            }
            return .mlp(layers: layers)
        case .treeEnsemble:
            let trees = Int(try r.u32()), nodeCount = Int(try r.u32()), words = Int(try r.u32())
            guard trees >= 1, trees <= ArtifactFormat.maxTrees, nodeCount >= 1, nodeCount <= ArtifactFormat.maxTreeNodes,
                  words <= ArtifactFormat.maxCategoryWords else {
                throw r.fail("trees: \(trees) trees, \(nodeCount) nodes, \(words) category words: out of range")
            }
            guard r.remaining == 20 + 4 * trees + TreeNode.encodedSize * nodeCount + 4 * words else {
                throw r.fail("trees: model section is \(r.remaining + 12) bytes, its counts imply \(32 + 4 * trees + TreeNode.encodedSize * nodeCount + 4 * words)")
            }
            let comparisonCode = try r.u8(), aggregationCode = try r.u8(), transformCode = try r.u8()
            guard let comparison = TreeEnsemble.Comparison(rawValue: comparisonCode),
                  let aggregation = TreeEnsemble.Aggregation(rawValue: aggregationCode),
                  let transform = TreeEnsemble.Transform(rawValue: transformCode) else {
                throw r.fail("trees: unknown comparison \(comparisonCode), aggregation \(aggregationCode) or transform \(transformCode)")
            }
            guard try r.u8() == 0 else { throw r.fail("trees: reserved byte is not zero") }
            let base = try r.f64(), parameter = try r.f64()
            var counts: [Int] = []
            counts.reserveCapacity(trees)
            for _ in 0..<trees { counts.append(Int(try r.u32())) }
            var nodes: [TreeNode] = []
            nodes.reserveCapacity(nodeCount)
            for _ in 0..<nodeCount {
                let feature = try r.u32(), left = try r.u32(), right = try r.u32(), flags = try r.u8()
                guard try r.u8() == 0, try r.u8() == 0, try r.u8() == 0 else { throw r.fail("trees: node reserved bytes are not zero") }
                if flags & TreeNode.Flag.categorical != 0 {
                    nodes.append(TreeNode(feature: feature, left: left, right: right, flags: flags, value: 0,
                                          categoryStart: try r.u32(), categoryCount: try r.u32()))
                } else {
                    nodes.append(TreeNode(feature: feature, left: left, right: right, flags: flags, value: try r.f64()))
                }
            }
            var categoryWords: [UInt32] = []
            categoryWords.reserveCapacity(words)
            for _ in 0..<words { categoryWords.append(try r.u32()) }
            return .treeEnsemble(TreeEnsemble(comparison: comparison, aggregation: aggregation, transform: transform,
                                              baseMargin: base, transformParameter: parameter, treeNodeCounts: counts,
                                              nodes: nodes, categoryWords: categoryWords))
        }
    }

    private static func decodePreprocessing(featureCount: Int, _ r: inout BoundedCursor) throws(ArtifactError) -> [PreprocessStep] {
        let count = Int(try r.u16())
        guard try r.u16() == 0 else { throw r.fail("preprocessing reserved field is not zero") }
        guard count >= 1, count <= ArtifactFormat.maxPreprocessSteps else {
            throw r.fail("preprocessing must have 1...\(ArtifactFormat.maxPreprocessSteps) steps, got \(count)")
        }
        var steps: [PreprocessStep] = []
        for index in 0..<count {
            let type = try r.u8()
            guard try r.u8() == 0, try r.u8() == 0, try r.u8() == 0 else { throw r.fail("preprocessing[\(index)] reserved bytes are not zero") }
            switch type {
            case 1: steps.append(.impute(fill: try r.doubles(featureCount)))
            case 2: steps.append(.scale(mean: try r.doubles(featureCount), scale: try r.doubles(featureCount)))
            default: throw r.fail("preprocessing[\(index)] has unknown step type \(type) (1 impute, 2 scale)")
            }
        }
        return steps
    }

    private static func decodeGoldenRows(featureCount: Int, _ r: inout BoundedCursor) throws(ArtifactError) -> GoldenRows {
        let count = Int(try r.u16())
        guard try r.u16() == 0 else { throw r.fail("golden rows reserved field is not zero") }
        guard count >= 1, count <= ArtifactFormat.maxGoldenRows else {
            throw r.fail("golden rows: 1...\(ArtifactFormat.maxGoldenRows) rows, got \(count)")
        }
        let tolerance = try r.f32()
        var features: [Float] = [], expected: [Float] = []
        for _ in 0..<count {
            features += try r.floats(featureCount)
            expected.append(try r.f32())
        }
        return GoldenRows(features: features, expected: expected, tolerance: tolerance)
    }
}

/// Little-endian reads confined to [start, end) of a byte array; running past `end` is refused
/// as INVALID_ARGUMENT naming the file.
struct BoundedCursor {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    let source: String

    init(bytes: [UInt8], start: Int, end: Int, source: String) {
        self.bytes = bytes
        position = start
        self.end = end
        self.source = source
    }

    var atEnd: Bool { position == end }
    var remaining: Int { end - position }

    func fail(_ problem: String) -> ArtifactError { .invalid(source, problem) }

    private mutating func take(_ count: Int) throws(ArtifactError) -> Int {
        guard count >= 0, count <= end - position else {
            throw fail("truncated section: needs \(count) more bytes at offset \(position), \(end - position) left")
        }
        defer { position += count }
        return position
    }

    func u8(at offset: Int) -> UInt8 { bytes[offset] }
    func u16(at offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
    func u32(at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
    func u64(at offset: Int) -> UInt64 { UInt64(u32(at: offset)) | UInt64(u32(at: offset + 4)) << 32 }
    func f32(at offset: Int) -> Float { Float(bitPattern: u32(at: offset)) }

    mutating func u8() throws(ArtifactError) -> UInt8 { u8(at: try take(1)) }
    mutating func u16() throws(ArtifactError) -> UInt16 { u16(at: try take(2)) }
    mutating func u32() throws(ArtifactError) -> UInt32 { u32(at: try take(4)) }
    mutating func f32() throws(ArtifactError) -> Float { Float(bitPattern: try u32()) }
    mutating func f64() throws(ArtifactError) -> Double { Double(bitPattern: u64(at: try take(8))) }

    mutating func floats(_ count: Int) throws(ArtifactError) -> [Float] {
        let start = try take(4 * count)
        return (0..<count).map { f32(at: start + 4 * $0) }
    }

    mutating func doubles(_ count: Int) throws(ArtifactError) -> [Double] {
        let start = try take(8 * count)
        return (0..<count).map { Double(bitPattern: u64(at: start + 8 * $0)) }
    }

    mutating func string16(what: String) throws(ArtifactError) -> String {
        let length = Int(try u16())
        let start = try take(length)
        let raw = bytes[start..<start + length]
        guard !raw.contains(0), let text = String(validating: raw, as: UTF8.self) else { throw fail("\(what) is not valid UTF-8 without NUL") }
        return text
    }

    /// The next `length` bytes as their own cursor; this one moves past them.
    mutating func subCursor(length: Int, what: String) throws(ArtifactError) -> BoundedCursor {
        guard length <= end - position else { throw fail("\(what) declares \(length) bytes, only \(end - position) left in the body") }
        let start = try take(length)
        return BoundedCursor(bytes: bytes, start: start, end: start + length, source: source)
    }

    func paddedString(at offset: Int, field: Int, length: Int, what: String) throws(ArtifactError) -> String {
        guard length >= 1, length <= field else { throw fail("\(what) length must be 1...\(field), got \(length)") }
        guard bytes[offset + length..<offset + field].allSatisfy({ $0 == 0 }) else { throw fail("\(what) padding is not zero") }
        let raw = bytes[offset..<offset + length]
        guard !raw.contains(0), let text = String(validating: raw, as: UTF8.self) else { throw fail("\(what) is not valid UTF-8") }
        return text
    }
}
