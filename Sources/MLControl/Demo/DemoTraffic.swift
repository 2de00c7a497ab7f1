import Foundation
import MLClient
import MLModel
import MLWire
import Synchronization

/// Labelled prediction traffic for the demo and the tests: DemoData rows sent in pipelined
/// batches with a prediction id each, then their true labels sent by id (LABEL) on a labeller or
/// controller connection, as a real label pipeline would: the node joins each label to the version
/// that made the prediction, so its per-version F1 is real. Runs on its own thread at a bounded
/// rate and for a bounded time, whatever the caller forgets to do.
public final class DemoTraffic: @unchecked Sendable {
    /// Prediction ids: a random start, then consecutive, so runs never reuse each other's ids.
    private static let nextID = Atomic<UInt64>(UInt64.random(in: 1...(UInt64.max >> 2)))

    static func predictionIDs(_ count: Int) -> Range<UInt64> {
        let first = nextID.wrappingAdd(UInt64(count), ordering: .relaxed).oldValue
        return first..<(first + UInt64(count))
    }

    public struct Counts: Sendable, Equatable {
        public var predictions = 0
        public var feedback = 0
        public var failures = 0
        public var lastError: String?
    }

    private let endpoint: Endpoint
    /// Token and role of the connection that sends the labels.
    private let labellerToken: String?
    private let labellerRole: ConnectionRole
    private let ratePerSecond: Double
    private let batch: Int
    private let maxDuration: TimeInterval
    private var data: DemoData            // traffic thread only
    private let lock = NSLock()
    private var stopping = false          // protected by lock
    private var counts = Counts()         // protected by lock
    private let finished = DispatchSemaphore(value: 0)
    private var started = false           // caller's thread only

    /// `labellerToken`: labels are sent on a `labellerRole` connection with it; nil sends none.
    public init(endpoint: Endpoint, labellerToken: String?, labellerRole: ConnectionRole = .controller,
                ratePerSecond: Double = 3_000, batch: Int = 100, maxDuration: TimeInterval = 60, seed: UInt64 = 7) {
        self.endpoint = endpoint
        self.labellerToken = labellerToken
        self.labellerRole = labellerRole
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

    /// Sends `count` rows right now on the caller's thread (tests drive traffic between polls),
    /// each with a fresh prediction id on a v2 connection; then, if `labeller` is given and
    /// `feedback` is set, the rows' true labels by id on it. Returns the predictions answered.
    public static func send(to client: NodeClient, labeller: NodeClient? = nil, count: Int, data: inout DemoData,
                            feedback: Bool = true, filter: ((UInt8) -> Bool)? = nil) throws(ClientError) -> Int {
        var predicts: [Message] = []
        var truths: [(predictionID: UInt64, actual: UInt8)] = []
        let withIDs = client.protocolVersion >= 2
        var ids = predictionIDs(count).makeIterator()
        while predicts.count < count {
            let row = data.next()
            if let filter, !filter(row.label) { continue }
            let id = ids.next()!
            predicts.append(.predict(Predict(features: row.features, predictionID: withIDs ? id : nil)))
            truths.append((id, row.label))
        }
        let replies = try client.pipeline(predicts)
        guard feedback, withIDs, let labeller else { return replies.count }
        var answered: [(predictionID: UInt64, actual: UInt8)] = []
        for (reply, truth) in zip(replies, truths) {
            if case .predictResult = reply { answered.append(truth) }
        }
        // LABEL takes up to 4096 items per message.
        var start = 0
        while start < answered.count {
            let end = min(answered.count, start + Limits.rows)
            try labeller.label(Array(answered[start..<end]))
            start = end
        }
        return replies.count
    }

    private var shouldStop: Bool { lock.withLock { stopping } }

    private func loop() {
        let start = DispatchTime.now().uptimeNanoseconds
        var client: NodeClient?
        var labeller: NodeClient?
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
                if labeller == nil, let labellerToken {
                    let l = try NodeClient(endpoint, timeout: 5)
                    try l.hello(role: labellerRole, token: labellerToken, clientName: "mlctl-demo-labeller")
                    labeller = l
                }
                let n = try Self.send(to: client!, labeller: labeller, count: batch, data: &data)
                sent += Double(n)
                lock.withLock {
                    counts.predictions += n
                    counts.feedback += n
                }
            } catch {
                client?.close()
                client = nil
                labeller?.close()
                labeller = nil
                lock.withLock {
                    counts.failures += 1
                    counts.lastError = "\(error)"
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        client?.close()
        labeller?.close()
    }
}
