/// Why a policy file was refused. Each message names the file and the key so the operator can
/// fix it without reading source.
public enum PolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformed(String)
    case unknownKeys([String], known: [String])
    case invalid(key: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read policy file \(path): \(reason)"
        case .malformed(let reason):
            "policy is not valid JSON for a runbook policy: \(reason)"
        case .unknownKeys(let keys, let known):
            "unknown policy key\(keys.count == 1 ? "" : "s") \(keys.map { "\"\($0)\"" }.joined(separator: ", ")); "
                + "known keys: \(known.joined(separator: ", "))"
        case .invalid(let key, let reason):
            "policy key \"\(key)\" \(reason)"
        }
    }
}
