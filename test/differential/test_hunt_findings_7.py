"""Defects found by a seventh differential hunt (row-wise apply, eval, binning, float32
and nullable columns, text dtypes, set_index and Series alignment, batches that differ
from the example, batches large enough to run on several threads): the compiled pipeline
against the original function on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from notebook_check import quiet_compile
from test_hunt_findings_3 import _outcome, _same

# region A: a datetime column of a batch split over threads


def month(df):
    return df["when"].dt.month


def month_plus(df):
    return df["when"].dt.month + df["k"]


def day_as_float(df):
    return df["when"].dt.day * 1.0


ROWS = 4096  # two blocks of rows (``PARALLEL_ROWS`` is 2,048)
DATES = pd.DataFrame({"when": pd.date_range("2020-01-01", periods=ROWS, freq="h"),
                      "k": np.arange(ROWS)})  # fmt: skip
WITH_NAT = DATES.assign(when=DATES["when"].where(DATES.index != ROWS - 3))


@pytest.mark.parametrize("fn", [month, month_plus, day_as_float])
@pytest.mark.parametrize("batch", [DATES, WITH_NAT], ids=["dates", "nat-in-second-block"])
def test_datetime_column_in_the_second_block_of_rows(fn, batch, monkeypatch) -> None:
    """A batch of 2,048 rows or more runs on one block of rows per thread, each kernel
    input shifted to its block's first row; a datetime column's ticks were not shifted
    (their row stride was 0), so every block read the first block's dates: months of the
    second half were January's, and a NaT there was not seen (int32 where pandas gives
    float64). Now the ticks are shifted as any column's values are."""
    monkeypatch.setenv("WILLUMP_MLIR_THREADS", "2")
    compiled = quiet_compile(fn, DATES.iloc[:100])
    _same(_outcome(fn, batch), _outcome(compiled, batch))


# endregion
