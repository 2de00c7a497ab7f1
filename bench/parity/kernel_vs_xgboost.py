#!/usr/bin/env python3
"""Times MLServe's tree kernel against XGBoost's own predictor on the same 300-tree, depth-6 model
and the same float32 rows, single thread, at batch 1 and batch 1000 (issue 14's speed goal).

    swift build -c release
    /work/venv-models/bin/python bench/parity/kernel_vs_xgboost.py [--bin .build/release] [--work /tmp/kernel-bench]

XGBoost: `Booster.inplace_predict` with nthread=1 (batch 1: one row per call; batch 1000: 1000 rows
per call), median of several runs, process CPU time per row. MLServe: the model imported by
`mlctl artifact import`, timed by `mlbench kernel` (thread CPU time). Both see the same rows
(make_classification 50,000 x 40 with 10% NaN; 10,000 held-out rows). The machine is shared:
treat the figures as noisy and compare ratios from one sitting.
"""
import argparse
import os
import re
import subprocess
import time

import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification


def xgboost_ns_per_row(booster, X, batch, runs=7):
    calls = max(1, min(len(X) // batch, 2000 if batch == 1 else 10))
    times = []
    for run in range(runs + 1):
        start = time.process_time_ns()
        for i in range(calls):
            booster.inplace_predict(X[i * batch:(i + 1) * batch])
        elapsed = time.process_time_ns() - start
        if run:
            times.append(elapsed / (calls * batch))
    return float(np.median(times)), min(times), max(times)


def mlbench_ns_per_row(binary, artifact, rows_file, batch, rows):
    out = subprocess.run([binary, "kernel", "--artifact", artifact, "--data", rows_file, "--batch", str(batch),
                          "--rows", str(rows)], check=True, capture_output=True, text=True).stdout
    m = re.search(r"batch \d+: ([0-9.]+) ns/row\s+\(min ([0-9.]+), max ([0-9.]+)\)", out)
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/release", help="directory with release mlctl and mlbench")
    parser.add_argument("--work", default="/tmp/mlserve-kernel-bench")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)

    X, y = make_classification(n_samples=50_000, n_features=40, n_informative=20, random_state=11)
    X = X.astype(np.float32)
    X[np.random.default_rng(11).random(X.shape) < 0.1] = np.nan
    train, test = slice(0, 40_000), slice(40_000, 50_000)
    clf = xgb.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, random_state=1, n_jobs=2,
                            tree_method="hist")
    clf.fit(X[train], y[train])
    model = os.path.join(args.work, "xgb300.json")
    clf.save_model(model)
    rows = np.ascontiguousarray(X[test])
    rows_file = os.path.join(args.work, "rows.f32")
    rows.astype("<f4").tofile(rows_file)

    booster = clf.get_booster()
    booster.set_param({"nthread": 1})
    expected = booster.inplace_predict(rows)

    artifact = os.path.join(args.work, "xgb300.mlart")
    subprocess.run([os.path.join(args.bin, "mlctl"), "artifact", "import", model, artifact, "--version", "xgb300"],
                   check=True, capture_output=True)
    print("model: XGBoost %s, 300 trees, depth 6, 40 features; %d rows (10%% NaN); single thread" % (xgb.__version__, len(rows)))
    print("%-8s %22s %22s %8s" % ("batch", "xgboost ns/row", "mlserve ns/row", "ratio"))
    for batch in (1, 1000):
        theirs = xgboost_ns_per_row(booster, rows, batch)
        ours = mlbench_ns_per_row(os.path.join(args.bin, "mlbench"), artifact, rows_file, batch, 20_000 if batch == 1 else 10_000)
        print("%-8d %10.1f (%.0f-%.0f) %10.1f (%.0f-%.0f) %8.2f" % (batch, theirs[0], theirs[1], theirs[2],
                                                                  ours[0], ours[1], ours[2], ours[0] / theirs[0]))
    print("(xgboost mean score %.6f; same rows fed to mlbench from %s)" % (float(np.mean(expected)), rows_file))


if __name__ == "__main__":
    main()
