import CEpoll
import MLClient
import MLWire

/// The controller connection of `mlbench swap`: on its own thread, it swaps every `every`
/// nanoseconds of the measured period on an absolute schedule, fenced on the version it believes
/// active (so the swaps alternate), and publishes each acknowledged generation to the load thread.
///
/// Thread rule: built on the main thread, run on the controller thread, read after joining it.
final class SwapController: @unchecked Sendable {
    struct Event {
        var sentAt: UInt64
        var ackAt: UInt64
        var generation: UInt64
        var activeVersion: String
    }

    let client: NodeClient
    let signals: SwapSignals
    let versions: (String, String)
    let roundTrip = LatencyHistogram()
    /// The node's own time per swap (fence check to durable acknowledgement), from each reply.
    let inNode = LatencyHistogram()
    private(set) var events: [Event] = []
    /// Generation → index into `versions` of the version the node said it made active.
    private(set) var activeByGeneration: [UInt64: Int] = [:]
    private(set) var failedSwaps = 0
    private(set) var firstFailure: String?

    /// `initialGeneration`/`versions.0` come from Info: the active version at that generation.
    init(client: NodeClient, signals: SwapSignals, initialGeneration: UInt64, versions: (String, String)) {
        self.client = client
        self.signals = signals
        self.versions = versions
        activeByGeneration[initialGeneration] = 0
    }

    deinit {
        roundTrip.deallocate()
        inNode.deallocate()
    }

    func run(measureStart t0: UInt64, measureEnd t1: UInt64, every: UInt64) {
        // Like the node's control loop: a short slice, so a swap due is sent when it is due,
        // not after the load thread's time slice; the round trip then measures the node.
        _ = cepoll_request_short_slice(100_000)
        var believedActive = versions.0
        var planned = t0 + every
        events.reserveCapacity(Int((t1 - t0) / every) + 1)
        while planned < t1 {
            signals.nextPlannedAt.store(planned, ordering: .releasing)
            sleepUntil(planned)
            let sentAt = monotonicNanos()
            signals.lastSentAt.store(sentAt, ordering: .releasing)
            if planned + every < t1 { signals.nextPlannedAt.store(planned + every, ordering: .releasing) } else {
                signals.nextPlannedAt.store(.max, ordering: .releasing)
            }
            do {
                let outcome = try client.swap(expectedActive: believedActive)
                let ackAt = monotonicNanos()
                roundTrip.record(nanos: ackAt - sentAt)
                inNode.record(nanos: outcome.swapNanos)
                activeByGeneration[outcome.generation] = index(of: outcome.activeVersion)
                signals.ackedGeneration.store(outcome.generation, ordering: .releasing)
                believedActive = outcome.activeVersion
                events.append(Event(sentAt: sentAt, ackAt: ackAt, generation: outcome.generation, activeVersion: outcome.activeVersion))
            } catch {
                failedSwaps += 1
                if firstFailure == nil { firstFailure = "swap expecting \(believedActive): \(error)" }
                // Re-learn what is active so that the next fenced swap can succeed.
                if let info = try? client.info() {
                    believedActive = info.active.version
                    activeByGeneration[info.generation] = index(of: info.active.version)
                }
            }
            // Stay on the absolute schedule; if a swap overran its slot, the next one goes now.
            planned = max(planned + every, monotonicNanos())
        }
        signals.nextPlannedAt.store(.max, ordering: .releasing)
    }

    private func index(of version: String) -> Int {
        version == versions.0 ? 0 : version == versions.1 ? 1 : ResponseCheck.otherVersion
    }
}
