import MLCommandLine
import Glibc
import MLClient

/// The flags `mlbench load` and `mlbench swap` share, named as redis-benchmark names them where
/// it has a name (-c, -P, -d). Parsed with the shared `Arguments` scanner: a typo is an error.
struct BenchOptions {
    var connections = 50
    var pipeline = 1
    var durationSeconds = 5.0
    var warmupSeconds = 1.0
    var features = 32
    var batch = 1
    var seed: UInt64 = 1
    /// nil: start a child `mlserve` from the same build directory.
    var node: Endpoint?
    /// Event loops for the child node (`mlserve --loops`); nil = its default (one per core).
    /// The child's event loops. Default: one per core minus the one this harness's load thread
    /// needs — on a box shared by client and node, a third busy thread only adds preemption.
    var nodeLoops = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) - 1)
    var nodeLoopsGiven = false
    /// Give the child a state file, so each swap is persisted before it is acknowledged.
    var durable = false
    var json = false
    var allowDebug = false
    var svgPath: String?
    var check = false
    /// Send a prediction id per row (v2 `WITH_IDS`): the node remembers every prediction.
    var ids = false
    /// Labels sent (on a controller connection) as a fraction of predictions answered; needs --ids.
    var labelsRate = 0.0
    // swap only
    var swapEveryMillis = 100.0
    var nearSwapMillis = 5.0
    var tokenFile: String?

    static let sharedUsage = """
      -c N               connections, all driven by one epoll thread (default 50; swap -c 0 = idle node)
      -P N               pipeline depth: N requests written at once, next N after all replies (default 1)
      -d SECONDS         measured duration, after the warm-up (default 5)
      --warmup SECONDS   warm-up whose requests are checked but not measured (default 1)
      --features N       features per row (default 32, what the demo models take)
      --batch N          rows per PredictBatch; 1 sends plain Predict (default 1)
      --seed N           seed for the deterministic demo rows (default 1)
      --node HOST:PORT   benchmark a running node; otherwise start a child
                         `mlserve --port 0 --admin-port off --no-state` from this build directory
      --node-loops N     --loops for the child node (default: cores - 1, leaving one core to
                         this harness; plus the node's own idle control loop)
      --durable          give the child a state file: every swap is persisted before its ack
      --json             one JSON object on stdout instead of the table
      --svg PATH         write an SVG plot of prediction latency over time (per-10 ms p99 and max)
      --check            exit 1 if any correctness counter is non-zero (for CI)
      --ids              a prediction id per row (protocol v2 WITH_IDS): the node remembers each one
      --labels-rate F    with --ids: LABEL the answered predictions at F × their rate (0.1 = 10%),
                         from a second thread on a controller connection (the child's token,
                         $MLSERVE_TOKEN or --token-file PATH)
      --allow-debug      run even from a debug build (its numbers mislead)
    """

    init(_ raw: [String], swap: Bool) throws {
        var args = Arguments(raw)
        connections = try args.integer("-c", "--connections", default: connections, range: 0...10_000)
        pipeline = try args.integer("-P", "--pipeline", default: pipeline, range: 1...4096)
        durationSeconds = try args.double("-d", "--duration", default: durationSeconds, range: 0.1...86_400)
        warmupSeconds = try args.double("--warmup", default: warmupSeconds, range: 0...3_600)
        features = try args.integer("--features", default: features, range: 1...4096)
        batch = try args.integer("--batch", default: batch, range: 1...4096)
        seed = UInt64(try args.integer("--seed", default: Int(seed), range: 0...Int.max))
        if let text = try args.value("--node") {
            guard let endpoint = Endpoint(text) else { throw Arguments.Failure("--node must be HOST:PORT, got \(text)") }
            node = endpoint
        }
        if let loops = try args.value("--node-loops") {
            guard let value = Int(loops), (1...256).contains(value) else {
                throw Arguments.Failure("--node-loops must be an integer in 1...256, got \(loops)")
            }
            nodeLoops = value
            nodeLoopsGiven = true
        }
        durable = args.flag("--durable")
        json = args.flag("--json")
        allowDebug = args.flag("--allow-debug")
        svgPath = try args.value("--svg")
        check = args.flag("--check")
        ids = args.flag("--ids")
        labelsRate = try args.double("--labels-rate", default: 0, range: 0...1)
        if labelsRate > 0 && !ids { throw Arguments.Failure("--labels-rate needs --ids: labels name predictions by id") }
        if swap {
            swapEveryMillis = try args.double("--swap-every", default: swapEveryMillis, range: 1...3_600_000)
            nearSwapMillis = try args.double("--near", default: nearSwapMillis, range: 0...60_000)
        }
        tokenFile = try args.value("--token-file")
        try args.finish()
        guard features * batch <= 4096 * 64 else {
            throw Arguments.Failure("--features × --batch must stay under the node's 1 MiB frame limit")
        }
        if node != nil && (nodeLoopsGiven || durable) {
            throw Arguments.Failure("--node-loops and --durable only apply to the child node (without --node)")
        }
    }

    /// The command line that reproduces this run, for reports.
    var commandSummary: String {
        var parts = ["-c \(connections)", "-P \(pipeline)", "-d \(trim(durationSeconds))", "--warmup \(trim(warmupSeconds))"]
        if batch != 1 { parts.append("--batch \(batch)") }
        if features != 32 { parts.append("--features \(features)") }
        if nodeLoopsGiven { parts.append("--node-loops \(nodeLoops)") }
        if durable { parts.append("--durable") }
        if ids { parts.append("--ids") }
        if labelsRate > 0 { parts.append("--labels-rate \(trim(labelsRate))") }
        return parts.joined(separator: " ")
    }
}

/// A number without a trailing ".0".
func trim(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}
