import MLTooling
import Foundation
import Glibc
import MLClient
import MLEventCore
import MLModel
import MLWire

/// The harness both scenarios share: find or start the node, learn its versions, open the load
/// connections, run the load thread (and the swap controller), print progress, build the report.
struct BenchRun {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// A test hook, named so nobody sets it by accident: adds one fake linearizability violation
    /// so that CI can verify `--check` fails on a non-zero counter.
    static let fakeViolationVariable = "MLBENCH_TEST_FAKE_VIOLATION"

    let options: BenchOptions
    let swapping: Bool

    func execute() throws -> BenchReport {
        var notes: [String] = []
        // `swap -c 0` measures swaps on an idle node; a load with no connections measures nothing.
        if options.connections == 0 && !swapping { throw Failure(description: "load needs at least one connection (-c 1 or more)") }
        let stateDirectory = NSTemporaryDirectory() + "mlbench-\(getpid())"
        let child: LocalNode? = options.node == nil ? try startChild(stateDirectory: stateDirectory) : nil
        defer {
            child?.stop(timeout: 2)
            if options.durable { try? FileManager.default.removeItem(atPath: stateDirectory) }
        }
        let endpoint = options.node ?? child!.endpoint

        let info: InfoReply
        do {
            let probe = try NodeClient(endpoint)
            try probe.hello(clientName: "mlbench-info")
            info = try probe.info()
        } catch { throw Failure(description: "cannot ask \(endpoint) for Info: \(error)") }
        guard info.active.present else { throw Failure(description: "\(endpoint) has no active model") }
        let versions = (info.active.version, info.standby.present ? info.standby.version : "")
        if swapping && !info.standby.present { throw Failure(description: "\(endpoint) has an empty standby slot: nothing to swap to") }
        if Int(info.active.featureCount) != options.features {
            notes.append("the active model takes \(info.active.featureCount) features, requests carry \(options.features): expect INVALID_ARGUMENT")
        }

        var shadowBefore: ShadowPairMetrics?
        if let rate = options.shadowRate {
            do {
                let client = try NodeClient(endpoint)
                try client.hello(role: .controller, token: try controllerToken(child: child), clientName: "mlbench-shadow")
                let reply = try client.setShadow(rate: Float(rate))
                shadowBefore = try client.metrics().shadow.pair(active: reply.activeVersion, standby: reply.standbyVersion)
                notes.append(reply.session == 0 ? "shadow off (rate 0)"
                             : "shadow rate \(trim(rate)) on \(reply.activeVersion) active, \(reply.standbyVersion) standby")
            } catch { throw Failure(description: "SET_SHADOW \(rate) on \(endpoint) refused: \(error)") }
        }

        var connections: [BenchConnection] = []
        for i in 0..<options.connections {
            let fd: Int32
            do { fd = try BenchConnection.connect(to: endpoint, name: "mlbench-\(i)") } catch {
                for c in connections { close(c.fd); c.deallocate() }
                throw Failure(description: "connection \(i + 1) of \(options.connections): \(error)")
            }
            var data = DemoData(seed: options.seed &+ UInt64(i))
            connections.append(BenchConnection(fd: fd, depth: options.pipeline, features: options.features, batch: options.batch,
                                               data: &data, ids: options.ids, index: i))
        }

        let every = UInt64(options.swapEveryMillis * 1_000_000)
        let durationNanos = UInt64(options.durationSeconds * 1e9)
        let signals = swapping ? SwapSignals(initialGeneration: info.generation) : nil
        var controller: SwapController?
        if let signals {
            let client: NodeClient
            do {
                client = try NodeClient(endpoint)
                try client.hello(role: .controller, token: try controllerToken(child: child), clientName: "mlbench-controller")
            } catch { throw Failure(description: "controller connection to \(endpoint) refused: \(error)") }
            controller = SwapController(client: client, signals: signals, initialGeneration: info.generation, versions: versions)
        }
        let table = GenerationTable(initialGeneration: info.generation,
                                    capacity: swapping ? Int(durationNanos / max(every, 1)) + 64 : 1)
        defer { table.deallocate() }
        let checker = ResponseCheck(batch: options.batch, versions: versions)
        defer { checker.deallocate() }
        let timeline = options.svgPath == nil ? nil : LatencyTimeline(durationNanos: durationNanos)
        let driver = LoadDriver(connections: connections, checker: checker, table: table, signals: signals,
                                nearMargin: UInt64(options.nearSwapMillis * 1_000_000), timeline: timeline, nodePID: child?.pid)

        let start = monotonicNanos()
        let t0 = start + UInt64(options.warmupSeconds * 1e9)
        let t1 = t0 + durationNanos
        let loadThread = try LoopThread.start(name: "mlbench-load") {
            driver.run(measureStart: t0, measureEnd: t1)
        }
        let swapThread = try controller.map { c in try LoopThread.start(name: "mlbench-swap") { c.run(measureStart: t0, measureEnd: t1, every: every) } }
        var labeller: LabelDriver?
        if options.labelsRate > 0 {
            let client: NodeClient
            do {
                client = try NodeClient(endpoint)
                try client.hello(role: .controller, token: try controllerToken(child: child), clientName: "mlbench-labeller")
            } catch { throw Failure(description: "labeller (controller) connection to \(endpoint) refused: \(error)") }
            labeller = LabelDriver(client: client, driver: driver, rate: options.labelsRate, connections: options.connections,
                                   rowsPerRequest: options.batch)
        }
        let labelThread = try labeller.map { l in try LoopThread.start(name: "mlbench-label") { l.run(measureStart: t0, measureEnd: t1) } }
        let progress = ProgressLine(enabled: isatty(2) == 1, label: "mlbench \(swapping ? "swap" : "load")")
        progress.follow(driver: driver, start: start, t0: t0, t1: t1)
        loadThread.join()
        swapThread?.join()
        labelThread?.join()
        if let labeller {
            notes.append("labels: \(labeller.sent) sent (\(labeller.reply.matched) matched, \(labeller.reply.unmatched) unmatched, "
                + "\(labeller.reply.expired) expired, \(labeller.reply.duplicate) duplicate)" + (labeller.failure.map { "; \($0)" } ?? ""))
        }
        progress.clear()

        let outcome = driver.outcome
        let measured = Double(t1 - t0) / 1e9
        let expected: (UInt64) -> Int? = { generation in
            controller.map { $0.activeByGeneration[generation] } ?? (generation == info.generation ? 0 : nil)
        }
        var correctness = BenchReport.Correctness(
            failedRequests: outcome.failedRequests,
            versionGenerationMismatches: table.mismatches(expected: expected),
            generationRegressions: outcome.generationRegressions,
            linearizabilityViolations: outcome.linearizabilityViolations,
            failedSwaps: controller?.failedSwaps ?? 0)
        if let fake = ProcessInfo.processInfo.environment[Self.fakeViolationVariable], fake == "1" {
            correctness.linearizabilityViolations += 1
            notes.append("\(Self.fakeViolationVariable)=1 added one fake linearizability violation (test hook)")
        }
        correctness.recount()
        if options.shadowRate != nil, let probe = try? NodeClient(endpoint) {
            // What the standby did meanwhile (warm-up and measured window together).
            if (try? probe.hello(clientName: "mlbench-shadow")) != nil, let status = try? probe.metrics().shadow,
               let pair = status.pair(active: versions.0, standby: versions.1) {
                let w = pair.since(shadowBefore)
                notes.append("shadowed \(w.rows) rows, agreement \(w.agreementRate.map { String(format: "%.4f", $0) } ?? "-"), "
                    + "standby errors \(w.standbyErrors), standby p99 \(w.standbyLatencyQuantileNanos(0.99).map { "\($0) ns" } ?? "-") per frame")
            }
        }
        let answered = max(outcome.responsesBetweenCPUSnapshots, 1)
        let cpu = BenchReport.CPU(mlbenchMicrosPerRequest: Double(outcome.cpuSelfMicros) / Double(answered),
                                  nodeMicrosPerRequest: outcome.cpuNodeMicros.map { Double($0) / Double(answered) })
        var swaps: BenchReport.Swaps?
        if let controller {
            let near = driver.nearSwaps.summary()
            let away = driver.awayFromSwaps.summary()
            swaps = BenchReport.Swaps(count: controller.events.count, everyMillis: options.swapEveryMillis, nearMillis: options.nearSwapMillis,
                                      roundTrip: controller.roundTrip.summary(), inNode: controller.inNode.summary(), nearSwaps: near, awayFromSwaps: away,
                                      p99NearOverAway: away.p99 > 0 ? near.p99 / away.p99 : 0)
        }
        let nodeDescription = child.map { "child \($0.endpoint) (\($0.executable.path), \(options.nodeLoops) loops\(options.durable ? ", durable state" : ""))" }
            ?? "\(endpoint) (--node)"
        let report = BenchReport(
            scenario: swapping ? "swap" : "load", build: BuildGuard.buildName, node: nodeDescription,
            command: options.commandSummary + (swapping ? " --swap-every \(trim(options.swapEveryMillis))" : ""),
            connections: options.connections, pipeline: options.pipeline, batch: options.batch, features: options.features,
            durationSeconds: measured, warmupSeconds: options.warmupSeconds, requests: outcome.completedInWindow,
            requestsPerSecond: Double(outcome.completedInWindow) / measured,
            predictionsPerSecond: Double(outcome.completedInWindow * options.batch) / measured,
            latency: driver.histogram.summary(), cpu: cpu, swaps: swaps, correctness: correctness,
            firstFailure: outcome.firstFailure ?? controller?.firstFailure, notes: notes)
        if let path = options.svgPath, let timeline {
            try writeSVG(path: path, report: report, timeline: timeline, t0: t0, events: controller?.events ?? [])
        }
        return report
    }

    /// A child node from this build: no admin HTTP, `--node-loops` loops, and a state file only
    /// with `--durable` (then each swap is persisted before its ack, as in production).
    private func startChild(stateDirectory: String) throws -> LocalNode {
        var arguments = ["--port", "0", "--admin-port", "off", "--loops", String(options.nodeLoops)]
        if options.durable {
            try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            arguments += ["--state", stateDirectory + "/mlserve.state", "--token-file", stateDirectory + "/mlserve.token"]
        } else {
            arguments += ["--no-state"]
        }
        do {
            return try LocalNode(arguments: arguments, startupTimeout: 15)
        } catch {
            throw Failure(description: "\(error.description), or pass --node HOST:PORT")
        }
    }

    /// The controller token: the child's, else $MLSERVE_TOKEN, else --token-file.
    private func controllerToken(child: LocalNode?) throws -> String {
        if let child { return child.token }
        if let token = ProcessInfo.processInfo.environment["MLSERVE_TOKEN"], !token.isEmpty { return token }
        if let file = options.tokenFile, let data = FileManager.default.contents(atPath: file) {
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        throw Failure(description: "a swap or --labels-rate needs the node's controller token: set $MLSERVE_TOKEN or pass --token-file PATH")
    }

    private func writeSVG(path: String, report: BenchReport, timeline: LatencyTimeline, t0: UInt64, events: [SwapController.Event]) throws {
        let windowMillis = Double(timeline.windowNanos) / 1e6
        var subtitle = "\(report.command) · \(grouped(report.predictionsPerSecond)) predictions/s · p99 \(ms(report.latency.p99)) ms"
        if let swaps = report.swaps { subtitle += " · \(swaps.count) swaps, round trip p99 \(ms(swaps.roundTrip.p99)) ms" }
        let plot = SVGPlot(title: "mlbench \(report.scenario): prediction latency over time", subtitle: subtitle,
                           points: timeline.points(), swapTimes: events.map { Double($0.ackAt &- t0) / 1e9 },
                           durationSeconds: report.durationSeconds, windowMillis: windowMillis)
        do { try plot.render().write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw Failure(description: "cannot write \(path): \(error)")
        }
    }
}
