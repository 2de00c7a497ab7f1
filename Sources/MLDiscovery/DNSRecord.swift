/// The record types the fleet discovery asks for.
public enum DNSRecordType: UInt16, Sendable, CustomStringConvertible {
    case a = 1
    case cname = 5
    case aaaa = 28
    case srv = 33

    public var description: String {
        switch self {
        case .a: "A"
        case .cname: "CNAME"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        }
    }
}

/// One resource record of a reply. Types we do not ask for keep only their type number.
public struct DNSRecord: Equatable, Sendable {
    public enum Data: Equatable, Sendable {
        /// Numeric address text: "10.0.0.5" or "fd00::5".
        case address(String)
        case cname(String)
        case srv(priority: UInt16, weight: UInt16, port: UInt16, target: String)
        case other
    }

    /// Owner name, lower case, without the trailing dot.
    public var name: String
    public var type: UInt16
    public var ttl: UInt32
    public var data: Data
}

/// A parsed reply: what the resolver needs of it.
public struct DNSReply: Equatable, Sendable {
    public var id: UInt16
    /// TC: the answer did not fit in the UDP datagram; ask again over TCP.
    public var truncated: Bool
    public var rcode: UInt8
    public var answers: [DNSRecord]
    public var additionals: [DNSRecord]
}
