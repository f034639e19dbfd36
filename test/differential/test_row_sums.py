"""``df[cols].sum(axis=1)`` and ``.mean(axis=1)`` of float columns run in Python, and
``explain()`` says why: pandas rounds them by the frame's blocks (``ROW_SUM_LAYOUT``). The
batches show the cases that round apart: 6 rows or more (the columns added in order from
0.0), fewer rows with a NaN and 10 columns (numpy's pairwise sum of the transpose's copy),
and a frame of two blocks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import willump_mlir as wm
from willump_mlir.frontend.tracer import ROW_SUM_LAYOUT
from willump_mlir.selfcheck import difference

COLUMNS = [f"c{i}" for i in range(10)]


def frame(n: int, seed: int, nan: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, 10)) * np.exp(rng.normal(size=(n, 10)) * 15)
    values[:1] = -0.0
    if nan:
        values[n // 2, 1] = np.nan
        values[-1, :4] = [1e16, 1.0, -1e16, 1.0]  # 1.0 added in order, 0.0 pairwise
    return pd.DataFrame(values, columns=COLUMNS)


def two_blocks(n: int) -> pd.DataFrame:
    rows = frame(n, seed=5)
    rows["c0"] = rows["c0"] * 3  # a column of its own block, added after the others
    return rows


def row_sum(df: pd.DataFrame) -> Any:
    return df[COLUMNS].sum(axis=1)


def row_mean(df: pd.DataFrame) -> Any:
    return df[COLUMNS].mean(axis=1) * 2


@pytest.mark.parametrize("fn", [row_sum, row_mean])
def test_row_sums_run_in_python_and_are_explained(fn: Any) -> None:
    compiled = wm.compile(fn, example=(frame(50, seed=1),))
    assert ROW_SUM_LAYOUT in compiled.explain()
    for rows in (frame(40, 2), frame(40, 3, nan=True), frame(3, 4, nan=True), frame(1, 6),
                 two_blocks(30), frame(0, 7)):  # fmt: skip
        assert difference(fn(rows), compiled(rows)) is None
