"""scikit-learn's fitted trees as :class:`mlserve.model.Tree` arrays.

A scikit-learn tree sends a row left when ``x <= threshold`` (the float32 input widened to
double against a double threshold) and a NaN the way ``missing_go_to_left`` says (when the tree
saw no NaN in training, towards the child with more samples). Thresholds are kept as doubles.
"""

from __future__ import annotations

from typing import Any, List, Tuple

from .model import Tree, UnsupportedModel

FLOAT32_MAX = 3.4028234663852886e38


def _tree_arrays(tree: Any, feature_map: Any = None) -> Tuple[Any, Any, Any, Any, Any]:
    import numpy as np

    t = tree.tree_
    left = t.children_left.astype(np.int64)
    right = t.children_right.astype(np.int64)
    feature = t.feature.astype(np.int64)
    leaf = left == -1
    if feature_map is not None:
        mapped = np.asarray(feature_map, dtype=np.int64)
        feature = np.where(leaf, -1, mapped[np.where(leaf, 0, feature)])
    feature = np.where(leaf, -1, feature)
    missing = getattr(t, "missing_go_to_left", None)
    if missing is None:  # scikit-learn before 1.3: no NaN support, x <= t is False for NaN
        default_left = np.zeros(t.node_count, dtype=bool)
    else:
        default_left = np.asarray(missing, dtype=bool) & ~leaf
    threshold = np.where(leaf, 0.0, t.threshold.astype(np.float64))
    # A split of "missing vs present" has threshold +inf (present left, NaN right); every value
    # a node compares (finite float32) is <= float32 max, which the format can hold.
    threshold = np.where(np.isposinf(threshold), FLOAT32_MAX, threshold)
    return feature, threshold, left, right, default_left


def classifier_tree(tree: Any, index: int, positive_column: int) -> Tree:
    """A DecisionTreeClassifier of a random forest; a leaf's value is its class-1 fraction, what
    ``tree.predict_proba`` returns for a row reaching it."""
    import numpy as np

    t = tree.tree_
    if t.n_outputs != 1:
        raise UnsupportedModel(f"tree {index} has {t.n_outputs} outputs; only one is supported")
    values = t.value[:, 0, :].astype(np.float64)
    totals = values.sum(axis=1)
    totals[totals == 0] = 1.0
    fraction = values[:, positive_column] / totals
    feature, threshold, left, right, default_left = _tree_arrays(tree)
    leaf = left == -1
    return Tree(feature=feature, threshold=threshold, left=left, right=right, default_left=default_left,
                value=np.where(leaf, fraction, 0.0))


def average_path_length(n: Any) -> Any:
    """c(n) as scikit-learn's ``_average_path_length`` computes it (0 for n <= 1, 1 for n = 2)."""
    import numpy as np

    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def node_depths(tree: Any) -> Any:
    """Depth of every node, the root at 0."""
    import numpy as np

    t = tree.tree_
    depth = np.zeros(t.node_count, dtype=np.int64)
    for node in range(t.node_count):  # children always have larger ids than their parent
        for child in (t.children_left[node], t.children_right[node]):
            if child != -1:
                depth[child] = depth[node] + 1
    return depth


def isolation_trees(forest: Any, width: int) -> Tuple[List[Tree], float]:
    """The trees of an IsolationForest with leaf value = depth + c(samples in the leaf), and
    c(max_samples): ``score_samples = -2 ** (-(mean leaf value) / c(max_samples))``."""
    import numpy as np

    max_samples = int(getattr(forest, "_max_samples", forest.max_samples_))
    denominator = float(average_path_length([max_samples])[0])
    trees = []
    # As _compute_chunked_score_samples: a tree sees X[:, estimators_features_[i]] only when
    # max_features is below the width; otherwise it was fitted on, and scores, every column.
    subsample = int(getattr(forest, "_max_features", width)) != width
    features = forest.estimators_features_ if subsample else None
    for index, tree in enumerate(forest.estimators_):
        mapping = features[index] if features is not None else None
        feature, threshold, left, right, default_left = _tree_arrays(tree, mapping)
        t = tree.tree_
        leaf = left == -1
        value = node_depths(tree).astype(np.float64) + average_path_length(t.n_node_samples)
        trees.append(Tree(feature=feature, threshold=threshold, left=left, right=right, default_left=default_left,
                          value=np.where(leaf, value, 0.0)))
    return trees, denominator
