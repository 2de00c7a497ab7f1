import MLModel
import MLWire
import Synchronization

/// One SET_SHADOW setting: the rate and the exact pair of loaded models it was set for. It
/// applies only while those two model objects are the active and the standby, so a swap, a load
/// or a restart ends it without anyone having to remember to.
final class ShadowSetting: Sendable {
    let rate: Float
    let session: UInt64
    let active: Model
    let standby: Model

    init(rate: Float, session: UInt64, active: Model, standby: Model) {
        self.rate = rate
        self.session = session
        self.active = active
        self.standby = standby
    }

    func applies(to pair: SlotPair) -> Bool { pair.active === active && pair.standby === standby }
}

/// The node's shadow setting. Loops read it only when `serial` moved (one atomic load after
/// each read, next to the slot generation), never per request.
final class ShadowControl: Sendable {
    private let setting = Locked<ShadowSetting?>(nil)
    /// Moves on every setting, and on every load and swap (which end the setting).
    let serial = Atomic<UInt64>(0)
    /// Sessions start at the wall clock in µs, so a restarted node never reuses one.
    private let nextSession = Atomic<UInt64>(UInt64(max(1, Clock.wallMicros())))

    init() {}

    /// The setting in force for `pair`, if any.
    func current(for pair: SlotPair) -> ShadowSetting? {
        guard let s = setting.current, s.applies(to: pair), s.rate > 0 else { return nil }
        return s
    }

    /// Starts (rate > 0) or stops (rate 0) shadowing of `pair`; returns the session (0: off).
    func set(rate: Float, pair: SlotPair) -> UInt64 {
        var session: UInt64 = 0
        if rate > 0, let active = pair.active, let standby = pair.standby {
            session = nextSession.wrappingAdd(1, ordering: .relaxed).oldValue
            setting.withLock { $0 = ShadowSetting(rate: rate, session: session, active: active, standby: standby) }
        } else {
            setting.withLock { $0 = nil }
        }
        serial.wrappingAdd(1, ordering: .releasing)
        return session
    }

    /// A load or a swap: whatever was shadowed is no longer the pair.
    func end() {
        setting.withLock { $0 = nil }
        serial.wrappingAdd(1, ordering: .releasing)
    }
}
