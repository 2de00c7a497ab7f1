import Glibc
import MLWire

/// What a v2 control request adds to the active-version fence, checked by `ModelSlots` under its
/// control lock — at the moment the change would apply, so a request that waited (a frozen node,
/// a slow load) cannot apply after its deadline, and a standby replaced meanwhile is not swapped in.
public struct ControlConditions: Sendable {
    /// Empty: the standby's version is not fenced.
    public var expectedStandby: String
    /// Zero: the standby's checksum is not fenced.
    public var expectedStandbyChecksum: Digest32
    /// Wall-clock microseconds since the Unix epoch; 0 = no deadline.
    public var deadlineUnixMicros: Int64
    /// Recorded in the published pair (Info's `last_operation_id`) when the change applies.
    public var operationID: String
    /// LOAD: allow reloading the active artifact. SWAP: allow a standby that is not warm.
    public var force: Bool
    /// The wall clock, microseconds since the Unix epoch (injected so tests can move it).
    public var now: @Sendable () -> Int64

    public init(expectedStandby: String = "", expectedStandbyChecksum: Digest32 = .zero, deadlineUnixMicros: Int64 = 0,
                operationID: String = "", force: Bool = false, now: @escaping @Sendable () -> Int64 = ControlConditions.wallMicros) {
        self.expectedStandby = expectedStandby
        self.expectedStandbyChecksum = expectedStandbyChecksum
        self.deadlineUnixMicros = deadlineUnixMicros
        self.operationID = operationID
        self.force = force
        self.now = now
    }

    public static let none = ControlConditions()

    @Sendable public static func wallMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }

    /// DEADLINE_EXCEEDED when the deadline has passed: nothing may change.
    public func checkDeadline() -> SlotError? {
        guard deadlineUnixMicros != 0 else { return nil }
        let now = now()
        guard now > deadlineUnixMicros else { return nil }
        return SlotError(.deadlineExceeded, .deadlinePassed,
                         "the request's deadline passed \(now - deadlineUnixMicros) µs ago (node wall clock); nothing changed")
    }

    /// FAILED_PRECONDITION when the standby is not the one the caller expects.
    func checkStandby(_ standby: Model) -> SlotError? {
        if !expectedStandby.isEmpty && expectedStandby != standby.version {
            return SlotError(.failedPrecondition, .fenceStandbyMismatch,
                             "expected standby version \(expectedStandby) but standby is \(standby.version); nothing changed")
        }
        if !expectedStandbyChecksum.isZero && expectedStandbyChecksum != standby.checksum {
            return SlotError(.failedPrecondition, .fenceStandbyMismatch,
                             "expected standby \(standby.version) with sha256 \(expectedStandbyChecksum.hex) but it has \(standby.checksum.hex); nothing changed")
        }
        return nil
    }
}
