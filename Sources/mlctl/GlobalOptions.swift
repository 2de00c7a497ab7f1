import MLCommandLine
import Foundation
import MLClient
import MLControl

/// The options every command takes: where the nodes are, the token, the database, the format.
struct GlobalOptions {
    static let defaultNode = "127.0.0.1:7070"
    static let tokenVariable = "MLCTL_TOKEN"

    var nodes: [Endpoint]
    /// Whether --node was given (else `nodes` is the default).
    var nodesGiven: Bool
    var token: String?
    var databasePath: String
    var databaseGiven: Bool
    var json: Bool
    var timeout: Double
    /// The name the fleet's lock and desired state are kept under in the database.
    var fleet: String
    /// How far node wall clocks may be from ours (control-request deadlines).
    var clockSkew: Double

    init(_ arguments: inout Arguments) throws {
        let texts = try arguments.values("--node")
        nodesGiven = !texts.isEmpty
        nodes = try (texts.isEmpty ? [Self.defaultNode] : texts).map { text in
            guard let endpoint = Endpoint(text) else { throw Arguments.Failure("--node \(text) is not host:port (numeric IPv4 or localhost)") }
            return endpoint
        }
        let tokenFile = try arguments.value("--token-file")
        let dbPath = try arguments.value("--db")
        databaseGiven = dbPath != nil
        databasePath = dbPath ?? "./mlctl.sqlite"
        json = arguments.flag("--json")
        timeout = try arguments.double("--timeout", default: 5, range: 0.1...300)
        fleet = try arguments.value("--fleet") ?? "default"
        clockSkew = try arguments.double("--clock-skew", default: 0.5, range: 0...60)
        token = try Self.resolveToken(file: tokenFile)
    }

    /// An explicit --token-file wins, then $MLCTL_TOKEN, then ./mlserve.token (the node's
    /// default, so a node and mlctl started in one directory agree with no setup). A missing
    /// default file is not an error here: read-only commands do not need a token.
    static func resolveToken(file: String?) throws -> String? {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                // Nothing was asked of a node: a local failure (exit 6), not a rejected token.
                throw ControlError.local("cannot read token file \(file)")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let value = ProcessInfo.processInfo.environment[tokenVariable], !value.isEmpty { return value }
        return FileManager.default.contents(atPath: "./mlserve.token")
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    var access: NodeAccess { NodeAccess(token: token, timeout: timeout) }

    func openStore() throws -> ControlStore {
        do { return try ControlStore(path: databasePath) } catch {
            throw ControlError.local("cannot open database \(databasePath): \(error)")
        }
    }
}

/// Printing helpers shared by the commands.
enum Output {
    static func json(_ value: Any) {
        let value = jsonSafe(value)
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            print("{}")
            return
        }
        print(String(decoding: data, as: UTF8.self))
    }

    /// NaN and infinities (a ratio with no data) have no JSON form: they print as null.
    static func jsonSafe(_ value: Any) -> Any {
        switch value {
        case let number as Double: return number.isFinite ? number : NSNull()
        case let number as Float: return number.isFinite ? number : NSNull()
        case let dictionary as [String: Any]: return dictionary.mapValues(jsonSafe)
        case let array as [Any]: return array.map(jsonSafe)
        default: return value
        }
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// The worst exit code among failures (codes are ordered by how much the operator must do).
    static func worst(_ codes: [ExitCode]) -> ExitCode {
        codes.max { $0.rawValue < $1.rawValue } ?? .ok
    }
}

/// mlctl's `print`: straight to fd 1, unbuffered, so lines interleave correctly with the
/// notifier's (which writes the same way) when stdout is a pipe or a log file.
func print(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
