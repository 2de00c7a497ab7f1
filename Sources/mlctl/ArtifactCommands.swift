import MLCommandLine
import Foundation
import MLClient
import MLControl
import MLImport
import MLModel
import MLWire

/// `mlctl artifact create|export|inspect|import`: local files only, no node.
enum ArtifactCommands {
    static func run(_ arguments: inout Arguments) throws -> ExitCode {
        let options = try GlobalOptions(&arguments)
        let sub = arguments.positional()
        if sub == "import" { return try importModel(&arguments) }
        let first = arguments.positional()
        let second = arguments.positional()
        try arguments.finish()
        do {
            switch sub {
            case "create":
                guard let spec = first, let out = second else { throw Arguments.Failure("artifact create needs <spec.json> <out>") }
                let artifact: Artifact
                do { artifact = try ArtifactSpec.load(path: spec) } catch { throw ControlError.local(error.message) }
                try ArtifactWriter.write(artifact, toPath: out)
                return try describe(path: out, json: options.json, verb: "wrote")
            case "export":
                guard let ref = first, let out = second else { throw Arguments.Failure("artifact export needs builtin:<version> <out>") }
                let version = ref.hasPrefix("builtin:") ? String(ref.dropFirst("builtin:".count)) : ref
                guard let bytes = BuiltinModels.artifactBytes(version: version) else {
                    throw ControlError.local("no built-in model \(version); built-ins: \(BuiltinModels.all.joined(separator: ", "))")
                }
                try ArtifactWriter.writeAtomically(bytes, toPath: out)
                return try describe(path: out, json: options.json, verb: "wrote")
            case "inspect":
                guard let path = first, second == nil else { throw Arguments.Failure("artifact inspect needs exactly one <file>") }
                return try describe(path: path, json: options.json, verb: "verified")
            default:
                throw Arguments.Failure("artifact needs create, export, inspect or import")
            }
        } catch let error as ArtifactError {
            throw ControlError.local("\(error)")
        }
    }

    /// `mlctl artifact import MODEL_FILE OUT.mlart [--format F] [--name N] [--version V] [--threshold T]
    /// [--feature-names a,b,...] [--reference-data CSV] [--tolerance X]`.
    static func importModel(_ arguments: inout Arguments) throws -> ExitCode {
        var options = ArtifactImporter.Options()
        if let format = try arguments.value("--format") {
            guard let known = ModelFileFormat(rawValue: format) else {
                throw Arguments.Failure("--format must be one of \(ModelFileFormat.allCases.map(\.rawValue).joined(separator: ", ")), got \(format)")
            }
            options.format = known
        }
        options.name = try arguments.value("--name")
        if let version = try arguments.value("--version") { options.version = version }
        if let text = try arguments.value("--threshold") {
            guard let threshold = Float(text), threshold >= 0, threshold <= 1 else { throw Arguments.Failure("--threshold must be a number in [0, 1], got \(text)") }
            options.threshold = threshold
        }
        if let names = try arguments.value("--feature-names") {
            options.featureNames = names.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        options.referenceData = try arguments.value("--reference-data")
        if let text = try arguments.value("--tolerance") {
            guard let tolerance = Float(text), tolerance > 0, tolerance <= ArtifactFormat.maxGoldenTolerance else {
                throw Arguments.Failure("--tolerance must be in (0, \(ArtifactFormat.maxGoldenTolerance)], got \(text)")
            }
            options.tolerance = tolerance
        }
        let input = arguments.positional(), output = arguments.positional()
        let global = try GlobalOptions(&arguments)
        try arguments.finish()
        guard let input, let output else { throw Arguments.Failure("artifact import needs <model-file> <out.mlart>") }
        do {
            let outcome = try ArtifactImporter.importFile(input, options: options)
            try ArtifactWriter.write(outcome.artifact, toPath: output)
            if !global.json {
                print("imported \(input) (\(outcome.format.rawValue)): \(outcome.artifact.metadata.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
                if outcome.rowsChecked > 0 {
                    print("  checked \(outcome.rowsChecked) reference rows against the library's scores: max |Δp| \(outcome.maxDifference)")
                }
                if outcome.artifact.referenceBins.isEmpty { print("  no --reference-data: no drift reference, no golden rows") }
            }
            return try describe(path: output, json: global.json, verb: "wrote")
        } catch let error as ImportError {
            throw ControlError.local(error.message)
        } catch let error as ArtifactError {
            throw ControlError.local("\(error)")
        }
    }

    static func describe(path: String, json: Bool, verb: String) throws -> ExitCode {
        let bytes = try ArtifactReader.readFile(path: path)
        let (artifact, checksum) = try ArtifactReader.decode(bytes, source: path)
        let fields: [(String, Any)] = [("path", path), ("name", artifact.name), ("version", artifact.version),
                                       ("kind", artifact.kind.name), ("feature_count", artifact.featureCount),
                                       ("threshold", Double(artifact.threshold)), ("bytes", bytes.count), ("sha256", checksum.hex),
                                       ("format_version", Int(bytes[4])), ("accepts_missing", artifact.acceptsMissing),
                                       ("golden_rows", artifact.goldenRows?.count ?? 0), ("drift_reference", !artifact.referenceBins.isEmpty)]
        if json {
            Output.json(Dictionary(uniqueKeysWithValues: fields))
        } else {
            print("\(verb) \(path)")
            for (key, value) in fields.dropFirst() { print("  \(key.padding(toLength: 14, withPad: " ", startingAt: 0)) \(value)") }
            print("  deploy with: mlctl deploy \(ChangeCommands.absolute(path)) --checksum \(checksum.hex)")
        }
        return .ok
    }
}
