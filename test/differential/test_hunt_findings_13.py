"""Defects found by a thirteenth differential hunt (nullable columns beside values whose
dtype depends on the batch, ...): the compiled pipeline against the original function, bit
for bit (values, dtype, index and name)."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import pytest
from notebook_check import quiet_compile, same_on_batches, same_outcome

# region A: nullable arithmetic beside a value whose pandas dtype depends on the batch

DATES = pd.DataFrame({
    "d": pd.to_datetime(["2020-01-01", None, "2020-03-05", "2021-02-28", "2019-12-31"] * 6),
    "b": pd.array([1, 2, None, 4, -7] * 6, dtype="Int64"),
    "x": pd.array([0.5, None, 2.0, -1.25, 3.0] * 6, dtype="Float64"),
    "k": ["a", "b", "zz", "a", "b"] * 6,
})  # fmt: skip


def weekday_plus_int64(df: pd.DataFrame) -> pd.Series:
    return df["d"].dt.dayofweek * 2 + df["b"]


def month_times_int64(df: pd.DataFrame) -> pd.Series:
    return df["b"] * df["d"].dt.month


def lookup_minus_int64(df: pd.DataFrame) -> pd.Series:
    return df["k"].map({"a": 1, "b": 2}) - df["b"]


@pytest.mark.parametrize("fn", [weekday_plus_int64, month_times_int64, lookup_minus_int64])
def test_nullable_arithmetic_beside_a_batch_dependent_dtype(fn: Any) -> None:
    """A ``.dt`` field of dates with NaT on the example is float64 in pandas, int32 on a
    batch without NaT (and ``.map`` of ints with a missing key float64, int64 when every key
    is found): ``Int64`` plus it is ``Float64`` on the example and ``Int64`` on such a
    batch. Native code took the example's ``Float64`` for every batch (the walk that keeps
    such values from the result let arithmetic beside an f64 batch fix the dtype, and an
    ``Int64`` column is read as an f64 batch); the statement now runs in Python."""
    compiled = quiet_compile(fn, DATES)
    full = DATES.dropna(subset=["d"])
    found = full[full["k"] != "zz"]
    same_on_batches(fn, compiled, [DATES, full, found, found.iloc[[1]], DATES.iloc[[1]]],
                    bits=True)  # fmt: skip


# endregion


# region B: an in-place method of a frame's column (chained: pandas 3 changes a copy)

SIGNED = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0] * 5, "h": [0.5, -1.5, 2.5, -0.5] * 5})


def where_in_place(df: pd.DataFrame) -> pd.DataFrame:
    X = df[["a", "h"]].copy()
    X["h"].where(X["h"] > 0, 0, inplace=True)
    return X


def mask_in_place_by_attribute(df: pd.DataFrame) -> pd.DataFrame:
    X = df[["a", "h"]] * 2
    X.h.mask(X.h < 0, 0, inplace=True)
    return X


def clip_in_place_by_loc(df: pd.DataFrame) -> pd.DataFrame:
    X = df[["a", "h"]].copy()
    X.loc[:, "h"].clip(lower=0, inplace=True)
    return X


@pytest.mark.parametrize("fn", [where_in_place, mask_in_place_by_attribute,
                                clip_in_place_by_loc])  # fmt: skip
def test_in_place_method_of_a_column_leaves_the_frame(fn: Any) -> None:
    """``X["h"].where(..., inplace=True)`` changes a copy of the column in pandas 3 (a
    chained assignment: ``X`` keeps its values). Compiled on an example the call does not
    change (no negative ``h``), it ran in Python on the native column ``X`` shares, so
    the returned ``X`` had the negative values replaced (``X.loc[:, "h"]`` was right
    already). A call for its effect on a
    column of a name now runs in Python with that name, as pandas does, and rebinds it."""
    compiled = quiet_compile(fn, SIGNED.assign(h=SIGNED["h"].abs()))
    same_on_batches(fn, compiled, [SIGNED, SIGNED.iloc[[1]], SIGNED.iloc[::-1]])


# endregion


# region C: two frame arguments of different row counts, which pandas aligns by label

LEFT = pd.DataFrame({"a": [1.5, -2.0, 3.25, 0.0, 7.0, -1.0] * 5})
RIGHT = pd.DataFrame({"b": [0.5, 4.0, -3.0, 2.0, 1.0, 9.0] * 5})


def joined(left: pd.DataFrame, right: pd.DataFrame) -> pd.Series:
    return left.join(right)["b"] + left["a"]


def where_other(left: pd.DataFrame, right: pd.DataFrame) -> pd.Series:
    return left["a"].where(left["a"] > 0, right["b"])


def column_of_other(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    X = left.copy()
    X["b"] = right["b"].to_numpy()
    return X


@pytest.mark.parametrize("fn", [joined, where_other, column_of_other])
def test_frame_arguments_of_different_row_counts(fn: Any) -> None:
    """``left.join(right)`` of a shorter ``right`` gives NaN where its labels are missing;
    compiled on frames of equal rows, the call raised ``InputError`` ("argument 'right' has
    10 rows but earlier data arguments have 30") before the original could align them. It
    now runs the original function: its result, or its error naming the argument."""
    compiled = quiet_compile(fn, LEFT, RIGHT)
    for right in (RIGHT.iloc[:10], RIGHT.iloc[[4]], RIGHT.set_axis(RIGHT.index + 3)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            same_outcome(compiled, fn, LEFT, right, argument="right")


# endregion
