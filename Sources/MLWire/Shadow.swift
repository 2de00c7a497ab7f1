/// Turns shadow scoring on (rate > 0) or off (rate 0) for the node's current (active, standby)
/// pair (PROTOCOL.md §11.14). v2 only, controller only. The setting belongs to that pair: a
/// swap, a load or a restart ends it by itself.
public struct SetShadowRequest: WireMessage {
    public static let messageType = MessageType.setShadow

    /// Fraction of predicted rows the standby also scores, in [0, 1].
    public var rate: Float
    /// Refuse unless the standby holds this version (empty: any standby).
    public var expectedStandby: String

    public init(rate: Float, expectedStandby: String = "") {
        self.rate = rate
        self.expectedStandby = expectedStandby
    }

    public var payloadSize: Int { 8 + ByteWriter.size(of: expectedStandby) }

    public func write(to w: inout ByteWriter) {
        w.write(rate)
        w.write(UInt32(0))
        w.write(string: expectedStandby)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        rate = try r.readFloat("rate")
        try r.readReserved(4)
        expectedStandby = try r.readString("expected_standby", limit: Limits.version)
    }
}

/// What the node now shadows: the rate, the pair it applies to, and the session that names this
/// setting in Metrics (0 when shadowing is off).
public struct SetShadowReply: WireMessage {
    public static let messageType = MessageType.setShadowReply

    public var rate: Float
    public var session: UInt64
    public var generation: UInt64
    public var activeVersion: String
    public var standbyVersion: String

    public init(rate: Float, session: UInt64, generation: UInt64, activeVersion: String, standbyVersion: String) {
        self.rate = rate
        self.session = session
        self.generation = generation
        self.activeVersion = activeVersion
        self.standbyVersion = standbyVersion
    }

    public var payloadSize: Int { 24 + ByteWriter.size(of: activeVersion) + ByteWriter.size(of: standbyVersion) }

    public func write(to w: inout ByteWriter) {
        w.write(rate)
        w.write(UInt32(0))
        w.write(session)
        w.write(generation)
        w.write(string: activeVersion)
        w.write(string: standbyVersion)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        rate = try r.readFloat("rate")
        try r.readReserved(4)
        session = try r.readUInt64("session")
        generation = try r.readUInt64("generation")
        activeVersion = try r.readString("active_version", limit: Limits.version)
        standbyVersion = try r.readString("standby_version", limit: Limits.version)
    }
}
