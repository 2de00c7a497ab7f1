/// Why the node cannot start as asked: a local error, which `mlserve` prints before it exits 1.
/// Never sent on the wire: what clients are refused with is `SlotError`, a status and a reason.
public struct StartupError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The state file's newest record is damaged or unreadable: it may be an acknowledged swap.
        case damagedState
        /// The state file exists and cannot be read, or cannot be opened and reserved for writing.
        case stateFileUnusable
        /// --active/--standby given while the state file records the slots.
        case conflictingDefaults
        /// A recorded or default artifact does not load.
        case artifact
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
