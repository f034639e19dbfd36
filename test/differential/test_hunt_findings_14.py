"""Defects found by a fourteenth differential hunt (notebook pipelines on the penguins table
and adversarial batches, model outputs of every kind): the compiled pipeline against the
original function, bit for bit (values, dtype, index and name)."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from notebook_check import quiet_compile, same_on_batches
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

from willump_mlir.corpus import table

# region A: scikit-learn's softmax is numpy's exp loop, LightGBM's the C library's exp

PENGUINS = table("palmerpenguins", "penguins")
NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
X = PENGUINS[NUM].fillna(0)
ONE_THREAD = {"n_jobs": 1, "verbose": -1}


def probabilities(df: pd.DataFrame, model: Any) -> Any:
    return model.predict_proba(df[NUM].fillna(0))


def middle_class_score(df: pd.DataFrame, model: Any) -> pd.Series:
    score = model.predict_proba(df[NUM].fillna(0))[:, 1]
    return pd.Series(score, index=df.index, name="score")


MODELS = {
    "hgb": lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0),
    "gb": lambda: GradientBoostingClassifier(n_estimators=10, random_state=0),
    "lgbm": lambda: lgb.LGBMClassifier(n_estimators=20, **ONE_THREAD),
}


@pytest.mark.parametrize("fn", [probabilities, middle_class_score])
@pytest.mark.parametrize("kind", list(MODELS))
def test_multiclass_softmax_bits(fn: Any, kind: str) -> None:
    """A multi-class HistGradientBoosting or GradientBoosting classifier's probabilities are
    scikit-learn's ``softmax``, whose ``np.exp`` is numpy's SIMD loop on an AVX-512 CPU: the
    kernel's C library ``exp`` differed in the last bit on about 5% of the penguins' rows.
    ``feature.softmax`` now calls numpy's loop; LightGBM's (``c_softmax``, its C++
    ``Common::Softmax``) keeps the C library's."""
    model = MODELS[kind]().fit(X, PENGUINS["species"])
    compiled = quiet_compile(fn, PENGUINS.iloc[:150], model)
    assert ("exp" in compiled.ufunc_loops) == (kind != "lgbm")
    rest = PENGUINS.iloc[150:]
    batches = [rest, rest.iloc[[0]], rest.set_index(rest.index * 3 + 1),
               rest.assign(body_mass_g=1e308), rest.assign(bill_depth_mm=-0.0)]  # fmt: skip
    same_on_batches(lambda df: fn(df, model), lambda df: compiled(df, model), batches, bits=True)


# endregion


# region B: an array assigned as a column while a variable holds it, read back


USERS = pd.DataFrame({"k": [1, 2, 3, 4], "u": [10.0, 20.0, 30.0, 40.0]})
ORDERS = pd.DataFrame({"k": [1, 2, 3, 5, 2] * 8, "x": np.arange(40) * 1.0})
ORDERS.loc[::7, "x"] = np.nan


def read_back_beside_its_series(df: pd.DataFrame) -> Any:
    s = df["x"] * 2
    x = df.merge(USERS, on="k", how="left")
    x["w"] = s.values
    return (x["w"] + s).to_numpy()


def read_back_by_a_series_method(df: pd.DataFrame) -> pd.Series:
    t = df["x"].to_numpy()
    df = df.assign(t=t)
    return df["t"].isna()


def read_back_by_attribute(df: pd.DataFrame) -> tuple:
    t = np.where(df["k"] > 2, 1.0, np.nan)
    X = df[["x"]].copy()
    X["t"] = t
    return X.t.max(), X.t.count()


@pytest.mark.parametrize("fn", [read_back_beside_its_series, read_back_by_a_series_method,
                                read_back_by_attribute])  # fmt: skip
def test_a_held_array_read_back_as_a_column(fn: Any) -> None:
    """An array assigned as a frame's column while a variable holds it keeps its own rows in
    the IR (test_cleanup_12); pandas reads ``x["w"]`` back as a Series of the frame's index.
    The tracer read it back as the array: ``x["w"] + s`` summed by position where pandas
    aligns ``s``'s index with the merge's (NaN on a batch with another index), and Series
    methods (``isna``, ``count``) failed the compile. Reading it back now runs in Python."""
    compiled = quiet_compile(fn, ORDERS)
    batches = [ORDERS, ORDERS.set_index(ORDERS.index * 2 + 5), ORDERS.iloc[::-1], ORDERS.iloc[[3]]]
    same_on_batches(fn, compiled, batches)
    assert any("a variable also holds" in c.reason
               for c in compiled.traced.python_fallbacks.values())  # fmt: skip


# endregion
