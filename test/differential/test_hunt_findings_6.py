"""Defects found by a sixth differential hunt (random elementwise programs over mixed
dtypes, later batches of other dtypes, dates, strings, models, cascades): the compiled
pipeline against the original function on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from notebook_check import quiet_compile
from test_hunt_findings_3 import _outcome, _same
from test_hunt_findings_5 import _check

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
# region B: a text argument of another kind than its example


TEXTS = pd.Series(["Dream", "Biscoe", "", "Ünï", "dream"], name="island")


def lengths(s):
    return s.str.len()


def is_dream(s):
    return (s == "Dream").astype(float)


def contains_e(s):
    return s.str.contains("e")


def series_of_lengths(texts):
    return pd.Series(texts).str.len()


@pytest.mark.parametrize("fn", [lengths, is_dream, contains_e])
@pytest.mark.parametrize("batch", [
    TEXTS.astype("string[python]"),  # Int64 / boolean results
    TEXTS.rename("w"),  # the result is named 'w'
    TEXTS.to_numpy(),  # no index: (s == "Dream").astype(float) is numpy's
    TEXTS.tolist(),  # AttributeError: 'list' object has no attribute 'str'
])  # fmt: skip
def test_text_series_of_another_kind(fn, batch) -> None:
    """A text argument compiled on a Series, called with a ``string`` Series (pandas gives
    ``Int64`` and ``boolean`` results), one of another name (the result's), an array or a
    list: native code gave the example's dtype and name, or raised its own error building
    an index from the array (``AttributeError``, ``TypeError``). Now the original runs."""
    compiled = quiet_compile(fn, TEXTS)
    _same(_outcome(fn, batch), _outcome(compiled, batch))
    assert compiled.calls_in_python == 1
    _same(_outcome(fn, TEXTS.iloc[::-1]), _outcome(compiled, TEXTS.iloc[::-1]))
    assert compiled.calls_in_python == 1


def test_text_list_then_a_string_series() -> None:
    """Compiled on a list, called with a ``string`` Series: ``pd.Series(texts)`` keeps its
    dtype, so ``str.len()`` is ``Int64``; native code gave int64. A Series of ``str`` (as
    pandas builds from the list) stays native."""
    texts = TEXTS.tolist()
    compiled = quiet_compile(series_of_lengths, texts)
    for batch in (pd.Series(texts, dtype="string[python]"),
                  pd.Series(texts, dtype="string[pyarrow]"), pd.Series(texts)):  # fmt: skip
        _same(_outcome(series_of_lengths, batch), _outcome(compiled, batch))
    assert compiled.calls_in_python == 2


# endregion
