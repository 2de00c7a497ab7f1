import Foundation
import MLClient
import MLModel
import MLWire

/// Labelled prediction traffic for the demo and the tests: DemoData rows sent in pipelined
/// batches, each answered row followed by Feedback carrying its true label and the version that
/// served it, so the node's per-version F1 is real. Runs on its own thread at a bounded rate and
/// for a bounded time, whatever the caller forgets to do.
public final class DemoTraffic: @unchecked Sendable {
    public struct Counts: Sendable, Equatable {
        public var predictions = 0
        public var feedback = 0
        public var failures = 0
        public var lastError: String?
    }

    private let endpoint: Endpoint
    private let ratePerSecond: Double
    private let batch: Int
    private let maxDuration: TimeInterval
    private var data: DemoData            // traffic thread only
    private let lock = NSLock()
    private var stopping = false          // protected by lock
    private var counts = Counts()         // protected by lock
    private let finished = DispatchSemaphore(value: 0)
    private var started = false           // caller's thread only

    public init(endpoint: Endpoint, ratePerSecond: Double = 3_000, batch: Int = 100, maxDuration: TimeInterval = 60, seed: UInt64 = 7) {
        self.endpoint = endpoint
        self.ratePerSecond = max(1, ratePerSecond)
        self.batch = max(1, batch)
        self.maxDuration = maxDuration
        self.data = DemoData(seed: seed)
    }

    public func start() {
        guard !started else { return }
        started = true
        Thread.detachNewThread { [self] in
            loop()
            finished.signal()
        }
    }

    /// Stops and waits (bounded) for the thread to finish its batch.
    public func stop() {
        lock.withLock { stopping = true }
        if started { _ = finished.wait(timeout: .now() + 10) }
        started = false
    }

    public var snapshot: Counts { lock.withLock { counts } }

    /// Sends `count` rows right now on the caller's thread (tests drive traffic between polls).
    public static func send(to client: NodeClient, count: Int, data: inout DemoData, feedback: Bool = true,
                            filter: ((UInt8) -> Bool)? = nil) throws(ClientError) -> Int {
        var predicts: [Message] = []
        var truths: [UInt8] = []
        while predicts.count < count {
            let row = data.next()
            if let filter, !filter(row.label) { continue }
            predicts.append(.predict(Predict(features: row.features)))
            truths.append(row.label)
        }
        let replies = try client.pipeline(predicts)
        guard feedback else { return replies.count }
        var labels: [Message] = []
        for (reply, truth) in zip(replies, truths) {
            if case .predictResult(let result) = reply {
                labels.append(.feedback(Feedback(predictedLabel: result.label, actualLabel: truth, version: result.version)))
            }
        }
        _ = try client.pipeline(labels)
        return replies.count
    }

    private var shouldStop: Bool { lock.withLock { stopping } }

    private func loop() {
        let start = DispatchTime.now().uptimeNanoseconds
        var client: NodeClient?
        var sent = 0.0
        while !shouldStop {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if elapsed > maxDuration { break }
            // Pace to the rate: sleep off any lead over the schedule.
            let lead = sent / ratePerSecond - elapsed
            if lead > 0 {
                Thread.sleep(forTimeInterval: min(lead, 0.05))
                continue
            }
            do {
                if client == nil {
                    let c = try NodeClient(endpoint, timeout: 5)
                    try c.hello(role: .data, clientName: "mlctl-demo-traffic")
                    client = c
                }
                let n = try Self.send(to: client!, count: batch, data: &data)
                sent += Double(n)
                lock.withLock {
                    counts.predictions += n
                    counts.feedback += n
                }
            } catch {
                client?.close()
                client = nil
                lock.withLock {
                    counts.failures += 1
                    counts.lastError = "\(error)"
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        client?.close()
    }
}
