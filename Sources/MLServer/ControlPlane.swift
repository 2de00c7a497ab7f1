import MLModel
import MLWire
import Synchronization

/// Everything that is not the prediction path: the slots, the durable state, the controller
/// token and the node-wide answers (Info, Metrics, Health, Ready). Shared by the event loops,
/// the load thread and the admin HTTP server; every method is safe from any thread.
public final class ControlPlane: Sendable {
    public let slots: ModelSlots
    let registry: MetricsRegistry
    let stateFile: StateFile?
    /// nil: no token configured, so no connection can become a controller.
    private let token: [UInt8]?
    private let startedAt = Clock.monotonicNanos()
    private let drainingFlag = Atomic<Bool>(false)
    public let serverName: String

    public init(initial: SlotPair, stateFile: StateFile?, token: String?, serverName: String = "mlserve") {
        slots = ModelSlots(initial)
        registry = MetricsRegistry()
        self.stateFile = stateFile
        self.token = token.map { Array($0.utf8) }
        self.serverName = serverName
        if let active = initial.active { registry.register(active) }
        if let standby = initial.standby { registry.register(standby) }
    }

    /// The slots recorded in `stateFile`, or the defaults when there is none. Refuses to start
    /// on a state whose active artifact cannot be loaded as recorded: serving anything else would
    /// break the promise that the last acknowledged version is the one that serves.
    public static func restore(stateFile: StateFile?, defaultActive: String, defaultStandby: String?) -> Result<SlotPair, SlotError> {
        do {
            if let stateFile, let record = try stateFile.read() {
                func load(_ slot: StateFile.SlotRecord?) -> Result<Model?, SlotError> {
                    guard let slot else { return .success(nil) }
                    let expected = Digest32(hex: slot.checksum) ?? .zero
                    return ModelLoader.load(slot.artifact, expectedChecksum: expected).map { $0 }
                }
                let active = try load(record.active).get()
                let standby = try load(record.standby).get()
                return .success(SlotPair(active: active, standby: standby, generation: record.generation))
            }
            let active = try ModelLoader.load(defaultActive).get()
            let standby = try defaultStandby.map { try ModelLoader.load($0).get() }
            return .success(SlotPair(active: active, standby: standby, generation: 1))
        } catch let error as SlotError {
            return .failure(error)
        } catch {
            return .failure(SlotError(.internal, "\(error)"))
        }
    }

    // MARK: Authentication

    /// Compares in time that depends only on the lengths, never on where the bytes differ.
    public func checkToken(_ presented: String) -> Bool {
        guard let token else { return false }
        let given = Array(presented.utf8)
        var difference = UInt8(truncatingIfNeeded: given.count ^ token.count)
        for i in 0..<max(given.count, token.count) {
            let a = i < given.count ? given[i] : 0
            let b = i < token.count ? token[i] : 0
            difference |= a ^ b
        }
        return difference == 0
    }

    public var hasToken: Bool { token != nil }

    // MARK: Slot changes

    private func persist(_ pair: SlotPair) throws {
        try stateFile?.write(pair)
    }

    /// Reads and verifies the artifact, then puts it in standby. Slow (file I/O, SHA-256): call
    /// it off the event loops. `options` (v2): the deadline is checked before the read and again
    /// under the control lock, when the standby would change; the operation id is recorded.
    public func loadStandby(artifact: String, expectedChecksum: Digest32, options: LoadOptions? = nil) -> Result<LoadStandbyReply, SlotError> {
        let conditions = ControlConditions(deadlineUnixMicros: options?.deadlineUnixMicros ?? 0,
                                           operationID: options?.operationID ?? "",
                                           force: options?.flags.contains(.force) ?? false)
        if let late = conditions.checkDeadline() { return .failure(late) }
        let model: Model
        switch ModelLoader.load(artifact, expectedChecksum: expectedChecksum) {
        case .success(let loaded): model = loaded
        case .failure(let error): return .failure(error)
        }
        registry.register(model)
        return slots.loadStandby(model, conditions: conditions, persist: persist).map { change in
            LoadStandbyReply(generation: change.after.generation, standby: change.after.standby?.slotInfo ?? .empty)
        }
    }

    /// The fenced flip, for both Swap and Rollback. `fence` (v2) adds the standby fence, the
    /// deadline and the operation id, all checked under the control lock.
    public func swap(expectedActive: String?, fence: SwapFence? = nil) -> Result<SwapOutcome, SlotError> {
        let started = Clock.monotonicNanos()
        let conditions = fence.map {
            ControlConditions(expectedStandby: $0.expectedStandby, expectedStandbyChecksum: $0.expectedStandbyChecksum,
                              deadlineUnixMicros: $0.deadlineUnixMicros, operationID: $0.operationID, force: $0.flags.contains(.force))
        } ?? .none
        return slots.swap(expectedActive: expectedActive, conditions: conditions, persist: persist).map { change in
            SwapOutcome(previousVersion: change.before.active?.version ?? "",
                        activeVersion: change.after.active?.version ?? "",
                        generation: change.after.generation,
                        timestampMicros: Clock.wallMicros(),
                        swapNanos: Clock.monotonicNanos() - started)
        }
    }

    // MARK: Node-wide answers

    public var isDraining: Bool { drainingFlag.load(ordering: .acquiring) }

    public func beginDraining() { drainingFlag.store(true, ordering: .releasing) }

    public func health() -> HealthReply {
        HealthReply(serving: true, uptimeMillis: (Clock.monotonicNanos() - startedAt) / 1_000_000)
    }

    public func ready() -> ReadyReply {
        if isDraining { return ReadyReply(ready: false, reason: "draining: shutting down") }
        if slots.current().active == nil { return ReadyReply(ready: false, reason: "no active model loaded") }
        return ReadyReply(ready: true, reason: "")
    }

    /// Both slots; on a v2 connection (`protocolVersion` ≥ 2) with the v2 extension.
    public func info(protocolVersion: UInt8 = 1) -> InfoReply {
        let pair = slots.current()
        let ext = protocolVersion >= 2
            ? InfoExtension(activeSlot: SlotExtension(acceptsMissing: pair.active?.acceptsMissing ?? false),
                            standbySlot: SlotExtension(acceptsMissing: pair.standby?.acceptsMissing ?? false),
                            lastOperationID: pair.operationID,
                            standbyGoldenRowsChecked: UInt16(clamping: pair.standby?.goldenRowsChecked ?? 0))
            : nil
        return InfoReply(generation: pair.generation, ready: ready().ready, draining: isDraining,
                         active: pair.active?.slotInfo ?? .empty, standby: pair.standby?.slotInfo ?? .empty, extension: ext)
    }

    public func metrics() -> MetricsReply {
        let pair = slots.current()
        return MetricsReply(generation: pair.generation,
                            uptimeMillis: (Clock.monotonicNanos() - startedAt) / 1_000_000,
                            timestampMicros: Clock.wallMicros(),
                            activeVersion: pair.active?.version ?? "",
                            versions: registry.snapshot())
    }
}
