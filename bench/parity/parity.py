"""Parity of served models with the libraries that trained them, through a real node.

For each dataset (scikit-learn's breast-cancer set; make_classification 50,000 x 40 with 10%
NaN and 3 categorical columns) and each model (XGBoost JSON/UBJ and early-stopped, LightGBM with
each missing type and categorical splits, the scikit-learn pipelines): train, write the model
file, make an artifact with the user's command, `mlctl deploy` it to a release `mlserve`, send
every row through PREDICT and through PREDICT_BATCH with the Python client, and compare with the
library's own probabilities / -score_samples and labels on the same float32 rows.

Pass: max |score - library| <= 1e-6 and no label differs, on both paths. Prints a table; exit
status 1 on any failure. Run through bench/parity/run (which makes the venv and builds).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time
import traceback
from typing import Any, Dict, List

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import models  # noqa: E402
from node import Node  # noqa: E402

TOLERANCE = 1e-6


def compare(case: models.Case, node: Node, x: Any) -> Dict[str, Any]:
    started = time.monotonic()
    node.deploy(case.artifact, case.name)
    row: Dict[str, Any] = {"dataset": case.dataset, "model": case.name, "library": case.library, "rows": len(x)}
    for path, call in (("predict", node.predict_each), ("batch", node.predict_batches)):
        scores, labels, versions = call(x)
        scores = np.asarray(scores, dtype=np.float64)
        row[f"{path}_dp"] = float(np.max(np.abs(scores - case.scores)))
        row[f"{path}_labels"] = int(np.sum(np.asarray(labels, dtype=np.uint8) != case.labels))
        row[f"{path}_versions"] = versions
        if case.rounded is not None:
            row[f"{path}_rounded_dp"] = float(np.max(np.abs(scores - case.rounded)))
            row["library_rounded_dp"] = float(np.max(np.abs(case.scores - case.rounded)))
    row["seconds"] = time.monotonic() - started
    row["ok"] = (row["predict_dp"] <= TOLERANCE and row["batch_dp"] <= TOLERANCE and row["predict_labels"] == 0
                 and row["batch_labels"] == 0 and row["predict_versions"] == row["batch_versions"] == case.name)
    return row


def bootstrap_artifact(data: models.Dataset, work: pathlib.Path) -> pathlib.Path:
    """A first active model of the dataset's width, so that every real case arrives by `mlctl deploy`."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from mlserve.export import to_artifact

    estimator = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=5000)).fit(data.x[:500], data.y[:500])
    path = work / f"{data.name}-start.mlart"
    to_artifact(estimator, str(path), version="parity-start", name=data.name)
    return path


def print_table(results: List[Dict[str, Any]], failures: List[str]) -> None:
    header = ("| dataset | model | library | rows | max \\|Δp\\| PREDICT | max \\|Δp\\| BATCH | label mismatches "
              "(PREDICT / BATCH) | result |")
    print(header)
    print("|---|---|---|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['dataset']} | {r['model']} | {r['library']} | {r['rows']} | {r['predict_dp']:.2e} | "
              f"{r['batch_dp']:.2e} | {r['predict_labels']} / {r['batch_labels']} | {'pass' if r['ok'] else 'FAIL'} |")
    rounded = [r for r in results if "library_rounded_dp" in r]
    if rounded:
        print("\nEach MLP's weights rounded to float32 (as stored) and evaluated in float64; max |Δp| from that of"
              "\nscikit-learn (the cost of float32 weights) / of the node, PREDICT and BATCH (the cost of its arithmetic):")
    for r in rounded:
        print(f"  {r['dataset']} {r['model']}: {r['library_rounded_dp']:.2e} / {r['predict_rounded_dp']:.2e}, "
              f"{r['batch_rounded_dp']:.2e}")
    for failure in failures:
        print(f"FAIL: {failure}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, type=pathlib.Path, help="directory with release mlserve and mlctl")
    parser.add_argument("--quick", action="store_true", help="5,000 synthetic rows, 100 trees (for CI)")
    parser.add_argument("--only", default="", help="comma-separated libraries to run: xgboost,lightgbm,sklearn")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed)")
    args = parser.parse_args()
    libraries = set(filter(None, args.only.split(","))) or {"xgboost", "lightgbm", "sklearn"}
    trees = 100 if args.quick else 300
    datasets = [models.breast_cancer(), models.synthetic(5_000 if args.quick else 50_000)]
    work_dir = tempfile.TemporaryDirectory(prefix="mlserve-parity-")
    work = pathlib.Path(work_dir.name)
    mlctl = args.bin / "mlctl"
    results: List[Dict[str, Any]] = []
    failures: List[str] = []
    started = time.monotonic()
    for data in datasets:
        node = None
        try:
            node = Node(args.bin, work, bootstrap_artifact(data, work), data.name)
            builders = []
            if "xgboost" in libraries:
                builders.append(("xgboost", lambda: models.xgboost_cases(data, work, mlctl, trees)))
            if "lightgbm" in libraries:
                builders.append(("lightgbm", lambda: models.lightgbm_cases(data, work, mlctl, trees)))
            if "sklearn" in libraries:
                builders.append(("scikit-learn", lambda: models.sklearn_cases(data, work, args.quick)))
            for library, build in builders:
                t0 = time.monotonic()
                try:
                    cases = build()
                except Exception as error:  # one library failing must not hide the others
                    failures.append(f"{data.name} {library}: {error}")
                    traceback.print_exc(file=sys.stderr)
                    continue
                print(f"# {data.name} {library}: {len(cases)} models trained and converted in "
                      f"{time.monotonic() - t0:.1f} s", file=sys.stderr)
                for case in cases:
                    try:
                        results.append(compare(case, node, data.x))
                        r = results[-1]
                        print(f"# {case.dataset} {case.name}: dp {r['predict_dp']:.2e}/{r['batch_dp']:.2e} labels "
                              f"{r['predict_labels']}/{r['batch_labels']} in {r['seconds']:.1f} s", file=sys.stderr)
                    except Exception as error:
                        failures.append(f"{data.name} {case.name}: {error}")
        except Exception as error:
            failures.append(f"{data.name}: {error}")
        finally:
            if node is not None:
                node.stop()
    print_table(results, failures)
    ok = sum(r["ok"] for r in results)
    print(f"\n{time.monotonic() - started:.0f} s{' (--quick)' if args.quick else ''}")
    print(f"{ok} passed, {len(results) - ok + len(failures)} failed")
    if args.keep:
        print(f"work directory: {work}", file=sys.stderr)
        work_dir._finalizer.detach()  # type: ignore[attr-defined]
    else:
        work_dir.cleanup()
    return 0 if not failures and ok == len(results) and results else 1


if __name__ == "__main__":
    sys.exit(main())
