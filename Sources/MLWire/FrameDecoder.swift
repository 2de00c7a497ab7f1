/// An owned frame: header plus a copy of its payload. For clients and tests; the server's hot
/// path uses `FrameParser` over its own buffers and never copies payloads.
public struct Frame: Equatable, Sendable {
    public var header: FrameHeader
    public var payload: [UInt8]

    public init(header: FrameHeader, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }

    /// The frame's bytes on the wire.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: FrameHeader.size + payload.count)
        out.withUnsafeMutableBytes { raw in
            header.write(to: raw.baseAddress!)
            if !payload.isEmpty {
                payload.withUnsafeBytes { (raw.baseAddress! + FrameHeader.size).copyMemory(from: $0.baseAddress!, byteCount: payload.count) }
            }
        }
        return out
    }

    /// Decodes the typed message; throws the wire error a server would answer with.
    /// The frame's message in the layout of protocol `version` (the one HELLO agreed on).
    public func message(version: UInt8 = 1) throws(WireError) -> Message {
        let result = payload.withUnsafeBytes { raw in
            Result { () throws(WireError) -> Message in try Message.decode(header: header, payload: raw, version: version) }
        }
        return try result.get()
    }
}

/// Incremental decoder: feed any chunking of a byte stream, take frames out in order. Yields the
/// same frames whatever the chunking. Buffers at most one partial frame plus the last chunk fed,
/// and refuses a declared length above `maxPayload` before buffering its payload.
public struct FrameDecoder {
    public var maxPayload: Int
    /// Header flag bits the stream's protocol version defines (v2 requests: `PredictFlags.withIDs`).
    public var allowedFlags: UInt8 = 0
    private var buffer: [UInt8] = []
    private var start = 0
    /// Set once a closing error was returned: the stream is unusable from then on.
    public private(set) var failed: WireError?

    public init(maxPayload: Int = FrameParser.defaultMaxPayload) {
        self.maxPayload = maxPayload
    }

    public var bufferedByteCount: Int { buffer.count - start }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard failed == nil else { return }
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next frame, nil when more bytes are needed. A thrown error with
    /// `closesConnection == false` skipped its frame; decoding may continue after it.
    public mutating func next() throws(WireError) -> Frame? {
        if let failed { throw failed }
        let step = buffer.withUnsafeBytes { raw in
            FrameParser.parse(UnsafeRawBufferPointer(rebasing: raw[start...]), maxPayload: maxPayload, allowedFlags: allowedFlags)
        }
        switch step {
        case .needMore:
            compact()
            return nil
        case .frame(let header, let payload, let consumed):
            let frame = Frame(header: header, payload: Array(payload))
            start += consumed
            return frame
        case .reject(let error, _, let consumed):
            if consumed == 0 {
                failed = error
            } else {
                start += consumed
            }
            throw error
        }
    }

    /// Call at end of stream: an error if the stream stopped inside a frame.
    public func finish() -> WireError? {
        if let failed { return failed }
        let have = buffer.count - start
        guard have > 0 else { return nil }
        let need: Int = buffer.withUnsafeBytes { raw in
            if case .needMore(let need) = FrameParser.parse(UnsafeRawBufferPointer(rebasing: raw[start...]), maxPayload: maxPayload, allowedFlags: allowedFlags) {
                return need
            }
            return have
        }
        return .truncated(have: have, need: need)
    }

    private mutating func compact() {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
