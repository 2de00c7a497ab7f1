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
    /// nil: no labeller token, so only controllers may send LABEL.
    private let labellerToken: [UInt8]?
    private let startedAt = Clock.monotonicNanos()
    private let drainingFlag = Atomic<Bool>(false)
    public let serverName: String
    /// Warm-up predictions after each load (`--warmup-rows`), after the golden rows.
    public let warmupRows: Int
    let shadowRegistry = ShadowRegistry()
    let shadow = ShadowControl()
    /// `--model-dir`: artifacts a controller loads must resolve inside it. nil: any absolute path.
    public let modelDirectory: String?
    /// What recovering the state file took at start (nil when clean), shown in `/model/info`.
    public let stateRecovery: String?
    /// Each version label seen on this node and the one checksum it stands for: two different
    /// artifacts under one label would merge their metrics and make fences ambiguous.
    private let versionChecksums = Locked<[String: Digest32]>([:])
    /// Serialises loads (RPC and admin) so a label's binding is checked and made in one step.
    private let loadLock = Lock()

    public init(initial: SlotPair, stateFile: StateFile?, token: String?, labellerToken: String? = nil, serverName: String = "mlserve",
                modelDirectory: String? = nil, stateRecovery: String? = nil, warmupRows: Int = WarmUp.defaultRows) {
        self.labellerToken = labellerToken.map { Array($0.utf8) }
        slots = ModelSlots(initial)
        registry = MetricsRegistry()
        self.stateFile = stateFile
        self.token = token.map { Array($0.utf8) }
        self.serverName = serverName
        self.warmupRows = warmupRows
        self.modelDirectory = modelDirectory
        self.stateRecovery = stateRecovery
        // Before the first request: the restored models warm up here, on the starting thread.
        for model in [initial.active, initial.standby].compactMap({ $0 }) {
            registry.register(model)
            versionChecksums.withLock { $0[model.version] = model.checksum }
            if !model.warmth.isWarm { WarmUp.run(model, golden: WarmUp.goldenRows(of: model), rows: warmupRows) }
        }
    }

    /// What the node starts serving, and what recovering the state file took (nil when clean).
    public struct Restored: Sendable {
        public let pair: SlotPair
        public let recovery: String?
    }

    /// The slots recorded in `stateFile`, or the defaults when there is none. Refuses to start
    /// on a state whose active artifact cannot be loaded as recorded, on a damaged state file
    /// unless `recovery` says how to proceed, and on defaults given explicitly (`defaultsGiven`)
    /// while a state file records slots: serving anything else would break the promise that the
    /// last acknowledged version is the one that serves.
    public static func restoreState(stateFile: StateFile?, defaultActive: String, defaultStandby: String?,
                                    recovery: StateFile.Recovery = .refuse, defaultsGiven: Bool = false) -> Result<Restored, StartupError> {
        func load(_ artifact: String, expectedChecksum: Digest32 = .zero) throws(StartupError) -> Model {
            switch ModelLoader.load(artifact, expectedChecksum: expectedChecksum) {
            case .success(let model): return model
            case .failure(let error): throw StartupError(.artifact, error.message)
            }
        }
        do throws(StartupError) {
            let loaded = try stateFile?.load(recovery: recovery)
            if let stateFile, let record = loaded?.record {
                if defaultsGiven {
                    throw StartupError(.conflictingDefaults,
                        "--active/--standby were given but state file \(stateFile.path) records the slots (active \(record.active?.version ?? "none"), generation \(record.generation)); they apply only to a node without state. Drop them to restore the recorded slots, or pass --recover-state defaults to start from them (generations continue above \(record.generation))")
                }
                func recorded(_ slot: StateFile.SlotRecord?) throws(StartupError) -> Model? {
                    guard let slot else { return nil }
                    return try load(slot.artifact, expectedChecksum: Digest32(hex: slot.checksum) ?? .zero)
                }
                return .success(Restored(pair: SlotPair(active: try recorded(record.active), standby: try recorded(record.standby),
                                                        generation: record.generation),
                                         recovery: loaded?.recovery))
            }
            let active = try load(defaultActive)
            let standby = try defaultStandby.map { name throws(StartupError) in try load(name) }
            let generation = (loaded?.generationFloor ?? 0) + 1
            return .success(Restored(pair: SlotPair(active: active, standby: standby, generation: generation), recovery: loaded?.recovery))
        } catch {
            return .failure(error)
        }
    }

    /// `restoreState` without the recovery note, strict about damage.
    public static func restore(stateFile: StateFile?, defaultActive: String, defaultStandby: String?) -> Result<SlotPair, StartupError> {
        restoreState(stateFile: stateFile, defaultActive: defaultActive, defaultStandby: defaultStandby).map(\.pair)
    }

    // MARK: Authentication

    /// Compares in time that depends only on the lengths, never on where the bytes differ.
    public func checkToken(_ presented: String) -> Bool {
        Self.matches(presented, token)
    }

    /// The labeller's token, compared the same way.
    public func checkLabellerToken(_ presented: String) -> Bool {
        Self.matches(presented, labellerToken)
    }

    public var hasLabellerToken: Bool { labellerToken != nil }

    private static func matches(_ presented: String, _ token: [UInt8]?) -> Bool {
        guard let token else { return false }
        return ControlPlane.constantTimeEqual(Array(presented.utf8), token)
    }

    /// Equal bytes and equal lengths, in time independent of where they differ. The length
    /// difference is kept whole: folding it into a byte would let lengths that differ by a
    /// multiple of 256 (padded with NULs) compare equal.
    public static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt(bitPattern: given.count ^ expected.count)
        for i in 0..<max(given.count, expected.count) {
            let a = i < given.count ? given[i] : 0
            let b = i < expected.count ? expected[i] : 0
            difference |= UInt(a ^ b)
        }
        return difference == 0
    }

    public var hasToken: Bool { token != nil }

    // MARK: Slot changes

    private func persist(_ pair: SlotPair) throws(SlotError) {
        try stateFile?.write(pair)
    }

    /// Reads and verifies the artifact, then puts it in standby. Slow (file I/O, SHA-256): call
    /// it off the event loops. `options` (v2): the deadline is checked before the read and again
    /// under the control lock, when the standby would change; the operation id is recorded; the
    /// force flag allows loading the version that is active (which makes the next rollback land
    /// on the same model). `actor` names who asked, for the log.
    public func loadStandby(artifact: String, expectedChecksum: Digest32, options: LoadOptions? = nil,
                            actor: String = "unknown") -> Result<LoadStandbyReply, SlotError> {
        let started = Clock.monotonicNanos()
        let result = loadLock.withLock { loadChecked(artifact: artifact, expectedChecksum: expectedChecksum, options: options) }
        let micros = String((Clock.monotonicNanos() - started) / 1000)
        switch result {
        case .success(let reply):
            NodeLog.event("load", [("actor", actor), ("result", "ok"), ("artifact", artifact), ("version", reply.standby.version),
                                   ("checksum", reply.standby.checksum.hex), ("us", micros)])
        case .failure(let error):
            NodeLog.event("load", level: "warn", [("actor", actor), ("result", "refused"), ("status", error.status.name),
                                                  ("reason", error.reason.name), ("artifact", artifact), ("message", error.message), ("us", micros)])
        }
        return result
    }

    private func loadChecked(artifact: String, expectedChecksum: Digest32, options: LoadOptions?) -> Result<LoadStandbyReply, SlotError> {
        let conditions = ControlConditions(deadlineUnixMicros: options?.deadlineUnixMicros ?? 0,
                                           operationID: options?.operationID ?? "",
                                           force: options?.flags.contains(.force) ?? false)
        if let late = conditions.checkDeadline() { return .failure(late) }
        let path: String
        switch ArtifactPath.check(artifact, modelDirectory: modelDirectory) {
        case .success(let resolved): path = resolved
        case .failure(let error): return .failure(error)
        }
        let model: Model
        switch ModelLoader.load(path, expectedChecksum: expectedChecksum) {
        case .success(let loaded): model = loaded
        case .failure(let error): return .failure(error)
        }
        if let bound = versionChecksums.withLock({ $0[model.version] }), bound != model.checksum {
            return .failure(SlotError(.failedPrecondition, .versionChecksumConflict,
                "version \(model.version) is already bound on this node to checksum \(bound.hex); \(artifact) has \(model.checksum.hex). Give the new artifact its own version label"))
        }
        let before = slots.current()
        if !conditions.force, let active = before.active, active.version == model.version {
            return .failure(SlotError(.failedPrecondition, .alreadyActive,
                "version \(model.version) is the active model; loading it into standby would make the next rollback land on the same model (force to do it anyway); nothing changed"))
        }
        let candidate = SlotPair(active: before.active, standby: model, generation: before.generation)
        guard StateFile.fits(candidate) else {
            return .failure(SlotError(.invalidArgument, .pathRefused,
                "the slot state with artifact path \(artifact) does not fit the state file's \(StateFile.regionSize)-byte record; use a shorter path; nothing changed"))
        }
        registry.register(model)
        let result = slots.loadStandby(model, conditions: conditions, persist: persist).map { change in
            versionChecksums.withLock { $0[model.version] = model.checksum }
            return LoadStandbyReply(generation: change.after.generation, standby: change.after.standby?.slotInfo ?? .empty)
        }
        guard case .success = result else { return result }
        // A new standby ends any shadowing; it is `warming` (Info) until its warm-up is done.
        shadow.end()
        WarmUp.run(model, golden: WarmUp.goldenRows(of: model), rows: warmupRows)
        return result
    }

    /// The fenced flip, for both Swap and Rollback. `fence` (v2) adds the standby fence, the
    /// deadline and the operation id, all checked under the control lock.
    public func swap(expectedActive: String?, fence: SwapFence? = nil, actor: String = "unknown") -> Result<SwapOutcome, SlotError> {
        let started = Clock.monotonicNanos()
        let conditions = fence.map {
            ControlConditions(expectedStandby: $0.expectedStandby, expectedStandbyChecksum: $0.expectedStandbyChecksum,
                              deadlineUnixMicros: $0.deadlineUnixMicros, operationID: $0.operationID, force: $0.flags.contains(.force))
        } ?? .none
        let result = slots.swap(expectedActive: expectedActive, conditions: conditions, persist: persist).map { change in
            SwapOutcome(previousVersion: change.before.active?.version ?? "",
                        activeVersion: change.after.active?.version ?? "",
                        generation: change.after.generation,
                        timestampMicros: Clock.wallMicros(),
                        swapNanos: Clock.monotonicNanos() - started)
        }
        // A flip changes the pair being compared: the shadow window ends with it.
        if case .success = result { shadow.end() }
        let micros = String((Clock.monotonicNanos() - started) / 1000)
        switch result {
        case .success(let outcome):
            NodeLog.event("swap", [("actor", actor), ("result", "ok"), ("from", outcome.previousVersion), ("to", outcome.activeVersion),
                                   ("generation", String(outcome.generation)), ("us", micros)])
        case .failure(let error):
            NodeLog.event("swap", level: "warn", [("actor", actor), ("result", "refused"), ("status", error.status.name),
                                                  ("reason", error.reason.name), ("expected", expectedActive ?? ""), ("message", error.message), ("us", micros)])
        }
        return result
    }

    // MARK: Shadow scoring

    /// SET_SHADOW: the standby also scores `rate` of the rows the active answers, until the rate
    /// is set to 0 or the pair changes (swap, load, restart).
    public func setShadow(rate: Float, expectedStandby: String) -> Result<SetShadowReply, SlotError> {
        guard rate.isFinite, rate >= 0, rate <= 1 else {
            return .failure(SlotError(.invalidArgument, .shadowRateOutOfRange, "shadow rate must be between 0 and 1, got \(rate)"))
        }
        let pair = slots.current()
        if rate > 0 {
            guard pair.active != nil else { return .failure(SlotError(.unavailable, .noActiveModel, "no active model")) }
            guard let standby = pair.standby else {
                return .failure(SlotError(.failedPrecondition, .standbyEmpty, "standby slot is empty; nothing to shadow"))
            }
            if !expectedStandby.isEmpty && standby.version != expectedStandby {
                return .failure(SlotError(.failedPrecondition, .fenceStandbyMismatch,
                    "expected standby version \(expectedStandby) but standby is \(standby.version); nothing changed"))
            }
            guard standby.warmth.isWarm else {
                return .failure(SlotError(.failedPrecondition, .standbyNotWarm, "standby \(standby.version) is still warming up"))
            }
        }
        let session = shadow.set(rate: rate, pair: pair)
        return .success(SetShadowReply(rate: session == 0 ? 0 : rate, session: session, generation: pair.generation,
                                       activeVersion: session == 0 ? "" : pair.active?.version ?? "",
                                       standbyVersion: session == 0 ? "" : pair.standby?.version ?? ""))
    }

    /// The shadow block of Metrics v2: the setting in force and every pair's counters.
    public func shadowStatus() -> ShadowStatus {
        let pair = slots.current()
        let setting = shadow.current(for: pair)
        return ShadowStatus(rate: setting?.rate ?? 0, session: setting?.session ?? 0,
                            activeVersion: setting?.active.version ?? "", standbyVersion: setting?.standby.version ?? "",
                            pairs: shadowRegistry.snapshot())
    }

    /// The shadow rate in force now (Info v2).
    public var shadowRate: Float { shadow.current(for: slots.current())?.rate ?? 0 }

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
        func slot(_ model: Model?) -> SlotExtension {
            SlotExtension(warmState: model.map { $0.warmth.phase.rawValue } ?? 0, acceptsMissing: model?.acceptsMissing ?? false)
        }
        let ext = protocolVersion >= 2
            ? InfoExtension(activeSlot: slot(pair.active), standbySlot: slot(pair.standby),
                            lastOperationID: pair.operationID,
                            shadowRate: shadow.current(for: pair)?.rate ?? 0,
                            standbyGoldenRowsChecked: UInt16(clamping: pair.standby?.goldenRowsChecked ?? 0))
            : nil
        return InfoReply(generation: pair.generation, ready: ready().ready, draining: isDraining,
                         active: pair.active?.slotInfo ?? .empty, standby: pair.standby?.slotInfo ?? .empty, extension: ext)
    }

    /// Client errors per version and status, for `/metrics`' `mlserve_client_errors_total`.
    public func clientErrorsByStatus() -> [(version: String, status: Status, count: UInt64)] {
        registry.clientErrorsByStatus()
    }

    public func metrics() -> MetricsReply {
        let pair = slots.current()
        var reply = MetricsReply(generation: pair.generation,
                                 uptimeMillis: (Clock.monotonicNanos() - startedAt) / 1_000_000,
                                 timestampMicros: Clock.wallMicros(),
                                 activeVersion: pair.active?.version ?? "",
                                 versions: registry.snapshot())
        reply.shadow = shadowStatus()
        return reply
    }
}
