import Glibc
import MLClient
import MLWire

/// `mlbench load --ids --labels-rate F`: a second thread that sends LABEL for predictions the
/// load thread has had answered, at F × their rate, on its own controller connection, so the
/// cost of labels on the prediction path can be measured beside it. Ids follow the load
/// connections' scheme (index << 40 | sequence); the k-th label names connection k % C, row
/// (k / C) × round(1 / F), so the labelled rows are a spread-out sample.
///
/// Thread rule: `run` on its own thread; the counts are read after it is joined.
final class LabelDriver: @unchecked Sendable {
    private let client: NodeClient
    private let driver: LoadDriver
    private let rate: Double
    private let connections: Int
    private let rowsPerRequest: Int
    private(set) var reply = LabelReply()
    private(set) var failure: String?

    init(client: NodeClient, driver: LoadDriver, rate: Double, connections: Int, rowsPerRequest: Int) {
        self.client = client
        self.driver = driver
        self.rate = rate
        self.connections = max(1, connections)
        self.rowsPerRequest = rowsPerRequest
    }

    var sent: UInt64 { UInt64(reply.matched) + UInt64(reply.unmatched) + UInt64(reply.expired) + UInt64(reply.duplicate) }

    func run(measureStart: UInt64, measureEnd: UInt64) {
        let stride = UInt64(max(1, (1 / rate).rounded()))
        var k: UInt64 = 0
        while !driver.finished.load(ordering: .acquiring) && monotonicNanos() < measureEnd {
            let answeredRows = UInt64(driver.progress.load(ordering: .relaxed) * rowsPerRequest)
            let target = UInt64(Double(answeredRows) * rate)
            if k >= target {
                usleep(2_000)
                continue
            }
            var items: [LabelRequest.Item] = []
            while k < target && items.count < 1_024 {
                let connection = k % UInt64(connections)
                let sequence = (k / UInt64(connections)) * stride
                items.append(.init(predictionID: connection << 40 | sequence, actualLabel: UInt8(k & 1)))
                k += 1
            }
            do {
                let counts = try client.label(items.map { ($0.predictionID, $0.actualLabel) })
                reply.matched += counts.matched
                reply.unmatched += counts.unmatched
                reply.expired += counts.expired
                reply.duplicate += counts.duplicate
            } catch {
                failure = "LABEL: \(error)"
                return
            }
        }
    }
}
