#!/usr/bin/env python3
"""Times MLServe's tree kernel against XGBoost's own predictor and against tl2cgen-compiled C on
the same 300-tree, depth-6 model and the same float32 rows, single thread, at batch 1 and batch
1000 (issue 14's speed goal).

    swift build -c release
    .venv-parity/bin/pip install tl2cgen     # optional: without it the tl2cgen columns are skipped
    .venv-parity/bin/python bench/parity/kernel_vs_xgboost.py [--bin .build/release] [--work DIR] [--sittings 3]

XGBoost: `Booster.inplace_predict` with nthread=1 (batch 1: one row per call; batch 1000: 1000 rows
per call), median of several runs, process CPU time per row. MLServe: the model imported by
`mlctl artifact import`, timed by `mlbench kernel` (thread CPU time). tl2cgen: the same JSON model
loaded by treelite and turned into C by `tl2cgen.generate_c_code`, compiled with gcc -O2 and -O3
(and -O3 with tl2cgen's branch annotation from the training rows) into
bench/parity/tl2cgen_harness.c, which calls the generated `predict()` once per row (the
generated code has no batch entry point, so batch 1 and 1000 are the same loop) and times it with
thread CPU time; and tl2cgen's own Python `Predictor` (nthread=1, the library from
`tl2cgen.export_lib`, gcc -O3), one `DMatrix` per call, timed like XGBoost. Every tl2cgen score is
compared with XGBoost's. Both see the same rows (make_classification 50,000 x 40 with 10% NaN;
10,000 held-out rows). The machine is shared: treat the figures as noisy and compare ratios from
one sitting; --sittings K repeats every measurement K times, interleaved, and reports medians.
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification


def python_ns_per_row(predict, X, batch, runs=7):
    """Process CPU time per row of predict(rows) over batches of `batch` rows: (median, min, max)
    of `runs` runs after one discarded warm-up."""
    calls = max(1, min(len(X) // batch, 2000 if batch == 1 else 10))
    times = []
    for run in range(runs + 1):
        start = time.process_time_ns()
        for i in range(calls):
            predict(X[i * batch:(i + 1) * batch])
        elapsed = time.process_time_ns() - start
        if run:
            times.append(elapsed / (calls * batch))
    return float(np.median(times)), min(times), max(times)


def xgboost_ns_per_row(booster, X, batch):
    return python_ns_per_row(booster.inplace_predict, X, batch)


def mlbench_ns_per_row(binary, artifact, rows_file, batch, rows):
    out = subprocess.run([binary, "kernel", "--artifact", artifact, "--data", rows_file, "--batch", str(batch),
                          "--rows", str(rows)], check=True, capture_output=True, text=True).stdout
    m = re.search(r"batch \d+: ([0-9.]+) ns/row\s+\(min ([0-9.]+), max ([0-9.]+)\)", out)
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def median_of(values):
    """(median, min, max) over the medians of several sittings."""
    medians = [v[0] for v in values]
    return float(np.median(medians)), min(v[1] for v in values), max(v[2] for v in values)


class Tl2cgen:
    """The model compiled by tl2cgen: C harnesses at -O2 and -O3, and the library's own Predictor."""

    def __init__(self, model, work, rows, rows_file, expected, training_rows):
        import tl2cgen
        import treelite

        self.version = "tl2cgen %s, treelite %s" % (tl2cgen.__version__, treelite.__version__)
        tree_model = treelite.frontend.load_xgboost_model(model)
        # tl2cgen's branch annotation: the training rows' branch frequencies become
        # __builtin_expect hints in the generated C (its documented speed-up).
        annotation = os.path.join(work, "tl2cgen-annotation.json")
        tl2cgen.annotate_branch(tree_model, tl2cgen.DMatrix(training_rows, dtype="float32"), annotation, nthread=2)
        sources = {"": os.path.join(work, "tl2cgen-src"), " annotated": os.path.join(work, "tl2cgen-src-annotated")}
        tl2cgen.generate_c_code(tree_model, sources[""], params={})
        tl2cgen.generate_c_code(tree_model, sources[" annotated"], params={"annotate_in": annotation})
        harness = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tl2cgen_harness.c")
        self.rows_file, self.features, self.work = rows_file, rows.shape[1], work
        self.harnesses = {}
        self.max_dp = {}
        for level, variant in (("-O2", ""), ("-O3", ""), ("-O3", " annotated")):
            level += variant
            source = sources[variant]
            binary = os.path.join(work, "tl2cgen-harness" + level.replace(" ", "-"))
            subprocess.run(["gcc", level.split()[0], "-std=c99", "-I", source, "-o", binary,
                            os.path.join(source, "main.c"), harness, "-lm"], check=True)
            self.harnesses[level] = binary
            scores = os.path.join(work, "tl2cgen-scores" + level.replace(" ", "-") + ".f32")
            self.c_ns_per_row(level, 10, 1, scores)
            self.max_dp["C " + level] = float(np.max(np.abs(np.fromfile(scores, dtype="<f4") - expected)))
        library = os.path.join(work, "tl2cgen-model.so")
        tl2cgen.export_lib(tree_model, toolchain="gcc", libpath=library, params={"parallel_comp": 2}, nthread=2)
        self.predictor = tl2cgen.Predictor(library, nthread=1)
        self.dmatrix = tl2cgen.DMatrix
        self.max_dp["Predictor"] = float(np.max(np.abs(
            self.predictor.predict(self.dmatrix(rows, dtype="float32")).reshape(-1) - expected)))

    def c_ns_per_row(self, level, per_run=20_000, runs=7, scores=None):
        out = subprocess.run([self.harnesses[level], self.rows_file, str(self.features), str(per_run), str(runs),
                              scores or os.path.join(self.work, "tl2cgen-scores.f32")],
                             check=True, capture_output=True, text=True).stdout.split()
        return float(out[0]), float(out[1]), float(out[2])

    def predictor_ns_per_row(self, X, batch):
        """tl2cgen's Predictor as a Python user calls it: one DMatrix per call."""
        return python_ns_per_row(lambda rows: self.predictor.predict(self.dmatrix(rows, dtype="float32")), X, batch)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/release", help="directory with release mlctl and mlbench")
    parser.add_argument("--work", default="/tmp/mlserve-kernel-bench")
    parser.add_argument("--sittings", type=int, default=1, help="repeat every measurement, interleaved")
    parser.add_argument("--no-tl2cgen", action="store_true", help="skip tl2cgen even if it is installed")
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
    compiled = None
    if not args.no_tl2cgen:
        try:
            compiled = Tl2cgen(model, args.work, rows, rows_file, expected, X[train])
        except Exception as error:  # not installed, or no compiler: say why, time the rest
            print("tl2cgen skipped: %s: %s" % (type(error).__name__, error), file=sys.stderr)
    print("model: XGBoost %s, 300 trees, depth 6, 40 features; %d rows (10%% NaN); single thread" % (xgb.__version__, len(rows)))
    if compiled:
        print("%s; max |dp| against xgboost: %s" % (compiled.version, ", ".join(
            "%s %.2e" % item for item in compiled.max_dp.items())))
    mlbench = os.path.join(args.bin, "mlbench")
    columns = ["xgboost", "mlserve"] + (["tl2cgen C -O2", "tl2cgen C -O3", "tl2cgen C -O3 annotated", "tl2cgen Predictor"]
                                     if compiled else [])
    figures = {(batch, column): [] for batch in (1, 1000) for column in columns}
    for sitting in range(args.sittings):
        for batch in (1, 1000):
            figures[batch, "xgboost"].append(xgboost_ns_per_row(booster, rows, batch))
            figures[batch, "mlserve"].append(mlbench_ns_per_row(mlbench, artifact, rows_file, batch,
                                                                20_000 if batch == 1 else 10_000))
            if compiled:
                for level in ("-O2", "-O3", "-O3 annotated"):
                    figures[batch, "tl2cgen C " + level].append(compiled.c_ns_per_row(level))
                figures[batch, "tl2cgen Predictor"].append(compiled.predictor_ns_per_row(rows, batch))
            print("sitting %d, batch %d: %s" % (sitting + 1, batch, ", ".join(
                "%s %.1f" % (c, figures[batch, c][-1][0]) for c in columns)), file=sys.stderr)
    print("ns/row, median of %d sitting(s) of 7 runs (min-max over all runs)" % args.sittings)
    print("%-6s " % "batch" + " ".join("%24s" % c for c in columns))
    for batch in (1, 1000):
        cells = [median_of(figures[batch, c]) for c in columns]
        print("%-6d " % batch + " ".join("%24s" % ("%.1f (%.0f-%.0f)" % cell) for cell in cells))
        ours = cells[1][0]
        print("       mlserve / " + ", mlserve / ".join("%s %.2f" % (c, ours / cell[0]) for c, cell in zip(columns, cells)
                                                        if c != "mlserve"))
    print("(xgboost mean score %.6f; same rows fed to mlbench from %s)" % (float(np.mean(expected)), rows_file))


if __name__ == "__main__":
    main()
