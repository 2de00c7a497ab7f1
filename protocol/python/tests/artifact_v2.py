"""A reader and scorer of version-2 artifacts written from protocol/ARTIFACT.md §9-§16 alone
(not from mlserve.artifact), for the exporter's round-trip tests: it parses every section the
exporter writes, checks the SHA-256 and scores rows as the document says a node does. numpy."""

from __future__ import annotations

import hashlib
import struct
from typing import Any, Dict, List

import numpy as np

NODE = np.dtype([("feature", "<u4"), ("left", "<u4"), ("right", "<u4"), ("flags", "u1"), ("reserved", "u1", 3),
                 ("value", "<f8")])


class Reader:
    def __init__(self, data: bytes, pos: int = 0):
        self.data, self.pos = data, pos

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def array(self, dtype: Any, count: int) -> Any:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def str16(self) -> str:
        n = self.take("<H")
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        return raw.decode("utf-8")


def parse(path: str) -> Dict[str, Any]:
    with open(path, "rb") as handle:
        data = handle.read()
    assert data[:4] == b"MLAF", "magic"
    assert hashlib.sha256(data[:-32]).digest() == data[-32:], "checksum"
    r = Reader(data, 4)
    version, kind, flags, width, threshold, n, v, body = r.take("<HBBIfHHI")
    assert version == 2 and len(data) == 184 + body
    out: Dict[str, Any] = {"kind": kind, "accepts_missing": bool(flags & 1), "width": width,
                           "threshold": threshold, "name": data[24:24 + n].decode(), "version": data[88:88 + v].decode(),
                           "steps": [], "checksum": data[-32:].hex()}
    r.pos = 152
    last_tag = 0
    while r.pos < 152 + body:
        tag, reserved, length = r.take("<HHI")
        assert tag > last_tag and reserved == 0
        last_tag, end = tag, r.pos + length
        if tag == 1:
            out["model"] = _model(r, kind, width)
        elif tag == 2:
            count, _ = r.take("<HH")
            for _ in range(count):
                step = r.take("<B3x")
                if step == 1:
                    out["steps"].append(("impute", r.array("<f8", width)))
                else:
                    out["steps"].append(("scale", r.array("<f8", width), r.array("<f8", width)))
        elif tag == 3:
            out["feature_names"] = [r.str16() for _ in range(width)]
        elif tag == 4:
            out["histogram"] = r.array("<f4", 20)
        elif tag == 5:
            count, _, tolerance = r.take("<HHf")
            table = r.array("<f4", count * (width + 1)).reshape(count, width + 1)
            out["golden"] = {"rows": table[:, :width], "expected": table[:, width], "tolerance": tolerance}
        elif tag == 6:
            out["metadata"] = dict((r.str16(), r.str16()) for _ in range(r.take("<H")))
        assert r.pos == end, f"section {tag} length"
    return out


def _model(r: Reader, kind: int, width: int) -> Dict[str, Any]:
    if kind == 1:
        weights = r.array("<f4", width + 1)
        return {"weights": weights[:width], "bias": weights[width]}
    if kind == 2:
        count = r.take("<I")
        shapes = [r.take("<IIB3x") for _ in range(count)]
        layers = []
        for inputs, outputs, activation in shapes:
            w = r.array("<f4", inputs * outputs).reshape(outputs, inputs)
            layers.append((w, r.array("<f4", outputs), activation))
        return {"layers": layers}
    trees, total, words, comparison, aggregation, transform, _, base, parameter = r.take("<IIIBBBBdd")
    counts = r.array("<u4", trees)
    nodes = r.array(NODE, total)
    r.array("<u4", words)
    return {"counts": counts, "nodes": nodes, "comparison": comparison, "aggregation": aggregation,
            "transform": transform, "base": base, "parameter": parameter}


def _f32(x: Any) -> Any:
    return np.clip(np.asarray(x, dtype=np.float64), -3.4028234663852886e38, 3.4028234663852886e38).astype(np.float32)


def scores(art: Dict[str, Any], rows: Any) -> Any:
    """Scores of float32 ``rows`` as §11-§13 define them."""
    x = np.array(rows, dtype=np.float32)
    for step in art["steps"]:
        if step[0] == "impute":
            x = np.where(np.isnan(x), step[1].astype(np.float32), x)
        else:
            x = _f32(_f32(x.astype(np.float64) - step[1]).astype(np.float64) / step[2])
    model, kind = art["model"], art["kind"]
    if kind == 1:
        z = x.astype(np.float32) @ model["weights"] + model["bias"]
        return 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    if kind == 2:
        h = x.astype(np.float64)  # §16: every layer in f64 over the float32 weights
        for w, b, activation in model["layers"]:
            z = h @ w.astype(np.float64).T + b.astype(np.float64)
            h = {1: lambda t: np.maximum(t, 0), 2: np.tanh, 3: lambda t: 1 / (1 + np.exp(-t))}[activation](z)
        return h[:, 0]
    return _tree_scores(model, x)


def _tree_scores(model: Dict[str, Any], x: Any) -> Any:
    assert model["comparison"] == 1
    nodes = model["nodes"]
    starts = np.concatenate([[0], np.cumsum(model["counts"], dtype=np.int64)[:-1]]).astype(np.int64)
    total = np.zeros(len(x))
    for start in starts:
        position = np.full(len(x), int(start), dtype=np.int64)
        for _ in range(64):
            inner = nodes["feature"][position] != 0xFFFFFFFF
            if not inner.any():
                break
            node = nodes[position]
            d = x[np.arange(len(x)), np.where(inner, node["feature"], 0)].astype(np.float64)
            missing_type = node["flags"] & 3
            d = np.where((missing_type != 2) & np.isnan(d), 0.0, d)
            default = (missing_type == 2) & np.isnan(d)
            go_left = np.where(default, (node["flags"] & 4) != 0, d <= node["value"])
            child = np.where(go_left, node["left"], node["right"]).astype(np.int64) + start
            position = np.where(inner, child, position)
        total += nodes["value"][position]
    m = total / len(starts) if model["aggregation"] == 1 else total
    z = m + model["base"]
    if model["transform"] == 0:
        return np.clip(z, 0, 1)
    if model["transform"] == 1:
        return 1 / (1 + np.exp(-z))
    p = model["parameter"]
    return np.full(len(z), 0.5) if p == 0 else 2.0 ** (-z / p)


def labels(art: Dict[str, Any], score: Any) -> List[int]:
    return (np.asarray(score, dtype=np.float32) >= np.float32(art["threshold"])).astype(np.uint8)
