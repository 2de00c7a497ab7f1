#!/usr/bin/env bash
# CI step for the Python package (protocol/python): install it into a fresh venv, check that
# the client imports and runs from the installed copy, run its vector checker, a live session
# against a node this script starts, the exporter's unit tests, and the parity run (--quick).
# Needs the release build (.ci/run builds it; this script builds it too if missing).
#   bash .ci/python.sh            # PARITY_FULL=1 for the full parity run instead of --quick
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
work=$(mktemp -d)
node_pid=""
cleanup() {
    if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
        kill -TERM "$node_pid"; wait "$node_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

venv="$work/venv"
echo "== fresh venv; pip install ./protocol/python"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check ./protocol/python
rm -rf protocol/python/build protocol/python/*.egg-info
py="$venv/bin/python"

echo "== the installed package: client standard-library only, exporter without numpy until it runs"
(cd "$work" && "$py" -c '
import sys, mlserve_client, mlserve.export
assert "site-packages" in mlserve_client.__file__, mlserve_client.__file__
heavy = [m for m in ("numpy", "sklearn", "joblib") if m in sys.modules]
assert not heavy, heavy
print("mlserve_client", mlserve_client.__file__)')
"$venv/bin/mlserve-export" --help > /dev/null
"$venv/bin/mlserve-client" --help > /dev/null

echo "== vector checker"
"$py" protocol/python/check_vectors.py | tail -n 1

if [ ! -x .build/release/mlserve ]; then
    echo "== swift build -c release"
    swift build -c release 2>&1 | tail -n 1
fi
echo "== live session against a node on 127.0.0.1, port 0"
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
MLSERVE_TOKEN="$token" .build/release/mlserve --port 0 --admin-port off --no-state \
    --token-file "$work/token" > "$work/node.out" 2> "$work/node.err" &
node_pid=$!
port=""
for _ in $(seq 1 200); do  # bounded: ~20 s
    port=$(sed -n 's/^ready port=\([0-9]*\)$/\1/p' "$work/node.out" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then echo "FAIL: mlserve did not get ready"; cat "$work/node.err"; exit 1; fi
"$venv/bin/mlserve-client" --node "127.0.0.1:$port" | tail -n 2
MLSERVE_TOKEN="$token" "$py" protocol/python/live_check.py --port "$port" > "$work/live.json" \
    || { echo "FAIL: live_check"; cat "$work/live.json"; exit 1; }
echo "live_check ok"
kill -TERM "$node_pid"; wait "$node_pid"; node_pid=""

echo "== exporter unit tests (numpy, scikit-learn, joblib)"
if "$venv/bin/pip" install -q --disable-pip-version-check numpy scikit-learn joblib; then
    (cd "$work" && "$py" -m unittest discover -s "$root/protocol/python/tests" > "$work/unittest.log" 2>&1) \
        || { echo "FAIL: unit tests"; cat "$work/unittest.log"; exit 1; }
    tail -n 3 "$work/unittest.log"
else
    echo "scikit-learn is not installable here: exporter tests skipped"
fi

echo "== parity through a node"
mode=--quick
[ "${PARITY_FULL:-0}" = 1 ] && mode=""
PARITY_VENV="$venv" PARITY_NO_BUILD=1 bench/parity/run $mode

echo "== python CI step: $(( $(date +%s) - started )) s"
