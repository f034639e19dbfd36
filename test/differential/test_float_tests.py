"""``np.isnan``, ``np.isinf`` and ``np.isfinite`` of a column or an array run natively
(``x != x``, ``|x| == inf``, ``|x| < inf``), compared with numpy and pandas on the
diabetes table with NaN, infinities, -0.0, int columns, float32 arrays, one row and more
than 2,048 rows."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes

import willump_mlir as wm
from willump_mlir.selfcheck import difference


def _table() -> pd.DataFrame:
    frame = load_diabetes(as_frame=True).data
    frame = pd.concat([frame] * 6, ignore_index=True)  # 2,652 rows
    frame.loc[::7, "bmi"] = np.nan
    frame.loc[::11, "bp"] = np.inf
    frame.loc[::13, "bp"] = -np.inf
    frame.loc[::5, "s1"] = -0.0
    frame["age_years"] = (frame["age"] * 1000).round().astype("int64")
    return frame


TABLE = _table()


def flags(df: pd.DataFrame) -> Any:
    missing = np.isnan(df["bmi"])
    infinite = np.isinf(df["bp"])
    finite = np.isfinite(df["bp"]) & np.isfinite(df["age_years"]) & ~np.isnan(df["s1"])
    return missing | infinite, finite, np.where(np.isnan(df["bmi"]), 0.0, df["bmi"])


def array_flags(X: np.ndarray) -> Any:
    return np.isnan(X), np.isinf(X), np.isfinite(X)


def _native(compiled: wm.CompiledPipeline) -> None:
    """Only the returned tuple is packed in Python."""
    assert all(f.reason == "a list, tuple or dict of values stays in Python"
               for f in compiled.traced.python_fallbacks.values()), compiled.explain()  # fmt: skip
    assert compiled.original_reason is None


def _same(fn: Any, compiled: Any, batch: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = difference(fn(batch), compiled(batch))
    assert found is None, found


def test_column_tests_are_native() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(flags, example=(TABLE.iloc[:300],))
    _native(compiled)
    for batch in (TABLE.iloc[300:], TABLE.iloc[[0]], TABLE.iloc[[7]], TABLE):
        _same(flags, compiled, batch)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_array_tests_are_native(dtype: str) -> None:
    X = TABLE[["bmi", "bp", "s1"]].to_numpy(dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(array_flags, example=(X[:300],))
    _native(compiled)
    for batch in (X[300:], X[:1], X[7:8], X, X[:0]):
        _same(array_flags, compiled, batch)
