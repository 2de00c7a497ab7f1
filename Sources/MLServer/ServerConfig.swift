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
    /// Connections beyond this get RESOURCE_EXHAUSTED (connectionLimit) and are closed.
    public var maxConnections = 10_000
    /// The last this many of `maxConnections` admit controllers only: a connection accepted in
    /// the reserve that says HELLO as anything else is refused, so clients that hold every
    /// connection cannot lock the operator out of a rollback.
    public var controllerReserve = 8
    /// From accept to a completed HELLO (an idle connection that never speaks is closed).
    public var helloTimeoutNanos: UInt64 = 10_000_000_000
    /// From a frame's first bytes to its last (a partial frame held open is closed).
    public var frameTimeoutNanos: UInt64 = 10_000_000_000
    /// A data connection with nothing buffered or pending for this long is closed; 0 = never.
    /// Controllers are exempt.
    public var idleTimeoutNanos: UInt64 = 300_000_000_000
    /// How long a drain may take before remaining connections are cut.
    public var drainTimeoutNanos: UInt64 = 10_000_000_000
    /// Predictions remembered for LABEL (with a prediction id), over all loops; 0 = none.
    public var predictionWindowEntries = PredictionWindow.defaultEntries
    /// A remembered prediction older than this takes no label (counted as expired).
    public var predictionWindowSeconds = PredictionWindow.defaultSeconds

    public init() {}
}
