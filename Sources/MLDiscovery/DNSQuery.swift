/// Builds a standard query (RFC 1035 §4.1): one question, class IN, recursion desired.
/// Pure: bytes in, bytes out.
public enum DNSQuery {
    /// Longest name in presentation form without the trailing dot (255 octets on the wire).
    static let maxNameLength = 253

    /// The query bytes, or `badInput` naming what is wrong with `name`.
    public static func encode(id: UInt16, name: String, type: DNSRecordType) throws(DNSError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(18 + name.utf8.count)
        append16(&out, id)
        append16(&out, 0x0100)  // QR=0 query, opcode 0, RD=1
        append16(&out, 1)       // QDCOUNT
        append16(&out, 0)
        append16(&out, 0)
        append16(&out, 0)
        out += try wireName(name)
        append16(&out, type.rawValue)
        append16(&out, 1)       // class IN
        return out
    }

    /// `name` as length-prefixed labels. Letters, digits, '-' and '_' only (SRV names use '_'):
    /// anything else in a fleet name is a typo, and refusing it beats a confusing NXDOMAIN.
    static func wireName(_ name: String) throws(DNSError) -> [UInt8] {
        var text = name
        if text.hasSuffix(".") { text.removeLast() }
        guard !text.isEmpty else { throw .badInput("DNS name is empty") }
        guard text.utf8.count <= maxNameLength else { throw .badInput("DNS name \(name) is longer than \(maxNameLength) characters") }
        var out: [UInt8] = []
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty else { throw .badInput("DNS name \(name) has an empty label") }
            guard bytes.count <= 63 else { throw .badInput("DNS name \(name) has a label longer than 63 characters") }
            for b in bytes where !(isAlphanumeric(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")) {
                throw .badInput("DNS name \(name) contains '\(Character(Unicode.Scalar(b)))' (letters, digits, '-', '_' and '.' only)")
            }
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out.append(0)
        return out
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    static func append16(_ out: inout [UInt8], _ value: UInt16) {
        out.append(UInt8(value >> 8))
        out.append(UInt8(value & 0xFF))
    }
}
