"""Reads a fitted scikit-learn estimator into an :class:`mlserve.model.ExportedModel`.

Supported: an optional ``Pipeline`` of preprocessing steps (``StandardScaler``,
``SimpleImputer`` with a mean/median/most_frequent/constant strategy on NaN) ending in a binary
``LogisticRegression``, ``MLPClassifier`` (relu, tanh, logistic hidden layers),
``RandomForestClassifier`` or an ``IsolationForest``; the same estimators bare. Anything else is
refused with :class:`UnsupportedModel` naming the step and the setting.

Labels follow the library's own rule: scikit-learn says class 1 when the probability is
*strictly* above 0.5 (``predict`` of all three classifiers; a random forest's 50/50 vote is
class 0) and "anomaly" when ``decision_function < 0``, i.e. ``-score_samples > -offset_``. The
node labels ``score >= threshold`` on float32 scores, so the threshold written is the smallest
float32 above the library's cut: for a float32 score both rules then agree exactly.
"""

from __future__ import annotations

import math
import struct
from typing import Any, List, Optional, Tuple

from .model import (MLP, DenseLayer, ExportedModel, Forest, Impute, IsolationForest, Logistic, Scale,
                    Step, UnsupportedModel)
from . import sklearn_trees

MLP_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid"}
IMPUTER_STRATEGIES = ("mean", "median", "most_frequent", "constant")
SUPPORTED = ("Pipeline of StandardScaler / SimpleImputer steps, then LogisticRegression, MLPClassifier, "
             "RandomForestClassifier or IsolationForest (or one of these bare)")


def float32_above(value: float) -> float:
    """The smallest float32 strictly greater than ``value`` (a double)."""
    f = struct.unpack("<f", struct.pack("<f", value))[0]  # round to nearest
    if f > value:
        # The nearest float32 may already be above; the one below it might be too.
        below = _float32_step(f, -1)
        return below if below > value else f
    return _float32_step(f, +1)


def _float32_step(f: float, direction: int) -> float:
    bits = struct.unpack("<I", struct.pack("<f", f))[0]
    if f == 0.0:
        return struct.unpack("<f", struct.pack("<I", 1 if direction > 0 else 0x80000001))[0]
    if (f > 0) == (direction > 0):
        bits += 1
    else:
        bits -= 1
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def _name(obj: Any) -> str:
    return type(obj).__name__


def _floats(array: Any) -> List[float]:
    return [float(v) for v in array.ravel().tolist()]


def read(estimator: Any) -> ExportedModel:
    """The exportable description of a fitted ``estimator``; raises :class:`UnsupportedModel`."""
    from sklearn.pipeline import Pipeline  # imported only when the exporter runs

    if isinstance(estimator, Pipeline):
        named = [(name, step) for name, step in estimator.steps]
        for name, step in named:
            if step is None or step == "passthrough":
                raise UnsupportedModel(f"Pipeline step {name!r} is 'passthrough'/None; remove it before exporting")
        preprocessing = named[:-1]
        final_name, final = named[-1]
        description = "Pipeline(" + ", ".join(_name(s) for _, s in named) + ")"
    else:
        preprocessing, final_name, final = [], "estimator", estimator
        description = _name(estimator)

    _check_fitted(final, final_name)
    feature_count = _feature_count(preprocessing, final)
    steps: List[Step] = []
    width = feature_count
    for name, step in preprocessing:
        steps.append(_read_step(name, step, width))
    model_kind, threshold, anomaly, accepts_missing, positive = _read_final(final_name, final, feature_count)
    if any(isinstance(s, Impute) for s in steps):
        accepts_missing = True  # NaN never reaches the estimator
    names = getattr(estimator, "feature_names_in_", None)
    if names is None and preprocessing:
        names = getattr(preprocessing[0][1], "feature_names_in_", None)
    return ExportedModel(feature_count=feature_count, steps=steps, estimator=model_kind, threshold=threshold,
                         accepts_missing=accepts_missing, anomaly=anomaly, description=description,
                         feature_names=[str(n) for n in names] if names is not None else None,
                         positive_class=positive)


def _check_fitted(step: Any, name: str) -> None:
    if not hasattr(step, "n_features_in_"):
        raise UnsupportedModel(f"{name} ({_name(step)}) is not fitted: fit it before exporting")


def _feature_count(preprocessing: List[Tuple[str, Any]], final: Any) -> int:
    first = preprocessing[0][1] if preprocessing else final
    _check_fitted(first, _name(first))
    return int(first.n_features_in_)


def _scales_in_float32(step: Any, mean: Any, scale: Any) -> bool:
    """Whether ``StandardScaler.transform`` on float32 rows subtracts and divides in float32 with
    mean_ and scale_ cast to float32 (scikit-learn 1.8 and later), rather than in float64 with
    the float64 values (earlier versions): asked of the fitted step itself, on float32 rows
    around its mean."""
    import numpy as np

    offsets = np.linspace(-3, 3, 25)[:, None]
    rows = (mean[None, :] + offsets * scale[None, :]).astype(np.float32)
    rows[np.isinf(rows)] = 0
    out = np.asarray(step.transform(rows.copy()))
    if out.dtype != np.float32:
        return False
    in_float32 = (rows - mean.astype(np.float32)) / scale.astype(np.float32)
    return bool(np.array_equal(out, in_float32))


def _read_step(name: str, step: Any, width: int) -> Step:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    label = f"Pipeline step {name!r} ({_name(step)})"
    _check_fitted(step, label)
    if int(step.n_features_in_) != width:
        raise UnsupportedModel(f"{label} takes {step.n_features_in_} features but receives {width}")
    if type(step) is StandardScaler:
        import numpy as np
        mean = step.mean_ if step.mean_ is not None else np.zeros(width)
        scale = step.scale_ if step.scale_ is not None else np.ones(width)
        if not step.with_mean:
            mean = np.zeros(width)
        if _scales_in_float32(step, mean, scale):
            # The node's arithmetic (f64, rounded to float32 after each operation; ARTIFACT.md
            # §13) on float32-rounded mean and scale is exactly float32 arithmetic.
            mean, scale = mean.astype(np.float32), scale.astype(np.float32)
            if not np.all(scale != 0):
                raise UnsupportedModel(f"{label}: a scale_ rounds to 0 in float32")
        return Scale(mean=_floats(mean), scale=_floats(scale))
    if type(step) is SimpleImputer:
        if step.strategy not in IMPUTER_STRATEGIES:
            raise UnsupportedModel(f"{label}: strategy {step.strategy!r} is not supported (callable strategies are not)")
        missing = step.missing_values
        if not (isinstance(missing, float) and math.isnan(missing)):
            raise UnsupportedModel(f"{label}: missing_values={missing!r} is not supported; only NaN marks a missing value")
        if step.add_indicator:
            raise UnsupportedModel(f"{label}: add_indicator=True adds columns; not supported")
        fill = _floats(step.statistics_)
        if any(math.isnan(v) for v in fill):
            empty = [i for i, v in enumerate(fill) if math.isnan(v)]
            raise UnsupportedModel(f"{label}: features {empty} were all missing when fitted and are dropped; "
                                   "not supported (set keep_empty_features=True or drop them first)")
        return Impute(fill=fill)
    raise UnsupportedModel(f"{label} is not supported as a preprocessing step; supported: StandardScaler, SimpleImputer")


def _binary_classes(name: str, estimator: Any) -> str:
    classes = getattr(estimator, "classes_", None)
    if classes is None or len(classes) != 2:
        count = "no" if classes is None else len(classes)
        raise UnsupportedModel(f"{name} ({_name(estimator)}) has {count} classes; only binary classifiers are "
                               "supported")
    return str(classes[1])


def _read_final(name: str, estimator: Any, width: int) -> Tuple[Any, float, bool, bool, Optional[str]]:
    from sklearn.ensemble import IsolationForest as SkIsolationForest
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    label = f"{name} ({_name(estimator)})"
    _check_fitted(estimator, label)
    if int(estimator.n_features_in_) != width:
        raise UnsupportedModel(f"{label} takes {estimator.n_features_in_} features but receives {width}")
    strictly_half = float32_above(0.5)
    if type(estimator) is LogisticRegression:
        positive = _binary_classes(name, estimator)
        coef = estimator.coef_
        if coef.shape != (1, width):
            raise UnsupportedModel(f"{label}: coef_ has shape {coef.shape}; expected (1, {width})")
        return (Logistic(weights=_floats(coef[0]), bias=float(estimator.intercept_[0])),
                strictly_half, False, False, positive)
    if type(estimator) is MLPClassifier:
        positive = _binary_classes(name, estimator)
        if estimator.activation not in MLP_ACTIVATIONS:
            raise UnsupportedModel(f"{label}: activation {estimator.activation!r} is not supported; "
                                   f"supported: {', '.join(MLP_ACTIVATIONS)}")
        if estimator.out_activation_ != "logistic" or estimator.n_outputs_ != 1:
            raise UnsupportedModel(f"{label}: output {estimator.out_activation_!r} with {estimator.n_outputs_} "
                                   "outputs; only a binary classifier (one logistic output) is supported")
        layers = []
        count = len(estimator.coefs_)
        for index, (weights, biases) in enumerate(zip(estimator.coefs_, estimator.intercepts_)):
            inputs, outputs = weights.shape
            activation = "sigmoid" if index == count - 1 else MLP_ACTIVATIONS[estimator.activation]
            layers.append(DenseLayer(inputs=inputs, outputs=outputs, weights=_floats(weights.T.copy()),
                                     biases=_floats(biases), activation=activation))
        return MLP(layers=layers), strictly_half, False, False, positive
    if type(estimator) is RandomForestClassifier:
        positive = _binary_classes(name, estimator)
        if getattr(estimator, "n_outputs_", 1) != 1:
            raise UnsupportedModel(f"{label}: {estimator.n_outputs_} outputs; only one is supported")
        trees = [sklearn_trees.classifier_tree(tree, index, positive_column=1)
                 for index, tree in enumerate(estimator.estimators_)]
        return Forest(trees=trees), strictly_half, False, True, positive
    if type(estimator) is SkIsolationForest:
        trees, denominator = sklearn_trees.isolation_trees(estimator, width)
        # Anomaly when decision_function < 0, i.e. -score_samples > -offset_.
        threshold = float32_above(-float(estimator.offset_))
        if not 0.0 <= threshold <= 1.0:
            raise UnsupportedModel(f"{label}: offset_ {estimator.offset_} puts the threshold outside [0, 1]")
        return IsolationForest(trees=trees, average_path_length=denominator), threshold, True, True, None
    raise UnsupportedModel(f"{label} is not supported; supported: {SUPPORTED}")


def reference_outputs(estimator: Any, rows: Any, exported: ExportedModel) -> Tuple[Any, Any]:
    """The library's own (score, label) for float32 ``rows``, in the node's convention:
    the class-1 probability or ``-score_samples``, and label 1 = class 1 / anomaly."""
    import numpy as np

    rows = np.asarray(rows, dtype=np.float32)
    if exported.anomaly:
        scores = -estimator.score_samples(rows)
        labels = (estimator.predict(rows) == -1).astype(np.uint8)
    else:
        scores = estimator.predict_proba(rows)[:, 1]
        labels = (estimator.predict(rows) == estimator.classes_[1]).astype(np.uint8)
    return np.asarray(scores, dtype=np.float64), labels
