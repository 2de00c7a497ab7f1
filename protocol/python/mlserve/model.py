"""What an exported model is, independent of where it came from and of the file's byte layout.

The scikit-learn reader (:mod:`mlserve.sklearn_reader`) fills these; the artifact writer
(:mod:`mlserve.artifact`) turns them into a version-2 ``.mlart`` (protocol/ARTIFACT.md §9-§18).
Vectors are lists of Python floats, except the tree arrays, which are numpy arrays (a forest
has millions of nodes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Union


class UnsupportedModel(ValueError):
    """The estimator (or one of its steps or settings) cannot be exported; the message names it."""


@dataclass
class Scale:
    """x' = (x - mean) / scale, per feature (scikit-learn's StandardScaler)."""
    mean: List[float]
    scale: List[float]


@dataclass
class Impute:
    """A NaN feature becomes fill[i] (scikit-learn's SimpleImputer with missing_values=NaN)."""
    fill: List[float]


Step = Union[Scale, Impute]


@dataclass
class Logistic:
    """score = sigmoid(weights · x + bias)."""
    weights: List[float]
    bias: float


@dataclass
class DenseLayer:
    """outputs × inputs row-major weights, then biases; ``activation`` after the affine map."""
    inputs: int
    outputs: int
    weights: List[float]  # w[o * inputs + i]
    biases: List[float]
    activation: str  # relu | tanh | sigmoid (the last layer: sigmoid)


@dataclass
class MLP:
    layers: List[DenseLayer]


@dataclass
class Tree:
    """One binary tree in arrays indexed by node id (numpy arrays); node 0 is the root and
    children have larger ids than their parent.

    A split node sends x to ``left[n]`` when ``x[feature[n]] <= threshold[n]`` (the float32
    input widened to double against the double threshold, as scikit-learn does), to
    ``right[n]`` otherwise, and a NaN to ``left`` when ``default_left[n]`` (scikit-learn's
    ``missing_go_to_left``). A leaf has ``left[n] == -1`` and carries ``value[n]``.
    """
    feature: Any  # int64, -1 at leaves
    threshold: Any  # float64
    left: Any  # int64, -1 at leaves
    right: Any  # int64, -1 at leaves
    default_left: Any  # bool
    value: Any  # float64, the leaf values (0 at split nodes)

    @property
    def node_count(self) -> int:
        return len(self.left)


@dataclass
class Forest:
    """score = mean of the trees' leaf values (random forest: the leaf's class-1 fraction)."""
    trees: List[Tree]


@dataclass
class IsolationForest:
    """score = 2 ** (-(mean over trees of the leaf's path length) / average_path_length), where
    a leaf's value is its depth plus c(n) for the n training samples it holds; this is
    ``-score_samples`` of scikit-learn's IsolationForest."""
    trees: List[Tree]
    average_path_length: float  # c(max_samples)


Estimator = Union[Logistic, MLP, Forest, IsolationForest]


@dataclass
class ExportedModel:
    feature_count: int
    steps: List[Step]
    estimator: Estimator
    threshold: float  # label = score >= threshold ? 1 : 0
    accepts_missing: bool
    anomaly: bool  # label 1 = anomaly (IsolationForest); otherwise label 1 = classes_[1]
    description: str  # e.g. "Pipeline(StandardScaler, LogisticRegression)"
    feature_names: Optional[List[str]] = None
    positive_class: Optional[str] = None
    notes: List[str] = field(default_factory=list)
