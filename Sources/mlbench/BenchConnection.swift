import CEpoll
import Glibc
import MLClient
import MLModel
import MLWire

/// One load connection's buffers and counters. Plain struct in memory the driver owns; load
/// thread only. Everything is allocated when the connection opens: the request frames (the
/// pipeline's worth, pre-encoded, only the request id patched per send), the send-time ring and
/// the read buffer.
struct BenchConnection {
    var fd: Int32
    /// `depth` pre-encoded request frames, back to back.
    let frames: UnsafeMutableRawPointer
    let frameSize: Int
    let depth: Int
    /// Bytes of the current round already written; `depth * frameSize` when the round is out.
    var written: Int
    var nextID: UInt32 = 1
    /// The id the next response must carry: the node answers a connection's requests in order.
    var expectedID: UInt32 = 1
    var outstanding = 0
    /// Indexed by request id & ringMask: when the request was written and the generation that
    /// had been acknowledged by then (the least generation allowed to serve it).
    let sentAt: UnsafeMutablePointer<UInt64>
    let minGeneration: UnsafeMutablePointer<UInt64>
    let ringMask: UInt32
    let input: UnsafeMutableRawPointer
    let inputCapacity: Int
    var inputStart = 0
    var inputEnd = 0
    var lastGeneration: UInt64 = 0
    var isOpen = true
    var wantsWrite = false
    /// With ids: where in each frame the row ids start (0 = no ids), this connection's id prefix
    /// (index << 40) and the next id's sequence number.
    let idsOffset: Int
    let rowsPerFrame: Int
    let idPrefix: UInt64
    var nextSequence: UInt64 = 0

    var roundBytes: Int { depth * frameSize }

    /// Pre-encodes `depth` frames of distinct demo rows (Predict, or PredictBatch of `batch` rows).
    /// `index`: with `ids`, the connection's number, the top bits of its prediction ids.
    init(fd: Int32, depth: Int, features: Int, batch: Int, data: inout DemoData, ids: Bool = false, index: Int = 0) {
        self.fd = fd
        self.depth = depth
        let values = batch == 1 ? 4 + 4 * features : 8 + 4 * features * batch
        let payload = values + (ids ? 8 * batch : 0)
        frameSize = FrameHeader.size + payload
        idsOffset = ids ? FrameHeader.size + values : 0
        rowsPerFrame = batch
        idPrefix = UInt64(index) << 40
        frames = .allocate(byteCount: depth * frameSize, alignment: 16)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: DemoData.featureCount)
        defer { row.deallocate() }
        for k in 0..<depth {
            let base = frames + k * frameSize
            let type: MessageType = batch == 1 ? .predict : .predictBatch
            FrameHeader(type: type, flags: ids ? PredictFlags.withIDs : 0, requestID: 0, payloadLength: payload).write(to: base)
            var w = ByteWriter(base + FrameHeader.size, capacity: payload)
            if batch > 1 { w.write(UInt32(batch)) }
            w.write(UInt32(features))
            for _ in 0..<batch {
                _ = data.fill(row: row)
                // Wider rows than the demo's 32 features repeat it; narrower ones take a prefix.
                for i in 0..<features { w.write(row[i % DemoData.featureCount]) }
            }
            if ids { w.writeZeros(8 * batch) }  // patched per round
        }
        written = depth * frameSize
        var ring = 1
        while ring < depth { ring <<= 1 }
        ringMask = UInt32(ring - 1)
        sentAt = .allocate(capacity: ring)
        sentAt.initialize(repeating: 0, count: ring)
        minGeneration = .allocate(capacity: ring)
        minGeneration.initialize(repeating: 0, count: ring)
        let largestReply = FrameHeader.size + 8 + 2 + Limits.version + 4 + 5 * batch + 16
        inputCapacity = max(64 * 1024, 2 * depth * largestReply)
        input = .allocate(byteCount: inputCapacity, alignment: 16)
    }

    func deallocate() {
        frames.deallocate()
        sentAt.deallocate()
        minGeneration.deallocate()
        input.deallocate()
    }

    /// Starts a round: patches the next `depth` request ids and stamps the ring. The caller then
    /// writes `roundBytes` from `frames`.
    @inline(__always)
    mutating func beginRound(now: UInt64, acked: UInt64) {
        for k in 0..<depth {
            let id = nextID
            nextID = nextID &+ 1 == 0 ? 1 : nextID &+ 1
            (frames + k * frameSize).storeBytes(of: id.littleEndian, toByteOffset: 8, as: UInt32.self)
            let slot = Int(id & ringMask)
            sentAt[slot] = now
            minGeneration[slot] = acked
            if idsOffset > 0 {
                let base = frames + k * frameSize + idsOffset
                for row in 0..<rowsPerFrame {
                    base.storeBytes(of: (idPrefix | nextSequence).littleEndian, toByteOffset: 8 * row, as: UInt64.self)
                    nextSequence &+= 1
                }
            }
        }
        outstanding = depth
        written = 0
    }

    /// Opens a blocking TCP connection, says HELLO as a data client, then turns non-blocking.
    static func connect(to endpoint: Endpoint, name: String, maxVersion: UInt8 = Hello.supportedVersions.upperBound) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchRun.Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        inet_pton(AF_INET, endpoint.host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw BenchRun.Failure(description: "connect to \(endpoint): \(why)")
        }
        let hello = Hello(maxVersion: maxVersion, role: .data, clientName: name).frameBytes(requestID: 1)
        guard hello.withUnsafeBytes({ send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }) == hello.count else {
            close(fd)
            throw BenchRun.Failure(description: "HELLO to \(endpoint) failed")
        }
        var decoder = FrameDecoder(maxPayload: FrameParser.defaultMaxPayload)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let frame = try decoder.next() {
                guard case .helloReply = try frame.message() else {
                    close(fd)
                    throw BenchRun.Failure(description: "HELLO refused by \(endpoint): \(try frame.message())")
                }
                break
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else {
                close(fd)
                throw BenchRun.Failure(description: "no HELLO reply from \(endpoint)")
            }
            buffer.withUnsafeBytes { decoder.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }
}
