"""``frame.max(axis=1)`` / ``frame.min(axis=1)`` of float64 columns run natively as
``np.fmax`` / ``np.fmin`` of the columns (pandas skips NaN; a row of NaN gives NaN), compared
with pandas on the diabetes table with NaN, all-NaN rows, infinities, 0.0 against -0.0
(handed to the original), one row, another index and more than 2,048 rows, and of int
columns (int64), with float ones (float64)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes

import willump_mlir as wm
from willump_mlir.selfcheck import difference

COLUMNS = ["bmi", "bp", "s1"]


def _table() -> pd.DataFrame:
    frame = pd.concat([load_diabetes(as_frame=True).data] * 6, ignore_index=True)
    frame.loc[::7, "bmi"] = np.nan
    frame.loc[::14, ["bp", "s1"]] = np.nan  # every 14th row is all NaN
    frame.loc[::11, "bp"] = np.inf
    frame.loc[::13, "s1"] = -np.inf
    frame["age_years"] = (frame["age"] * 1000).round().astype("int64")
    return frame


TABLE = _table()


def extremes(df: pd.DataFrame) -> Any:
    return df[COLUMNS].max(axis=1), df[COLUMNS].min(axis="columns"), df[["bmi"]].max(axis=1)


def _compile(fn: Any) -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wm.compile(fn, example=(TABLE.iloc[:300],))


def _same(fn: Any, compiled: Any, batch: pd.DataFrame) -> None:
    found = difference(fn(batch.copy()), compiled(batch.copy()))
    assert found is None, found


def test_row_max_and_min_are_native() -> None:
    compiled = _compile(extremes)
    assert all(f.reason == "a list, tuple or dict of values stays in Python"
               for f in compiled.traced.python_fallbacks.values()), compiled.explain()  # fmt: skip
    assert compiled.original_reason is None
    for batch in (TABLE.iloc[300:], TABLE.iloc[[0]], TABLE.iloc[[14]], TABLE,
                  TABLE.set_index(TABLE.index * 3 + 1)):  # fmt: skip
        _same(extremes, compiled, batch)
    assert compiled.calls_in_python == 0


def test_signed_zeros_run_the_original() -> None:
    compiled = _compile(extremes)
    batch = TABLE.iloc[300:400].copy()
    batch.iloc[5, batch.columns.get_loc("bmi")] = 0.0
    batch.iloc[5, batch.columns.get_loc("bp")] = -0.0
    batch.iloc[5, batch.columns.get_loc("s1")] = -1.0
    _same(extremes, compiled, batch)
    assert compiled.calls_in_python == 1


def test_int_columns_are_native() -> None:
    """pandas' transpose makes a frame of int and float columns float64 (the ints converted),
    of int columns only int64."""

    def mixed(df: pd.DataFrame) -> Any:
        return df[["bmi", "age_years"]].max(axis=1), df[["age_years", "sex"]].min(axis=1)

    compiled = _compile(mixed)
    assert compiled.original_reason is None, compiled.explain()
    for batch in (TABLE.iloc[300:], TABLE.iloc[[14]], TABLE.assign(age_years=-(2**63))):
        _same(mixed, compiled, batch)
