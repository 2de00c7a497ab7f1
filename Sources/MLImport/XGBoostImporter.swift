import Glibc
import MLModel

/// Reads an XGBoost model saved as JSON or UBJSON (`save_model("m.json" | "m.ubj")`, xgboost 2.x
/// and 3.x): gbtree with a binary logistic objective, trees up to `best_iteration` when the model
/// was trained with early stopping. XGBoost's own semantics are kept exactly: float32 thresholds
/// compared with `<`, NaN to `default_left`, categorical splits whose listed categories go right.
public enum XGBoostImporter {
    static let objectives = ["binary:logistic", "reg:logistic", "binary:logitraw"]

    public static func importModel(_ root: JSONValue, source: String) throws(ImportError) -> ImportedModel {
        let doc = JSONPath(value: root, path: "$", source: source)
        let learner = try doc.child("learner")
        let objective = try learner.child("objective").child("name").string()
        guard objectives.contains(objective) else {
            throw ImportError("\(source): objective \"\(objective)\" is not supported (multi-class, ranking, regression and survival objectives are refused); supported: \(objectives.joined(separator: ", "))")
        }
        let parameters = try learner.child("learner_model_param")
        let numClass = try parameters.optionalChild("num_class")?.integer() ?? 0
        guard numClass <= 1 else { throw ImportError("\(source): multi-class model (num_class=\(numClass)) is not supported: binary classification only") }
        if let targets = try parameters.optionalChild("num_target")?.integer(), targets > 1 {
            throw ImportError("\(source): multi-target model (num_target=\(targets)) is not supported")
        }
        let featureCount = try parameters.child("num_feature").integer()
        guard featureCount >= 1, featureCount <= ArtifactFormat.maxFeatures else {
            throw ImportError("\(source): num_feature \(featureCount) is outside 1...\(ArtifactFormat.maxFeatures)")
        }
        let baseScore = try self.baseScore(try parameters.child("base_score"), source: source)
        // XGBoost turns base_score into a margin with the objective's link, in float32: logit for
        // binary:logistic and reg:logistic; binary:logitraw keeps it as a margin (identity link).
        let baseMargin: Float
        if objective == "binary:logitraw" {
            baseMargin = baseScore
        } else {
            guard baseScore > 0, baseScore < 1 else {
                throw ImportError("\(source): base_score \(baseScore) is outside (0, 1), so the logistic link has no margin for it")
            }
            baseMargin = -logf(1 / baseScore - 1)
        }

        let booster = try learner.child("gradient_booster")
        let boosterName = try booster.child("name").string()
        guard boosterName == "gbtree" else {
            throw ImportError("\(source): booster \"\(boosterName)\" is not supported (gblinear and dart are refused): gbtree only")
        }
        let model = try booster.child("model")
        let trees = try model.child("trees").items()
        guard !trees.isEmpty else { throw ImportError("\(source): the model has no trees") }
        if let info = model.optionalChild("tree_info"), try info.integers().contains(where: { $0 != 0 }) {
            throw ImportError("\(source): trees for more than one output group: multi-class is not supported")
        }
        var used = trees.count
        var metadata = [MetadataEntry("source", "xgboost " + versionText(doc)), MetadataEntry("objective", objective),
                        MetadataEntry("base_score", "\(baseScore)")]
        if let best = learner.optionalChild("attributes")?.optionalChild("best_iteration") {
            let iteration = try best.integer()
            let indptr = try model.optionalChild("iteration_indptr")?.integers()
            let end = indptr.flatMap { iteration + 1 < $0.count ? $0[iteration + 1] : nil } ?? (iteration + 1)
            guard end >= 1, end <= trees.count else {
                throw ImportError("\(source): best_iteration \(iteration) needs \(end) trees, the model has \(trees.count)")
            }
            used = end
            metadata.append(MetadataEntry("best_iteration", "\(iteration)"))
        }
        metadata.append(MetadataEntry("trees", "\(used) of \(trees.count)"))

        var counts: [Int] = [], nodes: [TreeNode] = [], words: [UInt32] = []
        for tree in trees.prefix(used) {
            let treeNodes = try self.nodes(of: tree, featureCount: featureCount, words: &words)
            counts.append(treeNodes.count)
            nodes += treeNodes
        }
        let ensemble = TreeEnsemble(comparison: .xgboost, aggregation: .sum, transform: .sigmoid, baseMargin: Double(baseMargin),
                                    treeNodeCounts: counts, nodes: nodes, categoryWords: words)
        let names = try learner.optionalChild("feature_names")?.items().map { item throws(ImportError) in try item.string() } ?? []
        return ImportedModel(featureCount: featureCount, ensemble: ensemble, featureNames: names, metadata: metadata)
    }

    private static func versionText(_ doc: JSONPath) -> String {
        guard let parts = doc.value["version"]?.array else { return "(version unknown)" }
        return parts.compactMap { $0.integer.map(String.init) }.joined(separator: ".")
    }

    /// A number, a string ("5E-1"), or (3.1+) a one-element list, possibly as a string "[5E-1]".
    static func baseScore(_ value: JSONPath, source: String) throws(ImportError) -> Float {
        switch value.value {
        case .number(_, let float):
            return float
        case .array(let items):
            guard items.count == 1, let float = items[0].float else {
                throw value.fail("base_score has \(items.count) values: multi-output models are not supported")
            }
            return float
        case .string(let text):
            var trimmed = Substring(text)
            if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") { trimmed = trimmed.dropFirst().dropLast() }
            let parts = trimmed.split(separator: ",")
            guard parts.count == 1, let float = Float(parts[0].trimmingSpaces) else {
                throw value.fail("base_score \"\(text)\" is not one number")
            }
            return float
        default:
            throw value.fail("base_score is neither a number, a string nor a list")
        }
    }

    private static func nodes(of tree: JSONPath, featureCount: Int, words: inout [UInt32]) throws(ImportError) -> [TreeNode] {
        if let leafSize = try tree.optionalChild("tree_param")?.optionalChild("size_leaf_vector")?.integer(), leafSize > 1 {
            throw tree.fail("vector leaves (size_leaf_vector=\(leafSize)) are not supported")
        }
        let left = try tree.child("left_children").integers()
        let right = try tree.child("right_children").integers()
        let conditions = try tree.child("split_conditions").floats()
        let features = try tree.child("split_indices").integers()
        let defaults = try tree.child("default_left").integers()
        let n = left.count
        guard n >= 1, right.count == n, conditions.count == n, features.count == n, defaults.count == n else {
            throw tree.fail("node arrays differ in length")
        }
        let splitTypes = try tree.optionalChild("split_type")?.integers() ?? [Int](repeating: 0, count: n)
        guard splitTypes.count == n else { throw tree.fail("split_type has \(splitTypes.count) entries for \(n) nodes") }
        // Categorical splits: node → the categories that go right.
        var categoriesOf: [Int: [Int]] = [:]
        if splitTypes.contains(1) {
            let catNodes = try tree.child("categories_nodes").integers()
            let segments = try tree.child("categories_segments").integers()
            let sizes = try tree.child("categories_sizes").integers()
            let categories = try tree.child("categories").integers()
            guard segments.count == catNodes.count, sizes.count == catNodes.count else { throw tree.fail("categorical arrays differ in length") }
            for (k, node) in catNodes.enumerated() {
                let start = segments[k], size = sizes[k]
                guard start >= 0, size >= 0, start + size <= categories.count else { throw tree.fail("categories segment \(k) out of range") }
                categoriesOf[node] = Array(categories[start..<start + size])
            }
        }
        var nodes: [TreeNode] = []
        nodes.reserveCapacity(n)
        for i in 0..<n {
            if left[i] == -1 {
                nodes.append(.leaf(Double(conditions[i])))
                continue
            }
            guard features[i] >= 0, features[i] < featureCount else {
                throw tree.fail("node \(i) splits on feature \(features[i]), the model has \(featureCount)")
            }
            guard left[i] > i, right[i] > i, left[i] < n, right[i] < n else {
                throw tree.fail("node \(i) has children \(left[i]), \(right[i]) that do not follow it")
            }
            switch splitTypes[i] {
            case 0:
                nodes.append(.numerical(feature: features[i], threshold: Double(conditions[i]), left: left[i], right: right[i],
                                        missing: .nan, defaultLeft: defaults[i] != 0))
            case 1:
                guard let listed = categoriesOf[i] else { throw tree.fail("categorical node \(i) has no categories") }
                guard listed.allSatisfy({ $0 >= 0 && $0 < 16_777_216 }) else { throw tree.fail("node \(i) has a category outside 0..<2^24") }
                let wordCount = max(1, ((listed.max() ?? 0) >> 5) + 1)
                let first = words.count
                words += [UInt32](repeating: 0, count: wordCount)
                for c in listed { words[first + c >> 5] |= 1 << UInt32(c & 31) }
                nodes.append(.categorical(feature: features[i], left: left[i], right: right[i], defaultLeft: defaults[i] != 0,
                                          membersGoRight: true, firstWord: first, wordCount: wordCount))
            default:
                throw tree.fail("node \(i) has unknown split_type \(splitTypes[i])")
            }
        }
        return nodes
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
