"""Arithmetic, comparisons and Kleene logic on pandas' nullable columns (``Int64``,
``Float64``, ``boolean``), computed natively as float64 with NaN for pd.NA, checked against
the original function bit for bit: values, signs of zeros, pd.NA positions and dtypes."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

import willump_mlir as wm


def _frame(rows: int, missing: bool = True) -> pd.DataFrame:
    """Int64 ``i`` (zero at row 7), Float64 ``f`` (zero at row 6, below -1 before row 4),
    boolean ``b`` with pd.NA every third row (none without ``missing``), float64 ``x`` with
    NaN every fifth row and a second Int64 ``k`` with pd.NA every fourth row."""
    index = np.arange(rows)
    na = index % 3 == 1 if missing else np.zeros(rows, dtype=bool)
    return pd.DataFrame({
        "i": pd.arrays.IntegerArray(index.astype(np.int64) - 7, na.copy()),
        "f": pd.arrays.FloatingArray(index * 0.5 - 3, na.copy()),
        "b": pd.arrays.BooleanArray(index % 2 == 0, na.copy()),
        "x": np.where(index % 5 == 3, np.nan, index * 1.5 - 9),
        "k": pd.arrays.IntegerArray(index.astype(np.int64) % 4 - 1, (index % 4 == 2) & missing),
    })  # fmt: skip


def _all_missing(rows: int) -> pd.DataFrame:
    frame = _frame(rows)
    for column in ("i", "f", "b", "k"):
        frame[column] = pd.Series([pd.NA] * rows, dtype=frame[column].dtype)
    return frame


def _extremes() -> pd.DataFrame:
    """-0.0, infinities and integers near 2^53 (whose sums and products reach it)."""
    frame = _frame(8)
    frame["f"] = pd.array([-0.0, np.inf, -np.inf, 0.0, None, -1.0, 1e308, -0.0], dtype="Float64")
    frame["i"] = pd.array([2**52, -(2**52), 2**53 - 1, 0, None, -1, 3, 2**52 + 1], dtype="Int64")
    frame["x"] = [-0.0, 0.0, np.inf, -np.inf, np.nan, 1.0, -0.0, 2.0]
    return frame


def _negative_zeros() -> pd.DataFrame:
    frame = _frame(6)
    frame["f"] = pd.array([-0.0, 0.0, -0.0, None, np.inf, -np.inf], dtype="Float64")
    frame["x"] = [-0.0, 0.0, np.inf, 1.0, -np.inf, np.nan]
    return frame


def _batches() -> list[pd.DataFrame]:
    big = _frame(3000)
    return [big, big.iloc[:0], big.iloc[[1]], big.iloc[[0]], big.iloc[::-1], _all_missing(5),
            _all_missing(1), _frame(50, missing=False), _negative_zeros(),
            big.set_index(big.index * 3 + 1)]  # fmt: skip


HGB = HistGradientBoostingRegressor(max_iter=5, min_samples_leaf=1).fit(
    np.c_[np.arange(12.0), np.arange(12) % 3, np.arange(12) * 0.5], np.arange(12.0)
)


def float_arithmetic(df):
    return (df["i"] * 2.5 + df["f"]) / df["x"] - df["i"]


def integer_arithmetic(df):
    return df["i"] * 3 + df["k"] - 1


def integer_division(df):
    return df["i"] / df["k"] + df["k"] / 0


def zero_by_zero(df):
    return df["i"] / (df["i"] * 0)  # 0 / 0: pd.NA


def unary(df):
    return -df["i"] + np.floor(df["f"] * 1.5) - abs(df["f"]) + np.sqrt(df["k"])


def transcendental(df):
    return np.log1p(df["f"]) * np.exp(df["i"] / 8)


def negated(df):
    return -(df["i"] * df["k"])  # Int64: -0 is 0


def negated_floats(df):
    return (-df["i"]).astype(float) / df["x"]  # -0 is 0: x / 0 is inf, not -inf


def series_abs(df):
    return df["f"].abs() * df["k"].abs()


def compared(df):
    return df["f"] > 0.0


def compared_columns(df):
    return (df["i"] == df["f"]) | (df["k"] != df["x"])


def kleene(df):
    return (df["b"] | (df["i"] > 0)) & ~(df["f"] <= -1.0) ^ df["b"]


def kleene_with_mask(df):
    return (df["b"] & (df["x"] > 0)) | (df["x"].isna() & df["b"])


def kleene_as_floats(df):
    return ((df["b"] | (df["i"] > 0)) & (df["k"] < 1)).astype(float) + df["x"]


def filled_kleene(df):
    return (df["b"] & (df["i"] > 0)).fillna(True)


def filled(df):
    return df["i"].fillna(0) * 2


def filled_result(df):
    return (df["i"] * 2).fillna(-1) + (df["f"] / df["i"]).fillna(0.5)


def missing_result(df):
    return (df["f"] / df["i"]).isna() | (df["i"] + 1).notna()


def to_numpy(df):
    return (df["f"] - df["i"]).to_numpy(dtype=float, na_value=np.nan) * 2


def into_model(df):
    X = df[["x"]].copy()
    X["ratio"] = df["i"] / df["f"]
    X["big"] = (df["f"] > 0).astype(float)
    return HGB.predict(X)


def assigned_into_model(df):
    X = df[["i", "k"]].copy()
    X["i"] = X["i"] * 2 - X["k"]
    X["r"] = (X["k"] + 0.5).fillna(0)
    return HGB.predict(X)


def frame_fill_into_model(df):
    X = pd.DataFrame({"s": df["i"] + df["k"], "p": df["f"] * 2, "x": df["x"]})
    return HGB.predict(X.fillna({"s": 0, "p": -1.5}).fillna(0))


def returned_frame(df):
    X = df[["x"]].copy()
    X["s"] = df["i"] - df["k"]
    X["c"] = df["f"] < df["x"]
    return X


def where_filled(df):
    return np.where((df["b"] | (df["f"] > 1)).fillna(False), 1.0, df["x"])


def filled_as_bools(df):
    return (df["b"] & (df["x"] > 0)).fillna(True).astype(bool)


def true_count(df):
    return (df["f"] > 0).sum()


def true_share(df):
    return (df["b"] & (df["f"] > 0)).mean()  # pd.NA for no value


def median_fill(df):
    return df["f"].fillna(df["f"].median())


def integer_median_fill(df):
    return df["k"].fillna(df["k"].median()) * 2  # a fraction raises where k has pd.NA


def median_centred(df):
    return (df["x"] - df["i"].median()) * df["f"].median()


def mean_centred(df):
    return (df["i"] - df["x"].mean()) / df["x"].std() > df["f"].median()


NATIVE = [float_arithmetic, integer_arithmetic, integer_division, zero_by_zero, unary,
          negated, negated_floats, series_abs, compared, compared_columns, kleene, kleene_with_mask,
          kleene_as_floats, filled_kleene, filled, filled_result, missing_result, to_numpy,
          into_model, assigned_into_model, frame_fill_into_model, returned_frame, true_count,
          true_share, median_fill, integer_median_fill, median_centred, mean_centred,
          where_filled,
          filled_as_bools]  # fmt: skip


def _compiled(fn: Any) -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wm.compile(fn, example=(_frame(40),))


def _identical(want: Any, got: Any) -> None:
    """``got`` is ``want`` exactly: type, index, name, dtype, pd.NA positions, and the bits
    of every value (the sign of a zero included)."""
    assert type(got) is type(want)
    if want is pd.NA:
        return
    if isinstance(want, pd.DataFrame):
        assert list(got.columns) == list(want.columns)
        for column in want.columns:
            _identical(want[column], got[column])
        return
    if isinstance(want, pd.Series):
        assert got.index.equals(want.index) and got.name == want.name
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        missing = np.asarray(want.isna())
        assert np.array_equal(np.asarray(got.isna()), missing)
        want, got = want[~missing].to_numpy(), got[~missing].to_numpy()
    want, got = np.asarray(want), np.asarray(got)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if want.dtype.kind == "f":  # bit for bit: -0.0 and NaN included
        assert np.array_equal(want.view(np.int64), got.view(np.int64)), (want, got)
    else:
        assert np.array_equal(want, got), (want, got)


def _same(fn: Any, compiled: wm.CompiledPipeline, batches: list[pd.DataFrame]) -> None:
    """``compiled`` gives ``fn``'s result exactly, or raises its class of error, on each
    batch (each call its own copy)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in batches:
            try:
                want = fn(batch.copy())
            except Exception as error:
                with pytest.raises(type(error)):
                    compiled(batch.copy())
                continue
            _identical(want, compiled(batch.copy()))


@pytest.mark.parametrize("fn", NATIVE, ids=lambda f: f.__name__)
def test_nullable_arithmetic_is_native_and_exact(fn: Any) -> None:
    """``+ - * /``, unary ufuncs, comparisons, Kleene ``& | ^ ~``, and their ``fillna``,
    ``isna``, ``astype(float)`` and models, ``sum``/``mean`` of booleans, ``median`` and a
    fill by it: native (a returned nullable result is only wrapped as pandas' dtype), bit
    for bit the original's (or its error) on pd.NA everywhere, all NA, no NA, one row, an
    empty batch, reversed rows, another index, -0.0 and infinities; the batches run no
    original function but the empty one, and a mean or median of no value (pd.NA), or a
    fraction filled into Int64 (pandas raises)."""
    compiled = _compiled(fn)
    assert not compiled.traced.python_fallbacks, compiled.explain()
    _same(fn, compiled, _batches())
    assert set(compiled.handoffs.calls) <= {"empty", "not-integer"}, compiled.handoffs.calls
    if fn not in (true_share, median_fill, integer_median_fill, median_centred, mean_centred):
        assert set(compiled.handoffs.calls) <= {"empty"}, compiled.handoffs.calls


def test_transcendental_functions_are_numpys_bit_for_bit() -> None:
    """``np.log1p``, ``np.exp`` of nullable columns: native, bit for bit numpy's (numpy's own
    loop, which on an AVX-512 CPU is a SIMD routine that the C library's functions differ
    from in the last bit for a few % of values); pd.NA where pandas has it, the dtype pandas
    gives."""
    compiled = _compiled(transcendental)
    assert not compiled.traced.python_fallbacks, compiled.explain()
    _same(transcendental, compiled, _batches())


@pytest.mark.parametrize("fn", [integer_arithmetic, negated, float_arithmetic, unary],
                         ids=lambda f: f.__name__)  # fmt: skip
def test_int64_results_beyond_2_53_run_the_original(fn: Any) -> None:
    """An Int64 result of magnitude 2^53 or more (``2**52 * 3``), which float64 would round,
    runs the original function on the batch (counted); Float64 results of the same values are
    pandas' float64 arithmetic, native."""
    compiled = _compiled(fn)
    _same(fn, compiled, [_extremes(), _extremes().iloc[[2, 3]]])
    integer = fn in (integer_arithmetic, negated)
    assert bool(compiled.handoffs.calls.get("not-integer")) == integer, compiled.handoffs.calls


def power(df):
    return df["i"] ** 2


def floor_division(df):
    return df["f"] // 2


def narrow(df):
    return df["i"].astype("Int8") + 1


def reduced(df):
    return df["f"].sum()


def statistic_fill(df):
    return df["f"].fillna(df["f"].mean())


@pytest.mark.parametrize(
    ("fn", "why"),
    [(power, "power of a nullable column giving Int64 is not compiled"),
     (floor_division, "floor_divide of a nullable column giving Float64 is not compiled"),
     (narrow, "add of a nullable column giving Int8 is not compiled"),
     (reduced, "sum of a nullable Float64 column is not compiled"),
     (statistic_fill, "mean of a nullable Float64 column is not compiled")],
    ids=lambda v: getattr(v, "__name__", ""),
)  # fmt: skip
def test_other_nullable_code_stays_in_python(fn: Any, why: str) -> None:
    """Powers, floor division, narrower nullable dtypes, reductions, a fill computed from the
    batch and ``np.where`` of a nullable mask run in Python, saying why, with the
    original's result or error."""
    compiled = _compiled(fn)
    assert compiled.traced.python_fallbacks, compiled.explain()
    assert why in compiled.explain(), compiled.explain()
    _same(fn, compiled, _batches())


def where_column(df):
    return np.where(df["b"], df["x"], -1.0)  # numpy raises on pd.NA


def test_a_nullable_mask_with_na_runs_the_original() -> None:
    """``np.where`` of a boolean column compiled on an example without pd.NA is native;
    a batch with pd.NA runs the original function, which raises numpy's TypeError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(where_column, example=(_frame(40, missing=False),))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    _same(where_column, compiled, [_frame(50, missing=False), _frame(50), _all_missing(3)])
    assert compiled.handoffs.calls["not-integer"] == 2, compiled.handoffs.calls


def test_other_dtypes_and_pandas_options_run_the_original() -> None:
    """A batch whose column computed on is not of the example's nullable dtype (numpy
    float64, whose NaN pandas compares as False, not NA; numpy int64; Int32), or a call
    while pandas' ``future.distinguish_nan_and_na`` keeps NaN results apart from pd.NA,
    runs the original function (counted); compiling under that option keeps the code in
    Python."""
    compiled = _compiled(compared_columns)
    batches = [_frame(30).astype({"f": "float64"}), _frame(30).astype({"k": "Int32"}),
               _frame(30, missing=False).astype({"i": "int64"})]  # fmt: skip
    _same(compared_columns, compiled, batches)
    assert compiled.handoffs.calls["input"] == 3, compiled.handoffs.calls
    zeros = _compiled(zero_by_zero)
    with pd.option_context("future.distinguish_nan_and_na", True):
        _same(zero_by_zero, zeros, [_frame(30)])
        assert zeros.handoffs.calls["input"] == 1, zeros.handoffs.calls
        in_python = _compiled(zero_by_zero)
        assert "future.distinguish_nan_and_na" in in_python.explain()
        _same(zero_by_zero, in_python, [_frame(30)])
