import MLWire

/// The admin routes: a pure function from (request, backend, now) to a response. No sockets, no
/// clock reads: the server passes `nowMicros`, tests pass a fixed instant.
///
/// | route                 | methods   | auth   | success                         |
/// |-----------------------|-----------|--------|---------------------------------|
/// | `/health`             | GET, HEAD | none   | 200 `{"status":"ok","uptime_ms":…}`, 503 when not serving |
/// | `/ready`              | GET, HEAD | none   | 200 `{"status":"ready"}`, 503 with a reason |
/// | `/model/info`         | GET, HEAD | none   | 200, both slots and the generation |
/// | `/metrics`            | GET, HEAD | none   | 200, Prometheus text format 0.0.4 |
/// | `/model/rollback`     | POST      | Bearer | 200, the runbook's rollback answer + generation |
/// | `/model/reload`       | POST      | Bearer | 200, load standby then swap (the runbook's deploy) |
///
/// Order of checks: path (404), method (405 + Allow), token (401 + WWW-Authenticate / 403),
/// body (400), then the backend (its Status mapped by `AdminFailure.httpStatusCode`).
public enum AdminRouter {
    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
    static let realm = "Bearer realm=\"mlserve-admin\""

    private enum Route {
        case health, ready, info, metrics, rollback, reload
    }

    private static func route(for path: Substring) -> Route? {
        switch path {
        case "/health": .health
        case "/ready": .ready
        case "/model/info": .info
        case "/metrics": .metrics
        case "/model/rollback": .rollback
        case "/model/reload": .reload
        default: nil
        }
    }

    /// Whether the request may change node state. The server runs these off its poll thread so a
    /// slow reload never delays a probe.
    public static func isMutation(_ request: HTTPRequest) -> Bool { request.method == "POST" }

    public static func respond(to request: HTTPRequest, backend: some AdminBackend, nowMicros: Int64) -> HTTPResponse {
        finish(dispatch(request, backend), nowMicros: nowMicros)
    }

    /// The answer to bytes that are not a valid request (the server's one protocol-error path).
    public static func respond(to error: HTTPParseError, nowMicros: Int64) -> HTTPResponse {
        finish(errorResponse(error.statusCode, error.message), nowMicros: nowMicros)
    }

    private static func dispatch(_ request: HTTPRequest, _ backend: some AdminBackend) -> HTTPResponse {
        let path = request.path
        guard let route = route(for: path) else {
            return errorResponse(404, "no such route: \(String(path.prefix(128)))")
        }
        let mutating = route == .rollback || route == .reload
        let allowed = mutating ? ["POST"] : ["GET", "HEAD"]
        guard allowed.contains(request.method) else {
            return errorResponse(405, "\(String(request.method.prefix(16))) not allowed on \(path)",
                                 headers: [("Allow", allowed.joined(separator: ", "))])
        }
        if mutating, let refusal = authenticate(request, backend) { return refusal }
        switch route {
        case .health:
            let health = backend.health()
            return HTTPResponse(statusCode: health.serving ? 200 : 503, json: AdminJSON.object([
                ("status", .string(health.serving ? "ok" : "unavailable")), ("uptime_ms", .int(health.uptimeMillis)),
            ]))
        case .ready:
            let ready = backend.ready()
            if ready.ready { return HTTPResponse(statusCode: 200, json: AdminJSON.object([("status", .string("ready"))])) }
            return HTTPResponse(statusCode: 503, json: AdminJSON.object([
                ("status", .string("not_ready")), ("reason", .string(ready.reason)),
            ]))
        case .info:
            return HTTPResponse(statusCode: 200, json: infoJSON(backend.info(), stateRecovery: backend.stateRecovery()))
        case .metrics:
            let text = PrometheusExposition.render(info: backend.info(), metrics: backend.metrics(), ready: backend.ready().ready,
                                                   clientErrors: backend.clientErrorsByStatus())
            return HTTPResponse(statusCode: 200, headers: [("Content-Type", metricsContentType)], body: Array(text.utf8))
        case .rollback:
            return rollback(request, backend)
        case .reload:
            return reload(request, backend)
        }
    }

    /// 401 when no bearer token is presented (with the challenge RFC 9110 §11.6.1 requires),
    /// 403 when one is presented and wrong.
    private static func authenticate(_ request: HTTPRequest, _ backend: some AdminBackend) -> HTTPResponse? {
        let challenge = [("WWW-Authenticate", realm)]
        guard let credentials = request.header("authorization") else {
            return errorResponse(401, "missing Authorization: Bearer <token>", status: .unauthenticated, reason: .tokenRejected, headers: challenge)
        }
        let parts = credentials.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return errorResponse(401, "Authorization must use the Bearer scheme", status: .unauthenticated, reason: .tokenRejected, headers: challenge)
        }
        let token = String(parts[1]).trimmingCharactersOWS()
        guard !token.isEmpty else {
            return errorResponse(401, "empty bearer token", status: .unauthenticated, reason: .tokenRejected, headers: challenge)
        }
        switch backend.checkToken(token) {
        case .ok: return nil
        case .wrong: return errorResponse(403, "wrong controller token", status: .permissionDenied, reason: .tokenRejected)
        }
    }

    private static func rollback(_ request: HTTPRequest, _ backend: some AdminBackend) -> HTTPResponse {
        let fields: [String: String]
        switch AdminJSON.parseStringObject(request.body, allowed: ["expected_active"]) {
        case .success(let parsed): fields = parsed
        case .failure(let failure): return failureResponse(failure)
        }
        let expectedActive: String?
        switch validatedVersion(fields["expected_active"]) {
        case .success(let version): expectedActive = version
        case .failure(let failure): return failureResponse(failure)
        }
        switch backend.rollback(expectedActive: expectedActive) {
        case .success(let outcome):
            return HTTPResponse(statusCode: 200, json: AdminJSON.object([
                ("status", .string("success")),
                ("previous_version", .string(outcome.previousVersion)),
                ("rolled_back_to", .string(outcome.activeVersion)),
                ("timestamp", .string(AdminTime.iso8601(micros: outcome.timestampMicros))),
                ("generation", .int(outcome.generation)),
            ]))
        case .failure(let failure):
            return failureResponse(failure)
        }
    }

    private static func reload(_ request: HTTPRequest, _ backend: some AdminBackend) -> HTTPResponse {
        let fields: [String: String]
        switch AdminJSON.parseStringObject(request.body, allowed: ["artifact", "expected_checksum", "expected_active"]) {
        case .success(let parsed): fields = parsed
        case .failure(let failure): return failureResponse(failure)
        }
        guard let artifact = fields["artifact"], !artifact.isEmpty else {
            return failureResponse(AdminFailure(.invalidArgument, "body must name the artifact: {\"artifact\":\"…\"}"))
        }
        guard artifact.utf8.count <= Limits.artifact else {
            return failureResponse(AdminFailure(.invalidArgument, "artifact reference longer than \(Limits.artifact) bytes"))
        }
        var checksum = Digest32.zero
        if let hex = fields["expected_checksum"] {
            guard let digest = Digest32(hex: hex) else {
                return failureResponse(AdminFailure(.invalidArgument, "expected_checksum must be 64 hex digits"))
            }
            // All zeros means "do not verify" on the wire; over HTTP that is spelled by omitting it.
            guard !digest.isZero else {
                return failureResponse(AdminFailure(.invalidArgument, "expected_checksum is all zeros; omit it to skip verification"))
            }
            checksum = digest
        }
        let expectedActive: String?
        switch validatedVersion(fields["expected_active"]) {
        case .success(let version): expectedActive = version
        case .failure(let failure): return failureResponse(failure)
        }
        switch backend.reload(artifact: artifact, expectedChecksum: checksum, expectedActive: expectedActive) {
        case .success(let outcome):
            return HTTPResponse(statusCode: 200, json: AdminJSON.object([
                ("status", .string("success")),
                ("previous_version", .string(outcome.previousVersion)),
                ("active_version", .string(outcome.activeVersion)),
                ("timestamp", .string(AdminTime.iso8601(micros: outcome.timestampMicros))),
                ("generation", .int(outcome.generation)),
            ]))
        case .failure(let failure):
            return failureResponse(failure)
        }
    }

    /// An absent fence is allowed (unfenced swap); an empty one is refused because on the wire the
    /// empty string *means* unfenced, and a caller who typed `""` probably meant something else.
    private static func validatedVersion(_ version: String?) -> Result<String?, AdminFailure> {
        guard let version else { return .success(nil) }
        guard !version.isEmpty else {
            return .failure(AdminFailure(.invalidArgument, "expected_active is empty; omit it for an unfenced swap"))
        }
        guard version.utf8.count <= Limits.version else {
            return .failure(AdminFailure(.invalidArgument, "expected_active longer than \(Limits.version) bytes"))
        }
        return .success(version)
    }

    static func infoJSON(_ info: InfoReply, stateRecovery: String? = nil) -> String {
        func slot(_ slot: SlotInfo) -> AdminJSON.Value {
            guard slot.present else { return .null }
            return .object([
                ("version", .string(slot.version)),
                ("model_name", .string(slot.modelName)),
                ("kind", .string(ModelKind(rawValue: slot.kind)?.name ?? "unknown(\(slot.kind))")),
                ("checksum", .string(slot.checksum.hex)),
                ("loaded_at", .string(AdminTime.iso8601(micros: slot.loadedAtMicros))),
                ("artifact", .string(slot.artifact)),
                ("feature_count", .int(UInt64(slot.featureCount))),
            ])
        }
        return AdminJSON.object([
            ("generation", .int(info.generation)),
            ("ready", .bool(info.ready)),
            ("draining", .bool(info.draining)),
            ("active", slot(info.active)),
            ("standby", slot(info.standby)),
            // Set when the node started on a damaged state file by --recover-state.
            ("state_recovery", stateRecovery.map { .string($0) } ?? .null),
        ])
    }

    // MARK: - Errors

    private static func failureResponse(_ failure: AdminFailure) -> HTTPResponse {
        errorResponse(failure.httpStatusCode, failure.message, status: failure.status, reason: failure.reason)
    }

    /// `{"status":"error","code":…,"reason":…,"message":…}`. `code` is always a wire Status name
    /// and `reason` a wire Reason name (PROTOCOL.md §6.1), so scripts handle HTTP and
    /// binary-protocol failures alike and never need to read `message`.
    private static func errorResponse(_ httpCode: Int, _ message: String, status: Status? = nil,
                                      reason: Reason = .unspecified, headers: [(String, String)] = []) -> HTTPResponse {
        let code = status ?? statusForHTTP(httpCode)
        return HTTPResponse(statusCode: httpCode, headers: headers.map { (name: $0.0, value: $0.1) }, json: AdminJSON.object([
            ("status", .string("error")), ("code", .string(code.name)), ("reason", .string(reason.name)),
            ("message", .string(message)),
        ]))
    }

    /// For errors raised by HTTP itself rather than the backend.
    static func statusForHTTP(_ code: Int) -> Status {
        switch code {
        case 400, 411, 417: .invalidArgument
        case 401: .unauthenticated
        case 403: .permissionDenied
        case 404: .notFound
        case 405, 501, 505: .unimplemented
        case 408: .deadlineExceeded
        case 409: .failedPrecondition
        case 413, 414, 431: .resourceExhausted
        case 422: .dataLoss
        case 503: .unavailable
        default: .internal
        }
    }

    private static func finish(_ response: HTTPResponse, nowMicros: Int64) -> HTTPResponse {
        var response = response
        response.headers.append((name: "Date", value: AdminTime.httpDate(micros: nowMicros)))
        // Probes and operators must always see the node's current state, never a cached one.
        response.headers.append((name: "Cache-Control", value: "no-store"))
        return response
    }
}

extension String {
    fileprivate func trimmingCharactersOWS() -> String {
        var text = Substring(self)
        while let c = text.first, c == " " || c == "\t" { text = text.dropFirst() }
        while let c = text.last, c == " " || c == "\t" { text = text.dropLast() }
        return String(text)
    }
}
