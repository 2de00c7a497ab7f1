import MLModel

/// Reads a LightGBM text model (`save_model`, LightGBM 4.x): binary objectives, numerical splits
/// with LightGBM's missing types, categorical bitsets, and random-forest mode (`average_output`).
/// Thresholds stay f64 and the input is widened to f64, exactly as LightGBM compares.
public enum LightGBMImporter {
    static let objectives = ["binary", "cross_entropy", "xentropy"]

    public static func importModel(_ bytes: [UInt8], source: String) throws(ImportError) -> ImportedModel {
        let text = String(decoding: bytes, as: UTF8.self)
        var header: [String: String] = [:]
        var flags: Set<String> = []
        var trees: [[String: String]] = []
        var current: [String: String]? = nil
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = String(rawLine)
            if line.hasPrefix("Tree=") {
                if let current { trees.append(current) }
                current = [:]
                continue
            }
            if line == "end of trees" {
                if let current { trees.append(current) }
                current = nil
                break
            }
            let pair = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if current != nil {
                if pair.count == 2 { current![String(pair[0])] = String(pair[1]) }
            } else if pair.count == 2 {
                header[String(pair[0])] = String(pair[1])
            } else {
                flags.insert(line)
            }
        }
        if let current { trees.append(current) }
        guard flags.contains("tree") || header["version"] != nil else { throw ImportError("\(source): not a LightGBM text model (no \"tree\" header)") }

        let objectiveLine = header["objective"] ?? ""
        let objectiveParts = objectiveLine.split(separator: " ")
        let objective = objectiveParts.first.map(String.init) ?? "(none)"
        guard objectives.contains(objective) else {
            throw ImportError("\(source): objective \"\(objectiveLine)\" is not supported (multi-class, ranking and regression are refused); supported: binary, cross_entropy")
        }
        var sigmoidScale = 1.0
        for part in objectiveParts.dropFirst() where part.hasPrefix("sigmoid:") {
            guard let value = Double(part.dropFirst(8)), value > 0, value.isFinite else { throw ImportError("\(source): bad \(part)") }
            sigmoidScale = value
        }
        let classes = Int(header["num_class"] ?? "1") ?? 0
        let perIteration = Int(header["num_tree_per_iteration"] ?? "1") ?? 0
        guard classes == 1, perIteration == 1 else {
            throw ImportError("\(source): multi-class model (num_class=\(classes)) is not supported: binary classification only")
        }
        guard let maxFeature = header["max_feature_idx"].flatMap({ Int($0) }), maxFeature >= 0, maxFeature < ArtifactFormat.maxFeatures else {
            throw ImportError("\(source): max_feature_idx is missing or outside 0..<\(ArtifactFormat.maxFeatures)")
        }
        let featureCount = maxFeature + 1
        guard !trees.isEmpty else { throw ImportError("\(source): the model has no trees") }

        var counts: [Int] = [], nodes: [TreeNode] = [], words: [UInt32] = []
        for (index, tree) in trees.enumerated() {
            let treeNodes = try self.nodes(tree, index: index, featureCount: featureCount, scale: sigmoidScale,
                                           words: &words, source: source)
            counts.append(treeNodes.count)
            nodes += treeNodes
        }
        let average = flags.contains("average_output")
        let ensemble = TreeEnsemble(comparison: .lightgbm, aggregation: average ? .mean : .sum, transform: .sigmoid, baseMargin: 0,
                                    treeNodeCounts: counts, nodes: nodes, categoryWords: words)
        let names = (header["feature_names"] ?? "").split(separator: " ").map(String.init)
        var metadata = [MetadataEntry("source", "lightgbm " + (header["version"] ?? "?")), MetadataEntry("objective", objectiveLine),
                        MetadataEntry("trees", "\(trees.count)")]
        if average { metadata.append(MetadataEntry("average_output", "true")) }
        return ImportedModel(featureCount: featureCount, ensemble: ensemble,
                             featureNames: names.count == featureCount ? names : [], metadata: metadata)
    }

    private static func nodes(_ tree: [String: String], index: Int, featureCount: Int, scale: Double,
                              words: inout [UInt32], source: String) throws(ImportError) -> [TreeNode] {
        func fail(_ problem: String) -> ImportError { ImportError("\(source): Tree=\(index): \(problem)") }
        func field(_ key: String) throws(ImportError) -> [Substring] {
            guard let line = tree[key] else { throw fail("\(key) is missing") }
            return line.split(separator: " ")
        }
        func ints(_ key: String) throws(ImportError) -> [Int] {
            var out: [Int] = []
            for item in try field(key) {
                guard let value = Int(item) else { throw fail("\(key) has a non-integer \"\(item)\"") }
                out.append(value)
            }
            return out
        }
        func doubles(_ key: String) throws(ImportError) -> [Double] {
            var out: [Double] = []
            for item in try field(key) {
                guard let value = Double(item), !value.isNaN else { throw fail("\(key) has a non-number \"\(item)\"") }
                out.append(value)
            }
            return out
        }
        if tree["is_linear"] == "1" { throw fail("linear trees (linear_tree=true) are not supported") }
        guard let leaves = tree["num_leaves"].flatMap({ Int($0) }), leaves >= 1 else { throw fail("num_leaves is missing") }
        let leafValues = try doubles("leaf_value").map { $0 * scale }
        guard leafValues.count == leaves else { throw fail("\(leafValues.count) leaf values for \(leaves) leaves") }
        if leaves == 1 { return [.leaf(leafValues[0])] }
        let splits = leaves - 1
        let features = try ints("split_feature"), thresholds = try doubles("threshold"), decisions = try ints("decision_type")
        let left = try ints("left_child"), right = try ints("right_child")
        guard [features.count, thresholds.count, decisions.count, left.count, right.count].allSatisfy({ $0 == splits }) else {
            throw fail("split arrays do not all have num_leaves − 1 = \(splits) entries")
        }
        var boundaries: [Int] = [], bitset: [UInt32] = []
        if let cats = tree["num_cat"].flatMap({ Int($0) }), cats > 0 {
            boundaries = try ints("cat_boundaries")
            for item in try field("cat_threshold") {
                guard let word = UInt32(item) else { throw fail("cat_threshold has a non-u32 \"\(item)\"") }
                bitset.append(word)
            }
            guard boundaries.count == cats + 1, boundaries.first == 0, boundaries.last == bitset.count,
                  zip(boundaries, boundaries.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw fail("cat_boundaries do not delimit cat_threshold")
            }
        }
        // LightGBM numbers splits nodes and leaves separately (a child < 0 is leaf ~child); the
        // artifact wants one array with children after parents, so the tree is laid out in preorder.
        var placed: [TreeNode] = []
        var seenInternal = [Bool](repeating: false, count: splits), seenLeaf = [Bool](repeating: false, count: leaves)
        func visit(_ code: Int, depth: Int) throws(ImportError) -> Int {
            guard depth <= splits + 1 else { throw fail("the children do not form a tree") }
            let at = placed.count
            placed.append(.leaf(0))
            if code < 0 {
                let leaf = ~code
                guard leaf < leaves, !seenLeaf[leaf] else { throw fail("leaf \(leaf) out of range or reached twice") }
                seenLeaf[leaf] = true
                placed[at] = .leaf(leafValues[leaf])
                return at
            }
            guard code < splits, !seenInternal[code] else { throw fail("node \(code) out of range or reached twice") }
            seenInternal[code] = true
            let l = try visit(left[code], depth: depth + 1)
            let r = try visit(right[code], depth: depth + 1)
            let decision = decisions[code]
            let feature = features[code]
            guard feature >= 0, feature < featureCount else { throw fail("node \(code) splits on feature \(feature), the model has \(featureCount)") }
            let defaultLeft = decision & 2 != 0
            if decision & 1 != 0 {
                let category = Int(thresholds[code])
                guard category >= 0, category + 1 < boundaries.count else { throw fail("node \(code) names categorical split \(category), out of range") }
                let first = words.count
                words += bitset[boundaries[category]..<boundaries[category + 1]]
                let count = boundaries[category + 1] - boundaries[category]
                guard count >= 1 else { throw fail("categorical split \(category) has an empty bitset") }
                // LightGBM: members left; NaN, negatives and unlisted categories right.
                placed[at] = .categorical(feature: feature, left: l, right: r, defaultLeft: false, membersGoRight: false,
                                          firstWord: first, wordCount: count)
            } else {
                guard let missing = MissingType(rawValue: UInt8((decision >> 2) & 3)) else { throw fail("node \(code) has missing type 3") }
                placed[at] = .numerical(feature: feature, threshold: thresholds[code], left: l, right: r, missing: missing, defaultLeft: defaultLeft)
            }
            return at
        }
        _ = try visit(0, depth: 0)
        guard placed.count == 2 * leaves - 1 else { throw fail("the children reach \(placed.count) nodes, expected \(2 * leaves - 1)") }
        return placed
    }
}
