/// Why a lookup failed, worded for the operator: each case names the server or the name.
/// The watch loop keeps its last good node set on any of these.
public enum DNSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name or server address cannot be used as given (bad label, bad ADDR:PORT).
    case badInput(String)
    /// No answer within the timeout, after every attempt.
    case timeout(server: String, attempts: Int, seconds: Double)
    /// A socket call failed (refused, unreachable network, …).
    case transport(server: String, reason: String)
    /// The reply broke the format (RFC 1035): truncated, compression loop, counts that overrun.
    case malformed(server: String, reason: String)
    /// NXDOMAIN: the name does not exist.
    case nameNotFound(name: String, server: String)
    /// The server answered, but with no record of the type asked for.
    case noRecords(name: String, type: String, server: String)
    /// RCODE other than NOERROR and NXDOMAIN (SERVFAIL, REFUSED, …).
    case serverError(name: String, rcode: UInt8, server: String)
    /// resolv.conf unreadable or without a nameserver.
    case noServer(String)

    public var description: String {
        switch self {
        case .badInput(let text): text
        case .timeout(let server, let attempts, let seconds):
            "DNS server \(server) did not answer (\(attempts) attempt\(attempts == 1 ? "" : "s") of \(DNSError.seconds(seconds)) s)"
        case .transport(let server, let reason): "DNS server \(server): \(reason)"
        case .malformed(let server, let reason): "malformed DNS reply from \(server): \(reason)"
        case .nameNotFound(let name, let server): "\(name) does not exist (NXDOMAIN from \(server))"
        case .noRecords(let name, let type, let server): "\(name) has no \(type) records (answer from \(server))"
        case .serverError(let name, let rcode, let server):
            "DNS server \(server) failed to resolve \(name): \(DNSError.rcodeName(rcode)) (rcode \(rcode))"
        case .noServer(let text): text
        }
    }

    static func rcodeName(_ rcode: UInt8) -> String {
        switch rcode {
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "error"
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
