import MLControl

/// Every help text in one place, so `mlctl --help` and `mlctl <command> --help` stay in step.
enum Help {
    static let globals = """
        GLOBAL OPTIONS (any command, anywhere on the line):
          --node HOST:PORT    a node to act on; repeat for a fleet (default 127.0.0.1:7070)
          --nodes dns:NAME:PORT            every A/AAAA address of NAME (a Kubernetes headless Service), at PORT
          --nodes srv:_SERVICE._tcp.NAME   every SRV target of the name, with its port; both repeatable, mixable
                              with --node; resolved at the start of a command, again every round of `watch`
          --dns-server ADDR:PORT           DNS server for --nodes (default: first nameserver in /etc/resolv.conf)
          --token-file PATH   controller token file (default: $MLCTL_TOKEN, else ./mlserve.token)
          --db PATH           SQLite file with MODEL_METRICS, INCIDENTS, DEPLOYMENTS (default ./mlctl.sqlite)
          --json              machine-readable output
          --timeout SECONDS   per-call timeout (default 5); also each control request's deadline (now + timeout)
          --fleet NAME        the fleet whose lock and desired state are kept in --db (default "default")
          --clock-skew S      bound on node vs controller wall-clock difference, waited out after a lost reply (default 0.5)
        """

    /// What deploy, swap and rollback share, said once in each of their pages.
    static let fleetRules = """
        Fleet rules (deploy, swap, rollback): one operation per fleet at a time — a lock in --db that other
        controllers see; a second one is refused with who holds it (exit 7) or waits --lock-wait S; a lock
        silent for --stale-lock S (default 120) is taken over. Nodes are visited in sorted endpoint order.
        Every swap names the active AND the standby phase 1 saw and carries a deadline; a swap whose reply is
        lost is `unknown` until the node's Info (read after the deadline + --clock-skew) says what it did.
        The intended state is recorded (FLEET_DESIRED) so `watch` converges nodes that could not be settled.
        Exit 0 only when every node serves the intended version; 5 when nodes differ or one is unknown.
        """

    static var exitCodes: String {
        "EXIT CODES:\n" + ExitCode.allCases.map { "  \($0.rawValue)  \($0.meaning)" }.joined(separator: "\n")
    }

    static var main: String {
        """
        mlctl — the MLServe controller: the model-rollback runbook as commands, automated by `watch`.

        USAGE: mlctl <command> [options]        mlctl <command> --help

        START HERE:
          demo                      start a node, deploy a worse model, watch mlctl roll it back (~30 s)

        NODE:
          info                      slots, versions, generation (runbook step 3: GET /model/info)
          health                    is the node serving (GET /health); exit 1 if not
          ready                     is a model loaded and the node not draining (GET /ready); exit 1 if not
          metrics                   per version: requests, error rate, p50/p99, anomaly rate, F1, drift
        CHANGE (two-phase across several --node):
          load <artifact>           load into the standby slot and verify [--checksum HEX]
          deploy <artifact>         load standby, verify via Info, swap fenced on the current active [--checksum HEX]
                                    [--shadow DURATION [--gate gate.json] [--dry-run]]: shadow-score and gate first
          swap --expect VERSION     swap active <-> standby if VERSION is active
          rollback [--expect V]     runbook step 2; prints the runbook's response
        FLEET:
          fleet status              desired version (recorded by deploy/swap/rollback) vs what each node serves
        RECORDS:
          incidents                 INCIDENTS, newest first [--limit N] [--status S] [--id ID]
          history                   DEPLOYMENTS, newest first [--limit N]
          resolve INCIDENT          close an incident by hand (ends a paused rule's hold) [--note TEXT]
          report [--incident ID] [-o FILE]   one HTML page: F1, p99, error rates, labels per version, deploy markers
        AUTOMATION:
          watch                     poll, record MODEL_METRICS, apply the runbook's triggers, roll back, verify, notify;
                                    converge nodes to the fleet's desired state (`reconcile` in DEPLOYMENTS)
        ARTIFACTS:
          artifact create <spec.json> <out>      build an artifact file from a JSON spec
          artifact export builtin:<v> <out>      write a built-in model (v2.0, v2.1, mlp-v1) as a file
          artifact inspect <file>                verify and describe an artifact file
          artifact import <model> <out>          XGBoost (JSON/UBJ) or LightGBM model file -> verified artifact
        OPERATIONS (generated from mlserve's and the policy's defaults):
          ops kubernetes [--image IMG] [--replicas N] [--namespace NS]   manifests: nodes, Services, PDB, controller
          ops prometheus-rules [--policy FILE] [--tests] [-o FILE]       alerting rules (and promtool unit tests)

        \(globals)

        \(exitCodes)
        """
    }

    static func text(for command: String) -> String? {
        let body: String
        switch command {
        case "info": body = "mlctl info — each node's generation, readiness, active and standby slots (version, model, kind, checksum, artifact)."
        case "health": body = "mlctl health — whether each node serves. Exit 0 if all do, 1 if one does not, 3 if unreachable."
        case "ready": body = "mlctl ready — whether each node is ready (active model loaded, not draining). Exit 0/1/3 as for health."
        case "metrics": body = """
            mlctl metrics — cumulative figures per model version since each node started: requests, error rate,
            p50/p99 latency (server side), anomaly rate (predicted positives), F1 (from Feedback labels), drift (PSI).
            `watch` records the per-interval differences in MODEL_METRICS.
            """
        case "load": body = """
            mlctl load <artifact> [--checksum HEX] — load an artifact into every node's standby slot and verify it with
            Info. <artifact> is a file path (made absolute: the node opens it) or builtin:v2.0|v2.1|mlp-v1.
            --checksum: the artifact's SHA-256 (as `artifact inspect` prints); a mismatch is refused by the node.
            --force: load even the artifact that is active (otherwise the node may refuse it: ALREADY_ACTIVE).
            """
        case "deploy": body = """
            mlctl deploy <artifact> [--checksum HEX] — phase 1: load the standby on every node and verify it via Info;
            phase 2, only if every load succeeded: swap each node fenced on the active version seen in phase 1.
            If a swap fails part-way the nodes that moved are swapped back (fenced). Recorded in DEPLOYMENTS.
            Nodes already serving the artifact are left alone, standby included (already_active).
            --force: reload even the active artifact into standby, and swap to a standby that is not warm.
            \(fleetRules)
            --shadow DURATION (30s, 5m, 500ms): verify before you swap. After the load, wait until every standby
            is warm, let it score the node's own traffic next to the active for DURATION (SET_SHADOW), then judge
            each node with the gate: label agreement, F1 vs the active's on the same labelled rows, standby p99,
            standby errors, drift. Every node must pass before the two-phase swap starts. Refused: nothing
            swapped, the standby stays loaded, the verdict with every figure goes to DEPLOYMENTS and the
            notification, exit 8. A swap, load or restart on a node during the window: aborted, exit 9.
              --gate gate.json   thresholds (strict JSON; README "Gate file" lists keys and defaults)
              --shadow-rate R    fraction of rows shadowed, 0 < R <= 1 (default 1)
              --dry-run          judge and report, never swap (exit 0 if the gate passed, 8 if not)
              --policy FILE      only its webhook_url / notify_command are used, for the notification
            """
        case "swap": body = """
            mlctl swap --expect VERSION [--lock-wait S] [--force] — swap active <-> standby on every node whose active
            is VERSION (two-phase, like deploy). Refused where the standby holds the active's version (SAME_VERSION).
            \(fleetRules)
            """
        case "rollback": body = """
            mlctl rollback [--expect VERSION] — runbook step 2 on every node: swap back to the standby (the previous
            version), fenced on VERSION (default: each node's current active, read first). A retried rollback cannot
            flip back. Prints the runbook's response: status, previous_version, rolled_back_to, timestamp (UTC).
            Recorded in DEPLOYMENTS with actor 'manual'. Refused (SAME_VERSION, exit 1) where the standby holds the
            version already active: that "rollback" would change nothing.
            \(fleetRules)
            """
        case "incidents": body = "mlctl incidents [--limit N] [--status investigating|resolved|rollback_failed|paused|dry_run] [--id ID] — INCIDENTS, newest first."
        case "resolve": body = "mlctl resolve INCIDENT [--note TEXT] — mark an incident resolved by hand. A 'paused' incident holds its node (no automatic action on that version) until resolved or until `mlctl rollback` changes the version."
        case "history": body = "mlctl history [--limit N] — DEPLOYMENTS (deploy, swap, rollback), newest first, with actor, generation and swap time."
        case "watch": body = """
            mlctl watch [--interval S] [--duration S] [--rounds N] [--policy FILE] [--dry-run]
                        [--deploy-window S] [--stability-window S] [--baseline-window S]
            Polls every node each interval (default: the policy's poll_interval_seconds, 10) and writes MODEL_METRICS.
            Triggers (policy; defaults are the runbook's): F1 drop > 0.05 vs baseline or p99 > 2 s within the deploy
            window (30 min), error rate > 5% -> roll back fenced on the judged version, verify health, readiness and
            version, record an incident, notify, then watch the stability window (30 min) and record the outcome.
            Anomaly rate > 3x baseline -> an 'investigating' incident, no rollback. Baseline: the previous version's
            average over the baseline window (24 h) before the deploy. A node that goes away -> incident; resumes when back.
            Error rate is the MODEL's (requests it failed); requests a client got wrong (NaN, wrong width) are client
            errors and never trigger a rollback (optional alert: client_error_rate_limit). F1 needs min_feedback labels
            and min_label_coverage. Per rule the policy's "actions" picks rollback | pause | notify | dry_run;
            --dry-run makes every rule record what it would have done and change nothing. Too little data for a rule
            prints 'inconclusive': never a rollback, never 'healthy'.
            With --nodes dns:/srv: the names are resolved again every round: nodes that appear or vanish are recorded in
            the FLEET table; a failed lookup or zero records keeps the last good set (recorded once as lookup_failed).
            Each round also converges every node to the fleet's desired state (--fleet): a swap when the standby holds
            the desired version, else a load of the recorded artifact first; fenced, under the fleet lock (a round is
            skipped while an operation holds it), recorded as 'reconcile'. An automatic rollback updates the desired state.
            Runs until --duration/--rounds or Ctrl-C.
            """
        case "fleet": body = """
            mlctl fleet status [--fleet NAME] — per node: the desired version recorded in --db, what it serves, its
            standby and the operation id of its last control change (Info v2); who holds the fleet's lock.
            Exit 0 when every node serves its desired version, 5 when one differs or cannot be read.
            """
        case "demo": body = """
            mlctl demo [--keep] [--interval S] [--stability-window S] — starts a child mlserve (built-in models, ephemeral
            port, temporary state and token), drives labelled traffic with feedback, seeds a baseline for v2.0, deploys
            v2.1, and lets the watch loop detect the F1 drop, roll back, verify, record and notify, then watch the
            compressed stability window. Prints the timeline, the incident, DEPLOYMENTS and the SQLite file to query.
            Exit 0 if the rollback happened and was verified, 6 if not. --db PATH keeps the records where you say.
            """
        case "artifact": body = """
            mlctl artifact create <spec.json> <out>   — JSON spec (name, version, kind logistic|mlp, threshold, weights...) -> file
            mlctl artifact export builtin:<v> <out>   — a built-in model as a file (v2.0, v2.1, mlp-v1)
            mlctl artifact inspect <file>             — verify the checksum and print name, version, kind, features, SHA-256
            mlctl artifact import <model-file> <out.mlart> [--format xgboost-json|xgboost-ubj|lightgbm] [--name N]
                [--version V] [--threshold T] [--feature-names a,b,...] [--reference-data CSV] [--tolerance X]
              — a trained XGBoost (gbtree; binary:logistic, reg:logistic, binary:logitraw; best_iteration honoured) or
                LightGBM 4.x (binary, cross_entropy; categorical; average_output) model as a format-2 artifact that
                accepts NaN as missing. The format is detected from the content unless --format is given.
                --reference-data: CSV rows of the model's features (optional header; empty/nan = missing), optionally
                with one extra last column holding the library's own score for the row. Gives the drift reference
                (our score histogram) and up to 64 golden rows; with the extra column every row is checked against our
                kernel (|Δp| ≤ --tolerance, default 1e-6) before anything is written. Without it: no drift reference
                (drift reads n/a) and no golden rows. Multi-class, ranking, regression, gblinear, dart and linear trees
                are refused with a message naming them. Defaults: name = file name, version v1, threshold 0.5.
            """
        case "report": body = """
            mlctl report [--incident ID] [-o FILE] [--db PATH] — writes one self-contained HTML page (inline SVG, no script,
            nothing fetched) with the deploy timeline: F1, p99, model and client error rates and label coverage per version
            from MODEL_METRICS (n/a where the database has no such column), deploys/swaps/rollbacks from DEPLOYMENTS as
            markers, the INCIDENTS row and the DEPLOYMENTS rows. Default: the newest incident, from an hour before it to an
            hour after its last update; FILE defaults to ./report.html. Unknown incident: exit 2.
            """
        case "ops": body = """
            mlctl ops kubernetes [--image IMG] [--replicas N] [--namespace NS] [--name NAME] [--secret NAME]
                                 [--cpu Q] [--memory Q] [--state-size Q]
              Prints manifests built from mlserve's defaults (RPC and admin ports, drain time, probe paths): the node as a
              StatefulSet (startup/liveness on /health, readiness on /ready, preStop + terminationGracePeriodSeconds
              covering the drain, the state file on a volume, the token from Secret NAME key `token` as $MLSERVE_TOKEN),
              a headless Service for discovery, a Service for clients, a PodDisruptionBudget, and the controller as a
              one-replica Deployment running `mlctl watch --nodes dns:<headless>.<ns>.svc.cluster.local:PORT`.
              Defaults: mlserve:latest, 3 replicas, namespace mlserve.
            mlctl ops prometheus-rules [--policy FILE] [--job NAME] [--tests] [-o FILE]
              Prints Prometheus recording and alerting rules for the runbook's triggers with the policy's thresholds
              (model error rate, p99 within the deploy window, anomaly rate vs baseline, node down). --tests prints
              promtool unit tests instead; -o FILE writes the rules to FILE (and with --tests, the tests to FILE's
              name with .test.yml) for `promtool check rules` / `promtool test rules`. --job: the scrape job (mlserve).
            """
        default: return nil
        }
        return body + "\n\n" + globals + "\n\n" + exitCodes
    }
}
