/// Turns a validated `TreeEnsemble` into the kernel's node array: each tree laid out breadth
/// first so that a node's two children are adjacent (right = left + 1).
enum TreeLayout {
    static func flatten(_ ensemble: TreeEnsemble) -> (nodes: [FlatNode], roots: [UInt32]) {
        var flat: [FlatNode] = []
        flat.reserveCapacity(ensemble.nodes.count)
        var roots: [UInt32] = []
        var first = 0
        for count in ensemble.treeNodeCounts {
            let root = flat.count
            roots.append(UInt32(root))
            // queue[i] = file index (within the tree) of the node placed at root + i.
            var queue = [0]
            queue.reserveCapacity(count)
            var head = 0
            flat.append(FlatNode(value: 0, left: 0, info: 0))
            while head < queue.count {
                let source = ensemble.nodes[first + queue[head]]
                let at = root + head
                if source.isLeaf {
                    flat[at] = FlatNode(value: source.value, left: 0, info: FlatNode.leaf)
                } else {
                    let left = root + queue.count
                    queue.append(Int(source.left))
                    queue.append(Int(source.right))
                    flat.append(FlatNode(value: 0, left: 0, info: 0))
                    flat.append(FlatNode(value: 0, left: 0, info: 0))
                    flat[at] = FlatNode(value: kernelValue(source), left: UInt32(left), info: info(source))
                }
                head += 1
            }
            first += count
        }
        return (flat, roots)
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
