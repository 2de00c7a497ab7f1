import Foundation
import MLWire
import Glibc

/// Where the controller token comes from: never the command line (it would show in `ps`).
/// An environment variable wins; otherwise a file, created with a random token (mode 0600)
/// when it does not exist, so a fresh node is never open to anyone who connects.
public enum TokenSource {
    public static let environmentVariable = NodeDefaults.tokenVariable

    public static func resolve(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (token: String, origin: String) {
        if let token = environment[environmentVariable], !token.isEmpty {
            return (token, "$\(environmentVariable)")
        }
        if let data = FileManager.default.contents(atPath: file) {
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw SocketError("token file \(file) is empty", code: EINVAL) }
            return (token, file)
        }
        let token = randomHex(bytes: 24)
        let fd = Glibc.open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SocketError("create token file \(file)") }
        let line = token + "\n"
        _ = line.withCString { Glibc.write(fd, $0, strlen($0)) }
        Glibc.close(fd)
        return (token, file + " (created)")
    }

    static func randomHex(bytes count: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        let fd = Glibc.open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, count) }
            Glibc.close(fd)
        }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
