#!/usr/bin/env python3
"""Trains small XGBoost and LightGBM models and writes them, with the libraries' own predictions on
float32 rows, into Tests/MLImportTests/Fixtures/ (swift test checks parity from these, no Python).

    python3 -m venv /work/venv-models && /work/venv-models/bin/pip install xgboost lightgbm scikit-learn
    /work/venv-models/bin/python bench/parity/make_fixtures.py [--out DIR]

Each fixture: the model file, NAME.csv (features, then the library's score as the last column; the
format `mlctl artifact import --reference-data` reads) and an entry in manifest.json (format, library
version, the library's labels). Deterministic seeds; small on purpose (< 2 MB in total).
"""
import json
import os
import sys

import numpy as np
import lightgbm as lgb
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, make_classification

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "MLImportTests", "Fixtures")
ROWS = 200  # rows of library predictions per fixture


def write_csv(path, X, p):
    with open(path, "w") as f:
        for row, score in zip(X, p):
            cells = ["" if np.isnan(v) else "%.9g" % v for v in row]
            f.write(",".join(cells) + ",%.17g\n" % score)


def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X.astype(np.float32), y


def classification(nan_fraction=0.1, categorical=0, seed=3):
    X, y = make_classification(n_samples=3000, n_features=12, n_informative=6, random_state=seed)
    rng = np.random.default_rng(seed)
    for c in range(categorical):
        # A categorical column whose categories (0..11) carry signal.
        X[:, c] = np.clip(np.floor((X[:, c] - X[:, c].min()) / (np.ptp(X[:, c]) + 1e-9) * 12), 0, 11)
    X = X.astype(np.float32)
    mask = rng.random(X.shape) < nan_fraction
    X[mask] = np.nan
    # Some exact zeros, so LightGBM's zero-as-missing has something to do.
    X[rng.random(X.shape) < 0.05] = 0
    return X, y


manifest = []


def record(name, model_file, fmt, library, X, p, labels, extra=None):
    X = X[:ROWS]
    write_csv(os.path.join(OUT, name + ".csv"), X, p[:ROWS])
    entry = {"name": name, "model": model_file, "format": fmt, "library": library,
             "csv": name + ".csv", "labels": [int(v) for v in labels[:ROWS]]}
    entry.update(extra or {})
    manifest.append(entry)


def xgboost_fixtures():
    version = "xgboost " + xgb.__version__
    X, y = breast_cancer()
    clf = xgb.XGBClassifier(n_estimators=40, max_depth=4, learning_rate=0.3, random_state=1, n_jobs=1)
    clf.fit(X, y)
    for fmt, ext in (("xgboost-json", "json"), ("xgboost-ubj", "ubj")):
        path = "xgb_breast_cancer." + ext
        clf.save_model(os.path.join(OUT, path))
        record("xgb_breast_cancer_" + ext, path, fmt, version, X, clf.predict_proba(X)[:, 1], clf.predict(X))

    # Early stopping on data with missing values: best_iteration < trees in the file.
    X, y = classification(nan_fraction=0.1)
    clf = xgb.XGBClassifier(n_estimators=300, max_depth=4, learning_rate=0.3, random_state=2, n_jobs=1,
                            early_stopping_rounds=5, eval_metric="logloss")
    clf.fit(X[:2000], y[:2000], eval_set=[(X[2000:], y[2000:])], verbose=False)
    clf.save_model(os.path.join(OUT, "xgb_nan_early_stop.json"))
    record("xgb_nan_early_stop", "xgb_nan_early_stop.json", "xgboost-json", version, X[2000:],
           clf.predict_proba(X[2000:])[:, 1], clf.predict(X[2000:]), {"best_iteration": int(clf.best_iteration)})

    # binary:logitraw: the library outputs a margin; its probability is the logistic of it.
    X, y = breast_cancer()
    bst = xgb.train({"objective": "binary:logitraw", "max_depth": 3, "nthread": 1, "seed": 4},
                    xgb.DMatrix(X, label=y), num_boost_round=20)
    bst.save_model(os.path.join(OUT, "xgb_logitraw.ubj"))
    margin = bst.inplace_predict(X).astype(np.float64)
    p = 1 / (1 + np.exp(-margin))
    record("xgb_logitraw", "xgb_logitraw.ubj", "xgboost-ubj", version, X, p, (p > 0.5).astype(int))

    # Categorical splits (partition-based: max_cat_to_onehot=1).
    X, y = classification(nan_fraction=0.05, categorical=3, seed=5)
    types = ["c"] * 3 + ["q"] * (X.shape[1] - 3)
    train = xgb.DMatrix(X, label=y, feature_types=types, enable_categorical=True)
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 4, "nthread": 1, "seed": 5, "tree_method": "hist",
                     "max_cat_to_onehot": 1}, train, num_boost_round=30)
    bst.save_model(os.path.join(OUT, "xgb_categorical.json"))
    p = bst.predict(xgb.DMatrix(X, feature_types=types, enable_categorical=True))
    record("xgb_categorical", "xgb_categorical.json", "xgboost-json", version, X, p, (p > 0.5).astype(int))


def lightgbm_fixtures():
    version = "lightgbm " + lgb.__version__
    X, y = breast_cancer()
    clf = lgb.LGBMClassifier(n_estimators=40, num_leaves=15, random_state=1, n_jobs=1, verbose=-1)
    clf.fit(X, y)
    clf.booster_.save_model(os.path.join(OUT, "lgb_breast_cancer.txt"))
    record("lgb_breast_cancer", "lgb_breast_cancer.txt", "lightgbm", version, X, clf.predict_proba(X)[:, 1], clf.predict(X))

    # Three categorical columns and each missing type: NaN (default), Zero, None.
    X, y = classification(nan_fraction=0.1, categorical=3, seed=6)
    for name, extra in (("nan", {}), ("zero", {"zero_as_missing": True}), ("none", {"use_missing": False})):
        clf = lgb.LGBMClassifier(n_estimators=40, num_leaves=15, random_state=2, n_jobs=1, verbose=-1,
                                 min_data_per_group=20, cat_smooth=1, **extra)
        clf.fit(X, y, categorical_feature=[0, 1, 2])
        path = "lgb_categorical_missing_%s.txt" % name
        clf.booster_.save_model(os.path.join(OUT, path))
        record("lgb_categorical_missing_" + name, path, "lightgbm", version, X, clf.predict_proba(X)[:, 1], clf.predict(X))

    # Random-forest mode: average_output.
    X, y = classification(nan_fraction=0.1, seed=7)
    clf = lgb.LGBMClassifier(boosting_type="rf", n_estimators=30, num_leaves=15, subsample=0.7, subsample_freq=1,
                             colsample_bytree=0.8, random_state=3, n_jobs=1, verbose=-1)
    clf.fit(X, y)
    clf.booster_.save_model(os.path.join(OUT, "lgb_random_forest.txt"))
    record("lgb_random_forest", "lgb_random_forest.txt", "lightgbm", version, X, clf.predict_proba(X)[:, 1], clf.predict(X))


def main():
    global OUT
    if len(sys.argv) > 2 and sys.argv[1] == "--out":
        OUT = sys.argv[2]  # .ci/models.sh: fresh fixtures from today's library versions
    os.makedirs(OUT, exist_ok=True)
    xgboost_fixtures()
    lightgbm_fixtures()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generated_by": "bench/parity/make_fixtures.py", "fixtures": manifest}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print("wrote %d fixtures, %d bytes, to %s" % (len(manifest), total, OUT))
    if total > 2_000_000:
        sys.exit("fixtures exceed 2 MB")


if __name__ == "__main__":
    main()
