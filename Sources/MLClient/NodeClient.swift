import Glibc
import MLWire

/// A blocking client for one node connection: one call at a time, or a pipelined batch with
/// `pipeline(_:)`. Used by mlctl, the tests and the demo; mlbench has its own epoll driver.
/// Not safe for concurrent use: one thread at a time. `@unchecked Sendable` so that a connection
/// can be handed to the thread that will use it.
public final class NodeClient: @unchecked Sendable {
    public let endpoint: Endpoint
    private var fd: Int32
    private var decoder = FrameDecoder(maxPayload: FrameParser.absoluteMaxPayload)
    private var nextID: UInt32 = 1
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    public private(set) var greeting: HelloReply?
    /// The protocol version HELLO agreed on; replies are decoded in its layouts.
    public var protocolVersion: UInt8 { greeting?.version ?? 1 }

    /// Connects with a timeout in seconds that also bounds every later read and write.
    public init(_ endpoint: Endpoint, timeout: Double = 5) throws(ClientError) {
        self.endpoint = endpoint
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        // On the failure paths below every stored property is already initialised, so Swift runs
        // deinit after the throw: it frees readBuffer and closes fd (>= 0 only). Freeing here too
        // was a double free on every refused connection.
        guard fd >= 0 else {
            throw .connect("socket: \(String(cString: strerror(errno)))")
        }
        var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        guard inet_pton(AF_INET, endpoint.host, &address.sin_addr) == 1 else {
            Glibc.close(fd)
            fd = -1
            throw .connect("\(endpoint.host) is not an IPv4 address")
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let why = String(cString: strerror(errno))
            Glibc.close(fd)
            fd = -1
            throw .connect("\(endpoint): \(why)")
        }
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
        readBuffer.deallocate()
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    // MARK: Raw frames

    /// Writes bytes as they are: tests use it to send malformed frames.
    public func send(raw bytes: [UInt8]) throws(ClientError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .io("send to \(endpoint): \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Half-closes the write side: the node sees end of stream.
    public func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// The next frame from the node; `.io` when it closed the connection.
    public func readFrame() throws(ClientError) -> Frame {
        while true {
            do {
                if let frame = try decoder.next() { return frame }
            } catch {
                throw .protocolViolation(error)
            }
            let n = Glibc.recv(fd, readBuffer.baseAddress!, readBuffer.count, 0)
            if n > 0 {
                decoder.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
            } else if n == 0 {
                throw .io("\(endpoint) closed the connection")
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw .timeout("no reply from \(endpoint)")
            } else {
                throw .io("recv from \(endpoint): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Whether the node has closed the connection (reads until EOF or timeout).
    public func isClosedByPeer() -> Bool {
        while true {
            do { _ = try readFrame() } catch {
                if case .io = error { return true }
                return false
            }
        }
    }

    public func allocateID() -> UInt32 {
        defer { nextID &+= 1 }
        return nextID
    }

    // MARK: Calls

    /// Sends one request and returns its reply's message; a remote error is thrown as `.remote`.
    public func call(_ message: Message) throws(ClientError) -> Message {
        let id = allocateID()
        try send(raw: message.frameBytes(requestID: id))
        let frame = try readFrame()
        let reply: Message
        do { reply = try frame.message(version: protocolVersion) } catch { throw .protocolViolation(error) }
        // Request id 0 is the node speaking about the connection, not about this request
        // (PROTOCOL.md §7): the connection limit, a lost stream. It answers this call too.
        if case .error(let status, let body) = reply, frame.header.requestID == id || frame.header.requestID == 0 {
            throw .remote(status, Self.reason(of: body, status: status, requestID: frame.header.requestID), body.message)
        }
        guard frame.header.requestID == id else {
            throw .unexpected("reply for request \(frame.header.requestID), expected \(id)")
        }
        return reply
    }

    /// The typed reason of an error body. A v1-layout ERROR has none; the one v1-layout ERROR a
    /// v2 client still gets — RESOURCE_EXHAUSTED with id 0, sent on accept before any HELLO —
    /// means the connection limit (PROTOCOL.md §10), so it is named as such.
    static func reason(of body: ErrorReply, status: Status, requestID: UInt32) -> Reason {
        if let reason = body.reason { return reason }
        return status == .resourceExhausted && requestID == 0 ? .connectionLimit : .unspecified
    }

    /// Sends every request in one write, then collects one reply each, matched by request id.
    /// Replies are returned in request order; an error reply is returned as `.error`, not thrown.
    public func pipeline(_ messages: [Message]) throws(ClientError) -> [Message] {
        var bytes: [UInt8] = []
        var ids: [UInt32] = []
        for message in messages {
            let id = allocateID()
            ids.append(id)
            bytes += message.frameBytes(requestID: id)
        }
        try send(raw: bytes)
        var replies: [UInt32: Message] = [:]
        while replies.count < ids.count {
            let frame = try readFrame()
            let reply: Message
            do { reply = try frame.message(version: protocolVersion) } catch { throw .protocolViolation(error) }
            // A pipelined HELLO changes the layouts of the replies that follow it.
            if case .helloReply(let greeting) = reply { self.greeting = greeting }
            replies[frame.header.requestID] = reply
        }
        return try ids.map { (id: UInt32) throws(ClientError) -> Message in
            guard let reply = replies[id] else { throw .unexpected("no reply for request \(id)") }
            return reply
        }
    }

    // MARK: Typed calls

    /// Negotiates the highest protocol version both sides speak (`maxVersion` caps it: tests
    /// use 1 to act as a v1 client).
    @discardableResult
    public func hello(role: ConnectionRole = .data, token: String = "", clientName: String = "mlclient",
                      maxVersion: UInt8 = Hello.supportedVersions.upperBound) throws(ClientError) -> HelloReply {
        guard case .helloReply(let reply) = try call(.hello(Hello(maxVersion: maxVersion, role: role, token: token, clientName: clientName))) else {
            throw .unexpected("HELLO answered with another type")
        }
        greeting = reply
        return reply
    }

    /// `predictionID` (v2 connections): the node remembers the prediction under it for LABEL.
    public func predict(_ features: [Float], predictionID: UInt64? = nil) throws(ClientError) -> PredictResult {
        guard case .predictResult(let reply) = try call(.predict(Predict(features: features, predictionID: predictionID))) else { throw .unexpected("Predict") }
        return reply
    }

    /// `predictionIDs`: one per row (v2 connections).
    public func predictBatch(featureCount: Int, values: [Float], predictionIDs: [UInt64]? = nil) throws(ClientError) -> PredictBatchResult {
        guard case .predictBatchResult(let reply) = try call(.predictBatch(PredictBatch(featureCount: featureCount, values: values,
                                                                                        predictionIDs: predictionIDs))) else {
            throw .unexpected("PredictBatch")
        }
        return reply
    }

    public func feedback(predicted: UInt8, actual: UInt8, version: String) throws(ClientError) {
        guard case .feedbackAck = try call(.feedback(Feedback(predictedLabel: predicted, actualLabel: actual, version: version))) else {
            throw .unexpected("Feedback")
        }
    }

    /// Ground truth by prediction id (v2, labeller or controller connection): the node joins each
    /// to the prediction it remembers and says how many matched, were unknown, expired or repeated.
    @discardableResult
    public func label(_ items: [(predictionID: UInt64, actual: UInt8)]) throws(ClientError) -> LabelReply {
        let request = LabelRequest(items: items.map { LabelRequest.Item(predictionID: $0.predictionID, actualLabel: $0.actual) })
        guard case .labelReply(let reply) = try call(.label(request)) else { throw .unexpected("Label") }
        return reply
    }

    public func health() throws(ClientError) -> HealthReply {
        guard case .healthReply(let reply) = try call(.health) else { throw .unexpected("Health") }
        return reply
    }

    public func ready() throws(ClientError) -> ReadyReply {
        guard case .readyReply(let reply) = try call(.ready) else { throw .unexpected("Ready") }
        return reply
    }

    public func info() throws(ClientError) -> InfoReply {
        guard case .infoReply(let reply) = try call(.info) else { throw .unexpected("Info") }
        return reply
    }

    public func metrics() throws(ClientError) -> MetricsReply {
        guard case .metricsReply(let reply) = try call(.metrics) else { throw .unexpected("Metrics") }
        return reply
    }

    /// `options` (operation id, deadline, force) go on the wire only on a v2 connection; a v1
    /// node gets the v1 layout and none of them.
    public func loadStandby(artifact: String, expectedChecksum: Digest32 = .zero, options: LoadOptions? = nil) throws(ClientError) -> LoadStandbyReply {
        let request = LoadStandby(artifact: artifact, expectedChecksum: expectedChecksum,
                                  options: protocolVersion >= 2 ? (options ?? LoadOptions()) : nil)
        guard case .loadStandbyReply(let reply) = try call(.loadStandby(request)) else {
            throw .unexpected("LoadStandby")
        }
        return reply
    }

    /// `fence` (standby fence, deadline, operation id, force) goes on the wire only on a v2
    /// connection.
    public func swap(expectedActive: String, fence: SwapFence? = nil) throws(ClientError) -> SwapOutcome {
        let request = SwapRequest(expectedActive: expectedActive, fence: protocolVersion >= 2 ? (fence ?? SwapFence()) : nil)
        guard case .swapReply(let reply) = try call(.swap(request)) else { throw .unexpected("Swap") }
        return reply.outcome
    }

    public func rollback(expectedActive: String, fence: SwapFence? = nil) throws(ClientError) -> SwapOutcome {
        let request = RollbackRequest(expectedActive: expectedActive, fence: protocolVersion >= 2 ? (fence ?? SwapFence()) : nil)
        guard case .rollbackReply(let reply) = try call(.rollback(request)) else {
            throw .unexpected("Rollback")
        }
        return reply.outcome
    }
}
