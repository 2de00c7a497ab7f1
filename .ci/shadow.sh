#!/usr/bin/env bash
# CI step for shadow scoring (issue 12), run by .ci/run after the release build:
# 1. the demo's two acts (the gate refuses v2.1, then the watch loop rolls it back): exit 0 only
#    if both behaved;
# 2. a short load with every row shadowed, whose correctness counters must all be zero (the
#    active's replies are checked row by row while the standby shadows them).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== mlctl demo (act 1: shadow gate refuses v2.1; act 2: watch rolls it back)"
.build/release/mlctl demo --db "$(mktemp -d)/demo.sqlite"
echo "== mlbench load --shadow 1: replies unchanged while the standby shadows every row"
.build/release/mlbench load -c 8 -d 2 --warmup 0.5 --shadow 1 --check
