import Foundation
import Glibc
import MLServer
import MLWire
import Synchronization
import XCTest

/// An in-memory stand-in for the node: two slots, a generation, a token, and knobs to make a
/// reload slow or fail.
final class FakeAdminBackend: AdminBackend {
    struct State {
        var active = "v2.1"
        var standby: String? = "v2.0"
        var generation: UInt64 = 7
        var ready = true
        var reason = ""
        /// While true, a reload blocks (after setting `reloadInProgress`) until `releaseReloads()`.
        var holdReloads = false
        var reloadInProgress = false
        var rollbackCalls = 0
        var lastExpectedActive: String?
        var lastChecksum = Digest32.zero
    }

    static let token = "s3cret-token"
    static let swapMicros: Int64 = 1_772_280_000_000_000  // 2026-02-28T12:00:00Z
    let state = Mutex(State())  // protected by its lock
    private let reloadGate = DispatchSemaphore(value: 0)

    /// Lets every held reload finish.
    func releaseReloads() {
        state.withLock { $0.holdReloads = false }
        reloadGate.signal()
    }

    func health() -> (serving: Bool, uptimeMillis: UInt64) { (true, 123_456) }

    func ready() -> (ready: Bool, reason: String) { state.withLock { ($0.ready, $0.reason) } }

    func info() -> InfoReply {
        state.withLock { s in
            let active = SlotInfo(present: true, modelName: "fraud \"main\"", version: s.active, kind: 1, featureCount: 30,
                                  checksum: Digest32([UInt8](repeating: 0xAB, count: 32)), loadedAtMicros: Self.swapMicros,
                                  artifact: "/models/\(s.active).mlart")
            let standby = s.standby.map {
                SlotInfo(present: true, modelName: "fraud \"main\"", version: $0, kind: 2, featureCount: 30,
                         checksum: Digest32([UInt8](repeating: 0x01, count: 32)), loadedAtMicros: Self.swapMicros - 86_400_000_000,
                         artifact: "/models/\($0).mlart")
            } ?? .empty
            return InfoReply(generation: s.generation, ready: s.ready, draining: false, active: active, standby: standby)
        }
    }

    func metrics() -> MetricsReply {
        let now = state.withLock { $0 }
        var served = VersionMetrics(version: now.active, requests: 1000, errors: 3, positives: 40, truePositives: 30, falsePositives: 5,
                                    trueNegatives: 900, falseNegatives: 10, latencySumNanos: 0, latencyCount: 0,
                                    scoreBins: [UInt64](repeating: 50, count: ScoreBins.count),
                                    referenceBins: [Float](repeating: 0.05, count: ScoreBins.count),
                                    modelErrors: 1, clientErrors: 2)
        // Latencies spread over every order of magnitude, including one above 10 s (+Inf only).
        for nanos: UInt64 in [5, 900, 1_000, 1_024, 3_000, 70_000, 2_000_000, 40_000_000, 3_000_000_000, 20_000_000_000] {
            let index = UInt16(LatencyBuckets.index(nanos: nanos))
            if let at = served.latencyBuckets.firstIndex(where: { $0.index == index }) {
                served.latencyBuckets[at].count += 2
            } else {
                served.latencyBuckets.append(BucketCount(index: index, count: 2))
            }
            served.latencySumNanos += 2 * nanos
            served.latencyCount += 2
        }
        let retired = VersionMetrics(version: "v1\\odd\"\nname", requests: 5)  // no slot holds it: no model label
        return MetricsReply(generation: now.generation, uptimeMillis: 123_456, timestampMicros: Self.swapMicros,
                            activeVersion: now.active, versions: [served, retired])
    }

    func rollback(expectedActive: String?) -> Result<SwapOutcome, AdminFailure> {
        state.withLock { s in
            s.rollbackCalls += 1
            s.lastExpectedActive = expectedActive
            if let expectedActive, expectedActive != s.active {
                return .failure(AdminFailure(.failedPrecondition, "expected active \(expectedActive) but active is \(s.active); nothing changed"))
            }
            guard let standby = s.standby else { return .failure(AdminFailure(.failedPrecondition, "standby slot is empty")) }
            let previous = s.active
            s.active = standby
            s.standby = previous
            s.generation += 1
            return .success(SwapOutcome(previousVersion: previous, activeVersion: standby, generation: s.generation,
                                        timestampMicros: Self.swapMicros, swapNanos: 900))
        }
    }

    func reload(artifact: String, expectedChecksum: Digest32, expectedActive: String?) -> Result<SwapOutcome, AdminFailure> {
        let hold = state.withLock { s in
            s.lastChecksum = expectedChecksum
            s.reloadInProgress = true
            return s.holdReloads
        }
        if hold { reloadGate.wait() }
        defer { state.withLock { $0.reloadInProgress = false } }
        switch artifact {
        case "missing": return .failure(AdminFailure(.notFound, "no artifact at missing"))
        case "corrupt": return .failure(AdminFailure(.dataLoss, "checksum mismatch"))
        default:
            state.withLock { $0.standby = artifact }
            return rollback(expectedActive: expectedActive)
        }
    }

    func checkToken(_ presented: String) -> TokenCheck { presented == Self.token ? .ok : .wrong }
}

/// A parsed HTTP response as a test sees it.
struct TestResponse {
    var status: Int
    var headers: [String: String]
    var body: String
}

/// A blocking test client on a real socket, every read bounded by a receive timeout so no test
/// can hang.
final class TestHTTPClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            Glibc.close(fd)
            throw POSIXErrorCode(rawValue: errno).map { POSIXError($0) } ?? POSIXError(.EIO)
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends everything; false if the peer is gone (EPIPE/ECONNRESET) — no SIGPIPE.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// The status of the next response head, which must be interim (1xx); consumed.
    func readInterimStatus() -> Int? {
        readResponse(headOnly: true, skipInterim: false)?.status
    }

    /// Reads one response (skipping 1xx); nil on EOF or timeout before a whole one arrived.
    /// `headOnly` for a HEAD request: Content-Length describes a body that is not sent.
    func readResponse(headOnly: Bool = false, skipInterim: Bool = true) -> TestResponse? {
        while true {
            guard let headEnd = findHeadEnd() else {
                guard fill() else { return nil }
                continue
            }
            let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
            var headers: [String: String] = [:]
            for line in lines where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else { return nil }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            if status < 200 && skipInterim {
                buffer.removeFirst(headEnd + 4)
                continue
            }
            let length = headOnly || status < 200 ? 0 : Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < headEnd + 4 + length {
                guard fill() else { return nil }
            }
            let body = String(decoding: buffer[(headEnd + 4)..<(headEnd + 4 + length)], as: UTF8.self)
            buffer.removeFirst(headEnd + 4 + length)
            return TestResponse(status: status, headers: headers, body: body)
        }
    }

    /// True if, right now, the connection is open and nothing has arrived on it: no byte, no EOF,
    /// no reset. Does not wait (loopback delivers what the server sent before it returns).
    func isOpenAndSilent() -> Bool {
        guard buffer.isEmpty else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    /// True if the server closed the connection (EOF or reset) within the receive timeout.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// One request on a fresh connection.
func adminRequest(_ port: UInt16, _ raw: String) throws -> TestResponse? {
    let client = try TestHTTPClient(port: port)
    client.send(raw)
    return client.readResponse()
}

func jsonObject(_ body: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
}
