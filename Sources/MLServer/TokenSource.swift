import Foundation
import Glibc

/// Where the controller token comes from: never the command line (it would show in `ps`).
/// An environment variable wins; otherwise a file, created with a random token (mode 0600)
/// when it does not exist, so a fresh node is never open to anyone who connects.
public enum TokenSource {
    public static let environmentVariable = "MLSERVE_TOKEN"
    /// The labeller's token (role labeller, LABEL only).
    public static let labellerEnvironmentVariable = "MLSERVE_LABELLER_TOKEN"

    public static func resolve(file: String, variable: String = environmentVariable,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (token: String, origin: String) {
        if let token = environment[variable], !token.isEmpty {
            return (token, "$\(variable)")
        }
        if let data = FileManager.default.contents(atPath: file) {
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw SocketError("token file \(file) is empty", code: EINVAL) }
            return (token, file)
        }
        let token = try randomHex(bytes: 24)
        let fd = Glibc.open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SocketError("create token file \(file)") }
        let line = Array((token + "\n").utf8)
        let written = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
        // Durable before anyone is told to use it: a token file lost to a crash would lock the
        // controllers out after the restart.
        let synced = Glibc.fsync(fd) == 0 && StateFile.syncDirectory(of: file)
        let code = errno
        Glibc.close(fd)
        guard written == line.count, synced else {
            unlink(file)
            throw SocketError("write token file \(file)", code: written == line.count ? code : (written < 0 ? code : ENOSPC))
        }
        return (token, file + " (created)")
    }

    /// `count` bytes from the kernel's CSPRNG as hex; throws when it cannot deliver them all
    /// (a token of zeros would be one anyone could guess). `source` is for tests.
    public static func randomHex(bytes count: Int, source: String = "/dev/urandom") throws -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        let fd = Glibc.open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SocketError("open \(source) for a random token") }
        defer { Glibc.close(fd) }
        var filled = 0
        while filled < count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SocketError("read \(source) for a random token", code: n < 0 ? errno : EIO) }
            filled += n
        }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
