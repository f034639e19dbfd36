"""Defects found by a fourth differential hunt (array arguments of other kinds and dtypes
than the example's): the compiled pipeline against the original function on the same rows."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from notebook_check import quiet_compile
from sklearn.linear_model import LinearRegression
from test_hunt_findings_3 import _outcome, _same

import willump_mlir as wm

ROWS = np.random.default_rng(0).integers(0, 250, (120, 3)).astype(float)
MODEL = LinearRegression().fit(ROWS[:, :2], ROWS[:, 2])


def product_of_columns(X, model):
    return model.predict(np.column_stack([X[:, 0] * X[:, 1], X[:, 2]]))


def difference_of_columns(df, model):
    return model.predict(np.column_stack([df["a"] - df["b"], df["c"]]))


def sum_of_columns(df):
    return (df["a"] + df["b"]) * 0.5


FRAME = pd.DataFrame(ROWS, columns=list("abc"))


@pytest.mark.parametrize(("fn", "example", "rest"), [
    (product_of_columns, ROWS, (MODEL,)),
    (difference_of_columns, FRAME, (MODEL,)),
    (sum_of_columns, FRAME, ()),
])  # fmt: skip
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "uint64", "int64"])
def test_integers_that_wrap_around_where_the_example_was_float(fn, example, rest, dtype) -> None:
    """A float64 example, a batch of integers: numpy computes ``a * b`` of uint8 modulo 256,
    ``a - b`` of uint64 never negative, ``a + b`` of int8 modulo 256, where native code
    computed in float64 as on the example (wrong values). Now such a batch runs the
    original; int64 too, since these columns feed arithmetic (test_hunt_findings_5)."""
    compiled = quiet_compile(fn, example[:60], *rest)
    batch = example[60:].astype(dtype)
    for again in (compiled, pickle.loads(pickle.dumps(compiled))):
        args = (batch, *rest) if again is compiled else (batch,)
        _same(_outcome(fn, batch, *rest), _outcome(again, *args))
    assert compiled.calls_in_python == 1


def first_columns(X, model):
    return model.predict(np.column_stack([X[:, 0] * 2, X[:, 1]]))


def whole_array(X, model):
    return model.predict(X[:, :2] + 1)


MASK = ROWS[60:] > 200


@pytest.mark.parametrize("fn", [first_columns, whole_array])
@pytest.mark.parametrize("batch", [
    np.ma.masked_array(ROWS[60:], mask=MASK),  # numpy computes masked entries otherwise
    ROWS[60:70].tolist(),  # scikit-learn reads a list of rows; X[:, 0] raises TypeError
    pd.DataFrame(ROWS[60:70]),  # X[:, 0] of a frame: KeyError
    np.hstack([ROWS[60:], ROWS[60:, :1]]),  # a wider array: X[:, 0] reads it
    ROWS[5],  # 1-D: IndexError
    ROWS[60:].reshape(-1, 3, 1),  # 3-D
])  # fmt: skip
def test_array_argument_of_another_kind_runs_the_original(fn, batch) -> None:
    """An array argument that is a masked array (native code read the data under the mask,
    the original computes the masked entries otherwise: wrong values), a list of rows, a
    DataFrame, a wider array or another number of dimensions: native code raised its own
    ``InputError`` where the original returned (``X[:, 0]`` of a wider array) or raised
    another class (``TypeError``, ``IndexError``). Now the original runs: its result, or its
    error's class (also a ``wm.InputError``)."""
    compiled = quiet_compile(fn, ROWS[:60], MODEL)
    expected = _outcome(fn, batch, MODEL)
    got = _outcome(compiled, batch, MODEL)
    _same(expected, got)
    if isinstance(got, type):
        assert issubclass(got, wm.InputError)


def weighted_sum(df):
    return df["a"] * 2 + df["b"]


def model_of_columns(df, model):
    return model.predict(np.column_stack([df["a"], df["b"] * 2]))


@pytest.mark.parametrize(("fn", "rest"), [(weighted_sum, ()), (model_of_columns, (MODEL,))])
@pytest.mark.parametrize("batch", [
    {"a": ROWS[:10, 0], "b": ROWS[:10, 1]},  # a dict of columns: d["a"] * 2 is numpy's
    FRAME.iloc[0],  # one row as a Series: scalars
    FRAME.to_records(index=False)[:10],  # a record array reads columns by name
    FRAME.to_numpy()[:10],  # df["a"] of an array: IndexError
])  # fmt: skip
def test_frame_argument_of_another_kind_runs_the_original(fn, rest, batch) -> None:
    """A frame argument given a dict of columns, a Series (one row) or a record array, which
    the original reads by column name: native code raised ``InputError`` (must be a pandas
    DataFrame) where the original returned, or where it raised ``IndexError``. Now the
    original runs."""
    compiled = quiet_compile(fn, FRAME[:60], *rest)
    expected = _outcome(fn, batch, *rest)
    got = _outcome(compiled, batch, *rest)
    _same(expected, got)
    if isinstance(got, type):
        assert issubclass(got, wm.InputError)
