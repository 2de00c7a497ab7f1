import Foundation
import Glibc
import MLModel
import MLWire

/// The checks on an artifact path a controller sends (LoadStandby, admin reload), before the
/// node opens anything. The path names a file on the NODE's machine, so it must be absolute (the
/// node's working directory is not the controller's, and a relative path recorded in the state
/// file would break the next start from another directory). With `--model-dir`, it must resolve
/// (symlinks followed) inside that directory, and a path outside is refused before the file
/// system is touched, so a refusal says nothing about files outside: not whether they exist,
/// their size or their first bytes.
public enum ArtifactPath {
    /// The path to open (symlinks resolved), or the refusal.
    public static func check(_ path: String, modelDirectory: String?) -> Result<String, SlotError> {
        if path.hasPrefix(ModelLoader.builtinPrefix) { return .success(path) }
        if path.utf8.contains(0) {
            return .failure(SlotError(.invalidArgument, .pathRefused, "artifact path contains a NUL byte; refused"))
        }
        guard path.hasPrefix("/") else {
            return .failure(SlotError(.invalidArgument, .pathRefused, "artifact path must be absolute (it is opened on the node, whose working directory is not the sender's), got \(path)"))
        }
        guard path.utf8.count < Int(PATH_MAX) else {
            return .failure(SlotError(.invalidArgument, .pathRefused, "artifact path is \(path.utf8.count) bytes, longer than the \(Int(PATH_MAX) - 1)-byte limit"))
        }
        if let modelDirectory, !isInside(lexicallyNormalized(path), modelDirectory) {
            return .failure(outside(modelDirectory))
        }
        guard let resolved = realPath(path) else {
            let code = errno
            switch code {
            case ELOOP: return .failure(SlotError(.invalidArgument, .pathRefused, "artifact \(path): too many levels of symbolic links"))
            case ENAMETOOLONG: return .failure(SlotError(.invalidArgument, .pathRefused, "artifact \(path): a path component is too long"))
            case ENOENT, ENOTDIR: return .failure(SlotError(.notFound, .artifactNotFound, "artifact \(path): no such file"))
            default: return .failure(SlotError(.failedPrecondition, .artifactUnreadable, "artifact \(path): cannot open: \(String(cString: strerror(code)))"))
            }
        }
        if let modelDirectory, !isInside(resolved, realPath(modelDirectory) ?? modelDirectory) {
            return .failure(outside(modelDirectory))
        }
        return sniff(resolved, as: path).map { resolved }
    }

    /// What an artifact that is not one looks like in a refusal: no size, no bytes.
    static func sniff(_ resolved: String, as shown: String) -> Result<Void, SlotError> {
        let fd = Glibc.open(resolved, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            return .failure(code == ENOENT ? SlotError(.notFound, .artifactNotFound, "artifact \(shown): no such file")
                                           : SlotError(.failedPrecondition, .artifactUnreadable, "artifact \(shown): cannot open: \(String(cString: strerror(code)))"))
        }
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            return .failure(SlotError(.invalidArgument, .artifactInvalid, "artifact \(shown): not a regular file"))
        }
        guard info.st_size <= off_t(ArtifactFormat.maxFileSize) else {
            return .failure(SlotError(.invalidArgument, .artifactInvalid, "artifact \(shown): larger than the \(ArtifactFormat.maxFileSize)-byte limit"))
        }
        var magic = [UInt8](repeating: 0, count: ArtifactFormat.magic.count)
        let n = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard n >= 0 else {
            return .failure(SlotError(.failedPrecondition, .artifactUnreadable, "artifact \(shown): cannot read: \(String(cString: strerror(errno)))"))
        }
        guard n == magic.count, magic == ArtifactFormat.magic else {
            return .failure(SlotError(.invalidArgument, .artifactInvalid, "artifact \(shown): not an MLServe artifact"))
        }
        return .success(())
    }

    static func outside(_ directory: String) -> SlotError {
        SlotError(.permissionDenied, .pathOutsideModelDir, "artifact path is outside the model directory \(directory) (--model-dir); refused")
    }

    static func isInside(_ path: String, _ directory: String) -> Bool {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(prefix)
    }

    /// `.` and `..` resolved by name only (no file system access).
    static func lexicallyNormalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
