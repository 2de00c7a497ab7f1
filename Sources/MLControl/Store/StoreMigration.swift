/// One step of the control store's schema. Steps are applied in order, each in its own
/// transaction together with its `schema_version` row, so a crash leaves either all of a step
/// or none of it. Never edit a released step: append a new one (ALTER TABLE, new index, …).
struct StoreMigration: Sendable {
    var version: Int
    var description: String
    var sql: String

    // Steps 2 and 3 repeat what steps 1 and 3 say about DEPLOYMENTS and INCIDENTS; these pieces
    // say it once. The SQL text each step runs is the same, to the byte, as the released step's.

    /// DEPLOYMENTS' columns from `actor` to `status`, as step 1 made them and step 2 copies them.
    /// The lines after the first are indented as they stand inside the CREATE TABLE.
    private static let deploymentsMiddle = """
        actor        TEXT NOT NULL,
            node         TEXT NOT NULL,
            from_version TEXT,
            to_version   TEXT,
            generation   INTEGER,
            swap_micros  REAL,
            status       TEXT NOT NULL,
        """

    /// Why each trigger fired (step 3): the same columns on INCIDENTS and DEPLOYMENTS.
    private static let triggerColumns = [
        "trigger_rule TEXT", "observed_value REAL", "baseline_value REAL", "threshold REAL",
        "sample_count INTEGER", "trigger_action TEXT", "dry_run INTEGER NOT NULL DEFAULT 0",
    ]

    private static func addColumns(_ table: String, _ columns: [String]) -> String {
        columns.map { "ALTER TABLE \(table) ADD COLUMN \($0);" }.joined(separator: "\n")
    }

    /// The schema in force. Timestamps are TEXT in SQLite's 'YYYY-MM-DD HH:MM:SS' UTC form so
    /// `datetime('now', …)` comparisons in the runbook's queries work on them.
    static let all: [StoreMigration] = [
        StoreMigration(version: 1, description: "MODEL_METRICS, INCIDENTS, DEPLOYMENTS", sql: """
            CREATE TABLE MODEL_METRICS (
                id              INTEGER PRIMARY KEY,
                timestamp       TEXT    NOT NULL,
                model_name      TEXT    NOT NULL,
                model_version   TEXT    NOT NULL,
                node            TEXT    NOT NULL,
                request_count   INTEGER NOT NULL DEFAULT 0,
                feedback_count  INTEGER NOT NULL DEFAULT 0,
                f1_score        REAL,
                latency_p99_ms  REAL,
                error_rate      REAL,
                anomaly_rate    REAL,
                drift_score     REAL
            );
            -- The runbook filters by model and time; the baseline by model, version and time.
            CREATE INDEX MODEL_METRICS_by_model_time ON MODEL_METRICS (model_name, timestamp);
            CREATE INDEX MODEL_METRICS_by_version_time ON MODEL_METRICS (model_name, model_version, timestamp);

            CREATE TABLE INCIDENTS (
                incident_id        TEXT PRIMARY KEY,
                alert_type         TEXT NOT NULL,
                severity           TEXT NOT NULL,
                affected_component TEXT NOT NULL,
                root_cause         TEXT NOT NULL,
                resolution         TEXT,
                status             TEXT NOT NULL,
                -- Defaults only serve the runbook's hand-written INSERT; mlctl always passes times.
                created_at         TEXT NOT NULL DEFAULT (datetime('now')),
                updated_at         TEXT NOT NULL DEFAULT (datetime('now')),
                model_name         TEXT,
                node               TEXT,
                from_version       TEXT,
                to_version         TEXT,
                stability_outcome  TEXT,
                notes              TEXT
            );
            CREATE INDEX INCIDENTS_by_created ON INCIDENTS (created_at);

            CREATE TABLE DEPLOYMENTS (
                id           INTEGER PRIMARY KEY,
                timestamp    TEXT NOT NULL,
                action       TEXT NOT NULL CHECK (action IN ('deploy', 'swap', 'rollback')),
                \(deploymentsMiddle)
                detail       TEXT
            );
            CREATE INDEX DEPLOYMENTS_by_node_time ON DEPLOYMENTS (node, timestamp);
            """),
        // SQLite cannot alter a CHECK constraint: DEPLOYMENTS is rebuilt to admit 'reconcile'
        // (watch converging a node to the desired state) and to carry the fleet operation id.
        StoreMigration(version: 2, description: "DEPLOYMENTS reconcile + operation_id, FLEET_DESIRED, FLEET_LOCKS", sql: """
            CREATE TABLE DEPLOYMENTS_v2 (
                id           INTEGER PRIMARY KEY,
                timestamp    TEXT NOT NULL,
                action       TEXT NOT NULL CHECK (action IN ('deploy', 'swap', 'rollback', 'reconcile')),
                \(deploymentsMiddle)
                detail       TEXT,
                operation_id TEXT
            );
            INSERT INTO DEPLOYMENTS_v2 (id, timestamp, action, actor, node, from_version, to_version, generation, swap_micros, status, detail)
                SELECT id, timestamp, action, actor, node, from_version, to_version, generation, swap_micros, status, detail FROM DEPLOYMENTS;
            DROP TABLE DEPLOYMENTS;
            ALTER TABLE DEPLOYMENTS_v2 RENAME TO DEPLOYMENTS;
            CREATE INDEX DEPLOYMENTS_by_node_time ON DEPLOYMENTS (node, timestamp);

            -- What each node of a fleet should serve; watch converges nodes to it.
            CREATE TABLE FLEET_DESIRED (
                fleet        TEXT NOT NULL,
                node         TEXT NOT NULL,
                version      TEXT NOT NULL,
                checksum     TEXT NOT NULL,
                artifact     TEXT,
                operation_id TEXT,
                updated_at   TEXT NOT NULL,
                PRIMARY KEY (fleet, node)
            );

            -- One fleet operation at a time: the holder refreshes heartbeat_unix as it works;
            -- a lock whose heartbeat is older than the stale limit may be taken over.
            CREATE TABLE FLEET_LOCKS (
                fleet          TEXT PRIMARY KEY,
                operation_id   TEXT NOT NULL,
                action         TEXT NOT NULL,
                holder         TEXT NOT NULL,
                acquired_at    TEXT NOT NULL,
                heartbeat_unix REAL NOT NULL
            );
            """),
        // error_rate keeps its name for the runbook's queries and from now on holds the model's
        // error rate (model_error_rate); rows written before this step mixed in client errors.
        StoreMigration(version: 3, description: "labels, split error rates, drift noise floor; why each trigger fired", sql: [
            addColumns("MODEL_METRICS", ["label_count INTEGER", "label_coverage REAL", "model_error_rate REAL",
                                         "client_error_rate REAL", "drift_expected REAL"]),
            addColumns("INCIDENTS", triggerColumns),
            addColumns("DEPLOYMENTS", triggerColumns),
        ].joined(separator: "\n")),
        // Fleet discovery (`--nodes dns:`/`srv:`): nodes appearing and vanishing between watch
        // rounds, and lookups failing (the last good set is kept) and recovering.
        StoreMigration(version: 4, description: "FLEET", sql: """
            CREATE TABLE FLEET (
                id        INTEGER PRIMARY KEY,
                timestamp TEXT NOT NULL,
                event     TEXT NOT NULL CHECK (event IN ('appeared', 'vanished', 'lookup_failed', 'lookup_recovered')),
                node      TEXT,
                source    TEXT NOT NULL,
                detail    TEXT
            );
            CREATE INDEX FLEET_by_time ON FLEET (timestamp);
            """),
        // One row per node per shadow window judged by `deploy --shadow`: the gate's figures.
        StoreMigration(version: 5, description: "SHADOW_METRICS", sql: """
            CREATE TABLE SHADOW_METRICS (
                id               INTEGER PRIMARY KEY,
                timestamp        TEXT    NOT NULL,
                node             TEXT    NOT NULL,
                active_version   TEXT    NOT NULL,
                standby_version  TEXT    NOT NULL,
                window_seconds   REAL    NOT NULL,
                rows_shadowed    INTEGER NOT NULL,
                agreement        REAL,
                labelled_rows    INTEGER NOT NULL,
                active_f1        REAL,
                standby_f1       REAL,
                standby_p99_ms   REAL,
                standby_errors   INTEGER NOT NULL,
                active_drift     REAL,
                standby_drift    REAL,
                score_diff_p99   REAL,
                passed           INTEGER NOT NULL,
                outcome          TEXT    NOT NULL
            );
            CREATE INDEX SHADOW_METRICS_by_standby_time ON SHADOW_METRICS (standby_version, timestamp);
            """),
    ]
}
