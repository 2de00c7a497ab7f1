// mlbench: MLServe's benchmark harness. One scenario per file; this file only dispatches.
//
//     mlbench <scenario> [options]      mlbench --help
//
// To add a scenario: write `<Name>Benchmark.swift` with an enum conforming to `Benchmark`
// and list its `subcommand` in `Subcommand.all` below.
import Glibc

/// One `mlbench` scenario: its name on the command line, a line for `--help`, and its entry point
/// (arguments after the name; returns the process exit status).
struct Subcommand: Sendable {
    let name: String
    let summary: String
    let usage: String
    let run: @Sendable ([String]) -> Int32

    static let all: [Subcommand] = [
        CodecBenchmark.subcommand,
        LoadBenchmark.subcommand,
        SwapBenchmark.subcommand,
        KernelBenchmark.subcommand,
    ]
}

func printUsage() {
    print("usage: mlbench <scenario> [options]\n\nscenarios:")
    let width = Subcommand.all.map(\.name.count).max() ?? 0
    for sub in Subcommand.all {
        print("  \(sub.name)\(String(repeating: " ", count: width - sub.name.count))  \(sub.summary)")
        print("  \(String(repeating: " ", count: width))  \(sub.usage)")
    }
    print("\n`mlbench <scenario> --help` for a scenario's options.")
}

func mlbenchMain(_ arguments: [String]) -> Int32 {
    guard let first = arguments.first else {
        printUsage()
        return 2
    }
    if ["-h", "--help", "help"].contains(first) {
        printUsage()
        return 0
    }
    guard let sub = Subcommand.all.first(where: { $0.name == first }) else {
        var line = "mlbench: unknown scenario '\(first)'\n\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
        printUsage()
        return 2
    }
    return sub.run(Array(arguments.dropFirst()))
}

exit(mlbenchMain(Array(CommandLine.arguments.dropFirst())))
