"""Defects found by a fifth differential hunt (integer batches where the example's columns
were float64, number idioms, frames built before a model, later batches that differ from
the example): the compiled pipeline against the original function on the same rows."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import quiet_compile
from sklearn.linear_model import LinearRegression
from test_hunt_findings_3 import _outcome, _same


def _check(fn: Any, example: tuple[Any, ...], batch: Any, calls: int) -> None:
    """``fn`` compiled on ``example`` (its data argument first) agrees with ``fn`` on
    ``batch``, unpickled too, running the original ``calls`` times."""
    compiled = quiet_compile(fn, *example)
    rest = example[1:]
    for again in (compiled, pickle.loads(pickle.dumps(compiled))):
        args = (batch.copy(), *rest) if again is compiled else (batch.copy(),)
        _same(_outcome(fn, batch.copy(), *rest), _outcome(again, *args))
    assert compiled.calls_in_python == calls


# region A: integer arithmetic on a batch of int64 where the example's column was float64

FLOATS = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7 + 1, "c": np.ones(40),
                       "d": np.zeros(40)})  # fmt: skip
MODEL = LinearRegression().fit(FLOATS[["a", "b"]].to_numpy(), FLOATS["a"] - FLOATS["b"])
HUGE = 2**53 - 1  # the largest integer below 2^53: exact as float64, so read natively
INTEGERS = pd.DataFrame({
    "a": np.array([2**40, HUGE, 3, 2**32, -HUGE], dtype=np.int64),
    "b": np.array([2**40 + 3, 2, 0, 2**32, -2], dtype=np.int64),
    "c": np.array([1, 1, 1, 1, -1], dtype=np.int64),
    "d": np.array([HUGE, 2, 1, 0, 0], dtype=np.int64),
})  # fmt: skip


def square_into_a_model(df, model):
    return model.predict(np.column_stack([df["a"] * df["a"], df["b"]]))


def power_into_a_model(df, model):
    return model.predict(np.column_stack([df["a"] ** 2, df["b"]]))


def chained_sum_compared(df):
    return (df["a"] + df["b"] + df["c"] > 2**53).astype(float)


def product_compared(df):
    return ((df["a"] * df["b"]) > 5).astype(float)


def sum_compared(df):
    return (df["c"] < df["d"].sum() - 2**53).astype(float)


def floor_divided(X, model):
    return model.predict(np.column_stack([X[:, 0] // X[:, 1], X[:, 1]]))


def remainder(X, model):
    return model.predict(np.column_stack([X[:, 0] % X[:, 1], X[:, 1]]))


@pytest.mark.parametrize(("fn", "rest"), [
    (square_into_a_model, (MODEL,)), (power_into_a_model, (MODEL,)), (chained_sum_compared, ()),
    (product_compared, ()), (sum_compared, ()),
])  # fmt: skip
def test_integer_arithmetic_where_the_example_was_float(fn, rest) -> None:
    """int64 values below 2^53 where the example's column was float64: numpy's ``a * a``
    wraps modulo 2^64, ``a + b + c`` and ``a.sum()`` are exact beyond 2^53 where float64
    rounds each step: native code computed in float64 as on the example and gave other
    predictions and comparisons. Now such a batch runs the original."""
    _check(fn, (FLOATS, *rest), INTEGERS, calls=1)


@pytest.mark.parametrize("fn", [floor_divided, remainder])
def test_integer_division_of_an_array_by_zero_where_the_example_was_float(fn) -> None:
    """numpy gives 0 for an int64 array's ``x // 0`` and ``x % 0``, where native code, in
    float64 as on the example, gave inf and NaN (the compiled pipeline raised where the
    original returned)."""
    _check(fn, (FLOATS[["a", "b"]].to_numpy(), MODEL), INTEGERS[["a", "b"]].to_numpy(), calls=1)


def logged_and_clipped(df, model):
    return model.predict(np.column_stack([np.log1p(df["a"].clip(0, 50)), df["b"] / 3]))


def test_integers_that_only_float_functions_read_stay_native() -> None:
    """``np.log1p``, ``clip`` and ``/`` of int64 give numpy the float64 results that native
    code computes: no call of the original."""
    _check(logged_and_clipped, (FLOATS, MODEL), INTEGERS.abs(), calls=0)


# endregion
# region B: columns the code names but native code does not read


PEOPLE = pd.DataFrame({
    "x": [1.0, np.nan, 3.0, 4.0, -0.0, 6.5], "k": [1, 2, 3, 5, 8, 13],
    "label": [0, 1, 0, 1, 1, 0], "s": ["a", "b", None, "c", "", "é"],
})  # fmt: skip
FIT = LinearRegression().fit(PEOPLE[["x", "k"]].fillna(0), PEOPLE["label"])


def selected_then_narrowed(df, model):
    X = df[["x", "k", "label"]]
    return model.predict(X[["x", "k"]].fillna(0))


def selected_then_dropped_in_place(df, model):
    X = df[["x", "k", "s"]].copy()
    X.drop(columns=["s"], inplace=True)
    return model.predict(X.fillna(0))


def label_popped(df, model):
    X = df.copy()
    y = X.pop("label")
    del X["s"]
    return model.predict(X.fillna(0)) + y


def label_deleted(df, model):
    X = df[["x", "k", "s"]].fillna({"x": 0})
    del X["s"]
    return model.predict(X)


@pytest.mark.parametrize(("fn", "missing"), [
    (selected_then_narrowed, "label"), (selected_then_dropped_in_place, "s"),
    (label_popped, "label"), (label_popped, "s"), (label_deleted, "s"), (label_deleted, "k"),
])  # fmt: skip
def test_a_named_column_a_batch_lacks(fn, missing) -> None:
    """A column the code selects, drops or pops but native code never reads (``df[["x",
    "k", "label"]]`` narrowed to ``x, k``): pandas raises ``KeyError`` for a batch without
    it, where the compiled pipeline returned (no kernel read the column, so none checked
    it). Now a batch without a named column runs the original. (``label_popped``: ``y =
    X.pop("label")`` was not traced, so the model read ``label`` on the example and
    ``wm.compile`` raised.)"""
    _check(fn, (PEOPLE, FIT), PEOPLE.drop(columns=[missing]), calls=1)
    _check(fn, (PEOPLE, FIT), PEOPLE.iloc[::-1], calls=0)


# endregion
# region C: numpy's fmax/fmin of 0.0 and -0.0


def sign_of_fmax(df):
    return np.copysign(1.0, np.fmax(df["a"], df["b"]))


def inverse_of_fmin(df):
    return (1 / np.fmin(df["b"], df["a"])).to_numpy()


ZEROS = pd.DataFrame({"a": [-0.0, 0.0, 2.0, -1.0] * 50, "b": [0.0, -0.0, 1.0, np.nan] * 50})


@pytest.mark.parametrize("fn", [sign_of_fmax, inverse_of_fmin])
@pytest.mark.parametrize("rows", [1, 3, 5, 200])
def test_fmax_of_zeros_of_other_signs(fn, rows) -> None:
    """``np.fmax(-0.0, 0.0)`` is ``0.0`` in numpy's SIMD loop and ``-0.0`` in its scalar
    tail (so by the array's length and the row's place), where native code kept the first
    operand: ``copysign`` and ``1 /`` showed the other sign. Now such a row runs the
    original on the whole batch."""
    _check(fn, (ZEROS.iloc[2:4],), ZEROS.iloc[:rows], calls=1)
    _check(fn, (ZEROS.iloc[2:4],), ZEROS.iloc[2:rows + 2].assign(a=1.5), calls=0)


# endregion
# region D: pandas' mean of an int64 batch where the example's column was float64


def equals_the_mean(df):
    return (df["c"] == df["d"].mean()).to_numpy()


def test_mean_of_integers_where_the_example_was_float() -> None:
    """pandas sums an int64 column's mean in float64 in numpy's 8,192-value buffers, where
    native code, on float64 as on the example, summed pairwise over the column: the means
    of 20,000 rows differ in the last place, and ``c == d.mean()`` there. Now such a
    batch runs the original."""
    d = np.random.default_rng(0).integers(-(10**15), 10**15, 20_000)
    assert pd.Series(d).mean() != pd.Series(d.astype(float)).mean()
    batch = pd.DataFrame({"c": pd.Series(d).mean(), "d": d})
    _check(equals_the_mean, (FLOATS,), batch, calls=1)
    _check(equals_the_mean, (FLOATS,), batch.astype(float), calls=0)


# endregion
# region E: numpy's sign of -0.0


def angle_of_sign(df):
    return np.arctan2(np.sign(df["a"]), df["b"] - 10)


def test_sign_of_negative_zero_is_positive_zero() -> None:
    """``np.sign(-0.0)`` is ``0.0`` in numpy; native code gave ``-0.0``, which ``arctan2``
    turned into -pi where the original gave pi."""
    batch = pd.DataFrame({"a": [-0.0, 0.0, np.nan, -2.0, 3.0], "b": [1.0, 2.0, 3.0, 4.0, 5.0]})
    _check(angle_of_sign, (FLOATS,), batch, calls=0)


# endregion


def squared_again_and_again(df, model):
    z = df["a"] / 40 * df["b"] / 7  # in [0, 1): squaring keeps it finite
    for _ in range(16):
        z = z * z  # each op reads its operand twice: a walk per operand doubles per level
    return model.predict(np.column_stack([z, df["b"]]))


def test_a_deep_chain_of_arithmetic_is_walked_once(monkeypatch) -> None:
    """The dtype walks of ``frontend.stability`` look at each arithmetic op's operands once:
    a fresh walk per operand, at every level of ``z = z * z``, took 2^(depth+2) walks
    (65,535 for 14 levels; a minute's compile at 20)."""
    from willump_mlir.frontend import stability

    walks = 0
    walk = stability._Walk.__call__

    def counted(self: Any, value: Any) -> bool:
        nonlocal walks
        walks += 1
        return walk(self, value)

    monkeypatch.setattr(stability._Walk, "__call__", counted)
    _check(squared_again_and_again, (FLOATS, MODEL), FLOATS.iloc[5:20], calls=0)
    assert walks < 500, walks
