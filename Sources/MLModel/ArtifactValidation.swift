/// The format-2 rules of ARTIFACT.md §11–§15, beside `Artifact.validate`'s format-1 rules.
extension Artifact {
    func validateVersion2Parts(source: String) throws(ArtifactError) {
        func fail(_ problem: String) -> ArtifactError { .invalid(source, problem) }
        if acceptsMissing {
            let treesDefineNaN = kind == .treeEnsemble
            let imputedFirst: Bool
            if case .impute = preprocessing.first { imputedFirst = true } else { imputedFirst = false }
            guard treesDefineNaN || imputedFirst else {
                throw fail("accepts_missing needs a tree ensemble or an impute step first: a \(kind.name) model has no meaning for NaN")
            }
        }
        guard preprocessing.count <= ArtifactFormat.maxPreprocessSteps else {
            throw fail("at most \(ArtifactFormat.maxPreprocessSteps) preprocessing steps, got \(preprocessing.count)")
        }
        for (index, step) in preprocessing.enumerated() {
            switch step {
            case .impute(let fill):
                try Artifact.checkPerFeature(fill, featureCount, "preprocessing[\(index)] impute fill", source)
            case .scale(let mean, let scale):
                try Artifact.checkPerFeature(mean, featureCount, "preprocessing[\(index)] scale mean", source)
                try Artifact.checkPerFeature(scale, featureCount, "preprocessing[\(index)] scale scale", source)
                if let zero = scale.firstIndex(of: 0) { throw fail("preprocessing[\(index)] scale scale[\(zero)] is 0") }
            }
        }
        if !featureNames.isEmpty {
            guard featureNames.count == featureCount else {
                throw fail("\(featureNames.count) feature names for \(featureCount) features")
            }
            var seen = Set<String>()
            for (index, name) in featureNames.enumerated() {
                let bytes = name.utf8.count
                guard bytes >= 1, bytes <= ArtifactFormat.maxFeatureNameBytes, !name.utf8.contains(0) else {
                    throw fail("feature name \(index) must be 1...\(ArtifactFormat.maxFeatureNameBytes) bytes of UTF-8 without NUL")
                }
                guard seen.insert(name).inserted else { throw fail("feature name \"\(name)\" appears twice") }
            }
        }
        if let goldenRows { try validate(goldenRows, source: source) }
        guard metadata.count <= ArtifactFormat.maxMetadataEntries else {
            throw fail("at most \(ArtifactFormat.maxMetadataEntries) metadata entries, got \(metadata.count)")
        }
        var keys = Set<String>()
        for entry in metadata {
            guard (1...ArtifactFormat.maxMetadataKeyBytes).contains(entry.key.utf8.count),
                  entry.value.utf8.count <= ArtifactFormat.maxMetadataValueBytes,
                  !entry.key.utf8.contains(0), !entry.value.utf8.contains(0) else {
                throw fail("metadata key must be 1...\(ArtifactFormat.maxMetadataKeyBytes) bytes and value at most \(ArtifactFormat.maxMetadataValueBytes), no NUL (key \"\(entry.key)\")")
            }
            guard keys.insert(entry.key).inserted else { throw fail("metadata key \"\(entry.key)\" appears twice") }
        }
    }

    private func validate(_ golden: GoldenRows, source: String) throws(ArtifactError) {
        func fail(_ problem: String) -> ArtifactError { .invalid(source, problem) }
        guard golden.count >= 1, golden.count <= ArtifactFormat.maxGoldenRows else {
            throw fail("golden rows: 1...\(ArtifactFormat.maxGoldenRows) rows, got \(golden.count)")
        }
        guard golden.features.count == golden.count * featureCount else {
            throw fail("golden rows: \(golden.features.count) features for \(golden.count) rows of \(featureCount)")
        }
        guard golden.tolerance.isFinite, golden.tolerance > 0, golden.tolerance <= ArtifactFormat.maxGoldenTolerance else {
            throw fail("golden rows: tolerance must be in (0, \(ArtifactFormat.maxGoldenTolerance)], got \(golden.tolerance)")
        }
        for (index, value) in golden.features.enumerated() {
            if value.isNaN && acceptsMissing { continue }
            guard value.isFinite else {
                throw fail("golden row \(index / featureCount) feature \(index % featureCount) is \(value)\(value.isNaN ? " but the model does not accept missing values" : "")")
            }
        }
        for (row, value) in golden.expected.enumerated() where !(value >= 0 && value <= 1) {
            throw fail("golden row \(row) expects \(value), outside [0, 1]")
        }
    }

    /// One float32-finite f64 per feature.
    static func checkPerFeature(_ values: [Double], _ featureCount: Int, _ what: String, _ source: String) throws(ArtifactError) {
        guard values.count == featureCount else {
            throw .invalid(source, "\(what) has \(values.count) values for \(featureCount) features")
        }
        if let bad = values.firstIndex(where: { !ArtifactFormat.isFloat32Finite($0) }) {
            throw .invalid(source, "\(what)[\(bad)] = \(values[bad]) is not a finite float32-range number")
        }
    }
}

extension TreeEnsemble {
    /// ARTIFACT.md §12.3: counts, child order (every walk ends), features, bitsets and numbers.
    func validate(featureCount: Int, source: String) throws(ArtifactError) {
        func fail(_ problem: String) -> ArtifactError { .invalid(source, "trees: " + problem) }
        let trees = treeNodeCounts.count
        guard trees >= 1, trees <= ArtifactFormat.maxTrees else {
            throw fail("tree count must be 1...\(ArtifactFormat.maxTrees), got \(trees)")
        }
        guard nodes.count <= ArtifactFormat.maxTreeNodes, categoryWords.count <= ArtifactFormat.maxCategoryWords else {
            throw fail("\(nodes.count) nodes and \(categoryWords.count) category words exceed the limits \(ArtifactFormat.maxTreeNodes), \(ArtifactFormat.maxCategoryWords)")
        }
        guard treeNodeCounts.allSatisfy({ $0 >= 1 }), treeNodeCounts.reduce(0, +) == nodes.count else {
            throw fail("per-tree node counts (each ≥ 1) must sum to the node count \(nodes.count)")
        }
        guard ArtifactFormat.isFloat32Finite(baseMargin) else { throw fail("base margin \(baseMargin) is not float32-finite") }
        if transform == .isolation {
            guard transformParameter.isFinite, transformParameter >= 0 else {
                throw fail("isolation transform parameter must be finite and ≥ 0, got \(transformParameter)")
            }
        } else if transformParameter != 0 {
            throw fail("transform parameter must be 0 unless the transform is isolation")
        }
        var first = 0
        var isChild = [Bool](repeating: false, count: nodes.count)
        for (tree, count) in treeNodeCounts.enumerated() {
            for local in 0..<count {
                let node = nodes[first + local]
                func bad(_ problem: String) -> ArtifactError { fail("tree \(tree) node \(local): \(problem)") }
                if node.isLeaf {
                    guard node.left == 0, node.right == 0, node.flags == 0, node.categoryCount == 0, node.categoryStart == 0 else {
                        throw bad("a leaf has children, flags or categories")
                    }
                    guard ArtifactFormat.isFloat32Finite(node.value) else { throw bad("leaf value \(node.value) is not float32-finite") }
                    continue
                }
                guard Int(node.feature) < featureCount else { throw bad("feature \(node.feature) ≥ feature count \(featureCount)") }
                guard Int(node.left) > local, Int(node.right) > local, Int(node.left) < count, Int(node.right) < count,
                      node.left != node.right else {
                    throw bad("children \(node.left), \(node.right) must be distinct, after the node and inside the tree (\(count) nodes)")
                }
                guard node.flags & ~TreeNode.Flag.known == 0, let missing = node.missingType else {
                    throw bad("flags \(node.flags) has unknown bits or missing type 3")
                }
                for child in [Int(node.left), Int(node.right)] {
                    guard !isChild[first + child] else { throw bad("node \(child) has two parents") }
                    isChild[first + child] = true
                }
                if node.isCategorical {
                    guard missing == .nan else { throw bad("a categorical node must have missing type NaN") }
                    guard node.value == 0 || node.value.bitPattern == 0 else { throw bad("a categorical node carries no threshold") }
                    guard node.categoryCount >= 1,
                          Int(node.categoryStart) + Int(node.categoryCount) <= categoryWords.count else {
                        throw bad("category words \(node.categoryStart)+\(node.categoryCount) outside the \(categoryWords.count) words")
                    }
                } else {
                    guard node.categoryStart == 0, node.categoryCount == 0 else { throw bad("a numerical node has categories") }
                    guard node.flags & TreeNode.Flag.membersGoRight == 0 else { throw bad("members-go-right on a numerical node") }
                    switch comparison {
                    case .xgboost:
                        guard missing == .nan else { throw bad("XGBoost comparison needs missing type NaN") }
                        guard node.value.isFinite, Double(Float(node.value)) == node.value else {
                            throw bad("threshold \(node.value) is not a float32 value (XGBoost comparison)")
                        }
                    case .lightgbm:
                        // LightGBM writes ±1e300-style thresholds for "everything": any non-NaN is fine.
                        guard !node.value.isNaN else { throw bad("threshold is NaN") }
                    }
                }
            }
            for local in 1..<max(count, 1) where !isChild[first + local] {
                throw fail("tree \(tree) node \(local) is no node's child")
            }
            first += count
        }
    }
}
