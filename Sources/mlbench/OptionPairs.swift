/// The `--flag VALUE` arguments of a micro-benchmark (`codec`, `kernel`), scanned in order.
enum OptionPairs {
    /// Hands each flag and its value to `take` (nil for a flag in `switches`, which takes none,
    /// or for a last flag with nothing after it); `take` returns false to stop on an error it
    /// has reported. false also for -h/--help: the caller prints its usage either way.
    static func scan(_ arguments: [String], switches: Set<String> = [], _ take: (_ flag: String, _ value: String?) -> Bool) -> Bool {
        var i = 0
        while i < arguments.count {
            let flag = arguments[i]
            if flag == "-h" || flag == "--help" { return false }
            if switches.contains(flag) {
                guard take(flag, nil) else { return false }
                i += 1
                continue
            }
            guard take(flag, i + 1 < arguments.count ? arguments[i + 1] : nil) else { return false }
            i += 2
        }
        return true
    }
}
