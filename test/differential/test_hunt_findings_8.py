"""Defects found by an eighth differential hunt (notebook pipelines on generated orders and
events tables and scikit-learn's bundled data sets: joins, dates, strings, casts, masks,
batches split over threads): the compiled pipeline against the original function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from notebook_check import quiet_compile
from test_hunt_findings_3 import _outcome, _same

# region A: a lone surrogate in a str column


def lowered_is_ecole(df):
    return (df["s"].str.lower() == "école").astype(int) + df["v"]


def upper(df):
    return df["s"].str.upper()


def contains(df):
    return df["s"].str.contains("co", regex=False)


def looked_up(df):
    return df["s"].map({"alpha": 1.0, "ÉCOLE": 3.0})


STRINGS = pd.DataFrame({"s": ["alpha", "Beta", "ÉCOLE", "x"] * 10, "v": np.arange(40.0)})


@pytest.mark.parametrize("fn", [lowered_is_ecole, upper, contains, looked_up])
@pytest.mark.parametrize("rows", [3, 40, 3000], ids=["few", "some", "two-blocks"])
def test_lone_surrogate_in_a_string_column(fn, rows, monkeypatch) -> None:
    """A str with a lone surrogate (``"a\\ud800b"``) is not UTF-8, so native code cannot
    read it; Python's str methods can, and pandas returns a result (``.map`` raises
    ``UnicodeEncodeError``). The compiled code raised ``InputError`` on the batch. Now the
    original runs on it."""
    monkeypatch.setenv("WILLUMP_MLIR_THREADS", "2")
    compiled = quiet_compile(fn, STRINGS)
    batch = pd.concat([STRINGS] * (rows // 40 + 1)).iloc[:rows].reset_index(drop=True)
    batch["s"] = batch["s"].astype(object)
    batch.loc[rows - 2, "s"] = "a\ud800b"
    _same(_outcome(fn, batch.copy()), _outcome(compiled, batch.copy()))
    assert compiled.calls_in_python == 1


# endregion
# region B: a pipeline function named like the libm function it calls


def hypot(df):
    return np.hypot(df["x"], df["y"])


def test_function_named_after_a_libm_call_is_native() -> None:
    """``np.hypot`` is a call of libm's ``hypot``, declared once per module; a pipeline
    function named ``hypot`` held that symbol until it was lowered, so the declaration was
    skipped and compiling failed (the statement ran in Python, "'@hypot' could not be
    found"). Now it is native."""
    frame = pd.DataFrame({"x": [3.0, -0.0, np.inf, np.nan], "y": [4.0, 0.0, 1.0, 2.0],
                          "s": ["a", "b", "c", "d"]})  # fmt: skip
    compiled = quiet_compile(hypot, frame)
    assert "runs in Python" not in compiled.explain()
    _same(hypot(frame), compiled(frame))


# endregion
# region C: a str column of pandas' ArrowDtype


def is_e_or_ok(df):
    return (df["s"] == "é") | df["ok"]


def shouted(df):
    return df["s"].str.upper() + "!"


def length(df):
    return df["s"].str.len()


ARROW = pd.DataFrame({"s": ["p", "q", "é", ""] * 10, "ok": [True, False] * 20})


@pytest.mark.parametrize("fn", [is_e_or_ok, shouted, length])
@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()], ids=["string", "large_string"])
@pytest.mark.parametrize("missing", [False, True])
def test_arrow_dtype_string_column(fn, kind, missing) -> None:
    """A ``pd.ArrowDtype(pa.string())`` column: pandas gives ``bool[pyarrow]`` comparisons,
    ``int32[pyarrow]`` lengths and Arrow strings (``<NA>`` where missing); native code read
    its UTF-8 as any str column's and returned numpy's bool, int64 and object. Now such a
    column runs the original, as pandas' nullable ``string`` dtype does."""
    compiled = quiet_compile(fn, ARROW)
    batch = ARROW.astype({"s": pd.ArrowDtype(kind)})
    if missing:
        batch.loc[3, "s"] = None
    _same(_outcome(fn, batch.copy()), _outcome(compiled, batch.copy()))
    assert compiled.calls_in_python == 1


# endregion
