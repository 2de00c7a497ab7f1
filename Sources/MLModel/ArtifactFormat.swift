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

/// Format-2 limits (ARTIFACT.md §11–§14).
extension ArtifactFormat {
    public static let formatVersion2: UInt16 = 2
    /// Header 152 + digest 32: everything but the body.
    public static var fixedSizeVersion2: Int { headerSize + digestSize }
    public static let maxTrees = 100_000
    public static let maxTreeNodes = 10_000_000
    public static let maxCategoryWords = 10_000_000
    public static let maxPreprocessSteps = 8
    public static let maxFeatureNameBytes = 128
    public static let maxGoldenRows = 64
    public static let maxGoldenTolerance: Float = 0.01
    public static let maxMetadataEntries = 64
    public static let maxMetadataKeyBytes = 64
    public static let maxMetadataValueBytes = 256

    /// Section tags, in the order they must appear.
    enum Section: UInt16, CaseIterable {
        case model = 1
        case preprocessing = 2
        case featureNames = 3
        case referenceHistogram = 4
        case goldenRows = 5
        case metadata = 6
    }

    /// Finite and within float32's range (ARTIFACT.md §9).
    static func isFloat32Finite(_ value: Double) -> Bool {
        value.isFinite && abs(value) <= Double(Float.greatestFiniteMagnitude)
    }
}
