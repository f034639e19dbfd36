"""Defects found by a ninth differential hunt (notebook idioms on generated tables with
nullable, small-int and float32 columns, and on scikit-learn's bundled data sets, ending in
linear, tree and boosted models): the compiled pipeline against the original function."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from notebook_check import same_on_batches
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm


def _compiled(fn: Any, *example: Any) -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wm.compile(fn, example=example)


# region A: `.str` of a Series Python computed (`s.str.split().str.len()`)

NAMES = pd.DataFrame({"name": ["Mr. John Smith", "Miss Zoë", "", None, "Dr. Ödön K"] * 8,
                      "x": np.arange(40.0)})  # fmt: skip
WORDS_MODEL = LogisticRegression().fit(
    pd.DataFrame({"words": np.arange(40.0) % 4, "x": np.arange(40.0)}), np.arange(40) % 2
)


def _features(df):
    X = pd.DataFrame(index=df.index)
    X["words"] = df["name"].str.split().str.len().fillna(0)
    X["x"] = df["x"]
    return X


def words_then_model(df):
    return WORDS_MODEL.predict_proba(_features(df))[:, 1]


def test_str_accessor_of_a_python_series_is_not_a_native_column() -> None:
    """``.str`` of ``s.str.split()`` (lists, computed in Python) was taken for the accessor
    of a native str column, so ``.str.len()`` of it was emitted as ``pipeline.str_len`` of a
    ``!pipeline.object``; the module failed to verify and bisection ran the statement
    calling the helper in Python, the model included. Now only the split and its length run
    in Python, and the model is native."""
    compiled = _compiled(words_then_model, NAMES)
    sources = [call.source for call in compiled.traced.python_fallbacks.values()]
    assert sources and all("str.split()" in s and "predict" not in s for s in sources), sources
    assert "compiling it failed" not in compiled.explain()
    odd = NAMES.assign(name=["  ", "ǅx y", None, "a\tb", "ß"] * 8)
    same_on_batches(words_then_model, compiled,
                    [NAMES.iloc[::-1], NAMES.iloc[[3]], NAMES.iloc[:0], odd])  # fmt: skip


# endregion
