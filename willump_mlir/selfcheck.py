"""The compile-time self-check: does a compiled pipeline return what the original returns?

``wm.compile`` runs the original function and the compiled pipeline on separate copies of
the example and compares the results with ``difference``: the same type, shape and dtype;
floats within ``ATOL`` (plus ``RTOL`` of the value, a few rounding errors for large
regression outputs; a float32 result is allowed one float32 rounding), NaN where NaN;
labels, integers, booleans and strings equal; a Series' or DataFrame's index, name and
columns equal; sparse matrices compared as sparse matrices.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from willump_mlir.frontend.spec import FrontendError

ATOL = 1e-9
RTOL = 1e-12
SHOWN = 3  # differing positions a message names


class CompileError(FrontendError):
    """``wm.compile`` cannot build a pipeline that returns what the function returns on its
    example, even with the whole function in Python; the message names the file and line."""


def fresh(value: Any) -> Any:
    """A copy of a data argument the code under test may mutate (``df["x"] = ...``)."""
    if isinstance(value, tuple):
        return value
    copy = getattr(value, "copy", None)
    return copy() if callable(copy) else value


def _name(value: object) -> str:
    return type(value).__name__


def _tolerance(dtype: np.dtype) -> float:
    """The relative tolerance of a float ``dtype``: ``RTOL``, or one rounding below float64."""
    eps = float(np.finfo(dtype).eps)
    return max(RTOL, eps) if eps > np.finfo(np.float64).eps else RTOL


def _positions(mask: np.ndarray) -> str:
    where = np.argwhere(mask)
    shown = ", ".join(str(tuple(int(i) for i in p)) if len(p) != 1 else str(int(p[0]))
                      for p in where[:SHOWN])  # fmt: skip
    more = f" and {len(where) - SHOWN} more" if len(where) > SHOWN else ""
    return f"at {shown}{more}"


def _first(expected: np.ndarray, got: np.ndarray, mask: np.ndarray) -> str:
    index = tuple(np.argwhere(mask)[0])
    shown = [v.item() if isinstance(v, np.generic) else v for v in (expected[index], got[index])]
    return f" (original {shown[0]!r}, compiled {shown[1]!r})"


def _float_values(path: str, expected: np.ndarray, got: np.ndarray) -> str | None:
    """Where two float (or complex) arrays of one shape differ beyond the tolerance."""
    nan_e, nan_g = np.isnan(expected), np.isnan(got)
    with np.errstate(invalid="ignore", over="ignore"):
        same = (expected == got) | (nan_e & nan_g)
        close = np.abs(expected - got) <= ATOL + _tolerance(expected.dtype) * np.abs(expected)
    bad = ~(same | (close & ~nan_e & ~nan_g))
    if not bad.any():
        return None
    return f"{path}: values differ {_positions(bad)}{_first(expected, got, bad)}"


def _element(expected: object, got: object) -> str | None:
    """How two items of object arrays differ: containers compared as such, else scalars."""
    if isinstance(expected, (np.ndarray, pd.Series, pd.DataFrame, list, tuple, dict)):
        return difference(expected, got)
    return _scalar(expected, got)


def _object_values(path: str, expected: np.ndarray, got: np.ndarray) -> str | None:
    """Element by element: missing where missing, else equal (floats within tolerance)."""
    bad = np.zeros(expected.shape, dtype=bool)
    for index in np.ndindex(expected.shape):
        bad[index] = _element(expected[index], got[index]) is not None
    if not bad.any():
        return None
    return f"{path}: values differ {_positions(bad)}{_first(expected, got, bad)}"


def _arrays(path: str, expected: np.ndarray, got: np.ndarray, dtypes: bool = True) -> str | None:
    if expected.shape != got.shape:
        return f"{path}: shape {got.shape}, the original's is {expected.shape}"
    if dtypes and expected.dtype != got.dtype:
        return f"{path}: dtype {got.dtype}, the original's is {expected.dtype}"
    if expected.dtype.kind in "fc" and got.dtype.kind in "fc":
        return _float_values(path, expected, got)
    if expected.dtype.kind == "O" or got.dtype.kind == "O":
        return _object_values(path, expected, got)
    if expected.dtype.kind in "mM" and expected.dtype == got.dtype:  # NaT where NaT
        bad = expected.view(np.int64) != got.view(np.int64)
    else:
        bad = expected != got
    if not np.any(bad):
        return None
    return f"{path}: values differ {_positions(bad)}{_first(expected, got, bad)}"


def _scalar(expected: object, got: object) -> str | None:
    """How two scalars differ (missing values match each other), or None."""
    missing_e, missing_g = _missing(expected), _missing(got)
    if missing_e or missing_g:
        return None if missing_e and missing_g else f"{got!r}, the original's is {expected!r}"
    if isinstance(expected, (float, np.floating)) and isinstance(got, (float, np.floating)):
        tolerance = ATOL + _tolerance(np.dtype(type(got))) * abs(float(expected))
        if expected == got or abs(float(expected) - float(got)) <= tolerance:
            return None
        return f"{got!r}, the original's is {expected!r}"
    try:
        equal = bool(expected == got)
    except (TypeError, ValueError) as error:
        return f"{got!r} cannot be compared with the original's {expected!r} ({error})"
    return None if equal else f"{got!r}, the original's is {expected!r}"


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _labels(path: str, what: str, expected: pd.Index, got: pd.Index) -> str | None:
    """Labels, names, dtype and kind of index (a RangeIndex equals the same int64 Index)."""
    try:
        pd.testing.assert_index_equal(expected, got, exact="equiv")
    except AssertionError:
        return f"{path}: {what} {_short(got)}, the original's {what} {_short(expected)}"
    return None


def _short(index: pd.Index) -> str:
    text = repr(index)
    return text if len(text) <= 120 else text[:117] + "..."


def _sparse(path: str, expected: Any, got: Any) -> str | None:
    if expected.shape != got.shape:
        return f"{path}: shape {got.shape}, the original's is {expected.shape}"
    if expected.dtype != got.dtype:
        return f"{path}: dtype {got.dtype}, the original's is {expected.dtype}"
    a, b = sp.csr_matrix(expected, copy=True), sp.csr_matrix(got, copy=True)
    for m in (a, b):
        m.sum_duplicates()
        m.eliminate_zeros()
        m.sort_indices()
    if np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices):
        return _arrays(f"{path} (stored values)", a.data, b.data)
    if a.dtype.kind not in "fc":
        return f"{path}: the stored entries differ"
    delta = (a - b).tocoo()  # where one side stores an entry the other does not
    at_a = np.asarray(a[delta.row, delta.col]).ravel()
    at_b = np.asarray(b[delta.row, delta.col]).ravel()
    with np.errstate(invalid="ignore"):
        close = np.abs(delta.data) <= ATOL + _tolerance(a.dtype) * np.abs(at_a)
    bad = ~(close | (np.isnan(at_a) & np.isnan(at_b)))
    if bad.any():
        rows = np.unique(delta.row[bad])
        return f"{path}: values differ in row(s) {', '.join(map(str, rows[:SHOWN]))}"
    return None


def _sequence(path: str, expected: Iterable[Any], got: Iterable[Any]) -> str | None:
    expected, got = list(expected), list(got)
    if len(expected) != len(got):
        return f"{path}: {len(got)} items, the original's has {len(expected)}"
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        found = difference(e, g, f"{path}[{i}]")
        if found is not None:
            return found
    return None


def difference(expected: Any, got: Any, path: str = "the result") -> str | None:
    """How ``got`` (the compiled pipeline's result) differs from ``expected`` (the
    original's), in words naming the first place, or None if they agree."""
    if type(expected) is not type(got):
        return f"{path} is a {_name(got)}, the original's is a {_name(expected)}"
    if isinstance(expected, np.ndarray):
        return _arrays(path, expected, got)
    if isinstance(expected, pd.Series):
        found = _labels(path, "index", expected.index, got.index)
        if found is None and expected.name != got.name:
            found = f"{path}: its name is {got.name!r}, the original's is {expected.name!r}"
        if found is None and expected.dtype != got.dtype:
            found = f"{path}: dtype {got.dtype}, the original's is {expected.dtype}"
        return found or _arrays(path, expected.to_numpy(), got.to_numpy(), dtypes=False)
    if isinstance(expected, pd.DataFrame):
        found = _labels(path, "columns", expected.columns, got.columns)
        if found is None:
            found = _labels(path, "index", expected.index, got.index)
        for i in range(expected.shape[1]):
            if found is not None:
                break
            found = difference(expected.iloc[:, i], got.iloc[:, i], f"{path} column "
                               f"{expected.columns[i]!r}")  # fmt: skip
        return found
    if sp.issparse(expected):
        return _sparse(path, expected, got)
    if isinstance(expected, (tuple, list)):
        return _sequence(path, expected, got)
    if isinstance(expected, dict):
        if list(expected) != list(got):
            return f"{path}: keys {list(got)!r}, the original's are {list(expected)!r}"
        return _sequence(path, expected.values(), got.values())
    if isinstance(expected, pd.Index):
        return _labels(path, "labels", expected, got)
    if hasattr(expected, "__array__"):  # a Categorical, an extension array, ...
        return _arrays(path, np.asarray(expected), np.asarray(got))
    found = _scalar(expected, got)
    return None if found is None else f"{path} is {found}"
