import MLCommandLine
import Foundation
import MLClient
import MLControl
import MLModel
import MLWire

/// `mlctl artifact create|export|inspect`: local files only, no node.
enum ArtifactCommands {
    static func run(_ arguments: inout Arguments) throws -> ExitCode {
        let sub = arguments.positional()
        let first = arguments.positional()
        let second = arguments.positional()
        let options = try GlobalOptions(&arguments)
        try arguments.finish()
        do {
            switch sub {
            case "create":
                guard let spec = first, let out = second else { throw Arguments.Failure("artifact create needs <spec.json> <out>") }
                let bytes = try ArtifactSpec.load(path: spec).makeArtifactBytes(source: spec)
                try ArtifactWriter.writeAtomically(bytes, toPath: out)
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
                throw Arguments.Failure("artifact needs create, export or inspect")
            }
        } catch let error as ArtifactError {
            throw ControlError.local("\(error)")
        }
    }

    static func describe(path: String, json: Bool, verb: String) throws -> ExitCode {
        let bytes = try ArtifactReader.readFile(path: path)
        let (artifact, checksum) = try ArtifactReader.decode(bytes, source: path)
        let fields: [(String, Any)] = [("path", path), ("name", artifact.name), ("version", artifact.version),
                                       ("kind", artifact.kind.name), ("feature_count", artifact.featureCount),
                                       ("threshold", Double(artifact.threshold)), ("bytes", bytes.count), ("sha256", checksum.hex)]
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
