"""Defects found by an eleventh differential hunt (dates, string, category and bool columns,
joins and lookups with tables passed as arguments, return shapes, batches unlike the
example): the compiled pipeline against the original function."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import check_notebook, quiet_compile, same_on_batches, same_outcome
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm

# region A: a constant date minus a datetime column (an age)

BORN = pd.DataFrame({
    "born": ["1950-03-01", "1969-12-31", "2001-02-28", "1970-01-01", "1899-07-14",
             "2019-12-31"] * 4,
    "when": pd.to_datetime(["2013-01-05 10:00", "1969-03-04 00:00", "1960-12-31 23:59",
                            "2262-04-11 00:00", "1677-09-22 00:00", "2000-02-29 12:30"] * 4),
    "x": np.arange(24, dtype=float),
})  # fmt: skip


def age_years(df: pd.DataFrame) -> pd.Series:
    return (pd.Timestamp("2020-01-01") - pd.to_datetime(df["born"])).dt.days // 365


def age_frame(df: pd.DataFrame) -> pd.DataFrame:
    X = df[["x"]].copy()
    X["until"] = (pd.Timestamp("2030-06-15 12:00") - df["when"]).dt.days
    X["seconds"] = (pd.Timestamp("2030-06-15 12:00") - df["when"]).dt.seconds
    return X


@pytest.mark.parametrize("fn", [age_years, age_frame])
def test_constant_date_minus_datetime(fn: Any) -> None:
    """``pd.Timestamp(...) - dates`` (the usual age) ran in Python ("an operand is neither
    a batch of numbers nor a number"), and with it ``.dt`` and ``.dt.days``: only ``dates -
    constant`` was native. Now either side may be the constant date."""
    compiled = check_notebook(fn, BORN, example=12)
    assert not compiled.traced.python_fallbacks, compiled.explain()
    missing = BORN.copy()
    missing.loc[[1, 4], "born"] = None
    missing.loc[[0, 2], "when"] = pd.NaT
    same_on_batches(fn, compiled, [missing, BORN.iloc[:0], BORN.iloc[[5]]])


def test_constant_date_minus_datetime_overflow() -> None:
    """A difference beyond datetime64[ns] raises in pandas: so does the compiled call."""

    def gap(df: pd.DataFrame) -> pd.Series:
        return (pd.Timestamp("2262-04-11") - df["when"]).dt.days

    compiled = quiet_compile(gap, BORN.iloc[:3])
    far = pd.DataFrame({"when": pd.to_datetime(["1677-09-22", "2000-01-01"]), "x": [1.0, 2.0]})
    same_outcome(compiled, gap, far, argument="df")


# endregion
def after_2000(df: pd.DataFrame) -> pd.DataFrame:
    X = df[["x"]].copy()
    X["after"] = (pd.to_datetime(df["born"]) > pd.Timestamp("1999-12-31")).astype(int)
    X["before"] = pd.Timestamp("1970-01-01") > df["when"]
    X["until"] = (df["when"] <= "2000-02-29 12:30").astype(float)
    return X


def ordered(df: pd.DataFrame) -> np.ndarray:
    later = df["when"] + pd.Timedelta(days=3000)
    return np.where((df["when"] != pd.to_datetime(df["born"])) & (df["when"] < later), 1.0, 0.0)


@pytest.mark.parametrize("fn", [after_2000, ordered])
def test_datetime_comparisons(fn: Any) -> None:
    """``dates > pd.Timestamp(...)``, ``> "1999-12-31"`` and of two datetime columns ran
    in Python. Now their ticks are compared natively, NaT unequal to everything (every
    comparison with it False, ``!=`` True, as pandas)."""
    compiled = check_notebook(fn, BORN, example=12, native=fn is after_2000)
    missing = BORN.copy()
    missing.loc[[1, 4], "born"] = None
    missing.loc[[0, 1, 2], "when"] = pd.NaT
    same_on_batches(fn, compiled, [missing, BORN.iloc[:0], BORN.iloc[[5]],
                                   BORN.astype({"when": "M8[s]"})])  # fmt: skip


# region B: a merged frame's columns beside the left frame's own

ROWS = pd.DataFrame({
    "uid": [3, 1, 11, 4, 1, 0, 9, 2, 7, 5, 8, 6] * 3,
    "code": ["a", "b", "c", "d", "a", "b"] * 6,
    "x": np.linspace(-2.0, 3.5, 36),
})  # fmt: skip
USERS = pd.DataFrame({"uid": np.arange(10), "u": np.linspace(-1.0, 1.0, 10)})
CODE_WEIGHTS = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}


def merged_times_left(df: pd.DataFrame, users: pd.DataFrame) -> np.ndarray:
    x = df.merge(users, on="uid", how="left")
    return (x["u"] * df["x"]).fillna(0).to_numpy()


def left_column_into_merged(df: pd.DataFrame, users: pd.DataFrame) -> np.ndarray:
    x = df.merge(users, on="uid", how="left")
    x["w"] = df["code"].map(CODE_WEIGHTS)
    return x[["x", "u", "w"]].fillna(0).to_numpy() * 2


def merged_where_left(df: pd.DataFrame, users: pd.DataFrame) -> np.ndarray:
    x = df.merge(users, on="uid", how="left")
    return x["u"].where(df["x"] > 0, 0.0).to_numpy()


def frame_of_both(df: pd.DataFrame, users: pd.DataFrame) -> np.ndarray:
    x = df.merge(users, on="uid", how="left")
    return pd.DataFrame({"a": x["u"], "b": df["x"]}).fillna(0).to_numpy()


@pytest.mark.parametrize("fn", [merged_times_left, left_column_into_merged, merged_where_left,
                                frame_of_both])  # fmt: skip
def test_merged_frame_beside_left_frame(fn: Any) -> None:
    """pandas gives a merge a fresh RangeIndex and aligns it by label with the left frame's
    own columns: on a batch whose index is not the default one the rows differ (or pandas
    raises, for duplicate labels). The compiled code paired them by position: wrong values
    and shapes. A merge now counts as an object of its own when operands are aligned."""
    compiled = quiet_compile(fn, ROWS, USERS)
    batches = [ROWS.set_axis(np.arange(36)[::-1] * 10), ROWS.set_axis([f"r{i}" for i in range(36)]),
               ROWS.set_axis([0] * 36), ROWS.set_axis(np.arange(36) + 5), ROWS.iloc[[4]],
               ROWS.iloc[10:]]  # fmt: skip
    for batch in batches:
        same_on_batches(lambda b: fn(b, USERS), lambda b: compiled(b, USERS), [batch])


# endregion
# region C: pure pandas methods of a bound table, folded at compile time

STATS = pd.DataFrame({"uid": np.arange(10), "u": np.linspace(-1.0, 1.0, 10),
                      "n": np.arange(10) * 3})  # fmt: skip


def mapped_by_index(df: pd.DataFrame, users: pd.DataFrame) -> pd.Series:
    return df["uid"].map(users.set_index("uid")["u"]).fillna(0) + df["x"]


def mapped_by_group(df: pd.DataFrame) -> np.ndarray:
    means = STATS.assign(g=STATS["uid"] % 3).groupby("g")["u"].mean()
    return (df["uid"] % 3).map(means).to_numpy() * 2


def test_methods_of_a_bound_table_are_folded() -> None:
    """``df["uid"].map(users.set_index("uid")["u"])`` ran ``users.set_index`` as a Python
    step whose result (the table's 10 rows) failed the row check against the batch: the
    whole function ran in Python. Pure methods of a bound DataFrame, Series or groupby
    (without ``inplace=``) are now folded, and the lookup is native; changing the table in
    place is refused as for any bound table."""
    compiled = quiet_compile(mapped_by_index, ROWS, STATS)
    assert not compiled.traced.python_fallbacks and compiled.original_reason is None
    batches = [ROWS.iloc[10:], ROWS.iloc[[2]], ROWS.set_axis([f"r{i}" for i in range(36)])]
    same_on_batches(lambda b: mapped_by_index(b, STATS), lambda b: compiled(b, STATS), batches)
    changed = STATS.copy()
    compiled = quiet_compile(mapped_by_index, ROWS, changed)
    changed.loc[0, "u"] = 5.0
    with pytest.raises(wm.InputError, match="changed in place"):
        compiled(ROWS, changed)
    grouped = quiet_compile(mapped_by_group, ROWS)
    assert not grouped.traced.python_fallbacks, grouped.explain()
    same_on_batches(mapped_by_group, grouped, batches)


# endregion
# region D: rows handed back to Python that raise alone

CLASSES = pd.DataFrame({"c": ["1st", "2nd", "3rd"] * 10, "x": np.arange(30.0)})


def class_number(df: pd.DataFrame) -> pd.Series:
    return df["c"].str[0].astype(int) * 2


@pytest.mark.parametrize("missing", [[None, np.nan, ""], [None, ""], ["", None], [np.nan]])
def test_handed_back_rows_that_raise_run_the_batch(missing: list) -> None:
    """``.str[0].astype(int)`` hands a missing value's row back to Python, where the original
    ran on those rows alone. pandas infers dtypes from the rows it has (``.str[0]`` of only
    missing values is float64), so the rows alone raised IntCastingNaNError where the batch
    raises TypeError (``int(None)``). A handed-back subset that raises now runs the batch."""
    compiled = quiet_compile(class_number, CLASSES)
    batch = CLASSES.astype({"c": object})
    batch.iloc[: len(missing), 0] = missing
    same_on_batches(class_number, compiled, [batch, batch.iloc[::-1]])


# endregion
# region E: a row's largest or smallest value of an array

IRIS = load_iris(as_frame=True).frame
IRIS_COLUMNS = list(IRIS.columns[:4])
IRIS_MODEL = LogisticRegression(max_iter=500).fit(IRIS[IRIS_COLUMNS], IRIS.target)


def confidence(df: pd.DataFrame) -> np.ndarray:
    return IRIS_MODEL.predict_proba(df[IRIS_COLUMNS]).max(axis=1)


def spread(df: pd.DataFrame) -> np.ndarray:
    X = df[IRIS_COLUMNS].to_numpy(dtype=float)
    return np.max(X, axis=1) - np.amin(X, 1) + X.min(1)


@pytest.mark.parametrize("fn", [confidence, spread])
def test_row_extremes_of_arrays(fn: Any) -> None:
    """``proba.max(axis=1)`` (a confidence) and ``np.max(X, axis=1)`` ran in Python ("not a
    recognised function"). Now the columns are folded with fmax/fmin (a row with 0.0 and
    -0.0 runs the original), NaN where a row has one, as numpy."""
    compiled = quiet_compile(fn, IRIS.iloc[::3])
    assert not compiled.traced.python_fallbacks, compiled.explain()
    odd = IRIS.copy()
    odd.iloc[:6, 1] = [np.nan, np.inf, -np.inf, -0.0, 0.0, np.nan]
    odd.iloc[3:5, 0] = [0.0, -0.0]
    odd.iloc[3:5, 2:4] = -1.0
    batches = [IRIS, IRIS.iloc[[7]], IRIS.iloc[:0]] + ([odd] if fn is spread else [])
    same_on_batches(fn, compiled, batches)


# endregion
# region F: a frame of date parts with constant parts

PARTS = pd.DataFrame({"y": [2000, 1969, 2013, 1900, 2024, 1970] * 4,
                      "m": [2, 12, 1, 3, 2, 1] * 4, "d": [29, 30, 1, 1, 28, 1] * 4,
                      "x": np.arange(24.0)})  # fmt: skip


def first_of_month(df: pd.DataFrame) -> pd.Series:
    when = pd.to_datetime(pd.DataFrame({"year": df["y"], "month": df["m"], "day": 1}))
    return when.dt.dayofweek


def days_since(df: pd.DataFrame) -> pd.Series:
    when = pd.to_datetime(pd.DataFrame({"year": df["y"], "month": 6, "day": df["d"], "hour": 5}))
    return (when - pd.Timestamp("1990-01-01")).dt.days


@pytest.mark.parametrize("fn", [first_of_month, days_since])
def test_date_parts_with_constants(fn: Any) -> None:
    """``pd.DataFrame({"year": y, "month": m, "day": 1})`` ran in Python ("a column of the
    frame is not a column of numbers or text"), and so did ``pd.to_datetime`` of it (only
    a frame argument's columns were assembled natively). Now a number beside columns is a
    constant column, and an assembled frame's parts are stacked for the date."""
    compiled = check_notebook(fn, PARTS, example=12)
    bad = PARTS.astype({"y": float, "m": float})
    bad.loc[0, "y"], bad.loc[1, "m"], bad.loc[2, "d"] = np.nan, 13.0, 31
    same_on_batches(fn, compiled, [bad, PARTS.iloc[:0], PARTS.iloc[[4]]])


# endregion
