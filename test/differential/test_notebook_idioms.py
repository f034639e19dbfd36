"""Differential tests: notebook idioms of selecting and changing columns, natively.

``X.loc[:, names]``, ``X.iloc[:, a:b]`` / ``X.iloc[:, [i, j]]`` / ``X.iloc[:, i]`` (all
rows of some columns); ``X.loc[mask, "c"] = number or column`` (pandas 3 keeps an int64
column int64 for an integral number and raises for another; a new column is float64, NaN
where the mask is False); ``replace`` of numeric columns and frames (all at once) and
``map`` of str columns; ``fillna`` with a constant Series of train means (aligned by column
name); ``clip`` by columns (NaN bounds unclipped, bounds not swapped); ``np.hypot``;
``reset_index(drop=True)`` read by a model. Each function is compiled on the first rows of
an adversarial frame (NaN, ±inf, -0.0, int64 extremes, None/NaN/empty/Unicode strings) and
compared with the original (``selfcheck.difference``: dtype, index, values) on the other
rows, one row, no rows, a shifted index, reordered columns, and batches whose dtypes differ
from the example's (a float ``k``, a nullable ``Int64`` ``k``, a float32 ``x``, an object
``flag``): the compiled code equals the original or runs it, never differs.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import check_notebook, same_on_batches
from sklearn.linear_model import LinearRegression

import willump_mlir as wm
from willump_mlir.frontend.spec import FrontendError

_N = 48
FRAME = pd.DataFrame({
    "x": np.tile([0.5, np.nan, -0.0, np.inf, -np.inf, 3.0, -2.5, 1e300], _N // 8),
    "k": np.tile([1, -1, 0, 2**62, -(2**63), 7, 3, 2**63 - 1], _N // 8),
    "flag": np.tile(["yes", "no", None, "", "Ünïcode", np.nan, "no", "yes"], _N // 8),
    "y": np.linspace(-3.0, 3.0, _N),
})  # fmt: skip
MODEL = LinearRegression().fit(FRAME[["y", "k"]].astype(float), np.arange(_N) % 3)


def _batches() -> list[pd.DataFrame]:
    shifted = FRAME.set_index(FRAME.index * 3 + 7)
    reordered = FRAME[["y", "flag", "k", "x"]]
    float_k = FRAME.assign(k=FRAME["k"].astype(float).where(FRAME.index % 5 != 0))
    nullable_k = FRAME.assign(k=pd.array(FRAME["k"], dtype="Int64"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1e300 overflows float32
        float32_x = FRAME.assign(x=FRAME["x"].astype(np.float32))
    object_flag = FRAME.assign(flag=FRAME["flag"].astype(object))
    return [FRAME.iloc[24:], FRAME.iloc[[3]], FRAME.iloc[[1]], FRAME.iloc[:0], shifted,
            reordered, float_k, nullable_k, float32_x, object_flag]  # fmt: skip


def check(fn: Any, native: bool = True) -> wm.CompiledPipeline:
    """``fn`` compiled on the first 24 rows (``native``: nothing in Python); the same results
    (or the same class of error) as the original on every batch of ``_batches``."""
    compiled = check_notebook(fn, FRAME, example=24, native=native, rows=[FRAME.iloc[24:]])
    same_on_batches(fn, compiled, _batches())
    return compiled


# region column selections


def loc_names(df):
    return df.loc[:, ["k", "x"]] * 2


def loc_one_name(df):
    return df.loc[:, "x"] + df.loc[:, "y"]


def iloc_slice(df):
    return df.iloc[:, 0:2].fillna(0) + 1


def iloc_list(df):
    return df.iloc[:, [3, 0]].abs()


def iloc_position(df):
    return df.iloc[:, -1] * df.iloc[:, 1]


def iloc_to_a_model(df):
    return MODEL.predict(df.iloc[:, [3, 1]].to_numpy(dtype=float))


def loc_of_an_assembled_frame(df):
    X = df.copy()
    X["z"] = X["x"].fillna(0) * 2
    Y = X.loc[:, ["z", "k"]]
    return Y["z"] - Y["k"]


@pytest.mark.parametrize("fn", [loc_names, loc_one_name, iloc_slice, iloc_list, iloc_position,
                                iloc_to_a_model, loc_of_an_assembled_frame],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_column_selections_by_loc_and_iloc(fn: Any) -> None:
    check(fn)


def test_positional_selections_of_reordered_columns_run_the_original() -> None:
    """``iloc`` picks by position: the compiled code reads by name, so a batch with its
    columns in another order runs the original (the frame argument is marked ordered)."""
    compiled = check(iloc_slice)
    assert compiled.traced.arguments[0].ordered
    assert not check(loc_names).traced.arguments[0].ordered


def test_row_selections_by_loc_run_in_python() -> None:
    def rows(df):
        return df.loc[df["x"] > 0, ["x", "y"]].sum(axis=1)

    compiled = check_notebook(rows, FRAME, example=24, native=False, rows=_batches()[:5])
    in_python = compiled.explain().split("Runs in Python:")[1].split("Around the native")[0]
    assert "df.loc[df['x'] > 0, ['x', 'y']]" in in_python


# endregion
# region masked assignment


def float_column_set(df):
    df = df.copy()
    df.loc[df["y"] > 1, "x"] = 1
    df.loc[df["x"].isna(), "x"] = -0.0
    return df["x"] * 3


def int_column_set(df):
    df = df.copy()
    df.loc[df["y"] < 0, "k"] = 7
    df.loc[df["flag"] == "yes", "k"] = 2.0  # integral: the column stays int64
    return df["k"] + 1


def new_column_set(df):
    X = df.copy()
    X.loc[X["flag"] == "no", "is_no"] = 1
    X.loc[(X["y"] > 2).to_numpy(), "far"] = np.nan
    return X[["is_no", "far", "y"]].fillna(-1)


def columns_set_on_masked_rows(df):
    X = df.copy()
    X.loc[X["x"].isna(), "x"] = X["y"]
    X.loc[X["y"] > 0, "x"] = X["k"]  # int64 values in a float column
    X.loc[X["y"] < -1, "k"] = X["k"] // 3
    X.loc[X["flag"] == "no", "copy"] = X["y"] * 2  # a new column: NaN elsewhere
    X.loc[X["y"] > -10, "all"] = X["y"]  # float64 though the mask is True everywhere
    return X[["x", "k", "copy", "all"]]


def set_then_read_by_a_model(df):
    X = df[["y", "k"]].copy()
    X.loc[X["y"] > 0.5, "y"] = 0.5
    return MODEL.predict(X.astype(float).to_numpy())


@pytest.mark.parametrize("fn", [float_column_set, int_column_set, new_column_set,
                                columns_set_on_masked_rows, set_then_read_by_a_model],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_masked_assignment(fn: Any) -> None:
    check(fn)


def test_a_fractional_number_in_an_int_column_raises_as_pandas_does() -> None:
    def fractional(df):
        df = df.copy()
        df.loc[df["y"] > 0, "k"] = 0.5
        return df["k"]

    with pytest.raises(FrontendError, match="Invalid value '0.5' for dtype 'int64'"):
        wm.compile(fractional, example=(FRAME,))


def test_a_str_assigned_to_masked_rows_runs_in_python() -> None:
    def labelled(df):
        df = df.copy()
        df.loc[df["y"] > 0, "flag"] = "positive"
        return df["flag"] == "positive"

    compiled = check_notebook(labelled, FRAME, example=24, native=False, rows=_batches()[:5])
    assert "compiled for a number" in compiled.explain()


# endregion
# region replace and map


def float_replaced(df):
    return df["x"].replace({0.5: 5, np.nan: -1.0, np.inf: 1e9, 0: 7.5})


def int_replaced(df):
    return df["k"].replace({1: 2, 2: 1, -(2**63): 0, 7: 2.0})  # all at once: 1 and 2 swap


def replaced_by_lists(df):
    return df["x"].replace([3.0, -2.5], [np.nan, -0.0]) + df["x"].replace(0.0, np.nan) \
        + df["k"].replace([0, 3], 9)  # fmt: skip


def frame_replaced(df):
    return df.replace({0: -1, 3: 30})  # the str column holds no number: it stays


def frame_replaced_by_column(df):
    return df[["x", "k"]].replace({"x": {np.nan: 0.0}, "k": {0: 1}}) * 2


def replaced_for_a_model(df):
    X = df[["y", "k"]].copy()
    X["k"] = X["k"].replace({7: 1, 3: 1})
    return MODEL.predict(X.to_numpy(dtype=float))


def str_mapped(df):
    return df["flag"].map({"yes": 1, "no": 0}) * df["y"]  # NaN where unmapped


@pytest.mark.parametrize("fn", [float_replaced, int_replaced, replaced_by_lists, frame_replaced,
                                frame_replaced_by_column, replaced_for_a_model, str_mapped],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_replace_and_map(fn: Any) -> None:
    check(fn)


@pytest.mark.parametrize(("mapping", "why"), [({1: 0.5}, "is not compiled"),
                                              ({True: 5}, "never matches a bool"),
                                              ({1.0: 5}, "is not compiled")])  # fmt: skip
def test_replace_whose_dtype_depends_on_the_batch_runs_in_python(mapping: dict,
                                                                 why: str) -> None:  # fmt: skip
    """An int64 column with a fractional value is float64 only where a value matches; a
    float key's or a bool's match is pandas' own: these run in Python."""

    def replaced(df):
        return df["k"].replace(mapping)

    assert why in check(replaced, native=False).explain()


# endregion
# region fillna with a constant Series

TRAIN_MEANS = pd.Series({"y": 0.25, "x": -0.0, "k": 3.5, "absent": 1.0})  # aligned by name
TRAIN_FILLS = pd.Series({"x": 2.5, "flag": "missing"})  # object: a number and a str


def filled_by_train_means(df):
    return df[["x", "k", "y"]].fillna(TRAIN_MEANS) * 2


def filled_by_train_fills(df):
    X = df.fillna(TRAIN_FILLS)
    return X["x"] + (X["flag"] == "missing")


@pytest.mark.parametrize("fn", [filled_by_train_means, filled_by_train_fills],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_fillna_with_a_series_of_the_columns(fn: Any) -> None:
    check(fn)


# endregion
# region clip by columns and hypot


def clipped_by_columns(df):
    low, high = df["y"] - 1, df["y"].where(df["y"] < 2.5) * 2  # NaN bounds: no clipping
    return df["x"].clip(low, high) + df["x"].clip(lower=df["y"]) + df["x"].clip(upper=high)


def int_clipped_by_int_columns(df):
    return df["k"].clip(df["k"] // 2, 5) + df["k"].clip(upper=df["k"] * 0 + 3)


def clipped_by_a_number_and_a_column(df):
    return df["x"].clip(0.5, df["y"].to_numpy())  # bounds crossed where y < 0.5: kept apart


def hypotenuse(df):
    return np.hypot(df["x"], df["y"]) + np.hypot(df["k"], 3)


@pytest.mark.parametrize("fn", [clipped_by_columns, int_clipped_by_int_columns,
                                clipped_by_a_number_and_a_column, hypotenuse],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_clip_by_columns_and_hypot(fn: Any) -> None:
    check(fn)


def test_an_int_column_clipped_by_floats_runs_in_python() -> None:
    def clipped(df):
        return df["k"].clip(df["y"])  # float64 only where a value is clipped

    assert "int64 column clipped by floats" in check(clipped, native=False).explain()


# endregion
# region reset_index


def reset_for_a_model(df):
    X = df[["y", "k"]].astype(float).reset_index(drop=True)
    return MODEL.predict(X)


def reset_then_returned(df):
    X = df[["x", "y"]].reset_index(drop=True)
    return X["x"] + X["y"]  # on the new index 0, 1, ...


def test_reset_index_read_by_a_model_is_native() -> None:
    """A model's array has no index: it reads the frame before ``reset_index``."""
    check(reset_for_a_model)


def test_reset_index_read_otherwise_is_pandas_own() -> None:
    """A Series of the reset frame carries the new index: pandas makes the frame, and
    explain says so (the batches include a shifted index)."""
    explained = check(reset_then_returned, native=False).explain()
    assert "reset_index(drop=True) gives the frame an index native code does not carry" \
        in explained  # fmt: skip


# endregion
# region missing values set through loc


def missing_set_by_loc(df):
    X = df.copy()
    X.loc[X["flag"].isna(), "flag"] = "unknown"  # X["flag"].fillna("unknown")
    X.loc[X.x.isnull(), "x"] = 0
    X.loc[X["k"].isna(), "k"] = 5  # an int column has none
    return (X["flag"] == "unknown") + X["x"] + X["k"]


def test_missing_values_set_through_loc_are_fillna() -> None:
    check(missing_set_by_loc)


def test_a_str_set_on_other_rows_runs_in_python() -> None:
    def other_rows(df):
        X = df.copy()
        X.loc[X["x"].isna(), "flag"] = "no x"  # another column's missing values
        return X["flag"] == "no x"

    assert "compiled for a number" in check(other_rows, native=False).explain()


# endregion
