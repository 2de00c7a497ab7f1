// libFuzzer target for the model-file parsers: the artifact reader (formats 1 and 2) and the
// importers (XGBoost JSON and UBJSON, LightGBM text, the spec JSON). Built by bench/fuzz/run-models
// with swiftc straight from Sources/MLWire, MLModel and MLImport as one module.
//
// The first input byte picks the parser; the rest is the file. For every input it checks, and
// traps on any violation:
//  1. no parser traps, hangs or over-allocates: hostile input is refused with an error;
//  2. an artifact that decodes re-encodes to the same bytes, and its model scores finite rows
//     (and NaN rows when it accepts missing values) to a number in [0, 1];
//  3. a model an importer accepts becomes a valid artifact that round-trips and scores in [0, 1].
// Stdlib only; no Foundation.

private func checkScores(_ model: Model) {
    let width = model.featureCount
    var rows = [Float](repeating: 0, count: 3 * width)
    for i in 0..<width {
        rows[i] = Float.greatestFiniteMagnitude * (i % 2 == 0 ? 1 : -1)
        rows[width + i] = Float(i % 7) - 3
        rows[2 * width + i] = model.acceptsMissing && i % 3 == 0 ? .nan : 0.5
    }
    var scores = [Float](repeating: -1, count: 3)
    rows.withUnsafeBufferPointer { r in scores.withUnsafeMutableBufferPointer { s in
        model.predict(rows: r.baseAddress!, count: 3, scores: s.baseAddress!)
    } }
    for score in scores where !(score >= 0 && score <= 1) { fatalError("score \(score) outside [0, 1]") }
}

private func checkArtifact(_ artifact: Artifact) {
    guard let bytes = try? ArtifactWriter.encode(artifact) else { fatalError("a valid artifact does not encode") }
    guard let (again, _) = try? ArtifactReader.decode(bytes, source: "fuzz"), again == artifact else {
        fatalError("encode → decode is not the identity")
    }
    // Golden rows may legitimately disagree (they are the file's claim); score through make
    // without them.
    var plain = artifact
    plain.goldenRows = nil
    if let model = try? Model.make(artifact: plain, source: "fuzz") { checkScores(model) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 5 {
    case 0:
        if let (artifact, _) = try? ArtifactReader.decode(bytes, source: "fuzz") {
            guard let again = try? ArtifactWriter.encode(artifact), again == bytes else { fatalError("decoded artifact re-encodes differently") }
            checkArtifact(artifact)
        }
    case 1, 2, 3:
        let format: ModelFileFormat = data[0] % 5 == 1 ? .xgboostJSON : (data[0] % 5 == 2 ? .xgboostUBJ : .lightgbm)
        if let imported = try? format.importModel(bytes, source: "fuzz"),
           let outcome = try? ArtifactImporter.build(imported, format: format, reference: nil, modelPath: "fuzz", options: .init()) {
            checkArtifact(outcome.artifact)
        }
    default:
        if let artifact = try? ArtifactSpec.artifact(json: bytes, source: "fuzz") { checkArtifact(artifact) }
    }
    return 0
}
