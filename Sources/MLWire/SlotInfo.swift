/// Model families an artifact can hold (protocol/ARTIFACT.md).
public enum ModelKind: UInt8, Sendable, CaseIterable {
    case logistic = 1
    case mlp = 2
    /// Artifact format 2 only (ARTIFACT.md §12.3).
    case treeEnsemble = 3

    public var name: String {
        switch self {
        case .logistic: "logistic"
        case .mlp: "mlp"
        case .treeEnsemble: "tree-ensemble"
        }
    }
}

/// What one slot holds (PROTOCOL.md §11.7). An empty slot has `present == false` and zero fields.
public struct SlotInfo: Equatable, Sendable {
    public var present: Bool
    public var modelName: String
    public var version: String
    public var kind: UInt8
    public var featureCount: UInt32
    public var checksum: Digest32
    /// When the artifact was loaded into memory, microseconds since the Unix epoch.
    public var loadedAtMicros: Int64
    public var artifact: String

    public static let empty = SlotInfo(present: false, modelName: "", version: "", kind: 0, featureCount: 0,
                                       checksum: .zero, loadedAtMicros: 0, artifact: "")

    public init(present: Bool, modelName: String, version: String, kind: UInt8, featureCount: UInt32,
                checksum: Digest32, loadedAtMicros: Int64, artifact: String) {
        self.present = present
        self.modelName = modelName
        self.version = version
        self.kind = kind
        self.featureCount = featureCount
        self.checksum = checksum
        self.loadedAtMicros = loadedAtMicros
        self.artifact = artifact
    }

    var size: Int {
        4 + ByteWriter.size(of: modelName) + ByteWriter.size(of: version) + 4 + 32 + 8 + ByteWriter.size(of: artifact)
    }

    func write(to w: inout ByteWriter) {
        w.write(UInt8(present ? 1 : 0))
        w.write(kind)
        w.write(UInt16(0))
        w.write(string: modelName)
        w.write(string: version)
        w.write(featureCount)
        w.write(digest: checksum)
        w.write(loadedAtMicros)
        w.write(string: artifact)
    }

    init(from r: inout ByteReader) throws(WireError) {
        present = try r.readUInt8("present") != 0
        kind = try r.readUInt8("kind")
        try r.readReserved(2)
        modelName = try r.readString("model_name", limit: Limits.name)
        version = try r.readString("version", limit: Limits.version)
        featureCount = try r.readUInt32("feature count")
        checksum = try r.readDigest()
        loadedAtMicros = try r.readInt64("loaded at")
        artifact = try r.readString("artifact", limit: Limits.artifact)
    }
}

/// The v2 per-slot fields of INFO_REPLY (PROTOCOL.md §11.7).
public struct SlotExtension: Equatable, Sendable {
    /// 0 empty, 1 warming, 2 warm.
    public var warmState: UInt8
    public var acceptsMissing: Bool

    public init(warmState: UInt8 = 0, acceptsMissing: Bool = false) {
        self.warmState = warmState
        self.acceptsMissing = acceptsMissing
    }

    static let size = 4

    func write(to w: inout ByteWriter) {
        w.write(warmState)
        w.write(UInt8(acceptsMissing ? 1 : 0))
        w.write(UInt16(0))
    }

    init(from r: inout ByteReader) throws(WireError) {
        warmState = try r.readUInt8("warm_state")
        acceptsMissing = try r.readUInt8("accepts_missing") != 0
        try r.readReserved(2)
    }
}

/// Everything INFO_REPLY appends in protocol v2, with zero defaults so each owner fills only its
/// own values: per slot (active, then standby) warmth and missing-value support, then the
/// node-wide operation id of the last control change, shadow rate and golden rows checked.
public struct InfoExtension: Equatable, Sendable {
    public var activeSlot: SlotExtension
    public var standbySlot: SlotExtension
    /// The operation id carried by the last LOAD_STANDBY / SWAP / ROLLBACK that changed the
    /// slots (empty: none, or a change without one).
    public var lastOperationID: String
    public var shadowRate: Float
    public var standbyGoldenRowsChecked: UInt16

    public init(activeSlot: SlotExtension = SlotExtension(), standbySlot: SlotExtension = SlotExtension(),
                lastOperationID: String = "", shadowRate: Float = 0, standbyGoldenRowsChecked: UInt16 = 0) {
        self.activeSlot = activeSlot
        self.standbySlot = standbySlot
        self.lastOperationID = lastOperationID
        self.shadowRate = shadowRate
        self.standbyGoldenRowsChecked = standbyGoldenRowsChecked
    }

    var size: Int { 2 * SlotExtension.size + ByteWriter.size(of: lastOperationID) + 4 + 2 }

    func write(to w: inout ByteWriter) {
        activeSlot.write(to: &w)
        standbySlot.write(to: &w)
        w.write(string: lastOperationID)
        w.write(shadowRate)
        w.write(standbyGoldenRowsChecked)
    }

    init(from r: inout ByteReader) throws(WireError) {
        activeSlot = try SlotExtension(from: &r)
        standbySlot = try SlotExtension(from: &r)
        lastOperationID = try r.readString("last_operation_id", limit: Limits.operationID)
        shadowRate = try r.readFloat("shadow_rate")
        standbyGoldenRowsChecked = try r.readUInt16("standby_golden_rows_checked")
    }
}

/// Answer to Info: both slots and the generation (PROTOCOL.md §11.7). `extension` nil is the v1
/// layout; a v2 connection always gets one.
public struct InfoReply: WireMessage {
    public static let messageType = MessageType.infoReply

    public var generation: UInt64
    public var ready: Bool
    public var draining: Bool
    public var active: SlotInfo
    public var standby: SlotInfo
    public var `extension`: InfoExtension?

    public init(generation: UInt64, ready: Bool, draining: Bool, active: SlotInfo, standby: SlotInfo, extension: InfoExtension? = nil) {
        self.generation = generation
        self.ready = ready
        self.draining = draining
        self.active = active
        self.standby = standby
        self.extension = `extension`
    }

    /// The operation id of the node's last control change; nil from a v1 node.
    public var lastOperationID: String? { `extension`?.lastOperationID }

    public var payloadSize: Int { 12 + active.size + standby.size + (`extension`?.size ?? 0) }

    public func write(to w: inout ByteWriter) {
        w.write(generation)
        w.write(UInt8(ready ? 1 : 0))
        w.write(UInt8(draining ? 1 : 0))
        w.write(UInt16(0))
        active.write(to: &w)
        standby.write(to: &w)
        `extension`?.write(to: &w)
    }

    public init(from r: inout ByteReader) throws(WireError) {
        generation = try r.readUInt64("generation")
        ready = try r.readUInt8("ready") != 0
        draining = try r.readUInt8("draining") != 0
        try r.readReserved(2)
        active = try SlotInfo(from: &r)
        standby = try SlotInfo(from: &r)
        `extension` = r.version >= 2 ? try InfoExtension(from: &r) : nil
    }
}
