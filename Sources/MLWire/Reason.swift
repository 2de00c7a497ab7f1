/// Why a request was refused, in a form a program can decide on: the second half of a refusal
/// next to its `Status` (PROTOCOL.md §6.1). Sent in v2 ERROR frames; the controller, the admin
/// backend and the tests branch on these, never on the message text, which is for people.
///
/// Numbers are grouped by hundreds (framing, handshake, prediction, slot control, artifacts,
/// node). A value this implementation does not know decodes as `.unspecified`: a newer node may
/// add reasons, and the status alone still says what kind of failure it was.
public enum Reason: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case unspecified = 0

    // Framing (the byte stream itself).
    case badMagic = 1
    case badFrameVersion = 2
    case frameTooLarge = 3
    case truncatedFrame = 4
    case reservedBitsSet = 5
    case unknownType = 6
    case notARequest = 7
    case malformedPayload = 8
    case badString = 9
    case idleTimeout = 10

    // Handshake and roles.
    case helloRequired = 100
    case secondHello = 101
    case versionUnsupported = 102
    case tokenRejected = 103
    case roleNotAllowed = 104
    case connectionLimit = 105

    // Predictions and feedback.
    case badShape = 200
    case featureCountMismatch = 201
    case nonFiniteFeature = 202
    case noActiveModel = 203
    case draining = 204
    case modelFailed = 205
    case unknownVersion = 206

    // Slot control: load, swap, rollback, shadow.
    case fenceActiveMismatch = 300
    case standbyEmpty = 301
    case fenceStandbyMismatch = 302
    case standbyNotWarm = 303
    case sameVersion = 304
    case alreadyActive = 305
    case versionChecksumConflict = 306
    case deadlinePassed = 307
    case stateWriteFailed = 308
    case shadowRateOutOfRange = 309

    // Artifacts.
    case artifactNotFound = 400
    case artifactInvalid = 401
    case checksumMismatch = 402
    case shapeMismatch = 403
    case goldenRowMismatch = 404
    case pathRefused = 405
    case pathOutsideModelDir = 406
    case artifactUnreadable = 407

    // The node itself.
    case internalBug = 500

    /// A wire value; unknown numbers become `.unspecified` (forward compatibility, §13).
    public init(wire value: UInt16) {
        self = Reason(rawValue: value) ?? .unspecified
    }

    /// The SCREAMING_SNAKE name used in PROTOCOL.md, admin JSON and logs.
    public var name: String {
        switch self {
        case .unspecified: "UNSPECIFIED"
        case .badMagic: "BAD_MAGIC"
        case .badFrameVersion: "BAD_FRAME_VERSION"
        case .frameTooLarge: "FRAME_TOO_LARGE"
        case .truncatedFrame: "TRUNCATED_FRAME"
        case .reservedBitsSet: "RESERVED_BITS_SET"
        case .unknownType: "UNKNOWN_TYPE"
        case .notARequest: "NOT_A_REQUEST"
        case .malformedPayload: "MALFORMED_PAYLOAD"
        case .badString: "BAD_STRING"
        case .idleTimeout: "IDLE_TIMEOUT"
        case .helloRequired: "HELLO_REQUIRED"
        case .secondHello: "SECOND_HELLO"
        case .versionUnsupported: "VERSION_UNSUPPORTED"
        case .tokenRejected: "TOKEN_REJECTED"
        case .roleNotAllowed: "ROLE_NOT_ALLOWED"
        case .connectionLimit: "CONNECTION_LIMIT"
        case .badShape: "BAD_SHAPE"
        case .featureCountMismatch: "FEATURE_COUNT_MISMATCH"
        case .nonFiniteFeature: "NON_FINITE_FEATURE"
        case .noActiveModel: "NO_ACTIVE_MODEL"
        case .draining: "DRAINING"
        case .modelFailed: "MODEL_FAILED"
        case .unknownVersion: "UNKNOWN_VERSION"
        case .fenceActiveMismatch: "FENCE_ACTIVE_MISMATCH"
        case .standbyEmpty: "STANDBY_EMPTY"
        case .fenceStandbyMismatch: "FENCE_STANDBY_MISMATCH"
        case .standbyNotWarm: "STANDBY_NOT_WARM"
        case .sameVersion: "SAME_VERSION"
        case .alreadyActive: "ALREADY_ACTIVE"
        case .versionChecksumConflict: "VERSION_CHECKSUM_CONFLICT"
        case .deadlinePassed: "DEADLINE_PASSED"
        case .stateWriteFailed: "STATE_WRITE_FAILED"
        case .shadowRateOutOfRange: "SHADOW_RATE_OUT_OF_RANGE"
        case .artifactNotFound: "ARTIFACT_NOT_FOUND"
        case .artifactInvalid: "ARTIFACT_INVALID"
        case .checksumMismatch: "CHECKSUM_MISMATCH"
        case .shapeMismatch: "SHAPE_MISMATCH"
        case .goldenRowMismatch: "GOLDEN_ROW_MISMATCH"
        case .pathRefused: "PATH_REFUSED"
        case .pathOutsideModelDir: "PATH_OUTSIDE_MODEL_DIR"
        case .artifactUnreadable: "ARTIFACT_UNREADABLE"
        case .internalBug: "INTERNAL_BUG"
        }
    }

    public init?(name: String) {
        guard let found = Reason.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }

    public var description: String { name }
}
