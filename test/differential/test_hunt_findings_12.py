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


def where_and_where(df: pd.DataFrame) -> pd.Series:
    island, sex = df["island"].fillna("?"), df["sex"].fillna("?")
    return island.where(df["year"] > 2007, "old") + sex.where(df["year"] < 2009, "new")


def where_and_lower(df: pd.DataFrame) -> pd.Series:
    return df["island"].fillna("?").where(df["year"] > 2007, "old") + "_" + df["sex"].str.lower()


def island_and_year(df: pd.DataFrame) -> pd.Series:
    return df["island"].fillna("") + df["year"].astype(str)


def _with_dtypes(frame: pd.DataFrame, island: str, sex: str) -> pd.DataFrame:
    return frame.astype({"island": island, "sex": sex})


@pytest.mark.parametrize("fn", [upper_and_sex, sex_and_prefix, frame_of_keys, where_and_where,
                                where_and_lower, island_and_year])  # fmt: skip
@pytest.mark.parametrize("example", ["object", "str"])
def test_concatenation_takes_the_dtype_of_any_str_operand(fn: Any, example: str) -> None:
    """pandas gives ``a + b`` of str columns its ``str`` dtype if either is (object + str is
    str). Native code gave the dtype of the column the first operand was made of: an object
    column for ``df["island"].str.upper() + df["sex"]`` compiled on str columns and given an
    object ``island`` (the operands' dtypes were held to the example's only where they were
    argument columns themselves), for ``a.where(...) + b.where(...)`` (Python steps, whose
    dtype is the batch's) and, failing the self-check on the example, ``df["island"] +
    df["year"].astype(str)`` ran in Python. The runtime now takes the first ``str`` dtype
    of the columns a concatenation is made of, object if there is none."""
    frame = _with_dtypes(PENGUINS, example, example)
    rows = [_with_dtypes(PENGUINS, island, sex)
            for island in ("object", "str") for sex in ("object", "str")]  # fmt: skip
    rows += [frame.iloc[[2]], frame.set_axis(PENGUINS.index * 3 + 7)]
    compiled = check_notebook(fn, frame, example=16, rows=rows, native=False)
    assert len(compiled.traced.python_fallbacks) <= 2, compiled.explain()  # the where()s


# endregion
