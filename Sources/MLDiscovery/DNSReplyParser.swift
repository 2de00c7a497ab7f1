/// Strict reader of a reply (RFC 1035 §4.1, RFC 3596, RFC 2782). Every length and count the
/// peer sends is checked against the bytes actually there before it is used; compression
/// pointers must point strictly backwards (so they cannot loop); a reply with bytes left over,
/// or one that answers another question, is refused. Pure: no sockets.
public struct DNSReplyParser {
    /// Why a reply was refused; the transport adds which server sent it.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Reads a complete reply to the query (`id`, `name`, `type`). A reply with another id is a
    /// failure too; the UDP transport checks ids first and drops strays without calling this.
    public static func parse(_ bytes: [UInt8], id: UInt16, name: String, type: DNSRecordType) throws(Failure) -> DNSReply {
        var reader = Reader(bytes: bytes)
        guard bytes.count >= 12 else { throw Failure(reason: "\(bytes.count) bytes, shorter than the 12-byte header") }
        let replyID = try reader.u16()
        let flags = try reader.u16()
        let qdcount = try reader.u16(), ancount = try reader.u16(), nscount = try reader.u16(), arcount = try reader.u16()
        guard replyID == id else { throw Failure(reason: "reply id \(replyID) does not match query id \(id)") }
        guard flags & 0x8000 != 0 else { throw Failure(reason: "QR bit clear: a query, not a reply") }
        guard (flags >> 11) & 0xF == 0 else { throw Failure(reason: "opcode \((flags >> 11) & 0xF), expected 0 (QUERY)") }
        let truncated = flags & 0x0200 != 0
        let rcode = UInt8(flags & 0xF)
        // A truncated reply may stop anywhere: only the header is trusted, the caller retries over TCP.
        if truncated { return DNSReply(id: replyID, truncated: true, rcode: rcode, answers: [], additionals: []) }
        // FORMERR/SERVFAIL/NOTIMP/REFUSED replies may carry no question; NOERROR and NXDOMAIN must echo ours.
        if rcode != 0 && rcode != 3 { return DNSReply(id: replyID, truncated: false, rcode: rcode, answers: [], additionals: []) }
        guard qdcount == 1 else { throw Failure(reason: "\(qdcount) questions, expected 1") }
        let qname = try reader.name()
        let qtype = try reader.u16(), qclass = try reader.u16()
        guard qname == canonical(name), qtype == type.rawValue, qclass == 1 else {
            throw Failure(reason: "answers another question (\(qname) type \(qtype) class \(qclass)), asked \(canonical(name)) \(type)")
        }
        // Each record is at least 11 bytes: refuse counts the message cannot hold before looping.
        let records = Int(ancount) + Int(nscount) + Int(arcount)
        guard records * 11 <= reader.remaining else {
            throw Failure(reason: "header announces \(records) records but only \(reader.remaining) bytes follow")
        }
        var answers: [DNSRecord] = []
        for _ in 0..<ancount { answers.append(try reader.record()) }
        for _ in 0..<nscount { _ = try reader.record() }
        var additionals: [DNSRecord] = []
        for _ in 0..<arcount { additionals.append(try reader.record()) }
        guard reader.remaining == 0 else { throw Failure(reason: "\(reader.remaining) bytes after the last record") }
        return DNSReply(id: replyID, truncated: false, rcode: rcode, answers: answers, additionals: additionals)
    }

    /// Lower case, no trailing dot: how names are compared (DNS names are case-insensitive).
    public static func canonical(_ name: String) -> String {
        var text = name.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var remaining: Int { bytes.count - offset }

        mutating func u8() throws(Failure) -> UInt8 {
            guard offset < bytes.count else { throw Failure(reason: "ends at byte \(offset) inside a field") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() throws(Failure) -> UInt16 {
            UInt16(try u8()) << 8 | UInt16(try u8())
        }

        mutating func u32() throws(Failure) -> UInt32 {
            UInt32(try u16()) << 16 | UInt32(try u16())
        }

        /// A possibly compressed name at `offset`; `offset` moves past its in-place part.
        mutating func name() throws(Failure) -> String {
            let (text, end) = try Self.name(in: bytes, at: offset)
            offset = end
            return text  // "" is the root
        }

        /// Reads labels from `start`. A pointer must target an offset before the start of the
        /// label sequence it appears in: names only ever refer back to earlier text, and this
        /// makes every chain strictly decreasing, so a loop cannot exist. 255 octets at most.
        static func name(in bytes: [UInt8], at start: Int) throws(Failure) -> (String, Int) {
            var labels: [String] = []
            var position = start
            var sequenceStart = start
            var end: Int?
            var wireLength = 1
            while true {
                guard position < bytes.count else { throw Failure(reason: "name at byte \(start) runs past the end of the message") }
                let length = bytes[position]
                switch length & 0xC0 {
                case 0x00:
                    if length == 0 {
                        return (labels.joined(separator: "."), end ?? position + 1)
                    }
                    let first = position + 1
                    guard first + Int(length) <= bytes.count else {
                        throw Failure(reason: "label at byte \(position) runs past the end of the message")
                    }
                    wireLength += Int(length) + 1
                    guard wireLength <= 255 else { throw Failure(reason: "name at byte \(start) is longer than 255 octets") }
                    labels.append(String(decoding: bytes[first..<first + Int(length)], as: UTF8.self).lowercased())
                    position = first + Int(length)
                case 0xC0:
                    guard position + 1 < bytes.count else { throw Failure(reason: "compression pointer at byte \(position) is cut off") }
                    let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                    guard target < sequenceStart else {
                        throw Failure(reason: "compression pointer at byte \(position) to byte \(target) does not point backwards (loop)")
                    }
                    if end == nil { end = position + 2 }
                    position = target
                    sequenceStart = target
                default:
                    throw Failure(reason: "label type 0x\(String(length & 0xC0, radix: 16)) at byte \(position) is not defined")
                }
            }
        }

        mutating func record() throws(Failure) -> DNSRecord {
            let owner = try name()
            let type = try u16()
            let klass = try u16()
            let ttl = try u32()
            let length = Int(try u16())
            let start = offset
            guard start + length <= bytes.count else {
                throw Failure(reason: "record \(owner) type \(type) announces \(length) data bytes, \(bytes.count - start) remain")
            }
            offset = start + length
            guard klass == 1 || type == 41 else { return DNSRecord(name: owner, type: type, ttl: ttl, data: .other) }  // OPT uses the class field for its size
            switch DNSRecordType(rawValue: type) {
            case .a:
                guard length == 4 else { throw Failure(reason: "A record \(owner) has \(length) data bytes, expected 4") }
                return DNSRecord(name: owner, type: type, ttl: ttl, data: .address(bytes[start..<start + 4].map(String.init).joined(separator: ".")))
            case .aaaa:
                guard length == 16 else { throw Failure(reason: "AAAA record \(owner) has \(length) data bytes, expected 16") }
                return DNSRecord(name: owner, type: type, ttl: ttl, data: .address(IPv6Text.format(Array(bytes[start..<start + 16]))))
            case .cname:
                let target = try embeddedName(owner: owner, kind: "CNAME", at: start, length: length)
                return DNSRecord(name: owner, type: type, ttl: ttl, data: .cname(target))
            case .srv:
                guard length >= 7 else { throw Failure(reason: "SRV record \(owner) has \(length) data bytes, expected at least 7") }
                var fields = Reader(bytes: bytes, offset: start)
                let priority = try fields.u16(), weight = try fields.u16(), port = try fields.u16()
                let target = try embeddedName(owner: owner, kind: "SRV", at: start + 6, length: length - 6)
                return DNSRecord(name: owner, type: type, ttl: ttl, data: .srv(priority: priority, weight: weight, port: port, target: target))
            case nil:
                return DNSRecord(name: owner, type: type, ttl: ttl, data: .other)
            }
        }

        /// A name inside RDATA must end exactly where the record's data ends.
        func embeddedName(owner: String, kind: String, at start: Int, length: Int) throws(Failure) -> String {
            let (text, end) = try Self.name(in: bytes, at: start)
            guard end == start + length else {
                throw Failure(reason: "\(kind) record \(owner): its name takes \(end - start) of \(length) data bytes")
            }
            return text
        }
    }
}

/// RFC 5952 text for a 16-byte address: lower-case hex, the longest run of zero groups as "::".
enum IPv6Text {
    static func format(_ bytes: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            guard groups[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > best.length && j - i >= 2 { best = (i, j - i) }
            i = j
        }
        func hex(_ range: Range<Int>) -> String { groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
        guard best.start >= 0 else { return hex(0..<8) }
        return hex(0..<best.start) + "::" + hex(best.start + best.length..<8)
    }
}
