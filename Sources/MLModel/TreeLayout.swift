/// Turns a validated `TreeEnsemble` into the kernel's node array: each tree laid out breadth
/// first so that a node's two children are adjacent (right = left + 1).
enum TreeLayout {
    /// Leaves become self-loops (left = itself, threshold +∞, NaN goes "left"), so a walk can take
    /// a fixed number of steps — the tree's depth — with no leaf test; the leaf's value sits in
    /// `leafValues` at the same index.
    static func flatten(_ ensemble: TreeEnsemble) -> (nodes: [FlatNode], roots: [UInt32], depths: [UInt32], leafValues: [Double]) {
        var flat: [FlatNode] = []
        flat.reserveCapacity(ensemble.nodes.count)
        var roots: [UInt32] = [], depths: [UInt32] = []
        var leafValues = [Double](repeating: 0, count: ensemble.nodes.count)
        var first = 0
        for count in ensemble.treeNodeCounts {
            let root = flat.count
            roots.append(UInt32(root))
            // queue[i] = file index (within the tree) of the node placed at root + i.
            var queue = [0], level = [0]
            queue.reserveCapacity(count)
            var head = 0, depth = 0
            flat.append(FlatNode(value: 0, left: 0, info: 0))
            while head < queue.count {
                let source = ensemble.nodes[first + queue[head]]
                let at = root + head
                depth = max(depth, level[head])
                if source.isLeaf {
                    flat[at] = FlatNode(value: .infinity, left: UInt32(at), info: FlatNode.leaf | FlatNode.defaultLeft)
                    leafValues[at] = source.value
                } else {
                    let left = root + queue.count
                    queue.append(Int(source.left))
                    queue.append(Int(source.right))
                    level.append(level[head] + 1)
                    level.append(level[head] + 1)
                    flat.append(FlatNode(value: 0, left: 0, info: 0))
                    flat.append(FlatNode(value: 0, left: 0, info: 0))
                    flat[at] = FlatNode(value: kernelValue(source), left: UInt32(left), info: info(source))
                }
                head += 1
            }
            depths.append(UInt32(depth))
            first += count
        }
        return (flat, roots, depths, leafValues)
    }

    private static func kernelValue(_ node: TreeNode) -> Double {
        guard node.isCategorical else { return node.value }
        return Double(bitPattern: UInt64(node.categoryStart) | UInt64(node.categoryCount) << 32)
    }

    private static func info(_ node: TreeNode) -> UInt32 {
        var info = node.feature & FlatNode.featureMask | UInt32(node.flags) << 16
        if node.isCategorical || node.missingType != .nan { info |= FlatNode.special }
        if node.defaultLeft { info |= FlatNode.defaultLeft }
        return info
    }
}
