#!/usr/bin/env bash
# Operations checks that need real tools: dnsmasq (fleet discovery), promtool (alert rules and
# the /metrics names), Chromium (the incident report), kubernetes-validate (manifests).
# Installs what is missing, then fails if any of the tool-backed tests was skipped.
# Called by .ci/run after its build (incremental here); runs alone too.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
work=$(mktemp -d)
node_pid=""
cleanup() { if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

missing=()
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a system dnsmasq on port 53; the tests start their own on a free port.
systemctl disable --now dnsmasq >/dev/null 2>&1 || true

venv=.build/ops-venv
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    echo "== kubernetes-validate (PyPI) into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q kubernetes-validate
fi

echo "== swift build (debug, with tests)"
swift build --build-tests 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)

echo "== tests backed by dnsmasq and Chromium (none may be skipped)"
log="$work/test.log"
set +e
swift test --skip-build --filter 'MLDiscoveryTests|FleetDiscoveryTests|ReportTests|AdminPrometheusTests' > "$log" 2>&1
status=$?
set -e
summary=$(grep -E "Executed [0-9]+ tests?, with" "$log" | tail -n 1 || true)
echo "   $summary"
if [ "$status" -ne 0 ] || ! echo "$summary" | grep -qE " 0 failures"; then
    echo "FAIL: tests failed"; grep -E "error:|failed" "$log" | head -n 40; exit 1
fi
ran=$(echo "$summary" | sed -nE 's/.*Executed ([0-9]+) tests?.*/\1/p')
if [ "${ran:-0}" -lt 20 ]; then echo "FAIL: only ${ran:-0} tests ran"; exit 1; fi
if echo "$summary" | grep -q "skipped" || grep -qE "Test skipped|' skipped \(" "$log"; then
    echo "FAIL: a tool-backed test was skipped:"; grep -E "Test skipped|' skipped \(" "$log" | head; exit 1
fi

echo "== promtool: rules and their unit tests, default policy and a strict one"
cat > "$work/strict.json" <<'JSON'
{"error_rate_limit": 0.01, "latency_p99_limit_ms": 250, "anomaly_rate_multiplier": 1.5,
 "deploy_window_seconds": 600, "baseline_window_seconds": 7200, "min_requests": 50}
JSON
for policy in "" "$work/strict.json"; do
    "$bin/mlctl" ops prometheus-rules ${policy:+--policy "$policy"} --tests -o "$work/mlserve-rules.yml" >/dev/null
    promtool check rules "$work/mlserve-rules.yml"
    promtool test rules "$work/mlserve-rules.test.yml"
done
# The tests must be able to fail: rules from a much looser policy must not pass the default tests.
"$bin/mlctl" ops prometheus-rules --tests -o "$work/mlserve-rules.yml" >/dev/null
echo '{"error_rate_limit": 0.5, "latency_p99_limit_ms": 20000, "anomaly_rate_multiplier": 50}' > "$work/loose.json"
"$bin/mlctl" ops prometheus-rules --policy "$work/loose.json" > "$work/mlserve-rules.yml"
if promtool test rules "$work/mlserve-rules.test.yml" >/dev/null 2>&1; then
    echo "FAIL: promtool tests passed against rules with other thresholds"; exit 1
fi
echo "   looser rules fail the default tests, as they must"

echo "== promtool check metrics: a live node's /metrics follows Prometheus naming"
"$bin/mlserve" --port 0 --admin-port 0 --no-state --token-file "$work/token" > "$work/node.log" 2>&1 &
node_pid=$!
admin=""
for _ in $(seq 1 100); do
    admin=$(sed -nE 's/.*admin (http:\/\/)?127\.0\.0\.1:([0-9]+).*/\2/p' "$work/node.log" | head -n 1)
    [ -n "$admin" ] && grep -q "ready port=" "$work/node.log" && break
    sleep 0.1
done
[ -n "$admin" ] || { echo "FAIL: mlserve did not start"; cat "$work/node.log"; exit 1; }
curl -fsS "http://127.0.0.1:$admin/metrics" > "$work/metrics.txt"
lint=$(promtool check metrics < "$work/metrics.txt" 2>&1 || true)
if [ -n "$lint" ]; then echo "FAIL: promtool check metrics:"; echo "$lint"; exit 1; fi
grep -q '^mlserve_model_info{slot="active"' "$work/metrics.txt" || { echo "FAIL: no mlserve_model_info"; exit 1; }
kill "$node_pid"; wait "$node_pid" 2>/dev/null || true; node_pid=""
echo "   clean"

echo "== kubernetes-validate --strict: mlctl ops kubernetes"
"$bin/mlctl" ops kubernetes > "$work/k8s.yaml"
"$bin/mlctl" ops kubernetes --image registry.example/mlserve:2.1 --replicas 5 --namespace prod > "$work/k8s-prod.yaml"
"$venv/bin/kubernetes-validate" --strict --quiet "$work/k8s.yaml" "$work/k8s-prod.yaml"
grep -q 'dns:mlserve-headless.prod.svc.cluster.local:7070' "$work/k8s-prod.yaml" || { echo "FAIL: controller not pointed at the headless Service"; exit 1; }
echo "   valid"

echo "== ops checks passed in $(( $(date +%s) - start )) s"
