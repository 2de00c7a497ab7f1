import Glibc
import MLModel

/// `mlbench kernel`: the inference kernel alone, single thread, no sockets: ns per row of an
/// artifact's model at a given batch size (batch 1 = `score(row:)` per row, as Predict does;
/// batch B = `predict(rows:count:)` over B rows, as PredictBatch does). Rows come from `--data`
/// (raw little-endian float32, row-major, as bench/parity/kernel_vs_xgboost.py writes them) or
/// are synthetic (uniform in [−3, 3], 10% NaN when the model accepts missing values).
/// One discarded warm-up, then `--runs` runs; median and min–max in thread CPU time.
enum KernelBenchmark: Benchmark {
    static let name = "kernel"
    static let summary = "single-thread ns per row of an artifact's inference kernel at a batch size"
    static let usageLine = "mlbench kernel --artifact A [--rows N] [--batch B] [--runs R] [--data ROWS.f32] [--allow-debug]"

    struct Options {
        var artifact: String?
        var data: String?
        var rows = 10_000
        var batch = 1
        var runs = 7
        var allowDebug = false
    }

    static func parse(_ arguments: [String]) -> Options? {
        var options = Options()
        let scanned = OptionPairs.scan(arguments, switches: ["--allow-debug"]) { flag, value in
            if flag == "--allow-debug" {
                options.allowDebug = true
                return true
            }
            guard let value else {
                writeStderr("mlbench kernel: \(flag) needs a value\n")
                return false
            }
            switch flag {
            case "--artifact": options.artifact = value
            case "--data": options.data = value
            case "--rows", "--batch", "--runs":
                guard let number = Int(value), number > 0 else {
                    writeStderr("mlbench kernel: \(flag) needs a positive number\n")
                    return false
                }
                if flag == "--rows" { options.rows = number } else if flag == "--batch" { options.batch = number } else { options.runs = number }
            default:
                writeStderr("mlbench kernel: unknown option \(flag)\n")
                return false
            }
            return true
        }
        guard scanned else { return nil }
        guard options.artifact != nil else {
            writeStderr("mlbench kernel: --artifact is required\n")
            return nil
        }
        return options
    }

    static func main(_ arguments: [String]) -> Int32 {
        guard let options = parse(arguments) else {
            print("""
                usage: \(subcommand.usage)
                  --artifact A    the .mlart file whose model is timed
                  --rows N        rows scored per run (default 10000; cycles through --data)
                  --batch B       rows per call: 1 = score(row:) per row, B > 1 = predict over B rows (default 1)
                  --runs R        measured runs after one discarded warm-up (default 7)
                  --data F        rows as raw little-endian float32, row-major (default: synthetic)
                  --allow-debug   run from a debug build anyway (figures then mislead)
                """)
            return arguments.contains("--help") || arguments.contains("-h") ? 0 : 2
        }
        BuildGuard.refuseDebugUnlessAllowed(options.allowDebug)
        let model: Model
        do { model = try Model.load(path: options.artifact!) } catch {
            writeStderr("mlbench kernel: \(error)\n")
            return 1
        }
        let width = model.featureCount
        var rows: [Float]
        if let data = options.data {
            do { rows = try readFloats(data) } catch {
                writeStderr("mlbench kernel: \(error)\n")
                return 1
            }
            guard rows.count >= width, rows.count % width == 0 else {
                writeStderr("mlbench kernel: \(data) holds \(rows.count) floats, not a whole number of \(width)-feature rows\n")
                return 1
            }
            if rows.contains(where: \.isInfinite) || (!model.acceptsMissing && rows.contains(where: \.isNaN)) {
                writeStderr("mlbench kernel: \(data) has values the node would refuse for this model (Inf, or NaN for a model without missing values)\n")
                return 1
            }
        } else {
            var rng = Xoshiro256(seed: 42)
            rows = (0..<(4096 * width)).map { _ in
                model.acceptsMissing && rng.nextUnit() < 0.1 ? .nan : Float(rng.nextUnit() * 6 - 3)
            }
        }
        let available = rows.count / width
        // Whole batches that fit in the data; the run cycles through them.
        let batch = min(options.batch, available)
        let batches = max(1, available / batch)
        let calls = max(1, options.rows / batch)
        print("mlbench kernel: \(model.kind.name) \(model.version), \(width) features, \(BuildGuard.buildName) build, single thread; "
              + "\(calls * batch) rows per run in \(calls) call(s) of \(batch); \(available) distinct rows; 1 warm-up + \(options.runs) runs")
        var perRow: [Double] = []
        var sink: Float = 0
        rows.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: batch)
            defer { scores.deallocate() }
            for run in 0...options.runs {
                let start = threadNanos()
                for call in 0..<calls {
                    let first = base + (call % batches) * batch * width
                    if batch == 1 {
                        sink += model.score(row: first)
                    } else {
                        model.predict(rows: first, count: batch, scores: scores)
                        sink += scores[batch - 1]
                    }
                }
                let elapsed = threadNanos() - start
                if run > 0 { perRow.append(Double(elapsed) / Double(calls * batch)) }
            }
        }
        let sorted = perRow.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        print("  batch \(batch): \(CodecBenchmark.format(median, 1)) ns/row   (min \(CodecBenchmark.format(sorted.first!, 1)), max \(CodecBenchmark.format(sorted.last!, 1)))")
        print("  (checksum \(sink))")
        return 0
    }

    static func threadNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    struct ReadFailure: Error, CustomStringConvertible { let description: String }

    static func readFloats(_ path: String) throws -> [Float] {
        let bytes: [UInt8]
        do { bytes = try ArtifactReader.readFile(path: path) } catch { throw ReadFailure(description: "\(path): \(error.message)") }
        guard bytes.count % 4 == 0 else { throw ReadFailure(description: "\(path): \(bytes.count) bytes is not a whole number of float32s") }
        return bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }
}
