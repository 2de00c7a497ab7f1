"""Reference rows: reading them (CSV or .npy), the drift histogram and the golden rows.

The reference rows are training or held-out rows as a client would send them (before any
preprocessing). From them the exporter writes the reference histogram (ARTIFACT.md §4: 20 bins
of the library's own scores) and up to 64 golden rows (§14), spread evenly over the rows.
"""

from __future__ import annotations

import csv
import math
from typing import Any, List, Optional, Tuple

from .model import UnsupportedModel

MISSING_CELLS = {"", "nan", "NaN", "NAN", "NA", "N/A", "null", "None"}
HISTOGRAM_BINS = 20
GOLDEN_ROWS = 64


def _is_number(cell: str) -> bool:
    if cell.strip() in MISSING_CELLS:
        return True
    try:
        float(cell)
        return True
    except ValueError:
        return False


def read_rows(path: str) -> Tuple[Any, Optional[List[str]]]:
    """float32 rows from a ``.npy`` file or a CSV (optional header line of column names; an
    empty or NaN/NA cell is a missing value). Returns (rows, header or None)."""
    import numpy as np

    if path.endswith(".npy"):
        rows = np.load(path, allow_pickle=False)
        if rows.ndim != 2:
            raise UnsupportedModel(f"reference {path}: an array of shape {rows.shape}; expected rows x features")
        return rows.astype(np.float32), None
    with open(path, newline="") as handle:
        lines = [line for line in csv.reader(handle) if line and any(cell.strip() for cell in line)]
    if not lines:
        raise UnsupportedModel(f"reference {path}: no rows")
    header = None
    if not all(_is_number(cell) for cell in lines[0]):
        header = [cell.strip() for cell in lines[0]]
        lines = lines[1:]
    width = len(header) if header else len(lines[0])
    values = []
    for number, line in enumerate(lines, start=2 if header else 1):
        if len(line) != width:
            raise UnsupportedModel(f"reference {path}: line {number} has {len(line)} columns; expected {width}")
        row = []
        for column, cell in enumerate(line):
            text = cell.strip()
            if text in MISSING_CELLS:
                row.append(math.nan)
                continue
            try:
                row.append(float(text))
            except ValueError:
                raise UnsupportedModel(f"reference {path}: line {number}, column {column + 1}: {cell!r} is not a "
                                       "number") from None
        values.append(row)
    if not values:
        raise UnsupportedModel(f"reference {path}: a header but no rows")
    return np.asarray(values, dtype=np.float32), header


def check_rows(rows: Any, width: int, accepts_missing: bool, origin: str) -> Any:
    import numpy as np

    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim != 2 or rows.shape[1] != width or rows.shape[0] == 0:
        raise UnsupportedModel(f"{origin}: shape {rows.shape}; the model takes rows of {width} features")
    bad = np.isinf(rows)
    if bad.any():
        row, column = map(int, np.argwhere(bad)[0])
        raise UnsupportedModel(f"{origin}: row {row}, feature {column} is infinite")
    missing = np.isnan(rows)
    if missing.any() and not accepts_missing:
        row, column = map(int, np.argwhere(missing)[0])
        raise UnsupportedModel(f"{origin}: row {row}, feature {column} is missing (NaN) but this model does not "
                               "accept missing values (add a SimpleImputer step, or drop such rows)")
    return rows


def histogram(scores: Any) -> List[float]:
    """Proportions of ``scores`` in 20 equal bins over [0, 1] (the last bin includes 1.0)."""
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64)
    bins = np.clip(np.floor(scores * HISTOGRAM_BINS), 0, HISTOGRAM_BINS - 1).astype(np.int64)
    counts = np.bincount(bins, minlength=HISTOGRAM_BINS)
    return (counts / counts.sum()).tolist()


def golden_indices(count: int) -> List[int]:
    """At most 64 row indices spread evenly from the first row to the last."""
    import numpy as np

    take = min(GOLDEN_ROWS, count)
    return sorted(set(np.linspace(0, count - 1, take).round().astype(np.int64).tolist()))
