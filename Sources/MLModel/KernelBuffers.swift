/// Owns the memory behind a model's tree and preprocessing kernels: allocated once at load,
/// read-only afterwards, freed with the model.
final class KernelBuffers: @unchecked Sendable {
    private(set) var trees: TreeKernel?
    private(set) var preprocess: PreprocessKernel?
    private var allocations: [UnsafeMutableRawPointer] = []

    init(_ artifact: Artifact) {
        if case .treeEnsemble(let ensemble) = artifact.parameters {
            let (nodes, roots, depths, leaves) = TreeLayout.flatten(ensemble)
            // Trees are walked in groups of TreeKernel.lanes (one row, batch 1): each group takes as
            // many steps as its deepest tree.
            let groupDepths = stride(from: 0, to: depths.count, by: TreeKernel.lanes).map {
                depths[$0..<min($0 + TreeKernel.lanes, depths.count)].max()!
            }
            trees = TreeKernel(nodes: copy(nodes), roots: copy(roots), depths: copy(depths), groupDepths: copy(groupDepths),
                               leafValues: copy(leaves), treeCount: roots.count,
                               words: copy(ensemble.categoryWords),
                               lessOrEqual: ensemble.comparison == .lightgbm, mean: ensemble.aggregation == .mean,
                               transform: ensemble.transform.rawValue, baseMargin: ensemble.baseMargin,
                               transformParameter: ensemble.transformParameter)
        }
        if !artifact.preprocessing.isEmpty {
            var types: [UInt8] = [], values: [Double] = [], offsets: [Int] = []
            for step in artifact.preprocessing {
                types.append(step.typeCode)
                offsets.append(values.count)
                switch step {
                case .impute(let fill): values += fill
                case .scale(let mean, let scale): values += mean + scale
                }
            }
            preprocess = PreprocessKernel(stepCount: types.count, types: copy(types), values: copy(values),
                                          offsets: copy(offsets), featureCount: artifact.featureCount)
        }
    }

    private func copy<T>(_ values: [T]) -> UnsafePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
        pointer.initialize(from: values, count: values.count)
        allocations.append(UnsafeMutableRawPointer(pointer))
        return UnsafePointer(pointer)
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }
}
