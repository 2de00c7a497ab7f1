import MLClient
import MLWire

/// How mlctl reaches nodes: the controller token and the per-call timeout. Opens one
/// connection per use; every failure comes back as a `ControlError` naming the node.
public struct NodeAccess: Sendable {
    public var token: String?
    public var timeout: Double
    public var clientName: String

    public init(token: String?, timeout: Double = 5, clientName: String = "mlctl") {
        self.token = token
        self.timeout = timeout
        self.clientName = clientName
    }

    /// A connection after HELLO. Read-only commands pass `controller: false` so that `info`,
    /// `metrics`, `health` work without the token; load/swap/rollback need it.
    public func connect(_ endpoint: Endpoint, controller: Bool) throws(ControlError) -> NodeClient {
        let node = endpoint.description
        let client: NodeClient
        do {
            client = try NodeClient(endpoint, timeout: timeout)
        } catch {
            throw ControlError.from(error, node: node)
        }
        if controller && (token ?? "").isEmpty {
            throw .auth(node: node, reason: "no controller token: pass --token-file PATH or set $MLCTL_TOKEN")
        }
        do {
            try client.hello(role: controller ? .controller : .data, token: controller ? (token ?? "") : "", clientName: clientName)
        } catch {
            client.close()
            // At the connection limit, only controllers get in (the node's reserve): a read-only
            // command that has the token tries again as one.
            if !controller, error.status == .resourceExhausted, let token, !token.isEmpty {
                return try connect(endpoint, controller: true)
            }
            throw ControlError.from(error, node: node)
        }
        return client
    }

    /// Runs `body` on a fresh connection and closes it; client errors are classified.
    public func with<T>(_ endpoint: Endpoint, controller: Bool, _ body: (NodeClient) throws(ClientError) -> T) throws(ControlError) -> T {
        let client = try connect(endpoint, controller: controller)
        defer { client.close() }
        do {
            return try body(client)
        } catch {
            throw ControlError.from(error, node: endpoint.description)
        }
    }
}
