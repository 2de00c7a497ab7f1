import Synchronization

/// Whether a loaded model has run its warm-up (golden rows, then N warm-up predictions) and may be
/// swapped in. Set by the load path, read by swaps and Info from any thread.
public final class WarmState: Sendable {
    public enum Phase: UInt8, Sendable {
        case warming = 1
        case warm = 2
    }

    private let value = Atomic<UInt8>(Phase.warming.rawValue)
    private let goldenRun = Atomic<Int>(0)

    public init() {}

    public var phase: Phase { Phase(rawValue: value.load(ordering: .acquiring)) ?? .warming }
    public var isWarm: Bool { phase == .warm }

    /// Golden rows the warm-up scored before marking the model warm (0 while warming).
    public var goldenRowsRun: Int { isWarm ? goldenRun.load(ordering: .relaxed) : 0 }

    public func markWarm(goldenRowsRun: Int = 0) {
        goldenRun.store(goldenRowsRun, ordering: .relaxed)
        value.store(Phase.warm.rawValue, ordering: .releasing)
    }
}
