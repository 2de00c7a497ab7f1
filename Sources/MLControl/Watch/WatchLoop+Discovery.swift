import Foundation
import MLClient

extension WatchLoop {
    /// Brings the polled node set in line with DNS: a new node starts with a reference poll (no
    /// row, no judgement on its first round); a vanished one is dropped without a
    /// node_unreachable incident (it was taken out, not lost). On a failed lookup nothing changes.
    func refreshFleet() {
        guard let discovery else { return }
        let now = clock()
        let (change, storeError) = discovery.refresh(store: store, at: now)
        if let storeError { onEvent(.problem(node: "-", at: now, message: "FLEET insert failed: \(storeError)")) }
        guard let change else { return }
        if case .changed = change {
            let wanted = Set(discovery.current)
            for index in states.indices where !wanted.contains(states[index].endpoint) { states[index].disconnect() }
            states.removeAll { !wanted.contains($0.endpoint) }
            let known = Set(states.map(\.endpoint))
            states += discovery.current.filter { !known.contains($0) }.map(NodeWatchState.init)
        }
        onEvent(.fleet(at: now, change: change))
    }

    /// The nodes polled now (the discovered set after the last refresh).
    public var watchedNodes: [Endpoint] { states.map(\.endpoint) }
}
