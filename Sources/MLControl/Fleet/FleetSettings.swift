import Foundation

/// How a fleet operation identifies itself and waits for others.
public struct FleetSettings: Sendable {
    /// The name the lock and the desired state are kept under.
    public var fleet: String
    /// Sent on every control request and shown in each node's Info as its last operation.
    public var operationID: String
    /// How long to wait for another operation's lock before giving up (0: refuse at once).
    public var lockWait: TimeInterval
    /// A lock whose holder has not shown life for this long is taken over.
    public var staleLockAfter: TimeInterval
    /// LOAD: reload even the active artifact; SWAP: swap to a standby that is not warm.
    public var force: Bool
    public var holder: String

    public init(fleet: String = "default", operationID: String = FleetSettings.newOperationID(), lockWait: TimeInterval = 0,
                staleLockAfter: TimeInterval = 120, force: Bool = false, holder: String = FleetSettings.defaultHolder()) {
        self.fleet = fleet
        self.operationID = operationID
        self.lockWait = lockWait
        self.staleLockAfter = staleLockAfter
        self.force = force
        self.holder = holder
    }

    public static func newOperationID() -> String {
        var generator = SystemRandomNumberGenerator()
        let stamp = Int64(Date().timeIntervalSince1970)
        return "op-\(stamp)-\(String(generator.next() as UInt32, radix: 16))"
    }

    public static func defaultHolder() -> String {
        "mlctl pid \(ProcessInfo.processInfo.processIdentifier) on \(ProcessInfo.processInfo.hostName)"
    }
}
