"""Defects found by a twelfth differential hunt (nullable columns and Kleene logic, narrow
ints, row reductions, split pieces, pd.cut, dates, lookups by a bound table, row functions,
cascades with frame results, str columns of either dtype): the compiled pipeline against
the original function."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import check_notebook

# region A: a concatenation of a transformed str column, batches of another str dtype

PENGUINS = pd.DataFrame({
    "island": ["Biscoe", "Dream", "Torgersen", "Dream", None, "Biscoe", "Ünïcødé", ""] * 4,
    "sex": ["male", "female", None, "female", "male", "", "male", "female"] * 4,
    "year": np.arange(32) % 3 + 2007,
})  # fmt: skip


def upper_and_sex(df: pd.DataFrame) -> pd.Series:
    return df["island"].str.upper() + df["sex"].fillna("?")


def sex_and_prefix(df: pd.DataFrame) -> pd.Series:
    return df["sex"].fillna("none") + df["island"].str[:3]


def frame_of_keys(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"k": df["sex"].fillna("n") + "/" + df["island"].str.lower(),
                         "y": df["year"]})  # fmt: skip


def _with_dtypes(frame: pd.DataFrame, island: str, sex: str) -> pd.DataFrame:
    return frame.astype({"island": island, "sex": sex})


@pytest.mark.parametrize("fn", [upper_and_sex, sex_and_prefix, frame_of_keys])
@pytest.mark.parametrize("example", ["object", "str"])
def test_concatenation_of_a_transformed_column_keeps_pandas_dtype(fn: Any, example: str) -> None:
    """pandas gives ``a + b`` of str columns its ``str`` dtype if either is (object + str is
    str); native code gives the dtype of the column the first operand is made of. The
    concatenation's operands had their dtypes pinned to the example's only when they were
    argument columns themselves: ``df["island"].str.upper() + df["sex"]`` compiled on str
    columns returned an object column for a batch whose ``island`` was object. Each column
    a concatenation is made of, through str transforms, is now pinned: a batch of another
    dtype runs the original."""
    frame = _with_dtypes(PENGUINS, example, example)
    rows = [_with_dtypes(PENGUINS, island, sex)
            for island in ("object", "str") for sex in ("object", "str")]  # fmt: skip
    rows += [frame.iloc[[2]], frame.set_axis(PENGUINS.index * 3 + 7)]
    compiled = check_notebook(fn, frame, example=16, rows=rows)
    assert compiled.calls_in_python == 3  # the batches with a column of the other dtype


# endregion
