import Foundation
import MLClient
import MLModel
import MLServer
import MLWire
import XCTest

/// A real node on 127.0.0.1, on a port the kernel picks, with the built-in demo models.
final class TestNode {
    static let token = "test-token-0123456789"
    static let labellerToken = "labeller-token-0123456789"

    let server: Server
    let control: ControlPlane
    let port: UInt16
    let directory: URL

    init(loops: Int = 2, maxConnections: Int = 10_000, controllerReserve: Int = 0, maxPayload: Int = FrameParser.defaultMaxPayload,
         active: String = "builtin:v2.0", standby: String? = "builtin:v2.1", persist: Bool = false,
         predictionWindowEntries: Int = 4_096, predictionWindowSeconds: Double = 3_600,
         warmupRows: Int = WarmUp.defaultRows) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlserve-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stateFile = persist ? StateFile(path: directory.appendingPathComponent("mlserve.state").path, fsync: false) : nil
        let initial = try ControlPlane.restore(stateFile: stateFile, defaultActive: active, defaultStandby: standby).get()
        control = ControlPlane(initial: initial, stateFile: stateFile, token: TestNode.token, labellerToken: TestNode.labellerToken,
                               warmupRows: warmupRows)
        var config = ServerConfig()
        config.port = 0
        config.loops = loops
        config.maxConnections = maxConnections
        config.controllerReserve = controllerReserve
        config.maxPayload = maxPayload
        config.predictionWindowEntries = predictionWindowEntries
        config.predictionWindowSeconds = predictionWindowSeconds
        server = Server(config: config, control: control)
        port = try server.start()
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    func client(role: ConnectionRole? = .data) throws -> NodeClient {
        let client = try NodeClient(endpoint, timeout: 10)
        if let role {
            try client.hello(role: role, token: role == .controller ? TestNode.token : role == .labeller ? TestNode.labellerToken : "")
        }
        return client
    }

    func controller() throws -> NodeClient { try client(role: .controller) }

    func stop() {
        server.shutdown()
        server.waitUntilStopped()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `bytes` as an artifact file in this node's directory.
    func writeFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }
}

/// Deterministic demo feature rows.
func demoRows(_ count: Int, seed: UInt64 = 1) -> [(features: [Float], label: UInt8)] {
    let samples = DemoData.samples(seed: seed, count: count)
    return (0..<count).map { row in
        (Array(samples.features[(row * DemoData.featureCount)..<((row + 1) * DemoData.featureCount)]), samples.labels[row])
    }
}

/// A remote refusal with this status and typed reason.
func XCTAssertRemote<T>(_ status: Status, _ reason: Reason, _ expression: @autoclosure () throws -> T,
                        file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try expression()
        XCTFail("expected \(status) \(reason), got success", file: file, line: line)
    } catch let error as ClientError {
        XCTAssertEqual(error.status, status, "\(error)", file: file, line: line)
        XCTAssertEqual(error.reason, reason, "\(error)", file: file, line: line)
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

func XCTAssertRemote<T>(_ status: Status, _ expression: @autoclosure () throws -> T,
                        file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try expression()
        XCTFail("expected \(status), got success", file: file, line: line)
    } catch let error as ClientError {
        XCTAssertEqual(error.status, status, "\(error)", file: file, line: line)
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

/// An independent reference computation in Double, straight from an artifact's parameters.
func referenceScore(_ artifact: Artifact, _ features: [Float]) -> Double {
    func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
    switch artifact.parameters {
    case .logistic(let weights, let bias):
        return sigmoid(zip(weights, features).reduce(Double(bias)) { $0 + Double($1.0) * Double($1.1) })
    case .mlp(let layers):
        var activations = features.map(Double.init)
        for (index, layer) in layers.enumerated() {
            var next = [Double](repeating: 0, count: layer.outputs)
            for o in 0..<layer.outputs {
                var sum = Double(layer.biases[o])
                for i in 0..<layer.inputs { sum += Double(layer.weights[o * layer.inputs + i]) * activations[i] }
                next[o] = index == layers.count - 1 ? sum : max(0, sum)
            }
            activations = next
        }
        return sigmoid(activations[0])
    case .treeEnsemble:
        preconditionFailure("node tests score tree models against the fixtures' library outputs, not this")
    }
}
