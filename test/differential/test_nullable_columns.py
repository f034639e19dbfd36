"""pandas' nullable columns (``Int64``, ``Int32``, ``Float64``, ``boolean``: a masked array
of values and pd.NA flags) in frame arguments, checked against the original function on the
same batches (its result, dtype included, or the class of its error)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import same_on_batches
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression

import willump_mlir as wm


def _frame(rows: int, missing: bool = True, nan: bool = False) -> pd.DataFrame:
    """Int64, Int32, Float64, boolean and Float32 columns with pd.NA every third row (Int32:
    every fourth; none without ``missing``), a Float64 NaN that is not NA every fifth row (with
    ``nan``), and a float64 column."""
    index = np.arange(rows)
    na = index % 3 == 1 if missing else np.zeros(rows, dtype=bool)
    values = np.where((index % 5 == 4) & nan, np.nan, index * 0.5 - 3)
    return pd.DataFrame({
        "i": pd.arrays.IntegerArray(index.astype(np.int64) - 7, na.copy()),
        "j": pd.arrays.IntegerArray((index * 3).astype(np.int32), (index % 4 == 2) & missing),
        "f": pd.arrays.FloatingArray(values, na.copy()),
        "b": pd.arrays.BooleanArray(index % 2 == 0, na.copy()),
        "g": pd.arrays.FloatingArray((index / 7).astype(np.float32), na[::-1].copy()),
        "x": index * 1.5,
    })  # fmt: skip


def _all_missing(rows: int) -> pd.DataFrame:
    frame = _frame(rows)
    for column in ("i", "j", "f", "b", "g"):
        frame[column] = pd.Series([pd.NA] * rows, dtype=frame[column].dtype)
    return frame


def _batches() -> list[pd.DataFrame]:
    big = _frame(3000)
    return [big, big.iloc[:0], big.iloc[[1]], big.iloc[[0]], big.iloc[::-1], _all_missing(5),
            _all_missing(1), _frame(50, missing=False), _frame(40, nan=True),
            _frame(40).astype({"f": "float64"}), _frame(40).astype({"i": "Int32"})]  # fmt: skip


_X = np.c_[np.arange(12.0), np.arange(12) * 0.5, np.arange(12) % 2, np.arange(12) % 3]
HGB = HistGradientBoostingRegressor(max_iter=5, min_samples_leaf=1).fit(
    np.where(_X > 8, np.nan, _X), np.arange(12.0)
)
LINEAR = LinearRegression().fit(_X, np.arange(12.0))


def _compiled(fn: Any) -> wm.CompiledPipeline:
    """``fn`` compiled on 40 rows with pd.NA (without, where it raises on pd.NA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wm.compile(fn, example=(_frame(40, missing=fn not in RAISE_ON_NA),))


def model_on_frame(df):
    return HGB.predict(df[["i", "j", "f", "b"]])


def model_on_numpy(df):
    return HGB.predict(df[["i", "j", "f", "b"]].to_numpy(dtype=float, na_value=np.nan))


def linear_on_frame(df):
    return LINEAR.predict(df[["i", "j", "f", "b"]])  # raises on NaN (pd.NA)


def as_floats(df):
    return df["i"].astype(float) * 2 + df["f"].astype("float64") - df["j"].astype(np.float64)


def as_numpy(df):
    return df["b"].to_numpy(dtype=float, na_value=np.nan) + df["i"].to_numpy(dtype="float64") \
        * df["g"].to_numpy(dtype=float)


def missing(df):
    return df["i"].isna() | df["f"].notna() & df["b"].isnull()


def missing_into_model(df):
    flags = np.column_stack([df["i"].isna(), df["f"].notna(), df["b"].isna(), df["x"]])
    return LINEAR.predict(flags)


def filled_into_model(df):
    return LINEAR.predict(df[["i", "j", "f", "x"]].fillna(0))


def filled_dict_into_model(df):
    X = df[["i", "f", "b", "x"]].copy()
    X = X.fillna({"i": -1, "f": 0.25, "b": False})
    return LINEAR.predict(X.to_numpy(dtype=float, na_value=np.nan))


def filled_column_as_floats(df):
    return df["i"].fillna(3).astype(float) + df["b"].fillna(True).to_numpy(dtype=float) \
        - df["g"].fillna(0.1).astype(float)


MEDIANS = _frame(100).median()  # fitted on training rows: constants (np.float64)


def fitted_fill_into_model(df):
    X = df[["i", "f", "b", "x"]].fillna({"i": MEDIANS["i"], "f": MEDIANS["f"]})
    return HGB.predict(X)


def assigned_fill_into_model(df):
    X = df[["i", "j", "f", "x"]].copy()
    X["i"] = X["i"].fillna(-2)
    X["j"] = X["j"].fillna(0)
    X["f"] = X["f"].fillna(1.5)
    return HGB.predict(X)


def float_arithmetic(df):
    return df["i"] * 1.5 + df["x"]


def comparison(df):
    return df["f"] > 0.0


def filled(df):
    return df["i"].fillna(0) * 2


def filled_float(df):
    return df["f"].fillna(df["f"].median())


def batch_median_into_model(df):
    df["f"] = df["f"].fillna(df["f"].median())
    return HGB.predict(df[["i", "j", "f", "x"]])


def kleene(df):
    return (df["b"] | (df["i"] > 0)).fillna(False).astype(bool)


def float64_spellings(df):
    """Other spellings of float64, nullable columns and a float64 one (``x``) alike."""
    return df["x"].to_numpy(dtype="f8") + df["i"].to_numpy(dtype="double", na_value=np.nan) \
        * df["f"].astype(np.dtype("float64")) - df["b"].astype("double") \
        + df["j"].astype("f8") / df["x"].astype(np.dtype("d")).to_numpy(dtype=np.dtype("<f8"))


def frame_float64_spellings(df):
    return HGB.predict(df[["i", "j", "f", "b"]].to_numpy(dtype="f8", na_value=np.nan)) \
        + df[["x", "g"]].to_numpy(dtype=np.dtype("float64"), na_value=np.nan)[:, 1]


RAISE_ON_NA = {linear_on_frame}
NATIVE = [model_on_frame, model_on_numpy, linear_on_frame, as_floats, as_numpy, missing,
          missing_into_model, filled_into_model, filled_dict_into_model,
          filled_column_as_floats, assigned_fill_into_model, fitted_fill_into_model,
          float_arithmetic, comparison, filled, filled_float, batch_median_into_model,
          kleene, float64_spellings, frame_float64_spellings]  # fmt: skip


@pytest.mark.parametrize("fn", NATIVE, ids=lambda f: f.__name__)
def test_conversions_of_nullable_columns_are_native_and_exact(fn: Any) -> None:
    """A model reading a frame of nullable columns (scikit-learn converts pd.NA to NaN:
    HistGradientBoosting takes it as missing, LinearRegression raises), ``astype(float)``,
    ``to_numpy(dtype=float, na_value=np.nan)`` (or any spelling of float64: ``"f8"``,
    ``"double"``, ``np.dtype("float64")``), ``isna``/``notna``, and those of
    ``fillna(number)`` of columns and frames (a dict of fills, assigned columns), and
    arithmetic and comparisons on them (``test_nullable_arithmetic``): native (nothing in
    Python but a nullable result's wrapping), and the original's result or error class on
    every batch: pd.NA in various rows, all NA, no NA, an empty batch, one row, reversed
    rows, a Float64 NaN that is not NA (the original runs), a numpy column where the
    example's was nullable, Int32 where it was Int64 (the original runs)."""
    compiled = _compiled(fn)
    assert not compiled.traced.python_fallbacks, compiled.explain()
    same_on_batches(fn, compiled, _batches())


def test_nullable_columns_are_read_natively_at_run_time() -> None:
    """A batch of the example's dtypes (or numpy float64 for Float64: a model converts them
    alike) runs no original function; a Float64 NaN that is not pd.NA, or a nullable column
    of another dtype than the example's, runs it (counted)."""
    compiled = _compiled(model_on_frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in (_frame(3000), _frame(1), _all_missing(3), _frame(7, missing=False),
                      _frame(40).astype({"f": "float64"})):  # fmt: skip
            compiled(batch)
        assert not compiled.handoffs.calls, compiled.handoffs.calls
        compiled(_frame(40, nan=True))
        compiled(_frame(40).astype({"i": "Int32"}))
    assert sum(compiled.handoffs.calls.values()) == 2, compiled.handoffs.calls


def filled_returned(df):
    X = df[["i", "f"]].fillna(0)
    return X, LINEAR.predict(np.column_stack([X, df["x"], df["x"]]))


def branch(df):
    return df["x"] * 2 if df["b"].iloc[0] else df["x"]  # `if` on pd.NA raises


def as_int(df):
    return df["i"].astype(int)  # raises on pd.NA


RAISE_ON_NA.add(as_int)


def as_nullable_float(df):
    return df["i"].astype("Float64")


def big_endian(df):
    return df["i"].to_numpy(dtype=">f8", na_value=np.nan) + df["x"].to_numpy(dtype=">f8")


@pytest.mark.parametrize(
    ("fn", "why"),
    [(filled_returned, "fillna of a nullable Int64 column is not compiled"),
     (as_int, "astype of a nullable Int64 column is compiled into float64 only"),
     (as_nullable_float, "astype of a nullable Int64 column is compiled into float64 only"),
     (big_endian, "to_numpy of a nullable Int64 column is compiled into float64 only"),
     (branch, "")],
    ids=lambda v: getattr(v, "__name__", ""),
)  # fmt: skip
def test_nullable_arithmetic_stays_in_python(fn: Any, why: str) -> None:
    """``fillna`` of a returned frame, an ``if`` on a value, ``astype(int)`` and big-endian
    ``to_numpy(dtype=">f8")`` of nullable columns run in Python with explain() saying why,
    and give the original's result (Float64 or boolean with pd.NA) or error on every batch."""
    compiled = _compiled(fn)
    assert compiled.traced.python_fallbacks, compiled.explain()
    assert why in compiled.explain(), compiled.explain()
    same_on_batches(fn, compiled, _batches())


def test_the_callers_buffers_are_not_written() -> None:
    """Native code reads a copy with NaN for pd.NA: the values under a column's mask (which
    pandas leaves as they were) are not overwritten."""
    compiled = _compiled(model_on_frame)
    batch = _frame(50)
    before = {c: batch[c].array._data.copy() for c in ("i", "j", "f", "b", "g")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled(batch)
    for column, data in before.items():
        assert np.array_equal(batch[column].array._data, data), column
