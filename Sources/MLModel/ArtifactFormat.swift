import MLWire

/// Constants of the artifact file format (protocol/ARTIFACT.md is the normative description).
/// Every limit here is checked before anything is allocated from a count read out of a file.
public enum ArtifactFormat {
    /// "MLAF" — MLServe Artifact File.
    public static let magic: [UInt8] = [0x4D, 0x4C, 0x41, 0x46]
    public static let formatVersion: UInt16 = 1

    /// Fixed header: magic 4, format version 2, kind 1, reserved 1, feature count 4, threshold 4,
    /// name length 2, version length 2, parameter bytes 4, name 64, version 64.
    public static let headerSize = 152
    public static let nameField = 64
    public static let versionField = 64
    /// Reference score histogram: ScoreBins.count float32 proportions.
    public static var binsSize: Int { ScoreBins.count * 4 }
    public static let digestSize = 32
    /// Bytes of everything except the parameter section.
    public static var fixedSize: Int { headerSize + binsSize + digestSize }

    // Offsets inside the header.
    static let offsetFormatVersion = 4
    static let offsetKind = 6
    static let offsetReserved = 7
    static let offsetFeatureCount = 8
    static let offsetThreshold = 12
    static let offsetNameLength = 16
    static let offsetVersionLength = 18
    static let offsetParameterBytes = 20
    static let offsetName = 24
    static let offsetVersion = 88

    /// Largest file `Model.load` will read: far above any model this node serves, small enough that
    /// a hostile path (a device, a huge file) cannot exhaust memory.
    public static let maxFileSize = 256 << 20
    public static let maxFeatures = Limits.features
    /// Hidden layers are computed in two stack buffers of this many floats (1 KiB each, the size
    /// `withUnsafeTemporaryAllocation` guarantees to keep on the stack), so this caps their width.
    public static let maxHiddenWidth = 256
    public static let maxLayers = 16
    /// Reference bins must sum to 1 within this tolerance (they are float32 proportions).
    public static let binsSumTolerance: Float = 0.01
}
