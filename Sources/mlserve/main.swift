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
  --max-connections N    connections beyond this get RESOURCE_EXHAUSTED (default 10000)
  --active REF           artifact for the active slot when there is no state file
                         (a path, or builtin:v2.0 | builtin:v2.1 | builtin:mlp-v1; default builtin:v2.0)
  --standby REF          artifact for the standby slot likewise (default builtin:v2.1; "none" for empty)
  --state PATH           slot state file (default ./mlserve.state)
  --no-state             keep slot state in memory only (restarts use --active/--standby)
  --fsync                fsync the state file and its directory on every load/swap (power-loss safe)
  --token-file PATH      controller token file, created with a random token if missing
                         (default ./mlserve.token); $MLSERVE_TOKEN overrides it
  --admin-port N         admin HTTP port (/health /ready /model/info /metrics ...), 0 = ephemeral,
                         off = disabled (default 7071)
  --admin-host ADDR      admin HTTP address (default 127.0.0.1)
  --name NAME            node name reported in HELLO (default mlserve)
  -h, --help             this text

SIGNALS: SIGTERM or SIGINT drains: not ready, stop accepting, answer what is in flight, exit 0.
EXIT CODES: 0 clean shutdown, 1 startup failure, 2 bad arguments.
"""

struct Options {
    var config = ServerConfig()
    var active = "builtin:v2.0"
    var standby: String? = "builtin:v2.1"
    var statePath: String? = "mlserve.state"
    var fsync = false
    var tokenFile = "mlserve.token"
    var adminPort: Int? = 7071
    var adminHost = "127.0.0.1"
    var name = "mlserve"

    init(_ raw: [String]) throws {
        var args = Arguments(raw)
        config.host = try args.value("--host") ?? config.host
        config.port = UInt16(try args.integer("--port", default: Int(config.port), range: 0...65535))
        config.loops = try args.integer("--loops", default: config.loops, range: 1...256)
        config.maxPayload = try args.integer("--max-payload", default: config.maxPayload, range: 1024...FrameParser.absoluteMaxPayload)
        config.maxConnections = try args.integer("--max-connections", default: config.maxConnections, range: 1...1_000_000)
        active = try args.value("--active") ?? active
        if let standby = try args.value("--standby") { self.standby = standby == "none" ? nil : standby }
        statePath = try args.value("--state") ?? statePath
        if args.flag("--no-state") { statePath = nil }
        fsync = args.flag("--fsync")
        tokenFile = try args.value("--token-file") ?? tokenFile
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
        try args.finish()
    }
}

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("mlserve: \(message)\n".utf8))
    exit(code)
}

func runNode() {
    let raw = Array(CommandLine.arguments.dropFirst())
    if raw.contains("-h") || raw.contains("--help") {
        print(usage)
        exit(0)
    }
    let options: Options
    do { options = try Options(raw) } catch { fail("\(error)", code: 2) }

    // Signals are taken by a dedicated thread with sigwait, so block them before any thread starts.
    signal(SIGPIPE, SIG_IGN)
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGTERM)
    sigaddset(&signals, SIGINT)
    pthread_sigmask(SIG_BLOCK, &signals, nil)

    let token: (token: String, origin: String)
    do { token = try TokenSource.resolve(file: options.tokenFile) } catch { fail("\(error)", code: 1) }
    let stateFile = options.statePath.map { StateFile(path: $0, fsync: options.fsync) }
    let initial: SlotPair
    switch ControlPlane.restore(stateFile: stateFile, defaultActive: options.active, defaultStandby: options.standby) {
    case .success(let pair): initial = pair
    case .failure(let error): fail("cannot start: \(error.message)", code: 1)
    }
    let control = ControlPlane(initial: initial, stateFile: stateFile,
                               token: token.token, serverName: options.name)
    do { try stateFile?.write(initial) } catch { fail("cannot write state file: \(error)", code: 1) }

    let server = Server(config: options.config, control: control)
    let port: UInt16
    do { port = try server.start() } catch { fail("cannot listen on \(options.config.host):\(options.config.port): \(error)", code: 1) }

    var adminDescription = "off"
    let admin: AdminServer?
    if let adminPort = options.adminPort {
        let server = AdminServer(host: options.adminHost, port: UInt16(adminPort), backend: NodeAdminBackend(control: control))
        do {
            let bound = try server.start()
            adminDescription = "http://\(options.adminHost):\(bound)"
            admin = server
        } catch { fail("cannot start admin HTTP on \(options.adminHost):\(adminPort): \(error)", code: 1) }
    } else {
        admin = nil
    }

    let pairNow = control.slots.current()
    print("mlserve listening on \(options.config.host):\(port) with \(options.config.loops) loops; admin \(adminDescription)")
    print("  active \(pairNow.active?.version ?? "-") standby \(pairNow.standby?.version ?? "-") generation \(pairNow.generation)")
    print("  state \(options.statePath ?? "memory only"); controller token from \(token.origin)")
    print("ready port=\(port)")
    fflush(nil)

    var received: Int32 = 0
    sigwait(&signals, &received)
    print("mlserve: signal \(received), draining")
    fflush(nil)
    server.shutdown()
    server.waitUntilStopped()
    admin?.stop()
    do { try stateFile?.write(control.slots.current()) } catch { fail("final state write failed: \(error)", code: 1) }
    print("mlserve: drained, state saved, exiting")
    exit(0)
}

runNode()
