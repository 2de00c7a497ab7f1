import Foundation
import Glibc

/// `mlbench load`: predictions/s and client-side latency percentiles from one epoll thread
/// driving every connection, with each reply checked.
enum LoadBenchmark: Benchmark {
    static let name = "load"
    static let summary = "predictions/s and latency percentiles, one epoll thread driving every connection"
    static let usageLine = "mlbench load [-c N] [-P N] [-d S] [--warmup S] [--batch N] [--ids [--labels-rate F]] [--node HOST:PORT] [--json] [--svg PATH]"

    static let usage = """
    mlbench load — prediction throughput and latency, redis-benchmark style

    USAGE: mlbench load [options]

    OPTIONS:
    \(BenchOptions.sharedUsage)
      --shadow R         shadow scoring: SET_SHADOW rate R (0...1) on the node before the run, so the
                         standby also scores R of the rows; the report notes the rows shadowed
                         (a --node needs the controller token: $MLSERVE_TOKEN or --token-file)
      -h, --help         this text

    Prints predictions/s, latency p50/p90/p99/p99.9/max (from each request's send time, in a
    log-linear histogram), failed requests, and CPU µs per request of mlbench and of the node.
    EXIT CODES: 0 done (with --check: and every correctness counter is 0), 1 a counter is non-zero
    under --check, 2 bad arguments or a debug build, 3 the run could not start.
    """

    static func main(_ arguments: [String]) -> Int32 {
        run(arguments, swapping: false, usage: usage)
    }

    /// Shared by both scenarios: parse, guard, run, print, exit status.
    static func run(_ arguments: [String], swapping: Bool, usage: String) -> Int32 {
        if arguments.contains("-h") || arguments.contains("--help") {
            print(usage)
            return 0
        }
        let options: BenchOptions
        do { options = try BenchOptions(arguments, swap: swapping) } catch {
            writeStderr("mlbench: \(error)\n")
            return 2
        }
        BuildGuard.refuseDebugUnlessAllowed(options.allowDebug)
        signal(SIGPIPE, SIG_IGN)
        let report: BenchReport
        do { report = try BenchRun(options: options, swapping: swapping).execute() } catch {
            writeStderr("mlbench: \(error)\n")
            return 3
        }
        print(options.json ? report.json() : report.table())
        fflush(nil)
        if report.correctness.total > 0 {
            writeStderr("mlbench: \(report.correctness.total) correctness counter(s) non-zero\(options.check ? "" : " (pass --check to fail on this)")\n")
            if options.check { return 1 }
        }
        return 0
    }
}
