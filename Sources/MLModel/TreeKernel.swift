import Glibc

/// A tree node as the kernel walks it (16 bytes): children are adjacent (right = left + 1), so a
/// decision is an index increment. Built from `TreeNode`s by `TreeLayout`.
struct FlatNode {
    /// Threshold (f64; under XGBoost comparison an exact float32), leaf value, or for a categorical
    /// node the bitset's first word (low 32 bits) and word count (high 32 bits).
    var value: Double
    /// Absolute index of the left child in the node array.
    var left: UInt32
    /// Low 16 bits feature; bits 16–23 the file's flags; plus the bits below.
    var info: UInt32

    static let featureMask: UInt32 = 0xFFFF
    static let leaf: UInt32 = 1 << 31
    /// Anything but "numerical, missing type NaN": categorical, or LightGBM missing type None/Zero.
    static let special: UInt32 = 1 << 30
    static let defaultLeft: UInt32 = 1 << 29

    var flags: UInt8 { UInt8(truncatingIfNeeded: info >> 16) }
}

/// Inference over a tree ensemble (ARTIFACT.md §12.3) through raw pointers: no allocation, no
/// reference counting. A batch walks trees in the outer loop and rows of a block in the inner
/// one, so each tree's nodes stay in L1 while a block of rows passes through them.
struct TreeKernel {
    /// Rows scored together per tree pass; their sums live on the stack.
    static let blockRows = 64

    let nodes: UnsafePointer<FlatNode>
    let roots: UnsafePointer<UInt32>
    let treeCount: Int
    let words: UnsafePointer<UInt32>
    let lessOrEqual: Bool
    let mean: Bool
    let transform: UInt8
    let baseMargin: Double
    let transformParameter: Double

    @inline(__always)
    func score<Row: RowSource>(_ row: Row) -> Float {
        var sum = 0.0
        var t = 0
        if lessOrEqual {
            while t < treeCount {
                sum += walk(Int(roots[t]), row, lessOrEqual: true)
                t &+= 1
            }
        } else {
            while t < treeCount {
                sum += walk(Int(roots[t]), row, lessOrEqual: false)
                t &+= 1
            }
        }
        return finish(sum)
    }

    /// Scores `count` rows of `featureCount` floats; `make` turns a row pointer into its source.
    @inline(__always)
    func predict<Row: RowSource>(rows: UnsafePointer<Float>, count: Int, featureCount: Int,
                                 scores: UnsafeMutablePointer<Float>, make: (UnsafePointer<Float>) -> Row) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: TreeKernel.blockRows) { sums in
            let sum = sums.baseAddress!
            var start = 0
            while start < count {
                let n = min(TreeKernel.blockRows, count &- start)
                let block = rows + start &* featureCount
                sum.update(repeating: 0, count: n)
                if lessOrEqual {
                    passTrees(block, n, featureCount, sum, make, lessOrEqual: true)
                } else {
                    passTrees(block, n, featureCount, sum, make, lessOrEqual: false)
                }
                var r = 0
                while r < n {
                    scores[start &+ r] = finish(sum[r])
                    r &+= 1
                }
                start &+= n
            }
        }
    }

    @inline(__always)
    private func passTrees<Row: RowSource>(_ block: UnsafePointer<Float>, _ n: Int, _ featureCount: Int,
                                           _ sum: UnsafeMutablePointer<Double>, _ make: (UnsafePointer<Float>) -> Row,
                                           lessOrEqual: Bool) {
        var t = 0
        while t < treeCount {
            let root = Int(roots[t])
            var r = 0
            while r < n {
                sum[r] += walk(root, make(block + r &* featureCount), lessOrEqual: lessOrEqual)
                r &+= 1
            }
            t &+= 1
        }
    }

    @inline(__always)
    private func finish(_ sum: Double) -> Float {
        let z = (mean ? sum / Double(treeCount) : sum) + baseMargin
        switch transform {
        case TreeEnsemble.Transform.sigmoid.rawValue:
            return Kernels.sigmoid(wide: z)
        case TreeEnsemble.Transform.isolation.rawValue:
            return transformParameter > 0 ? Float(exp2(-z / transformParameter)) : 0.5
        default:
            return Float(min(max(z, 0), 1))
        }
    }

    /// The leaf value reached from `root`.
    @inline(__always)
    private func walk<Row: RowSource>(_ root: Int, _ row: Row, lessOrEqual: Bool) -> Double {
        var index = root
        while true {
            let node = nodes[index]
            let info = node.info
            if info & FlatNode.leaf != 0 { return node.value }
            let x = row.feature(Int(info & FlatNode.featureMask))
            let goLeft: Bool
            if info & FlatNode.special == 0 {
                let d = Double(x)
                let compared = lessOrEqual ? d <= node.value : d < node.value
                goLeft = compared || (x.isNaN && info & FlatNode.defaultLeft != 0)
            } else {
                goLeft = specialDecision(node, x)
            }
            index = Int(node.left) &+ (goLeft ? 0 : 1)
        }
    }

    /// Categorical nodes and LightGBM's None/Zero missing types (ARTIFACT.md §12.3).
    private func specialDecision(_ node: FlatNode, _ x: Float) -> Bool {
        let flags = node.flags
        let defaultLeft = flags & TreeNode.Flag.defaultLeft != 0
        if flags & TreeNode.Flag.categorical != 0 {
            if x.isNaN { return defaultLeft }
            let bits = node.value.bitPattern
            let first = Int(UInt32(truncatingIfNeeded: bits)), wordCount = Int(UInt32(truncatingIfNeeded: bits >> 32))
            var member = false
            let category: Int?
            if lessOrEqual {
                category = x >= 2_147_483_648 || x <= -1 ? nil : Int(x)  // trunc(x) < 0 iff x <= -1
            } else {
                category = x >= 0 && x < 16_777_216 ? Int(x) : nil
            }
            if let c = category, c < 32 &* wordCount {
                member = (words[first &+ c >> 5] >> UInt32(c & 31)) & 1 != 0
            }
            let membersGoRight = flags & TreeNode.Flag.membersGoRight != 0
            return member != membersGoRight
        }
        // Numerical under LightGBM comparison with missing type None or Zero: NaN reads as 0.
        var d = Double(x)
        if d.isNaN { d = 0 }
        if flags & TreeNode.Flag.missingTypeMask == MissingType.zero.rawValue && abs(d) <= TreeKernel.zeroThreshold {
            return defaultLeft
        }
        return d <= node.value
    }

    /// LightGBM's kZeroThreshold: the double nearest the float 1e-35f.
    static let zeroThreshold = Double(Float(1e-35))
}
