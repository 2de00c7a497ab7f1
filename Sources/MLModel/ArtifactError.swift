import Glibc
import MLWire

/// Why an artifact was refused (or could not be written). `status` is what a LoadStandby reply
/// carries; `message` names the file and the problem, so an operator can act on it as is.
public typealias ArtifactError = Refusal<ArtifactRefusal>

public enum ArtifactRefusal: DescribedRefusalKind {
    /// The reason that goes with each status an artifact can be refused with.
    public static func reason(for status: Status) -> Reason {
        switch status {
        case .notFound: .artifactNotFound
        case .dataLoss: .checksumMismatch
        case .invalidArgument: .artifactInvalid
        case .failedPrecondition: .artifactUnreadable
        default: .internalBug
        }
    }

    public static func description(of error: ArtifactError) -> String { "\(error.status.name): \(error.message)" }
}

extension ArtifactError {
    static func invalid(_ source: String, _ problem: String) -> ArtifactError {
        ArtifactError(.invalidArgument, "artifact \(source): \(problem)")
    }

    static func corrupt(_ source: String, _ problem: String) -> ArtifactError {
        ArtifactError(.dataLoss, "artifact \(source): \(problem)")
    }

    /// Maps a failed open/read/write. ENOENT is the only NOT_FOUND; a permission problem is one the
    /// operator can fix (FAILED_PRECONDITION); anything else is unexpected (INTERNAL).
    static func system(_ source: String, _ action: String, errno code: Int32) -> ArtifactError {
        let reason = String(cString: strerror(code))
        let status: Status
        switch code {
        case ENOENT, ENOTDIR: status = .notFound
        case EACCES, EPERM, EROFS: status = .failedPrecondition
        case EISDIR: status = .invalidArgument
        default: status = .internal
        }
        return ArtifactError(status, "artifact \(source): cannot \(action): \(reason)")
    }
}
