import MLCommandLine
import Foundation
import Glibc
import MLModel
import MLServer
import MLWire

let usage = """
mlserve — the MLServe serving node: two warm model slots, atomic fenced swaps, binary RPC.

USAGE: mlserve [options]

With no options it serves the built-in demo models on 127.0.0.1:7070: v2.0 active, v2.1 in
standby. Slot state persists to ./mlserve.state and is restored on restart.

OPTIONS:
  --host ADDR            IPv4 address to listen on (default 127.0.0.1)
  --port N               RPC port, 0 = ephemeral (default 7070)
  --loops N              event loops, one thread each (default: one per core)
  --max-payload BYTES    largest frame payload accepted after HELLO (default 1048576, max 16777216)
  --max-connections N    connections beyond this get RESOURCE_EXHAUSTED (default 10000; clamped to
                         what the file-descriptor limit allows, with a log line)
  --controller-reserve N the last N of --max-connections admit only controllers: a connection
                         accepted there that says HELLO as anything else is refused (default 8)
  --hello-timeout S      a connection must complete HELLO within S seconds of accept (default 10)
  --frame-timeout S      a frame once begun must arrive whole within S seconds (default 10)
  --idle-timeout S       close data connections idle this long, 0 = never (default 300)
  --drain-timeout S      on SIGTERM, time to answer and flush what was read (default 10)
  --active REF           artifact for the active slot when there is no state file
                         (a path, or builtin:v2.0 | builtin:v2.1 | builtin:mlp-v1; default builtin:v2.0)
  --standby REF          artifact for the standby slot likewise (default builtin:v2.1; "none" for empty)
                         (--active/--standby with an existing state file: refused at start)
  --state PATH           slot state file (default ./mlserve.state)
  --no-state             keep slot state in memory only (restarts use --active/--standby)
  --recover-state HOW    start on a damaged state file: older-record (the intact older record) or
                         defaults (--active/--standby, generations continuing above the file's);
                         default none: a damaged state file refuses the start
  --fsync                fdatasync the state file on every load/swap, and its directory when
                         created (power-loss safe)
  --model-dir DIR        artifacts loaded by a controller must resolve inside DIR (symlinks followed)
  --token-file PATH      controller token file, created with a random token if missing
                         (default ./mlserve.token); $MLSERVE_TOKEN overrides it
  --labeller-token-file PATH
                         labeller token file (role labeller: LABEL only), created with a random
                         token if missing; $MLSERVE_LABELLER_TOKEN overrides it. Without either,
                         only controllers may send LABEL
  --prediction-window-entries N
                         predictions with an id remembered for LABEL, all loops together, 40 bytes
                         each, allocated at start; 0 = off (default 1048576, ~40 MiB)
  --prediction-window-seconds S
                         a remembered prediction older than this takes no label (default 3600)
  --admin-port N         admin HTTP port (/health /ready /model/info /metrics ...), 0 = ephemeral,
                         off = disabled (default 7071)
  --admin-host ADDR      admin HTTP address (default 127.0.0.1)
  --name NAME            node name reported in HELLO, at most 64 bytes (default mlserve)
  --log-format F         text or json: one line per event on stderr (default text); off: none
  --warmup-rows N        warm-up predictions run on every loaded model (after its golden rows)
                         before it counts as warm and may be swapped in (default 1000)
  -h, --help             this text

SIGNALS: SIGTERM or SIGINT drains: not ready, stop accepting, answer and flush every request
already received, then exit 0 (or when --drain-timeout ends).
EXIT CODES: 0 clean shutdown, 1 startup failure (address in use, state file damaged or unwritable,
no token), 2 bad arguments, 70 an event loop failed while serving.
"""

struct Options {
    var config = ServerConfig()
    var active = "builtin:v2.0"
    var standby: String? = "builtin:v2.1"
    var statePath: String? = "mlserve.state"
    var fsync = false
    var tokenFile = "mlserve.token"
    var labellerTokenFile: String?
    var adminPort: Int? = Int(ServerConfig.defaultAdminPort)
    var adminHost = "127.0.0.1"
    var name = "mlserve"
    var modelDirectory: String?
    var recovery = StateFile.Recovery.refuse
    /// --active or --standby given explicitly (they conflict with an existing state file).
    var defaultsGiven = false
    var logFormat = NodeLog.Format.text
    var warmupRows = WarmUp.defaultRows

    init(_ raw: [String]) throws {
        var args = Arguments(raw)
        config.host = try args.value("--host") ?? config.host
        config.port = UInt16(try args.integer("--port", default: Int(config.port), range: 0...65535))
        config.loops = try args.integer("--loops", default: config.loops, range: 1...256)
        config.maxPayload = try args.integer("--max-payload", default: config.maxPayload, range: 1024...FrameParser.absoluteMaxPayload)
        config.maxConnections = try args.integer("--max-connections", default: config.maxConnections, range: 1...1_000_000)
        config.controllerReserve = try args.integer("--controller-reserve", default: config.controllerReserve, range: 0...1_000_000)
        func seconds(_ name: String, _ current: UInt64, allowZero: Bool = false) throws -> UInt64 {
            let value = try args.double(name, default: Double(current) / 1e9, range: (allowZero ? 0 : 0.001)...86_400)
            return UInt64(value * 1e9)
        }
        config.helloTimeoutNanos = try seconds("--hello-timeout", config.helloTimeoutNanos)
        config.frameTimeoutNanos = try seconds("--frame-timeout", config.frameTimeoutNanos)
        config.idleTimeoutNanos = try seconds("--idle-timeout", config.idleTimeoutNanos, allowZero: true)
        config.drainTimeoutNanos = try seconds("--drain-timeout", config.drainTimeoutNanos)
        if let given = try args.value("--active") {
            active = Options.absolute(given)
            defaultsGiven = true
        }
        if let standby = try args.value("--standby") {
            self.standby = standby == "none" ? nil : Options.absolute(standby)
            defaultsGiven = true
        }
        if let directory = try args.value("--model-dir") {
            guard let resolved = ArtifactPath.realPath(Options.absolute(directory)) else {
                throw Arguments.Failure("--model-dir \(directory): no such directory")
            }
            modelDirectory = resolved
        }
        if let how = try args.value("--recover-state") {
            guard let parsed = StateFile.Recovery(rawValue: how) else {
                throw Arguments.Failure("--recover-state must be older-record, defaults or none, got \(how)")
            }
            recovery = parsed
        }
        if let format = try args.value("--log-format") {
            switch format {
            case "text": logFormat = .text
            case "json": logFormat = .json
            case "off": logFormat = .off
            default: throw Arguments.Failure("--log-format must be text, json or off, got \(format)")
            }
        }
        statePath = try args.value("--state") ?? statePath
        if args.flag("--no-state") { statePath = nil }
        fsync = args.flag("--fsync")
        tokenFile = try args.value("--token-file") ?? tokenFile
        labellerTokenFile = try args.value("--labeller-token-file")
        config.predictionWindowEntries = try args.integer("--prediction-window-entries", default: config.predictionWindowEntries, range: 0...(1 << 30))
        if let seconds = try args.value("--prediction-window-seconds") {
            guard let value = Double(seconds), value.isFinite, value > 0 else {
                throw Arguments.Failure("--prediction-window-seconds must be a positive number of seconds, got \(seconds)")
            }
            config.predictionWindowSeconds = value
        }
        if let admin = try args.value("--admin-port") {
            if admin == "off" { adminPort = nil } else {
                guard let port = Int(admin), (0...65535).contains(port) else {
                    throw Arguments.Failure("--admin-port must be a port number or off, got \(admin)")
                }
                adminPort = port
            }
        }
        adminHost = try args.value("--admin-host") ?? adminHost
        name = try args.value("--name") ?? name
        guard !name.isEmpty, name.utf8.count <= Limits.name else {
            throw Arguments.Failure("--name must be 1...\(Limits.name) bytes (PROTOCOL.md, HELLO_REPLY server name), got \(name.utf8.count)")
        }
        warmupRows = try args.integer("--warmup-rows", default: warmupRows, range: 0...1_000_000_000)
        try args.finish()
    }

    /// A relative path given on the command line, made absolute against this directory: it is
    /// recorded in the state file and must mean the same file on the next start.
    static func absolute(_ reference: String) -> String {
        guard !reference.hasPrefix("/"), !reference.hasPrefix(ModelLoader.builtinPrefix) else { return reference }
        return FileManager.default.currentDirectoryPath + "/" + reference
    }
}

func fail(_ message: String, code: Int32) -> Never {
    NodeLog.event("startup_failed", level: "error", [("message", message)])
    FileHandle.standardError.write(Data("mlserve: \(message)\n".utf8))
    exit(code)
}

/// Raises the soft descriptor limit to the hard one, and clamps `--max-connections` to what it
/// then allows (keeping room for listeners, epoll, the state file, admin connections and loads).
func fitDescriptorLimit(_ config: inout ServerConfig) {
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    if limit.rlim_cur < limit.rlim_max {
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    let overhead = 32 + 4 * config.loops
    let allowed = max(1, Int(min(limit.rlim_cur, 1 << 30)) - overhead)
    if config.maxConnections > allowed {
        NodeLog.event("max_connections_clamped", level: "warn", [
            ("requested", String(config.maxConnections)), ("clamped_to", String(allowed)),
            ("fd_limit", String(limit.rlim_cur)), ("reserved_fds", String(overhead))])
        config.maxConnections = allowed
    }
    config.controllerReserve = min(config.controllerReserve, max(0, config.maxConnections - 1))
}

func runNode() {
    let raw = Array(CommandLine.arguments.dropFirst())
    if raw.contains("-h") || raw.contains("--help") {
        print(usage)
        exit(0)
    }
    var options: Options
    do { options = try Options(raw) } catch { fail("\(error)", code: 2) }
    NodeLog.configure(format: options.logFormat)
    fitDescriptorLimit(&options.config)

    // Signals are taken by a dedicated thread with sigwait, so block them before any thread starts.
    signal(SIGPIPE, SIG_IGN)
    // A write past a file-size limit then fails with EFBIG (a refused swap) instead of killing us.
    signal(SIGXFSZ, SIG_IGN)
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGTERM)
    sigaddset(&signals, SIGINT)
    pthread_sigmask(SIG_BLOCK, &signals, nil)

    let token: (token: String, origin: String)
    do { token = try TokenSource.resolve(file: options.tokenFile) } catch { fail("\(error)", code: 1) }
    var labeller: (token: String, origin: String)?
    if let file = options.labellerTokenFile {
        do { labeller = try TokenSource.resolve(file: file, variable: TokenSource.labellerEnvironmentVariable) } catch { fail("\(error)", code: 1) }
    } else if let token = ProcessInfo.processInfo.environment[TokenSource.labellerEnvironmentVariable], !token.isEmpty {
        labeller = (token, "$\(TokenSource.labellerEnvironmentVariable)")
    }
    let stateFile = options.statePath.map { StateFile(path: $0, fsync: options.fsync) }
    let restored: ControlPlane.Restored
    switch ControlPlane.restoreState(stateFile: stateFile, defaultActive: options.active, defaultStandby: options.standby,
                                     recovery: options.recovery, defaultsGiven: options.defaultsGiven) {
    case .success(let result): restored = result
    case .failure(let error): fail("cannot start: \(error.message)", code: 1)
    }
    if let recovery = restored.recovery {
        NodeLog.event("state_recovered", level: "warn", [("message", recovery)])
    }
    let initial = restored.pair
    let control = ControlPlane(initial: initial, stateFile: stateFile, token: token.token, labellerToken: labeller?.token, serverName: options.name,
                               modelDirectory: options.modelDirectory, stateRecovery: restored.recovery, warmupRows: options.warmupRows)
    do throws(StartupError) { try stateFile?.prepare() } catch { fail("cannot write state file: \(error.message)", code: 1) }
    do throws(SlotError) { try stateFile?.write(initial) } catch { fail("cannot write state file: \(error.message)", code: 1) }

    let server = Server(config: options.config, control: control)
    let port: UInt16
    do { port = try server.start() } catch let error as SocketError where error.code == EADDRINUSE {
        fail("cannot listen on \(options.config.host):\(options.config.port): address in use (another process listens there)", code: 1)
    } catch { fail("cannot listen on \(options.config.host):\(options.config.port): \(error)", code: 1) }

    var adminDescription = "off"
    let admin: AdminServer?
    if let adminPort = options.adminPort {
        let server = AdminServer(host: options.adminHost, port: UInt16(adminPort), backend: NodeAdminBackend(control: control))
        do {
            let bound = try server.start()
            adminDescription = "http://\(options.adminHost):\(bound)"
            admin = server
        } catch let error as SocketError where error.code == EADDRINUSE {
            fail("cannot start admin HTTP on \(options.adminHost):\(adminPort): address in use (another process listens there)", code: 1)
        } catch { fail("cannot start admin HTTP on \(options.adminHost):\(adminPort): \(error)", code: 1) }
    } else {
        admin = nil
    }

    let pairNow = control.slots.current()
    print("mlserve listening on \(options.config.host):\(port) with \(options.config.loops) loops; admin \(adminDescription)")
    print("  active \(pairNow.active?.version ?? "-") standby \(pairNow.standby?.version ?? "-") generation \(pairNow.generation)")
    print("  state \(options.statePath ?? "memory only"); controller token from \(token.origin); labeller token \(labeller.map { "from \($0.origin)" } ?? "none")")
    print("  prediction window \(options.config.predictionWindowEntries) entries (\(options.config.predictionWindowEntries * PredictionWindow.bytesPerEntry / 1_048_576) MiB), \(Int(options.config.predictionWindowSeconds)) s")
    NodeLog.event("startup", [("port", String(port)), ("host", options.config.host), ("loops", String(options.config.loops)),
                              ("admin", adminDescription), ("active", pairNow.active?.version ?? "-"),
                              ("standby", pairNow.standby?.version ?? "-"), ("generation", String(pairNow.generation)),
                              ("state", options.statePath ?? "memory"), ("fsync", options.fsync ? "on" : "off"),
                              ("max_connections", String(options.config.maxConnections)),
                              ("model_dir", options.modelDirectory ?? "-"), ("token_from", token.origin)])
    print("ready port=\(port)")
    fflush(nil)

    var received: Int32 = 0
    sigwait(&signals, &received)
    print("mlserve: signal \(received), draining")
    fflush(nil)
    let drainStarted = Clock.monotonicNanos()
    NodeLog.event("drain_started", [("signal", String(received)), ("connections", String(server.connectionCount))])
    server.shutdown()
    server.waitUntilStopped()
    admin?.stop()
    NodeLog.event("drain_finished", [("ms", String((Clock.monotonicNanos() - drainStarted) / 1_000_000)),
                                     ("connections_cut", String(server.connectionsCutAtDrainDeadline))])
    do { try stateFile?.write(control.slots.current()) } catch { fail("final state write failed: \(error.message)", code: 1) }
    print("mlserve: drained, state saved, exiting")
    exit(0)
}

runNode()
