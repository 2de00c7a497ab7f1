"""The models of the parity run: each is trained here, written as the library writes it (JSON,
UBJ, LightGBM text, joblib), turned into an artifact by the user's command (`mlctl artifact
import`, `mlserve-export`), and paired with the library's own scores and labels on the same
float32 rows."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import warnings
from dataclasses import dataclass
from typing import Any, List

import numpy as np

REFERENCE_ROWS = 2000
# scikit-learn's MLPs and forests train on at most this many rows (they are slow to fit on two
# shared cores); every row of the dataset is still predicted and compared. They train on those
# rows as float64 (scikit-learn's default dtype, what a user's numpy or pandas data is): an MLP or
# logistic regression fitted on float32 rows keeps float32 weights and computes predict_proba in
# float32 itself, which is then no exact reference (up to 1.8e-6 off on the relu MLP here).
SKLEARN_TRAINING_ROWS = 10_000


@dataclass
class Dataset:
    name: str
    x: Any  # float32, NaN = missing
    y: Any
    categorical: List[int]  # columns holding small non-negative integer categories (LightGBM)


@dataclass
class Case:
    dataset: str
    name: str  # also the artifact's version label
    library: str
    artifact: pathlib.Path
    scores: Any  # the library's own, float64
    labels: Any  # the library's own, 0/1
    rounded: Any = None  # for an MLP: its weights rounded to float32, evaluated in float64 (mlp_rounded)


def breast_cancer() -> Dataset:
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    return Dataset("breast-cancer", x.astype(np.float32), y, [])


def synthetic(rows: int) -> Dataset:
    """make_classification rows x 40, 10% of the values NaN, columns 0-2 made categorical
    (12 quantile bins as 0..11, NaN kept)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=rows, n_features=40, n_informative=12, n_redundant=6,
                               flip_y=0.02, random_state=20)
    rng = np.random.default_rng(21)
    for column in range(3):
        edges = np.quantile(x[:, column], np.linspace(0, 1, 13)[1:-1])
        x[:, column] = np.digitize(x[:, column], edges)
    x = x.astype(np.float32)
    x[rng.random(x.shape) < 0.10] = np.nan
    return Dataset(f"make_classification-{rows // 1000}k", x, y, [0, 1, 2])


def threads(data: Dataset) -> int:
    """Training threads: on a small set, a second thread only spins (badly, on shared cores)."""
    return 2 if len(data.x) > 10_000 else 1


def write_reference_csv(path: pathlib.Path, x: Any, scores: Any) -> None:
    """The rows and the library's own score for each, as a CSV for `mlctl artifact import
    --reference-data` (empty cell = missing; the last column is the golden rows' expected score)."""
    with open(path, "w") as out:
        for row, score in zip(x, scores):
            cells = ["" if np.isnan(v) else repr(float(v)) for v in row] + [repr(float(np.float32(score)))]
            out.write(",".join(cells) + "\n")


def run(command: List[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} … exited {result.returncode}: {(result.stderr or result.stdout).strip()}")


def xgboost_cases(data: Dataset, work: pathlib.Path, mlctl: pathlib.Path, trees: int) -> List[Case]:
    import xgboost as xgb

    cases = []
    model = xgb.XGBClassifier(n_estimators=trees, max_depth=6, learning_rate=0.1, tree_method="hist",
                              n_jobs=threads(data), random_state=1)
    model.fit(data.x, data.y)
    booster = model.get_booster()
    scores = booster.inplace_predict(data.x)
    labels = model.predict(data.x)
    for suffix in ("json", "ubj"):
        source = work / f"{data.name}-xgb.{suffix}"
        booster.save_model(str(source))
        cases.append(_imported(data, f"xgb-{suffix}", "xgboost " + xgb.__version__, source, mlctl, work,
                               scores, labels))
    split = int(len(data.x) * 0.8)
    early = xgb.XGBClassifier(n_estimators=trees, max_depth=6, learning_rate=0.3, tree_method="hist",
                              n_jobs=threads(data), early_stopping_rounds=10, eval_metric="logloss", random_state=2)
    early.fit(data.x[:split], data.y[:split], eval_set=[(data.x[split:], data.y[split:])], verbose=False)
    source = work / f"{data.name}-xgb-early.json"
    early.get_booster().save_model(str(source))
    scores = early.get_booster().inplace_predict(data.x, iteration_range=(0, early.best_iteration + 1))
    cases.append(_imported(data, f"xgb-early-stop@{early.best_iteration}", f"xgboost {xgb.__version__}", source,
                           mlctl, work, scores, early.predict(data.x)))
    return cases


def lightgbm_cases(data: Dataset, work: pathlib.Path, mlctl: pathlib.Path, trees: int) -> List[Case]:
    import lightgbm as lgb

    variants = {"lgbm-nan": {}, "lgbm-zero": {"zero_as_missing": True}, "lgbm-none": {"use_missing": False}}
    cases = []
    for name, extra in variants.items():
        if data.categorical and name == "lgbm-nan":
            name = "lgbm-nan-categorical"
        model = lgb.LGBMClassifier(n_estimators=trees, num_leaves=31, learning_rate=0.05, n_jobs=threads(data),
                                   verbose=-1, random_state=3, **extra)
        model.fit(data.x, data.y, categorical_feature=data.categorical if data.categorical else "auto")
        source = work / f"{data.name}-{name}.txt"
        model.booster_.save_model(str(source))
        cases.append(_imported(data, name, f"lightgbm {lgb.__version__}", source, mlctl, work,
                               model.booster_.predict(data.x), model.predict(data.x)))
    return cases


def _imported(data: Dataset, name: str, library: str, source: pathlib.Path, mlctl: pathlib.Path,
              work: pathlib.Path, scores: Any, labels: Any) -> Case:
    version = name.split("@")[0]
    artifact = work / f"{data.name}-{version}.mlart"
    reference = work / f"{data.name}-{version}-reference.csv"
    write_reference_csv(reference, data.x[:REFERENCE_ROWS], scores[:REFERENCE_ROWS])
    run([str(mlctl), "artifact", "import", str(source), str(artifact), "--name", data.name, "--version", version,
         "--reference-data", str(reference)])
    return Case(data.name, version, library, artifact, np.asarray(scores, dtype=np.float64),
                np.asarray(labels).astype(np.uint8))


def sklearn_estimators(data: Dataset, quick: bool) -> List[tuple]:
    from sklearn.ensemble import IsolationForest, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    missing = bool(np.isnan(data.x).any())

    def front(strategy: str = "mean") -> list:
        return [SimpleImputer(strategy=strategy), StandardScaler()] if missing else [StandardScaler()]

    iterations = 100
    forest = 30 if quick else 100
    return [
        ("sk-logistic", make_pipeline(*front(), LogisticRegression(max_iter=2000))),
        ("sk-mlp-relu", make_pipeline(*front("median"), MLPClassifier((64, 32), max_iter=iterations, random_state=0))),
        ("sk-mlp-tanh", make_pipeline(*front(), MLPClassifier((32,), activation="tanh", max_iter=iterations,
                                                              random_state=0))),
        ("sk-mlp-logistic", make_pipeline(*front(), MLPClassifier((32,), activation="logistic", max_iter=iterations,
                                                                  random_state=0))),
        ("sk-random-forest", RandomForestClassifier(n_estimators=forest, max_depth=14, n_jobs=threads(data),
                                                      random_state=0)),
        ("sk-isolation-forest", IsolationForest(n_estimators=200, max_features=0.75, random_state=0)),
        ("sk-isolation-contamination", IsolationForest(n_estimators=100, contamination=0.05, random_state=1)),
    ]


def sklearn_cases(data: Dataset, work: pathlib.Path, quick: bool) -> List[Case]:
    import joblib
    import sklearn

    from mlserve.sklearn_reader import read, reference_outputs  # the installed package

    reference = work / f"{data.name}-reference.npy"
    np.save(reference, data.x[:REFERENCE_ROWS])
    cases = []
    for name, estimator in sklearn_estimators(data, quick):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: the iteration caps keep the run short
            estimator.fit(data.x[:SKLEARN_TRAINING_ROWS].astype(np.float64), data.y[:SKLEARN_TRAINING_ROWS])
        source = work / f"{data.name}-{name}.joblib"
        joblib.dump(estimator, source)
        artifact = work / f"{data.name}-{name}.mlart"
        run(_export_command() + [str(source), str(artifact), "--name", data.name, "--version", name,
                                 "--reference", str(reference)])
        scores, labels = reference_outputs(estimator, data.x, read(estimator))
        cases.append(Case(data.name, name, f"scikit-learn {sklearn.__version__}", artifact, scores, labels,
                          mlp_rounded(estimator, data.x)))
    return cases


def mlp_rounded(estimator: Any, x: Any) -> Any:
    """An MLP's float64 weights rounded to float32 (as the artifact stores them) and evaluated in
    float64 on scikit-learn's own preprocessed float32 rows: the library's distance from it is
    the cost of the format's float32 weights, the node's is the cost of its arithmetic. None for
    any other model."""
    from sklearn.neural_network import MLPClassifier

    final = estimator[-1] if hasattr(estimator, "steps") else estimator
    if not isinstance(final, MLPClassifier):
        return None
    h = (estimator[:-1].transform(x) if hasattr(estimator, "steps") else x).astype(np.float64)
    activation = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "logistic": lambda z: 1 / (1 + np.exp(-z))}
    for index, (w, b) in enumerate(zip(final.coefs_, final.intercepts_)):
        z = h @ w.astype(np.float32).astype(np.float64) + b.astype(np.float32).astype(np.float64)
        h = activation[final.activation](z) if index < len(final.coefs_) - 1 else 1 / (1 + np.exp(-z))
    return h[:, 0]


def _export_command() -> List[str]:
    script = pathlib.Path(sys.executable).parent / "mlserve-export"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlserve.export"]

