import Foundation
import Glibc

/// Runs the policy's notify command through `/bin/sh -c` with bytes on its stdin, bounded by a
/// timeout. Stdin comes from a temporary file rather than a pipe: a command that never reads
/// stdin (or exits early) then cannot block us on a full pipe or kill us with SIGPIPE.
enum ShellCommand {
    /// Success is exit status 0 within the timeout; the detail carries the tail of the output.
    static func run(_ command: String, stdin: Data, timeout: Double) -> (succeeded: Bool, detail: String) {
        let directory = FileManager.default.temporaryDirectory
        let token = UUID().uuidString
        let inputURL = directory.appendingPathComponent("mlctl-notify-\(token).json")
        let outputURL = directory.appendingPathComponent("mlctl-notify-\(token).out")
        defer {
            try? FileManager.default.removeItem(at: inputURL)
            try? FileManager.default.removeItem(at: outputURL)
        }
        let input: FileHandle
        let output: FileHandle
        do {
            try stdin.write(to: inputURL)
            guard FileManager.default.createFile(atPath: outputURL.path, contents: nil) else {
                return (false, "cannot create \(outputURL.path) for the command's output")
            }
            input = try FileHandle(forReadingFrom: inputURL)
            output = try FileHandle(forWritingTo: outputURL)
        } catch {
            return (false, "cannot prepare the command's stdin: \(error.localizedDescription)")
        }
        defer {
            try? input.close()
            try? output.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            return (false, "cannot start /bin/sh: \(error.localizedDescription)")
        }
        if exited.wait(timeout: .now() + max(0, timeout)) == .timedOut {
            // Killing only the shell would orphan what it started (`sleep`, `curl`, …), still
            // holding our files. Foundation starts the child as leader of its own process group
            // (checked, not assumed), so signal the whole group.
            let pid = process.processIdentifier
            let target = getpgid(pid) == pid ? -pid : pid
            kill(target, SIGTERM)
            if exited.wait(timeout: .now() + 1) == .timedOut {
                kill(target, SIGKILL)
                _ = exited.wait(timeout: .now() + 1)
            }
            return (false, "notify command timed out after \(Formatting.limit(timeout))s and was stopped")
        }
        let tail = outputTail(outputURL)
        let status = process.terminationStatus
        if process.terminationReason == .uncaughtSignal {
            return (false, "notify command killed by signal \(status)" + tail)
        }
        return status == 0 ? (true, "exit 0") : (false, "notify command exited with status \(status)" + tail)
    }

    /// The last 200 bytes the command printed, for a failure report.
    private static func outputTail(_ url: URL) -> String {
        guard let data = try? Data(contentsOf: url), !data.isEmpty else { return "" }
        let text = String(decoding: data.suffix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : ": \(text.replacingOccurrences(of: "\n", with: " | "))"
    }
}
