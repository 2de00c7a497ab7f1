import MLCommandLine
import Foundation
import MLClient
import MLControl

/// `mlctl ops kubernetes` and `mlctl ops prometheus-rules`: what an operator deploys, generated
/// from the defaults mlserve and mlctl use (MLWire.NodeDefaults), so there is no second copy to drift.
enum OpsCommands {
    static func run(_ arguments: inout Arguments) throws -> ExitCode {
        guard let what = arguments.positional() else { throw Arguments.Failure("ops needs kubernetes or prometheus-rules") }
        switch what {
        case "kubernetes": return try kubernetes(&arguments)
        case "prometheus-rules": return try prometheusRules(&arguments)
        default: throw Arguments.Failure("unknown ops subcommand \(what) (kubernetes, prometheus-rules)")
        }
    }

    static func kubernetes(_ arguments: inout Arguments) throws -> ExitCode {
        var manifests = KubernetesManifests()
        manifests.image = try arguments.value("--image") ?? manifests.image
        manifests.replicas = try arguments.integer("--replicas", default: manifests.replicas, range: 1...1000)
        manifests.namespace = try name(arguments.value("--namespace"), "--namespace") ?? manifests.namespace
        manifests.name = try name(arguments.value("--name"), "--name") ?? manifests.name
        manifests.secret = try name(arguments.value("--secret"), "--secret") ?? manifests.secret
        manifests.cpu = try arguments.value("--cpu") ?? manifests.cpu
        manifests.memory = try arguments.value("--memory") ?? manifests.memory
        manifests.stateSize = try arguments.value("--state-size") ?? manifests.stateSize
        try arguments.finish()
        guard !manifests.image.isEmpty, !manifests.image.contains(where: \.isWhitespace) else { throw Arguments.Failure("--image must be an image reference") }
        print(manifests.yaml, terminator: "")
        return .ok
    }

    /// Kubernetes object names: DNS labels (RFC 1123), which also keeps them safe in the YAML.
    static func name(_ text: String?, _ option: String) throws -> String? {
        guard let text else { return nil }
        let allowed = text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard !text.isEmpty, text.count <= 63, allowed, !text.hasPrefix("-"), !text.hasSuffix("-") else {
            throw Arguments.Failure("\(option) \(text) is not a DNS label (lower-case letters, digits, '-', at most 63)")
        }
        return text
    }

    static func prometheusRules(_ arguments: inout Arguments) throws -> ExitCode {
        let policyPath = try arguments.value("--policy")
        let tests = arguments.flag("--tests")
        let job = try arguments.value("--job") ?? "mlserve"
        let output = try arguments.value("-o", "--output")
        try arguments.finish()
        guard !job.isEmpty, job.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0) }) else {
            throw Arguments.Failure("--job \(job): letters, digits, '_', '-' and '.' only")
        }
        var policy = RunbookPolicy()
        if let policyPath { policy = try RunbookPolicy.load(path: policyPath) }
        try policy.validate()
        let rules = PrometheusRules(policy: policy, job: job)
        guard let output else {
            print(tests ? rules.tests() : rules.rules, terminator: "")
            return .ok
        }
        // -o FILE writes the rules there and, with --tests, the tests beside it naming that file.
        let url = URL(fileURLWithPath: output)
        do {
            try rules.rules.write(to: url, atomically: true, encoding: .utf8)
            if tests {
                let testURL = url.deletingPathExtension().appendingPathExtension("test.yml")
                try rules.tests(rulesFile: url.lastPathComponent).write(to: testURL, atomically: true, encoding: .utf8)
                print("wrote \(url.path) and \(testURL.path) (promtool test rules \(testURL.path))")
            } else {
                print("wrote \(url.path)")
            }
        } catch {
            throw ControlError.local("cannot write \(output): \(error.localizedDescription)")
        }
        return .ok
    }
}

func print(_ text: String, terminator: String) {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}
