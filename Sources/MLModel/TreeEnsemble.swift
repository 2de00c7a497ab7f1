/// A tree ensemble as ARTIFACT.md §12.3 defines it: flat node arrays, one comparison rule, one
/// aggregation and one output transform for the whole ensemble.
public struct TreeEnsemble: Equatable, Sendable {
    /// How a numerical node compares (each library's own rule, kept exactly).
    public enum Comparison: UInt8, Sendable, CaseIterable {
        /// XGBoost: float32 `x < threshold`; NaN goes to the default child.
        case xgboost = 0
        /// LightGBM and scikit-learn: the float32 input widened to f64, `x <= threshold`, with
        /// LightGBM's missing types.
        case lightgbm = 1
    }

    public enum Aggregation: UInt8, Sendable, CaseIterable {
        case sum = 0
        case mean = 1
    }

    public enum Transform: UInt8, Sendable, CaseIterable {
        case identity = 0
        case sigmoid = 1
        /// score = 2^(−z / transformParameter): scikit-learn's IsolationForest `-score_samples`.
        case isolation = 2
    }

    public var comparison: Comparison
    public var aggregation: Aggregation
    public var transform: Transform
    public var baseMargin: Double
    /// c(max_samples) for the isolation transform, 0 otherwise.
    public var transformParameter: Double
    /// Nodes per tree; tree t's nodes follow tree t−1's in `nodes`, its root first.
    public var treeNodeCounts: [Int]
    public var nodes: [TreeNode]
    /// Categorical bitsets, 32 categories per word.
    public var categoryWords: [UInt32]

    public init(comparison: Comparison, aggregation: Aggregation, transform: Transform, baseMargin: Double,
                transformParameter: Double = 0, treeNodeCounts: [Int], nodes: [TreeNode], categoryWords: [UInt32] = []) {
        self.comparison = comparison
        self.aggregation = aggregation
        self.transform = transform
        self.baseMargin = baseMargin
        self.transformParameter = transformParameter
        self.treeNodeCounts = treeNodeCounts
        self.nodes = nodes
        self.categoryWords = categoryWords
    }

    /// Bytes of the model section (§12.3).
    var encodedSize: Int { 32 + 4 * treeNodeCounts.count + TreeNode.encodedSize * nodes.count + 4 * categoryWords.count }
}

/// How a node treats a missing (NaN) or zero value: LightGBM's `MissingType`.
public enum MissingType: UInt8, Sendable, CaseIterable {
    /// NaN is read as 0 before comparing.
    case none = 0
    /// NaN is read as 0; a zero (|x| ≤ 1e-35f) goes to the default child.
    case zero = 1
    /// NaN goes to the default child.
    case nan = 2
}

/// One node of a flat tree (24 bytes in the file). Children are indices relative to the tree's
/// first node and always greater than the node's own index.
public struct TreeNode: Equatable, Sendable {
    public static let encodedSize = 24
    public static let leafFeature = UInt32.max

    /// Bit layout of `flags` (ARTIFACT.md §12.3).
    public enum Flag {
        public static let missingTypeMask: UInt8 = 0x03
        public static let defaultLeft: UInt8 = 0x04
        public static let categorical: UInt8 = 0x08
        public static let membersGoRight: UInt8 = 0x10
        public static let known: UInt8 = 0x1F
    }

    /// Feature index, or `leafFeature` for a leaf.
    public var feature: UInt32
    public var left: UInt32
    public var right: UInt32
    public var flags: UInt8
    /// Numerical threshold, or the leaf value. Unused (0) on a categorical node.
    public var value: Double
    /// Categorical nodes: the bitset's first word and word count in `categoryWords`.
    public var categoryStart: UInt32
    public var categoryCount: UInt32

    public init(feature: UInt32, left: UInt32, right: UInt32, flags: UInt8, value: Double,
                categoryStart: UInt32 = 0, categoryCount: UInt32 = 0) {
        self.feature = feature
        self.left = left
        self.right = right
        self.flags = flags
        self.value = value
        self.categoryStart = categoryStart
        self.categoryCount = categoryCount
    }

    public static func leaf(_ value: Double) -> TreeNode {
        TreeNode(feature: leafFeature, left: 0, right: 0, flags: 0, value: value)
    }

    public static func numerical(feature: Int, threshold: Double, left: Int, right: Int,
                                 missing: MissingType, defaultLeft: Bool) -> TreeNode {
        TreeNode(feature: UInt32(feature), left: UInt32(left), right: UInt32(right),
                 flags: missing.rawValue | (defaultLeft ? Flag.defaultLeft : 0), value: threshold)
    }

    /// Missing type is always NaN on a categorical node (§12.3).
    public static func categorical(feature: Int, left: Int, right: Int, defaultLeft: Bool, membersGoRight: Bool,
                                   firstWord: Int, wordCount: Int) -> TreeNode {
        TreeNode(feature: UInt32(feature), left: UInt32(left), right: UInt32(right),
                 flags: MissingType.nan.rawValue | (defaultLeft ? Flag.defaultLeft : 0) | Flag.categorical
                     | (membersGoRight ? Flag.membersGoRight : 0),
                 value: 0, categoryStart: UInt32(firstWord), categoryCount: UInt32(wordCount))
    }

    public var isLeaf: Bool { feature == TreeNode.leafFeature }
    public var isCategorical: Bool { flags & Flag.categorical != 0 }
    public var defaultLeft: Bool { flags & Flag.defaultLeft != 0 }
    public var membersGoRight: Bool { flags & Flag.membersGoRight != 0 }
    /// nil for the refused value 3.
    public var missingType: MissingType? { MissingType(rawValue: flags & Flag.missingTypeMask) }
}
