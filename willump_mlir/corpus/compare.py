"""``difference``: does a compiled result equal the original's (type, shape, dtype, values)?"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

TOLERANCE = 1e-9


def difference(expected: Any, got: Any, where: str = "result") -> str | None:
    """``None`` if ``got`` equals ``expected``, else what differs first.

    Equal means: the same type; for arrays the same shape and dtype; floats within
    ``TOLERANCE`` (absolute, or relative to the expected value) with NaN exactly where
    NaN; everything else (labels, ints, bools, strings) exactly equal. pandas objects
    also compare their index, columns and name.
    """
    if type(expected) is not type(got):
        return f"{where}: type {type(got).__name__}, expected {type(expected).__name__}"
    if isinstance(expected, tuple | list):
        if len(expected) != len(got):
            return f"{where}: length {len(got)}, expected {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            if (found := difference(e, g, f"{where}[{i}]")) is not None:
                return found
        return None
    if isinstance(expected, pd.DataFrame):
        if not expected.columns.equals(got.columns):
            return f"{where}: columns {list(got.columns)}, expected {list(expected.columns)}"
        if not expected.index.equals(got.index):
            return f"{where}: index differs"
        for column in expected.columns:
            if found := difference(expected[column], got[column], f"{where}[{column!r}]"):
                return found
        return None
    if isinstance(expected, pd.Series):
        if expected.name != got.name:
            return f"{where}: name {got.name!r}, expected {expected.name!r}"
        if not expected.index.equals(got.index):
            return f"{where}: index differs"
        if expected.dtype != got.dtype:
            return f"{where}: dtype {got.dtype}, expected {expected.dtype}"
        return difference(expected.to_numpy(), got.to_numpy(), where)
    if sp.issparse(expected):
        return difference(expected.toarray(), got.toarray(), where)
    if isinstance(expected, np.ndarray):
        if expected.shape != got.shape:
            return f"{where}: shape {got.shape}, expected {expected.shape}"
        if expected.dtype != got.dtype:
            return f"{where}: dtype {got.dtype}, expected {expected.dtype}"
        return values_difference(expected, got, where)
    if isinstance(expected, float | np.floating):
        return values_difference(np.asarray(expected), np.asarray(got), where)
    if expected != got:
        return f"{where}: {got!r}, expected {expected!r}"
    return None


def values_difference(expected: np.ndarray, got: np.ndarray, where: str) -> str | None:
    """Compare two arrays of the same shape and dtype element by element."""
    if expected.dtype.kind in "fc":
        nan = np.isnan(expected)
        if not np.array_equal(nan, np.isnan(got)):
            first = int(np.argmax(nan != np.isnan(got)))
            return f"{where}: NaN differs at flat index {first}"
        e, g = expected[~nan], got[~nan]
        with np.errstate(invalid="ignore"):
            bad = ~((e == g) | (np.abs(e - g) <= TOLERANCE * np.maximum(1.0, np.abs(e))))
        if bad.any():
            worst = float(np.max(np.abs(e - g)))
            return f"{where}: {int(bad.sum())} value(s) differ (max |diff| {worst:.3g})"
        return None
    unequal = expected != got
    if np.any(unequal):
        first = int(np.argmax(np.ravel(unequal)))
        return (
            f"{where}: {int(np.sum(unequal))} value(s) differ (first at flat index {first}: "
            f"{np.ravel(got).tolist()[first]!r}, expected {np.ravel(expected).tolist()[first]!r})"
        )
    return None
