/// A scenario file's enum: what `mlbench --help` lists for it and its entry point. The
/// `Subcommand` that registers it is built here, once, from those.
protocol Benchmark: Sendable {
    /// The scenario's name on the command line.
    static var name: String { get }
    static var summary: String { get }
    /// The one-line usage `mlbench --help` prints.
    static var usageLine: String { get }
    /// Arguments after the name; returns the process exit status.
    static func main(_ arguments: [String]) -> Int32
}

extension Benchmark {
    static var subcommand: Subcommand {
        Subcommand(name: name, summary: summary, usage: usageLine, run: { main($0) })
    }
}
