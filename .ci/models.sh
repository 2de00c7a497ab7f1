#!/usr/bin/env bash
# CI step for the model importers (issue 14), called by .ci/run after the release build:
#  1. parity against the libraries as PyPI has them today: a venv with xgboost, lightgbm and
#     scikit-learn, fresh fixtures from bench/parity/make_fixtures.py, and every one imported by
#     the release mlctl with --reference-data, which refuses any row off by more than 1e-6;
#  2. a short run of the model-file fuzzer (bench/fuzz/run-models).
# About 3-5 minutes on a quiet 2-core machine, most of it pip and the fuzzer build.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${MODELS_VENV:-.build-venv-models}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q xgboost lightgbm scikit-learn
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" bench/parity/make_fixtures.py --out "$work"
python3 - "$work" <<'PY' > "$work/imports.txt"
import json, sys
for f in json.load(open(sys.argv[1] + "/manifest.json"))["fixtures"]:
    print(f["model"], f["csv"], f["format"], f["name"])
PY
while read -r model csv format name; do
    .build/release/mlctl artifact import "$work/$model" "$work/$name.mlart" --format "$format" --reference-data "$work/$csv" \
        | grep -E "checked|wrote"
done < "$work/imports.txt"
echo "== model-file fuzzer (short)"
if ! bench/fuzz/run-models "${MODELS_FUZZ_RUNS:-20000}" > "$work/fuzz.log" 2>&1; then
    tail -n 40 "$work/fuzz.log"; echo "FAIL: the model-file fuzzer found a crash or a failed check"; exit 1
fi
grep -E "^Done|stat::number_of_executed_units" "$work/fuzz.log"
