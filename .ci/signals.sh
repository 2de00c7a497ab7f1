#!/usr/bin/env bash
# The prediction window under ThreadSanitizer: one writer and several claimers per table, and
# labels through a live node. Separate scratch path so it does not disturb the main build.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
swift test --sanitize=thread --scratch-path .build-tsan --filter "PredictionWindowTests|LabelTests" > "$log" 2>&1 || { tail -n 40 "$log"; exit 1; }
if grep -q "WARNING: ThreadSanitizer" "$log"; then grep -A 20 "WARNING: ThreadSanitizer" "$log" | head -n 60; exit 1; fi
grep -E "Executed [0-9]+ tests" "$log" | tail -n 1
grep -qE "Executed [1-9][0-9]* tests?, with 0 failures" "$log" || { echo "FAIL: no TSan test ran or one failed"; exit 1; }
