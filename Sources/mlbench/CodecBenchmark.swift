import Glibc
import MLWire

/// `mlbench codec`: the cost of the wire codec on the serving hot path, without sockets.
///
/// - encode: a 32-feature Predict frame written into a reused buffer (what a client does);
/// - decode: `FrameParser.parse` + `PredictView` + `copyValues` into a reused float buffer
///   (exactly what the server does with each frame in its read buffer);
/// - pipelined: the same decode walking one buffer of `--frames` back-to-back Predict frames,
///   as the server does after one large `read`.
///
/// One discarded warm-up run, then `--runs` measured runs; figures are the median and min–max,
/// timed in thread CPU time.
/// Allocation check (none per frame): the heap allocation count valgrind reports does not grow
/// with `--iterations`; see bench/README.md.
enum CodecBenchmark: Benchmark {
    static let name = "codec"
    static let summary = "encode/decode cost of a 32-feature Predict frame, and pipelined decode throughput"
    static let usageLine = "mlbench codec [--frames N] [--runs R] [--iterations I] [--features F]"

    struct Options {
        var frames = 1000
        var runs = 10
        var iterations = 2_000_000
        var features = 32
    }

    static func parse(_ arguments: [String]) -> Options? {
        var options = Options()
        let scanned = OptionPairs.scan(arguments) { flag, text in
            guard let text, let value = Int(text), value > 0 else {
                printToStderr("mlbench codec: \(flag) needs a positive number")
                return false
            }
            switch flag {
            case "--frames": options.frames = value
            case "--runs": options.runs = value
            case "--iterations": options.iterations = value
            case "--features": options.features = min(value, Limits.features)
            default:
                printToStderr("mlbench codec: unknown option \(flag)")
                return false
            }
            return true
        }
        return scanned ? options : nil
    }

    static func main(_ arguments: [String]) -> Int32 {
        guard let options = parse(arguments) else {
            print("""
                usage: \(subcommand.usage)
                  --frames N      Predict frames in the pipelined buffer (default 1000)
                  --runs R        measured runs after one discarded warm-up (default 10)
                  --iterations I  frames encoded/decoded per run for the per-frame figures (default 2000000)
                  --features F    features per Predict frame (default 32)
                """)
            return arguments.contains("--help") || arguments.contains("-h") ? 0 : 2
        }
        let bench = CodecLoops(options)
        let frameSize = bench.frameSize
        print("mlbench codec: Predict frame of \(options.features) features = \(frameSize) bytes; "
              + "\(options.iterations) frames per run; pipelined buffer of \(options.frames) frames (\(options.frames * frameSize) bytes); "
              + "1 warm-up + \(options.runs) runs")

        var encode: [Double] = [], decode: [Double] = [], both: [Double] = [], pipelined: [Double] = []
        for run in 0...options.runs {
            let e = bench.encodeNanosPerFrame()
            let d = bench.decodeNanosPerFrame()
            let b = bench.roundTripNanosPerFrame()
            let p = bench.pipelinedFramesPerSecond()
            if run == 0 { continue }  // warm-up: caches, page faults, CPU frequency
            encode.append(e); decode.append(d); both.append(b); pipelined.append(p)
        }
        func line(_ label: String, _ values: [Double], _ unit: String, scale: Double = 1, digits: Int = 1) {
            let s = values.sorted()
            let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            print("  \(label)\(String(repeating: " ", count: max(0, 26 - label.count)))"
                  + "\(format(median / scale, digits)) \(unit)   (min \(format(s.first! / scale, digits)), max \(format(s.last! / scale, digits)))")
        }
        line("encode", encode, "ns/frame")
        line("decode (parse+view+copy)", decode, "ns/frame")
        line("encode + decode", both, "ns/frame")
        line("pipelined decode", pipelined, "M frames/s", scale: 1e6, digits: 2)
        line("  = per frame", pipelined.map { 1e9 / $0 }, "ns/frame")
        print("  (checksum \(bench.checksum))")
        return 0
    }

    static func format(_ value: Double, _ digits: Int) -> String {
        var scaled = (value * pow(10, Double(digits))).rounded()
        if !scaled.isFinite { scaled = 0 }
        let whole = Int(scaled) / Int(pow(10, Double(digits)))
        let frac = abs(Int(scaled)) % Int(pow(10, Double(digits)))
        let fracText = String(frac)
        return digits == 0 ? "\(whole)" : "\(whole).\(String(repeating: "0", count: digits - fracText.count))\(fracText)"
    }
}

/// The measured loops. A final class so the buffers are allocated once; the loops themselves
/// only touch locals and raw pointers (no exclusivity checks, no ARC traffic per frame).
private final class CodecLoops {
    let options: CodecBenchmark.Options
    let predict: Predict
    let frameSize: Int
    /// One frame, rewritten by every encode.
    let frame: UnsafeMutableRawPointer
    /// `options.frames` frames back to back.
    let pipeline: UnsafeMutableRawPointer
    /// Where decoded features land, as they would before inference.
    let floats: UnsafeMutablePointer<Float>
    var checksum: UInt64 = 0

    init(_ options: CodecBenchmark.Options) {
        self.options = options
        predict = Predict(features: (0..<options.features).map { Float($0) * 0.25 - 3 })
        frameSize = FrameHeader.size + predict.payloadSize
        frame = UnsafeMutableRawPointer.allocate(byteCount: frameSize, alignment: 16)
        pipeline = UnsafeMutableRawPointer.allocate(byteCount: frameSize * options.frames, alignment: 16)
        floats = UnsafeMutablePointer<Float>.allocate(capacity: options.features)
        var offset = 0
        for i in 0..<options.frames {
            offset += predict.writeFrame(to: pipeline + offset, requestID: UInt32(i))
        }
        _ = predict.writeFrame(to: frame, requestID: 0)
    }

    deinit {
        frame.deallocate()
        pipeline.deallocate()
        floats.deallocate()
    }

    /// This thread's CPU time, not wall time: on a shared 2-core machine the scheduler may take
    /// the core away mid-run, and wall time would charge that to the codec. (Cache and frequency
    /// effects of sharing remain; the spread across runs shows them.)
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// The server's per-frame work: frame it, check the type, view it, copy the features out.
    /// Returns the bytes consumed (0 if the bytes were not a valid Predict frame).
    @inline(__always)
    static func decodeOne(_ bytes: UnsafeRawBufferPointer, into floats: UnsafeMutablePointer<Float>, sink: inout UInt64) -> Int {
        guard case .frame(let header, let payload, let consumed) = FrameParser.parse(bytes, maxPayload: FrameParser.defaultMaxPayload),
              header.type == MessageType.predict.rawValue, header.status == 0 else { return 0 }
        do {
            let view = try PredictView(payload: payload)
            try view.copyValues(into: floats)
            sink &+= UInt64(header.requestID) &+ UInt64(floats[view.featureCount - 1].bitPattern)
        } catch {
            return 0
        }
        return consumed
    }

    func encodeNanosPerFrame() -> Double {
        let n = options.iterations, frame = self.frame, predict = self.predict
        var sink: UInt64 = 0
        let start = CodecLoops.now()
        for i in 0..<n {
            let written = predict.writeFrame(to: frame, requestID: UInt32(truncatingIfNeeded: i))
            sink &+= UInt64(written) &+ UInt64(frame.load(fromByteOffset: 8, as: UInt8.self))
        }
        let elapsed = CodecLoops.now() - start
        checksum &+= sink
        return Double(elapsed) / Double(n)
    }

    func decodeNanosPerFrame() -> Double {
        let n = options.iterations, bytes = UnsafeRawBufferPointer(start: frame, count: frameSize), floats = self.floats
        var sink: UInt64 = 0
        let start = CodecLoops.now()
        for _ in 0..<n {
            let consumed = CodecLoops.decodeOne(bytes, into: floats, sink: &sink)
            precondition(consumed == bytes.count)
        }
        let elapsed = CodecLoops.now() - start
        checksum &+= sink
        return Double(elapsed) / Double(n)
    }

    func roundTripNanosPerFrame() -> Double {
        let n = options.iterations, frame = self.frame, predict = self.predict, floats = self.floats
        let bytes = UnsafeRawBufferPointer(start: frame, count: frameSize)
        var sink: UInt64 = 0
        let start = CodecLoops.now()
        for i in 0..<n {
            _ = predict.writeFrame(to: frame, requestID: UInt32(truncatingIfNeeded: i))
            let consumed = CodecLoops.decodeOne(bytes, into: floats, sink: &sink)
            precondition(consumed == bytes.count)
        }
        let elapsed = CodecLoops.now() - start
        checksum &+= sink
        return Double(elapsed) / Double(n)
    }

    func pipelinedFramesPerSecond() -> Double {
        let total = frameSize * options.frames, floats = self.floats
        let buffer = UnsafeRawBufferPointer(start: pipeline, count: total)
        let passes = max(1, options.iterations / options.frames)
        var sink: UInt64 = 0
        let start = CodecLoops.now()
        for _ in 0..<passes {
            var offset = 0
            var decoded = 0
            while offset < total {
                let consumed = CodecLoops.decodeOne(UnsafeRawBufferPointer(rebasing: buffer[offset...]), into: floats, sink: &sink)
                precondition(consumed > 0)
                offset += consumed
                decoded += 1
            }
            precondition(decoded == options.frames)
        }
        let elapsed = CodecLoops.now() - start
        checksum &+= sink
        return Double(passes * options.frames) / (Double(elapsed) / 1e9)
    }
}

/// Diagnostics go to stderr (Glibc's `stderr` global is not concurrency-safe in Swift 6).
private func printToStderr(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
