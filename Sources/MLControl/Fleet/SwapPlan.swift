import Foundation
import MLWire

/// A slot's identity: what fences compare.
public struct SlotIdentity: Equatable, Sendable, CustomStringConvertible {
    public var version: String
    public var checksum: Digest32

    public init(version: String, checksum: Digest32) {
        self.version = version
        self.checksum = checksum
    }

    public init(_ slot: SlotInfo) { self.init(version: slot.version, checksum: slot.checksum) }

    public var description: String { "\(version) (sha256 \(checksum.hex.prefix(12))…)" }
}

/// What a fenced swap expects and carries.
public struct SwapPlan: Sendable {
    public var expectActive: String
    /// nil: the standby is not fenced (v1 behaviour).
    public var expectStandby: SlotIdentity?
    public var operationID: String
    public var force: Bool

    public init(expectActive: String, expectStandby: SlotIdentity? = nil, operationID: String = "", force: Bool = false) {
        self.expectActive = expectActive
        self.expectStandby = expectStandby
        self.operationID = operationID
        self.force = force
    }
}

/// A swap sent without an answer: when its deadline is, and its DEPLOYMENTS row.
public struct UnknownSwap: Sendable {
    public var deadline: Date
    public var rowID: Int64?
}

public enum SwapAttempt {
    case applied(SwapResult)
    case refused(ControlError)
    case unknown(ControlError, UnknownSwap)
}

public enum SwapResolution {
    /// The node serves the target: the swap applied (or someone made it so).
    case applied(InfoReply)
    /// The deadline has passed and the node does not serve the target: it never will by this request.
    case notApplied(InfoReply)
    /// The node did not answer Info either.
    case unknown(String)
}
