import MLModel

/// What an importer reads out of a library's model file, before the artifact's identity,
/// threshold and reference data are added.
public struct ImportedModel: Sendable {
    public var featureCount: Int
    public var ensemble: TreeEnsemble
    /// The library's feature names, or empty.
    public var featureNames: [String]
    /// Library, version, objective, trees used, best iteration: recorded in the artifact.
    public var metadata: [MetadataEntry]

    public init(featureCount: Int, ensemble: TreeEnsemble, featureNames: [String], metadata: [MetadataEntry]) {
        self.featureCount = featureCount
        self.ensemble = ensemble
        self.featureNames = featureNames
        self.metadata = metadata
    }
}
