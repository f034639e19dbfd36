"""Defects found by a sixth differential hunt (random elementwise programs over mixed
dtypes, later batches of other dtypes, dates, strings, models, cascades): the compiled
pipeline against the original function on the same rows."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_hunt_findings_3 import _outcome, _same

import willump_mlir as wm


def _compiled(fn: Any, *example: Any) -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wm.compile(fn, example=example)


def _check(fn: Any, example: tuple[Any, ...], batch: Any, calls: int) -> None:
    """``fn`` compiled on ``example`` (its data argument first) agrees with ``fn`` on
    ``batch``, unpickled too, running the original ``calls`` times."""
    compiled = _compiled(fn, *example)
    rest = example[1:]
    for again in (compiled, pickle.loads(pickle.dumps(compiled))):
        args = (batch.copy(), *rest) if again is compiled else (batch.copy(),)
        _same(_outcome(fn, batch.copy(), *rest), _outcome(again, *args))
    assert compiled.calls_in_python == calls


# region A: statements whose value the function never uses


FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0], "s": ["x", "y", "z"],
                      "i": [1, 2, 3]})  # fmt: skip


def unused_lengths(df):
    n = df["s"].str.len()  # noqa: F841 - a notebook's leftover
    return df["b"] * 2


def unused_comparison(df):
    n = np.where(df["a"] > 1, 1, 0)  # noqa: F841
    return df["b"] * 2


def unused_sum(df):
    n = df["i"] + 1  # noqa: F841
    return df["b"] * 2


def unused_cast(df):
    n = df["a"].astype(int)  # noqa: F841
    return df["b"] * 2


def unused_difference_of_a_read_column(df):
    n = df["i"] - df["s"].str.len()  # noqa: F841 - ``s`` is read below too
    return df["s"].str.contains("x").astype(float) + df["b"]


@pytest.mark.parametrize(("fn", "batch"), [
    (unused_lengths, FRAME.assign(s=[1.0, 2.0, 3.0])),  # AttributeError: .str of numbers
    (unused_comparison, FRAME.assign(a=["p", "q", "r"])),  # TypeError: str > int
    (unused_sum, FRAME.assign(i=["p", "q", "r"])),  # TypeError: str + int
    (unused_cast, FRAME.astype({"a": "Float64"}).assign(a=[pd.NA, 1, 2])),  # NA to int
    (unused_cast, FRAME.assign(a=["p", "q", "r"])),  # ValueError: int("p")
    (unused_difference_of_a_read_column, FRAME.assign(s=None)),  # TypeError: int - None
])  # fmt: skip
def test_an_unused_statement_that_raises_on_a_column_of_another_dtype(fn, batch) -> None:
    """A statement whose value is never used (a notebook's leftover ``n = ...``) is not
    compiled, so native code never read its columns: a batch where pandas raises there
    (``.str`` of numbers, ``"p" > 1``, ``<NA>`` to int) returned a result. Now a column an
    unused statement reads must have the example's dtype, else the original runs."""
    _check(fn, (FRAME,), batch, calls=1)
    _check(fn, (FRAME,), FRAME.iloc[::-1], calls=0)


# endregion
