import MLWire
import Synchronization

/// An immutable snapshot of both slots. A swap publishes a new pair; readers keep using the pair
/// they hold until they look again, and ARC keeps its models alive until the last user is done.
public final class SlotPair: Sendable {
    public let active: Model?
    public let standby: Model?
    /// Increments on every change of the active model. Never goes back, across restarts too.
    public let generation: UInt64
    /// The operation id of the control change that made this pair ("" when it had none).
    public let operationID: String

    public init(active: Model?, standby: Model?, generation: UInt64, operationID: String = "") {
        self.active = active
        self.standby = standby
        self.generation = generation
        self.operationID = operationID
    }
}

/// Why a slot change was refused: the wire status and reason it is answered with, and a message
/// for people. Nothing changed when one of these is returned.
public typealias SlotError = Refusal<SlotRefusal>

public enum SlotRefusal: DescribedRefusalKind {
    /// A refusal whose reason is not one a caller decides on.
    public static func reason(for status: Status) -> Reason { status == .internal ? .internalBug : .unspecified }
    public static func description(of error: SlotError) -> String { "\(error.status) \(error.reason): \(error.message)" }
}

/// What a control operation changed: the pair before and after.
public struct SlotChange: Sendable {
    public let before: SlotPair
    public let after: SlotPair
}

/// The two warm slots and the fenced swap (DESIGN invariants 1-4).
///
/// Two locks with different jobs: `controlLock` serialises control operations and is held
/// across the durable write that precedes publication; `publishLock` guards only the pointer to
/// the current pair, held for a load or store of it. Prediction threads never touch
/// `controlLock`, so none ever waits on a lock held for I/O.
///
/// Lock order, the only one anywhere: `ControlPlane.loadLock` (loads only) → `controlLock` → the
/// state file's lock (taken only by its write, which runs under `controlLock`) → `publishLock`.
/// Nothing holding `publishLock` takes another lock, and nothing takes `controlLock` while
/// holding `publishLock`.
public final class ModelSlots: Sendable {
    private let controlLock = Lock()
    private let published: Locked<SlotPair>  // publishLock
    private let generationCounter: Atomic<UInt64>

    public init(_ initial: SlotPair) {
        published = Locked(initial)
        generationCounter = Atomic(initial.generation)
    }

    /// The generation of the published pair. Event loops compare it with the generation of the
    /// pair they cached, and call `current()` only when it moved (one relaxed-cost load).
    @inline(__always)
    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// The published pair.
    @inline(__always)
    public func current() -> SlotPair { published.current }

    /// Swap active and standby if the active version is `expectedActive` (nil or empty: unfenced).
    /// `persist` runs with the new pair before it is published; if it throws nothing changes.
    /// When this returns, every request read afterwards by any loop sees the new pair.
    /// `conditions` (v2) are checked first, under the lock: the deadline, then the standby fence.
    public func swap(expectedActive: String?, conditions: ControlConditions = .none,
                     persist: (SlotPair) throws -> Void) -> Result<SlotChange, SlotError> {
        controlLock.withLock {
            if let late = conditions.checkDeadline() { return .failure(late) }
            let before = published.current
            guard let active = before.active else {
                return .failure(SlotError(.failedPrecondition, .noActiveModel, "no active model"))
            }
            if let expected = expectedActive, !expected.isEmpty, expected != active.version {
                return .failure(SlotError(.failedPrecondition, .fenceActiveMismatch,
                    "expected active version \(expected) but active is \(active.version); nothing changed"))
            }
            guard let standby = before.standby else {
                return .failure(SlotError(.failedPrecondition, .standbyEmpty, "standby slot is empty; load a model into it first"))
            }
            if let mismatch = conditions.checkStandby(standby) { return .failure(mismatch) }
            if !conditions.force && !standby.warmth.isWarm {
                return .failure(SlotError(.failedPrecondition, .standbyNotWarm,
                    "standby \(standby.version) is still warming up; retry when Info shows it warm, or force the swap"))
            }
            if standby.version == active.version {
                return .failure(SlotError(.failedPrecondition, .sameVersion,
                    "standby holds \(standby.version), the version already active: a flip would change nothing; nothing changed"))
            }
            let after = SlotPair(active: standby, standby: active, generation: before.generation + 1, operationID: conditions.operationID)
            return commit(before: before, after: after, persist: persist)
        }
    }

    /// Put `model` in the standby slot (replacing what was there) after checking it can take the
    /// active model's place: same feature count, or clients would break on the swap.
    /// The deadline in `conditions` is checked under the lock, after the slow read and verify.
    public func loadStandby(_ model: Model, conditions: ControlConditions = .none,
                            persist: (SlotPair) throws -> Void) -> Result<SlotChange, SlotError> {
        controlLock.withLock {
            if let late = conditions.checkDeadline() { return .failure(late) }
            let before = published.current
            if let active = before.active, active.featureCount != model.featureCount {
                return .failure(SlotError(.failedPrecondition, .shapeMismatch,
                    "\(model.artifact): model \(model.version) takes \(model.featureCount) features but active \(active.version) takes \(active.featureCount); clients would break"))
            }
            // Loading into standby does not change what serves, so the generation stays.
            let after = SlotPair(active: before.active, standby: model, generation: before.generation, operationID: conditions.operationID)
            return commit(before: before, after: after, persist: persist)
        }
    }

    private func commit(before: SlotPair, after: SlotPair, persist: (SlotPair) throws -> Void) -> Result<SlotChange, SlotError> {
        do {
            try persist(after)
        } catch let error as SlotError {
            return .failure(error)  // already says what failed and that nothing changed
        } catch {
            return .failure(SlotError(.unavailable, .stateWriteFailed, "could not persist slot state: \(error); nothing changed"))
        }
        published.withLock { $0 = after }
        // Release ordering: a loop that sees the new generation then reads the new pair.
        generationCounter.store(after.generation, ordering: .releasing)
        return .success(SlotChange(before: before, after: after))
    }
}
