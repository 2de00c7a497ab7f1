"""Writes an :class:`mlserve.model.ExportedModel` as a version-2 ``.mlart`` file.

Byte layout: protocol/ARTIFACT.md §9-§18 (header §10, sections §11, model §12, preprocessing
§13, golden rows §14). Sections go in increasing tag order; every rule a reader checks (§17) is
checked here first, so a file this module writes always passes them. The file is written
atomically (temporary file in the same directory, fsync, rename, fsync of the directory).
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import tempfile
from typing import Any, Dict, List, Optional, Sequence

from .model import MLP, ExportedModel, Forest, Impute, IsolationForest, Logistic, Scale, Tree, UnsupportedModel

MAGIC = b"MLAF"
FORMAT_VERSION = 2
KIND_LOGISTIC, KIND_MLP, KIND_TREES = 1, 2, 3
FLAG_ACCEPTS_MISSING = 0x01
TAG_MODEL, TAG_PREPROCESSING, TAG_FEATURE_NAMES, TAG_REFERENCE, TAG_GOLDEN, TAG_METADATA = 1, 2, 3, 4, 5, 6
ACTIVATIONS = {"relu": 1, "tanh": 2, "sigmoid": 3}
STEP_IMPUTE, STEP_SCALE = 1, 2
COMPARISON_LIGHTGBM_SKLEARN = 1
AGGREGATION_MEAN = 1
TRANSFORM_IDENTITY, TRANSFORM_ISOLATION = 0, 2
NODE_MISSING_NAN, NODE_DEFAULT_LEFT = 0x02, 0x04
LEAF_FEATURE = 0xFFFFFFFF
HISTOGRAM_BINS = 20
MAX_GOLDEN_ROWS = 64
MAX_FEATURES = 4096
MAX_HIDDEN_WIDTH = 256
MAX_LAYERS = 16
MAX_TREES = 100_000
MAX_NODES = 10_000_000
FLOAT32_MAX = 3.4028234663852886e38
MAX_NAME_BYTES = 64
MAX_FEATURE_NAME_BYTES = 128
MAX_METADATA = 64


def _float32_finite(value: float, what: str) -> float:
    if not (math.isfinite(value) and abs(value) <= FLOAT32_MAX):
        raise UnsupportedModel(f"{what} is {value!r}, outside the float32 range an artifact can hold")
    return value


def _f32s(values: Sequence[float], what: str) -> bytes:
    for v in values:
        _float32_finite(v, what)
    return struct.pack(f"<{len(values)}f", *values)


def _f64s(values: Sequence[float], what: str) -> bytes:
    for v in values:
        _float32_finite(v, what)
    return struct.pack(f"<{len(values)}d", *values)


def _str16(text: str, what: str, low: int, high: int) -> bytes:
    raw = text.encode("utf-8")
    if not low <= len(raw) <= high or b"\x00" in raw:
        raise UnsupportedModel(f"{what} {text!r} must be {low}-{high} bytes of UTF-8 without NUL")
    return struct.pack("<H", len(raw)) + raw


def _section(tag: int, payload: bytes) -> bytes:
    return struct.pack("<HHI", tag, 0, len(payload)) + payload


def _model_payload(model: ExportedModel) -> bytes:
    estimator = model.estimator
    if isinstance(estimator, Logistic):
        if len(estimator.weights) != model.feature_count:
            raise UnsupportedModel(f"{len(estimator.weights)} weights for {model.feature_count} features")
        return _f32s(list(estimator.weights) + [estimator.bias], "a logistic weight")
    if isinstance(estimator, MLP):
        return _mlp_payload(estimator, model.feature_count)
    if isinstance(estimator, (Forest, IsolationForest)):
        return _trees_payload(estimator, model.feature_count)
    raise UnsupportedModel(f"no artifact kind for {type(estimator).__name__}")


def _mlp_payload(mlp: MLP, width: int) -> bytes:
    layers = mlp.layers
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise UnsupportedModel(f"an MLP of {len(layers)} layers; an artifact holds 1-{MAX_LAYERS}")
    shapes, params = [struct.pack("<I", len(layers))], []
    inputs = width
    for index, layer in enumerate(layers):
        last = index == len(layers) - 1
        if layer.inputs != inputs:
            raise UnsupportedModel(f"MLP layer {index} takes {layer.inputs} inputs but receives {inputs}")
        if last and (layer.outputs != 1 or layer.activation != "sigmoid"):
            raise UnsupportedModel("the last MLP layer must have 1 sigmoid output")
        if not last and layer.outputs > MAX_HIDDEN_WIDTH:
            raise UnsupportedModel(f"MLP hidden layer {index} has {layer.outputs} units; at most {MAX_HIDDEN_WIDTH}")
        if layer.activation not in ACTIVATIONS:
            raise UnsupportedModel(f"MLP layer {index}: activation {layer.activation!r}; expected relu|tanh|sigmoid")
        shapes.append(struct.pack("<IIB3x", layer.inputs, layer.outputs, ACTIVATIONS[layer.activation]))
        params.append(_f32s(layer.weights, f"MLP layer {index} weight"))
        params.append(_f32s(layer.biases, f"MLP layer {index} bias"))
        inputs = layer.outputs
    return b"".join(shapes + params)


def _tree_nodes(tree: Tree, index: int, width: int) -> bytes:
    import numpy as np

    n = tree.node_count
    left = np.asarray(tree.left, dtype=np.int64)
    right = np.asarray(tree.right, dtype=np.int64)
    leaf = left == -1
    ids = np.arange(n)
    inner = ~leaf
    if n < 1 or np.any(right[leaf] != -1) or np.any(right[inner] == -1):
        raise UnsupportedModel(f"tree {index}: a node has exactly one child")
    if np.any(left[inner] <= ids[inner]) or np.any(right[inner] <= ids[inner]) or np.any(left[inner] >= n) \
            or np.any(right[inner] >= n):
        raise UnsupportedModel(f"tree {index}: a child index is not after its parent or lies beyond the tree")
    feature = np.asarray(tree.feature, dtype=np.int64)
    if np.any(feature[inner] < 0) or np.any(feature[inner] >= width):
        raise UnsupportedModel(f"tree {index}: a split feature is outside 0..{width - 1}")
    threshold = np.asarray(tree.threshold, dtype=np.float64)
    value = np.asarray(tree.value, dtype=np.float64)
    numbers = np.where(leaf, value, threshold)
    if not np.all(np.isfinite(numbers)) or np.any(np.abs(numbers) > FLOAT32_MAX):
        raise UnsupportedModel(f"tree {index}: a threshold or leaf value is outside the float32 range")
    node = np.zeros(n, dtype=np.dtype([("feature", "<u4"), ("left", "<u4"), ("right", "<u4"), ("flags", "u1"),
                                       ("reserved", "u1", 3), ("value", "<f8")]))
    node["feature"] = np.where(leaf, LEAF_FEATURE, feature).astype(np.uint32)
    node["left"] = np.where(leaf, 0, left).astype(np.uint32)
    node["right"] = np.where(leaf, 0, right).astype(np.uint32)
    flags = NODE_MISSING_NAN | np.where(np.asarray(tree.default_left, dtype=bool), NODE_DEFAULT_LEFT, 0)
    node["flags"] = np.where(leaf, 0, flags).astype(np.uint8)
    node["value"] = numbers
    return node.tobytes()


def _trees_payload(forest: Any, width: int) -> bytes:
    trees = forest.trees
    total = sum(t.node_count for t in trees)
    if not 1 <= len(trees) <= MAX_TREES or total > MAX_NODES:
        raise UnsupportedModel(f"{len(trees)} trees with {total} nodes; an artifact holds 1-{MAX_TREES} trees "
                               f"and at most {MAX_NODES} nodes")
    if isinstance(forest, IsolationForest):
        transform, parameter = TRANSFORM_ISOLATION, forest.average_path_length
    else:
        transform, parameter = TRANSFORM_IDENTITY, 0.0
    head = struct.pack("<IIIBBBBdd", len(trees), total, 0, COMPARISON_LIGHTGBM_SKLEARN, AGGREGATION_MEAN,
                       transform, 0, 0.0, _float32_finite(parameter, "c(max_samples)"))
    counts = struct.pack(f"<{len(trees)}I", *[t.node_count for t in trees])
    return b"".join([head, counts] + [_tree_nodes(t, i, width) for i, t in enumerate(trees)])


def _preprocessing_payload(model: ExportedModel) -> bytes:
    if not 1 <= len(model.steps) <= 8:
        raise UnsupportedModel(f"{len(model.steps)} preprocessing steps; an artifact holds 1-8")
    parts = [struct.pack("<HH", len(model.steps), 0)]
    width = model.feature_count
    for index, step in enumerate(model.steps):
        if isinstance(step, Impute):
            if len(step.fill) != width:
                raise UnsupportedModel(f"preprocessing step {index}: {len(step.fill)} fill values for {width} features")
            parts += [struct.pack("<B3x", STEP_IMPUTE), _f64s(step.fill, f"step {index} fill value")]
        elif isinstance(step, Scale):
            if len(step.mean) != width or len(step.scale) != width:
                raise UnsupportedModel(f"preprocessing step {index}: mean/scale are not {width} wide")
            if any(s == 0 for s in step.scale):
                raise UnsupportedModel(f"preprocessing step {index}: a scale of 0")
            parts += [struct.pack("<B3x", STEP_SCALE), _f64s(step.mean, f"step {index} mean"),
                      _f64s(step.scale, f"step {index} scale")]
        else:
            raise UnsupportedModel(f"preprocessing step {index}: {type(step).__name__} has no artifact form")
    return b"".join(parts)


def _names_payload(names: List[str], width: int) -> bytes:
    if len(names) != width or len(set(names)) != width:
        raise UnsupportedModel(f"{len(names)} feature names ({len(set(names))} distinct) for {width} features")
    return b"".join(_str16(name, "feature name", 1, MAX_FEATURE_NAME_BYTES) for name in names)


def _golden_payload(rows: Any, expected: Sequence[float], tolerance: float, model: ExportedModel) -> bytes:
    import numpy as np

    rows = np.asarray(rows, dtype=np.float32)
    count = rows.shape[0]
    if not 1 <= count <= MAX_GOLDEN_ROWS or rows.shape[1] != model.feature_count or len(expected) != count:
        raise UnsupportedModel(f"golden rows: {rows.shape} rows for {model.feature_count} features, "
                               f"{len(expected)} expected scores")
    if np.any(np.isinf(rows)) or (np.any(np.isnan(rows)) and not model.accepts_missing):
        raise UnsupportedModel("golden rows hold Inf, or NaN for a model that does not accept missing values")
    if not 0 < tolerance <= 0.01:
        raise UnsupportedModel(f"golden-row tolerance {tolerance} must be in (0, 0.01]")
    scores = np.asarray(expected, dtype=np.float32)
    if not np.all((scores >= 0) & (scores <= 1)):
        raise UnsupportedModel("golden rows: an expected score is outside [0, 1]")
    table = np.concatenate([rows, scores[:, None]], axis=1).astype("<f4")
    return struct.pack("<HHf", count, 0, tolerance) + table.tobytes()


def _metadata_payload(metadata: Dict[str, str]) -> bytes:
    if len(metadata) > MAX_METADATA:
        raise UnsupportedModel(f"{len(metadata)} metadata entries; at most {MAX_METADATA}")
    parts = [struct.pack("<H", len(metadata))]
    for key, value in metadata.items():
        parts += [_str16(key, "metadata key", 1, 64), _str16(value[:256], "metadata value", 0, 256)]
    return b"".join(parts)


def encode(model: ExportedModel, name: str, version: str, histogram: Optional[Sequence[float]] = None,
           golden_rows: Any = None, golden_scores: Optional[Sequence[float]] = None, tolerance: float = 1e-6,
           metadata: Optional[Dict[str, str]] = None) -> bytes:
    """The bytes of the artifact (header, sections, SHA-256)."""
    if not 1 <= model.feature_count <= MAX_FEATURES:
        raise UnsupportedModel(f"{model.feature_count} features; an artifact holds 1-{MAX_FEATURES}")
    if not 0.0 <= model.threshold <= 1.0:
        raise UnsupportedModel(f"threshold {model.threshold} is outside [0, 1]")
    raw_name = _str16(name, "model name", 1, MAX_NAME_BYTES)[2:]
    raw_version = _str16(version, "version label", 1, MAX_NAME_BYTES)[2:]
    if isinstance(model.estimator, Logistic):
        kind = KIND_LOGISTIC
    elif isinstance(model.estimator, MLP):
        kind = KIND_MLP
    else:
        kind = KIND_TREES
    if model.accepts_missing and not (kind == KIND_TREES or (model.steps and isinstance(model.steps[0], Impute))):
        raise UnsupportedModel("accepts_missing needs a tree model or an impute step first (ARTIFACT.md §15)")
    body = [_section(TAG_MODEL, _model_payload(model))]
    if model.steps:
        body.append(_section(TAG_PREPROCESSING, _preprocessing_payload(model)))
    if model.feature_names:
        body.append(_section(TAG_FEATURE_NAMES, _names_payload(model.feature_names, model.feature_count)))
    if histogram is not None:
        if len(histogram) != HISTOGRAM_BINS or any(b < 0 for b in histogram) or abs(sum(histogram) - 1) > 0.01:
            raise UnsupportedModel(f"a reference histogram is {HISTOGRAM_BINS} proportions >= 0 summing to 1")
        body.append(_section(TAG_REFERENCE, _f32s(histogram, "a histogram bin")))
    if golden_rows is not None:
        body.append(_section(TAG_GOLDEN, _golden_payload(golden_rows, golden_scores, tolerance, model)))
    if metadata:
        body.append(_section(TAG_METADATA, _metadata_payload(metadata)))
    payload = b"".join(body)
    header = struct.pack("<4sHBBIfHHI", MAGIC, FORMAT_VERSION, kind,
                         FLAG_ACCEPTS_MISSING if model.accepts_missing else 0, model.feature_count,
                         model.threshold, len(raw_name), len(raw_version), len(payload))
    header += raw_name.ljust(64, b"\x00") + raw_version.ljust(64, b"\x00")
    content = header + payload
    return content + hashlib.sha256(content).digest()


def write_atomically(path: str, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file in the same directory."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".mlart-", dir=directory)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
