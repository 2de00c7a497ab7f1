/// `mlbench swap`: the load of `mlbench load` plus a controller swapping active ↔ standby every
/// `--swap-every` ms (fenced, alternating), with correctness counters that must all stay zero.
enum SwapBenchmark: Benchmark {
    static let name = "swap"
    static let summary = "swap round trip and prediction latency around swaps under load, with correctness counters"
    static let usageLine = "mlbench swap [load options] [--swap-every MS] [--near MS] [--check]"

    static let usage = """
    mlbench swap — swap latency under load, and correctness of every prediction across swaps

    USAGE: mlbench swap [options]

    OPTIONS:
    \(BenchOptions.sharedUsage)
      --swap-every MS    swap period during the measured duration (default 100)
      --near MS          a prediction is "near" a swap when its [sent, answered] interval overlaps
                         [swap planned − MS, swap written + MS] (default 5)
      --token-file PATH  controller token with --node (or $MLSERVE_TOKEN); the child's is generated
      -h, --help         this text

    Prints the swap round trip p50/p99/max, prediction latency near swaps and away from them,
    and correctness counters that must all be zero: failed requests (error replies, malformed or
    mismatched replies, requests never answered), replies whose version disagrees with their
    generation (the map comes from Info and each swap's acknowledgement), replies whose generation
    goes back on a connection, linearizability violations (a request written after a swap's
    acknowledgement was received, served by an older generation) and failed swaps.
    EXIT CODES: as `mlbench load`; CI runs `mlbench swap -c 8 -d 2 --check`.
    """

    static func main(_ arguments: [String]) -> Int32 {
        LoadBenchmark.run(arguments, swapping: true, usage: usage)
    }
}
