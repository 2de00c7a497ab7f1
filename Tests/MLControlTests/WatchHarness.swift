import Foundation
import MLClient
import MLModel
import MLServer
import MLWire
import XCTest
@testable import MLControl

/// A real node on 127.0.0.1 (port 0) with the built-in models, run in-process.
final class InProcessNode {
    static let token = "control-test-token-0123456789"
    static let labellerToken = "labeller-test-token-9876543210"
    let server: Server
    let control: ControlPlane
    private(set) var port: UInt16

    init(active: String = "builtin:v2.0", standby: String? = "builtin:v2.1", port: UInt16 = 0) throws {
        let initial = try ControlPlane.restore(stateFile: nil, defaultActive: active, defaultStandby: standby).get()
        control = ControlPlane(initial: initial, stateFile: nil, token: InProcessNode.token, labellerToken: InProcessNode.labellerToken)
        var config = ServerConfig()
        config.port = port
        config.loops = 1
        server = Server(config: config, control: control)
        self.port = try server.start()
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    func stop() {
        server.shutdown()
        server.waitUntilStopped()
    }

    func dataClient() throws -> NodeClient {
        let client = try NodeClient(endpoint, timeout: 10)
        try client.hello(role: .data)
        return client
    }

    func labellerClient() throws -> NodeClient {
        let client = try NodeClient(endpoint, timeout: 10)
        try client.hello(role: .labeller, token: InProcessNode.labellerToken, clientName: "test-labeller")
        return client
    }

    var activeVersion: String { control.info().active.version }
}

/// Hand-driven time: `sleep` advances it, so policy windows of minutes pass instantly.
final class FakeClock: @unchecked Sendable {
    private(set) var now: Date
    init(_ start: Date = noon) { now = start }
    func advance(_ seconds: TimeInterval) { now = now.addingTimeInterval(seconds) }
}

/// One node, one database, one watch loop on a fake clock, and labelled traffic sent between
/// polls on the test's own thread: deterministic, and each round takes milliseconds.
final class WatchHarness {
    let node: InProcessNode
    let store: ControlStore
    let clock: FakeClock
    let loop: WatchLoop
    var policy: RunbookPolicy
    private var data = DemoData(seed: 11)
    private var client: NodeClient?
    private var labeller: NodeClient?
    /// Labelled rows sent per round by `round()`.
    var perRound = 1_000
    var feedback = true
    var labelFilter: ((UInt8) -> Bool)?

    init(_ test: XCTestCase, policy: RunbookPolicy = WatchHarness.testPolicy, node: InProcessNode? = nil,
         clock: FakeClock = FakeClock(), dryRun: Bool = false) throws {
        self.node = try node ?? InProcessNode()
        self.policy = policy
        self.clock = clock
        store = try ControlStore(path: try temporaryDatabasePath(test))
        let lines = LineBox()
        let box = EventBox()
        loop = WatchLoop(configuration: WatchConfiguration(nodes: [self.node.endpoint], policy: policy, retryDelay: 0, dryRun: dryRun),
                         store: store, access: NodeAccess(token: InProcessNode.token, timeout: 5),
                         notifier: Notifier(policy: policy, printLine: { lines.append($0) }),
                         clock: { [clock] in clock.now }, sleep: { [clock] in clock.advance($0) },
                         onEvent: { box.events.append($0) })
        eventBox = box
        lineBox = lines
        test.addTeardownBlock { [weak self] in self?.node.stop() }
    }

    private let eventBox: EventBox
    private let lineBox: LineBox
    var allEvents: [WatchEvent] { eventBox.events }
    var notifications: [String] { lineBox.lines }

    /// Policy for tests: the runbook's thresholds, compressed windows.
    static var testPolicy: RunbookPolicy {
        var p = RunbookPolicy()
        p.pollIntervalSeconds = 10
        p.stabilityWindowSeconds = 30
        return p
    }

    /// Sends `count` predictions with ids now, then their labels by id (LABEL on a labeller connection).
    func traffic(_ count: Int? = nil) throws {
        if client == nil { client = try node.dataClient() }
        if labeller == nil { labeller = try node.labellerClient() }
        _ = try DemoTraffic.send(to: client!, labeller: labeller, count: count ?? perRound, data: &data, feedback: feedback, filter: labelFilter)
    }

    /// Traffic, then the interval passes, then the loop polls.
    func round(_ count: Int? = nil) throws {
        try traffic(count)
        clock.advance(policy.pollIntervalSeconds)
        loop.pollRound()
    }

    /// The reference poll plus `rounds` rounds of the current active version's traffic.
    func seedBaseline(rounds: Int = 3) throws {
        loop.pollRound()
        for _ in 0..<rounds { try round() }
    }

    /// A manual deploy of what is in standby, recorded like `mlctl deploy`.
    @discardableResult
    func deployStandby(artifact: String = "builtin:v2.1") -> FleetReport {
        let operations = NodeOperations(access: NodeAccess(token: InProcessNode.token), store: store, clock: { [clock] in clock.now })
        return FleetOperations(operations: operations).deploy(artifact: artifact, nodes: [node.endpoint])
    }

    func rolledBack() -> [WatchEvent] {
        allEvents.filter { if case .rolledBack = $0 { true } else { false } }
    }
}

final class EventBox: @unchecked Sendable { var events: [WatchEvent] = [] }

final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}
