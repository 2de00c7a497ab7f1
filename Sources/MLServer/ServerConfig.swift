import Glibc
import MLWire

/// How a node listens and what it tolerates.
public struct ServerConfig: Sendable {
    public static let defaultPort: UInt16 = 7070

    public var host = "127.0.0.1"
    /// 0 picks an ephemeral port; `Server.start()` returns the one bound.
    public var port: UInt16 = ServerConfig.defaultPort
    /// Event loops, one thread each; default one per online core.
    public var loops = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Largest payload accepted after HELLO (PROTOCOL.md §4.2).
    public var maxPayload = FrameParser.defaultMaxPayload
    /// Connections beyond this get RESOURCE_EXHAUSTED and are closed.
    public var maxConnections = 10_000
    /// How long a drain may take before remaining connections are cut.
    public var drainTimeoutNanos: UInt64 = 5_000_000_000

    public init() {}
}
