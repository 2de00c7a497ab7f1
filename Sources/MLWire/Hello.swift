/// What a connection is for. A controller may change the slots; a data connection may not; a
/// labeller (v2, its own token) may send LABEL and nothing that changes the slots.
public enum ConnectionRole: UInt8, Sendable {
    case data = 0
    case controller = 1
    case labeller = 2
}

/// The first request on a connection: protocol versions the client speaks, its role, and for a
/// controller the pre-shared token (PROTOCOL.md §11.1).
public struct Hello: WireMessage {
    public static let messageType = MessageType.hello
    /// The protocol versions this implementation speaks.
    public static let supportedVersions: ClosedRange<UInt8> = 1...2

    public var minVersion: UInt8
    public var maxVersion: UInt8
    public var role: ConnectionRole
    public var token: String
    public var clientName: String

    public init(minVersion: UInt8 = 1, maxVersion: UInt8 = Hello.supportedVersions.upperBound, role: ConnectionRole, token: String = "", clientName: String = "") {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.role = role
        self.token = token
        self.clientName = clientName
    }

    public var payloadSize: Int { 4 + ByteWriter.size(of: token) + ByteWriter.size(of: clientName) }

    public func write(to w: inout ByteWriter) {
        w.write(minVersion)
        w.write(maxVersion)
        w.write(role.rawValue)
        w.write(UInt8(0))
        w.write(string: token)
        w.write(string: clientName)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        minVersion = try r.readUInt8("min version")
        maxVersion = try r.readUInt8("max version")
        guard minVersion <= maxVersion else { throw .malformed(.hello, "min version \(minVersion) above max version \(maxVersion)") }
        let rawRole = try r.readUInt8("role")
        guard let role = ConnectionRole(rawValue: rawRole) else { throw .malformed(.hello, "unknown role \(rawRole)") }
        // Role 2 exists from v2 on: a HELLO that offers only v1 cannot name it (v1: unknown role).
        guard role != .labeller || maxVersion >= 2 else { throw .malformed(.hello, "unknown role \(rawRole)") }
        self.role = role
        try r.readReserved(1)
        token = try r.readString("token", limit: Limits.token)
        clientName = try r.readString("client_name", limit: Limits.name)
    }
}

public struct HelloReply: WireMessage {
    public static let messageType = MessageType.helloReply

    public var version: UInt8
    public var role: ConnectionRole
    public var maxPayload: UInt32
    public var serverName: String

    public init(version: UInt8, role: ConnectionRole, maxPayload: UInt32, serverName: String) {
        self.version = version
        self.role = role
        self.maxPayload = maxPayload
        self.serverName = serverName
    }

    public var payloadSize: Int { 8 + ByteWriter.size(of: serverName) }

    public func write(to w: inout ByteWriter) {
        w.write(version)
        w.write(role.rawValue)
        w.write(UInt16(0))
        w.write(maxPayload)
        w.write(string: serverName)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        version = try r.readUInt8("version")
        let rawRole = try r.readUInt8("role")
        guard let role = ConnectionRole(rawValue: rawRole) else { throw .malformed(.helloReply, "unknown role \(rawRole)") }
        self.role = role
        try r.readReserved(2)
        maxPayload = try r.readUInt32("max payload")
        serverName = try r.readString("server_name", limit: Limits.name)
    }
}
