import Glibc

/// A tree node as the kernel walks it (16 bytes): children are adjacent (right = left + 1), so a
/// decision is an index increment, and a leaf points at itself (threshold +∞, NaN "left"), so a
/// walk is a fixed number of steps with no leaf test. Built from `TreeNode`s by `TreeLayout`.
struct FlatNode {
    /// Threshold (f64; under XGBoost comparison an exact float32); +∞ on a leaf; for a categorical
    /// node the bitset's first word (low 32 bits) and word count (high 32 bits).
    var value: Double
    /// Absolute index of the left child in the node array (a leaf's own index).
    var left: UInt32
    /// Low 16 bits feature (0 on a leaf); bits 16–23 the file's flags; plus the bits below.
    var info: UInt32

    static let featureMask: UInt32 = 0xFFFF
    static let leaf: UInt32 = 1 << 31
    /// Anything but "numerical, missing type NaN": categorical, or LightGBM missing type None/Zero.
    static let special: UInt32 = 1 << 30
    static let defaultLeft: UInt32 = 1 << 29

    var flags: UInt8 { UInt8(truncatingIfNeeded: info >> 16) }
}

/// Inference over a tree ensemble (ARTIFACT.md §12.3) through raw pointers: no allocation, no
/// reference counting. Walks run in lockstep `lanes` at a time — eight trees of one row (batch 1)
/// or one tree over eight rows (a batch, trees outer, rows inner, so each tree's nodes stay in L1
/// while a block of rows passes) — so eight independent load chains overlap instead of one
/// waiting on each node in turn.
struct TreeKernel {
    /// Rows scored together per tree pass; their sums live on the stack.
    static let blockRows = 64
    /// Independent walks interleaved.
    static let lanes = 8

    let nodes: UnsafePointer<FlatNode>
    let roots: UnsafePointer<UInt32>
    /// Per tree: the longest root-to-leaf path, in steps.
    let depths: UnsafePointer<UInt32>
    /// Per group of `lanes` consecutive trees: the deepest.
    let groupDepths: UnsafePointer<UInt32>
    /// By node index: a leaf's value (0 elsewhere).
    let leafValues: UnsafePointer<Double>
    let treeCount: Int
    let words: UnsafePointer<UInt32>
    let lessOrEqual: Bool
    let mean: Bool
    let transform: UInt8
    let baseMargin: Double
    let transformParameter: Double

    @inline(__always)
    func score<Row: RowSource>(_ row: Row) -> Float {
        finish(lessOrEqual ? sumTrees(row, lessOrEqual: true) : sumTrees(row, lessOrEqual: false))
    }

    /// All trees for one row, `lanes` trees in lockstep.
    @inline(__always)
    private func sumTrees<Row: RowSource>(_ row: Row, lessOrEqual: Bool) -> Double {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: TreeKernel.lanes) { lanes in
            let at = lanes.baseAddress!
            var sum = 0.0
            var t = 0, group = 0
            while t &+ TreeKernel.lanes <= treeCount {
                var k = 0
                while k < TreeKernel.lanes { at[k] = Int(roots[t &+ k]); k &+= 1 }
                var steps = Int(groupDepths[group])
                while steps > 0 {
                    k = 0
                    while k < TreeKernel.lanes {
                        at[k] = step(at[k], row, lessOrEqual: lessOrEqual)
                        k &+= 1
                    }
                    steps &-= 1
                }
                k = 0
                while k < TreeKernel.lanes { sum += leafValues[at[k]]; k &+= 1 }
                t &+= TreeKernel.lanes
                group &+= 1
            }
            while t < treeCount {
                var index = Int(roots[t])
                var steps = Int(depths[t])
                while steps > 0 {
                    index = step(index, row, lessOrEqual: lessOrEqual)
                    steps &-= 1
                }
                sum += leafValues[index]
                t &+= 1
            }
            return sum
        }
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

    /// Every tree over a block of rows: per tree, `lanes` rows in lockstep, then the remainder.
    @inline(__always)
    private func passTrees<Row: RowSource>(_ block: UnsafePointer<Float>, _ n: Int, _ featureCount: Int,
                                           _ sum: UnsafeMutablePointer<Double>, _ make: (UnsafePointer<Float>) -> Row,
                                           lessOrEqual: Bool) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: TreeKernel.lanes) { lanes in
            let at = lanes.baseAddress!
            var t = 0
            while t < treeCount {
                let root = Int(roots[t]), depth = Int(depths[t])
                var r = 0
                while r &+ TreeKernel.lanes <= n {
                    var k = 0
                    while k < TreeKernel.lanes { at[k] = root; k &+= 1 }
                    var steps = depth
                    while steps > 0 {
                        k = 0
                        while k < TreeKernel.lanes {
                            at[k] = step(at[k], make(block + (r &+ k) &* featureCount), lessOrEqual: lessOrEqual)
                            k &+= 1
                        }
                        steps &-= 1
                    }
                    k = 0
                    while k < TreeKernel.lanes { sum[r &+ k] += leafValues[at[k]]; k &+= 1 }
                    r &+= TreeKernel.lanes
                }
                while r < n {
                    var index = root
                    var steps = depth
                    let row = make(block + r &* featureCount)
                    while steps > 0 {
                        index = step(index, row, lessOrEqual: lessOrEqual)
                        steps &-= 1
                    }
                    sum[r] += leafValues[index]
                    r &+= 1
                }
                t &+= 1
            }
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

    /// One step from node `index`: its left or right child, or itself on a leaf.
    @inline(__always)
    private func step<Row: RowSource>(_ index: Int, _ row: Row, lessOrEqual: Bool) -> Int {
        let node = nodes[index]
        let info = node.info
        let x = row.feature(Int(info & FlatNode.featureMask))
        if info & FlatNode.special != 0 {
            return Int(node.left) &+ (specialDecision(node, x) ? 0 : 1)
        }
        // Branch-free: a data-dependent branch here mispredicts about half the time. `a` is the
        // comparison, `b` the same one written so that NaN comes out true ("left"); the node's
        // default-left bit picks between them.
        let d = Double(x), t = node.value
        let a = unsafeBitCast(lessOrEqual ? d <= t : d < t, to: UInt8.self)
        let b = unsafeBitCast(lessOrEqual ? !(d > t) : !(d >= t), to: UInt8.self)
        let defaultLeft = UInt8(truncatingIfNeeded: info >> 29) & 1
        let goLeft = (a & (defaultLeft ^ 1)) | (b & defaultLeft)
        return Int(node.left) &+ Int(goLeft ^ 1)
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
