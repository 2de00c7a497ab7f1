/// The defaults a node starts with and everything around it must agree on: the node itself
/// (MLServer), the controller and the manifests `mlctl ops kubernetes` writes. Kept here, the
/// one module both sides import, so there is no second copy to drift.
public enum NodeDefaults {
    /// The RPC port (PROTOCOL.md).
    public static let rpcPort: UInt16 = 7070
    /// The admin HTTP port: probes, /metrics, the runbook's curl routes.
    public static let adminPort: UInt16 = 7071
    /// How long a SIGTERM drain may take before remaining connections are cut.
    public static let drainSeconds: UInt64 = 10
    public static let healthPath = "/health"
    public static let readyPath = "/ready"
    public static let metricsPath = "/metrics"
    /// The environment variable a node reads its controller token from (it wins over the file).
    public static let tokenVariable = "MLSERVE_TOKEN"
}
