"""Export a fitted scikit-learn model as an MLServe artifact (format version 2).

    mlserve-export MODEL.joblib OUT.mlart [--name N] [--version V] [--reference ROWS.csv|ROWS.npy]

or from Python::

    from mlserve.export import to_artifact
    to_artifact(pipeline, "model.mlart", version="v3", reference=X_holdout)

Supported: a ``Pipeline`` of ``StandardScaler`` / ``SimpleImputer`` (mean, median,
most_frequent, constant; NaN = missing) steps, then ``LogisticRegression``, ``MLPClassifier``
(relu, tanh, logistic), ``RandomForestClassifier`` or ``IsolationForest`` -- binary
classifiers only -- or one of these bare. Anything else is refused, naming it.

What the node returns as the score: the class-1 probability (``predict_proba[:, 1]``) for a
classifier; for an IsolationForest ``-score_samples`` (in (0, 1], higher = more anomalous), with
label 1 = anomaly and the threshold from ``offset_`` (ARTIFACT.md §12.3).

The reference rows (training or held-out rows, as a client would send them) give the drift
reference histogram and up to 64 golden rows: rows with scikit-learn's own scores, which a node
recomputes when it loads the artifact and refuses it if any differs. Without them the artifact
has neither (the node then reports drift as absent). numpy, scikit-learn and joblib are imported
only when this runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Dict, Optional

from . import __version__
from .model import ExportedModel, Forest, IsolationForest, UnsupportedModel

TREE_TOLERANCE = 1e-6  # trees: f64 sums of the same leaves, only the final float32 rounding differs
DENSE_TOLERANCE = 1e-5  # logistic / MLP: the node's float32 dot products vs numpy's float64


def _tolerance(model: ExportedModel) -> float:
    return TREE_TOLERANCE if isinstance(model.estimator, (Forest, IsolationForest)) else DENSE_TOLERANCE


def to_artifact(estimator: Any, path: str, version: str, name: Optional[str] = None, reference: Any = None,
                reference_names: Optional[list] = None) -> Dict[str, Any]:
    """Writes ``estimator`` (fitted) to ``path`` as a version-2 artifact; returns a summary dict
    (``checksum``, ``kind``, ``feature_count``, ``threshold``, ``golden_rows``, ...). ``reference``:
    rows (array-like, rows x features) for the drift histogram and the golden rows, or None.
    Raises :class:`UnsupportedModel` (a ``ValueError``) naming what cannot be exported."""
    import numpy as np
    import sklearn

    from . import artifact, reference as ref, sklearn_reader

    model = sklearn_reader.read(estimator)
    if reference_names is not None and model.feature_names is not None and list(reference_names) != model.feature_names:
        raise UnsupportedModel(f"the reference columns {list(reference_names)} are not the model's features "
                               f"{model.feature_names} (same names, same order)")
    if model.feature_names is None and reference_names is not None:
        model.feature_names = [str(n) for n in reference_names]
    if model.feature_names is not None and not _names_fit(model.feature_names):
        model.notes.append("feature names not written: each must be 1-128 bytes and all distinct")
        model.feature_names = None
    histogram = golden_rows = golden_scores = None
    rows_used = 0
    if reference is not None:
        rows = ref.check_rows(reference, model.feature_count, model.accepts_missing, "reference rows")
        scores, _ = sklearn_reader.reference_outputs(estimator, rows, model)
        if not np.all(np.isfinite(scores)):
            raise UnsupportedModel("scikit-learn's own score is not finite on some reference row")
        histogram = ref.histogram(scores)
        picked = ref.golden_indices(len(rows))
        golden_rows, golden_scores = rows[picked], scores[picked]
        rows_used = len(rows)
    metadata = {"source": f"scikit-learn {sklearn.__version__}", "estimator": model.description,
                "exporter": f"mlserve-export {__version__}"}
    if model.positive_class is not None:
        metadata["positive_class"] = model.positive_class
    if rows_used:
        metadata["reference_rows"] = str(rows_used)
    name = name or model.description.rstrip(")").split("(")[-1].split(", ")[-1]  # the final estimator's class
    data = artifact.encode(model, name=name[:64], version=version, histogram=histogram, golden_rows=golden_rows,
                           golden_scores=golden_scores, tolerance=_tolerance(model), metadata=metadata)
    artifact.write_atomically(path, data)
    return {"path": path, "checksum": data[-32:].hex(), "bytes": len(data),
            "estimator": model.description, "kind": type(model.estimator).__name__,
            "feature_count": model.feature_count, "threshold": model.threshold,
            "accepts_missing": model.accepts_missing, "anomaly": model.anomaly,
            "golden_rows": 0 if golden_rows is None else len(golden_rows), "reference_rows": rows_used,
            "notes": model.notes}


def _names_fit(names: list) -> bool:
    return len(set(names)) == len(names) and all(1 <= len(n.encode("utf-8")) <= 128 and "\x00" not in n
                                                 for n in names)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlserve-export",
        description="Export a fitted scikit-learn model (joblib/pickle file) as an MLServe artifact (.mlart v2).",
        epilog="Supported: Pipeline of StandardScaler / SimpleImputer steps, then LogisticRegression, "
               "MLPClassifier (relu|tanh|logistic), RandomForestClassifier or IsolationForest; binary only. "
               "Score: class-1 probability; IsolationForest: -score_samples, label 1 = anomaly. "
               "Exit status: 0 written, 1 I/O error, 2 bad arguments or unsupported model.")
    parser.add_argument("model", metavar="MODEL.joblib", help="a fitted estimator saved with joblib.dump (or pickle)")
    parser.add_argument("out", metavar="OUT.mlart", help="the artifact to write (atomically)")
    parser.add_argument("--version", help="version label, 1-64 bytes (default: OUT's file name without .mlart)")
    parser.add_argument("--name", help="model name, 1-64 bytes (default: the estimator's class)")
    parser.add_argument("--reference", metavar="ROWS", help="reference rows, CSV (optional header) or .npy: the "
                        "drift histogram and the golden rows; without it the artifact has neither")
    return parser


def main(argv: Optional[list] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        import joblib
    except ImportError:
        print("mlserve-export: needs numpy, scikit-learn and joblib (pip install 'mlserve[export]')", file=sys.stderr)
        return 1
    from .reference import read_rows

    version = args.version or os.path.splitext(os.path.basename(args.out))[0]
    try:
        estimator = joblib.load(args.model)
    except (OSError, EOFError) as error:
        print(f"mlserve-export: cannot read {args.model}: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # unpickling errors come in many types
        print(f"mlserve-export: {args.model} is not a joblib/pickle file of an estimator: {error}", file=sys.stderr)
        return 2
    rows = names = None
    try:
        if args.reference:
            rows, names = read_rows(args.reference)
        summary = to_artifact(estimator, args.out, version=version, name=args.name, reference=rows,
                              reference_names=names)
    except UnsupportedModel as error:
        print(f"mlserve-export: {args.model}: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"mlserve-export: {error}", file=sys.stderr)
        return 1
    for note in summary["notes"]:
        print(f"mlserve-export: note: {note}", file=sys.stderr)
    if not args.reference:
        print("mlserve-export: note: no --reference rows: no golden rows and no drift reference in the artifact",
              file=sys.stderr)
    print(f"wrote {args.out}: {summary['estimator']}, {summary['feature_count']} features, "
          f"threshold {summary['threshold']:.9g}, accepts_missing {'yes' if summary['accepts_missing'] else 'no'}, "
          f"{summary['golden_rows']} golden rows, reference from {summary['reference_rows']} rows, "
          f"sha256 {summary['checksum']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
