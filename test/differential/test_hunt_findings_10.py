"""Defects found by a tenth differential hunt (scikit-learn's linear-model family by
capability, Normalizer, isnan/isinf/isfinite, row-wise max/min, array slices, constant
``if``s, threads, refits and unused columns, on scikit-learn's bundled data sets): the
compiled pipeline against the original function."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import same_on_batches
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression, RidgeClassifier

import willump_mlir as wm


def _compiled(fn: Any, *example: Any) -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wm.compile(fn, example=example)


WINE = load_wine(as_frame=True).frame
COLS = ["alcohol", "malic_acid", "ash"]
WINE_BATCHES = [WINE.iloc[100:], WINE.iloc[[3]], WINE.iloc[:0], WINE.iloc[::-1],
                WINE.set_index(WINE.index * 3 + 7),
                WINE.set_index(pd.Index(["x"] * len(WINE)))]  # fmt: skip

# region A: `pd.Series(model.predict(X), index=df.index)` of a classifier's labels

LABELLED = LogisticRegression(max_iter=2000).fit(WINE[COLS], np.array(["a", "ü", ""])[WINE.target])
NUMBERED = RidgeClassifier().fit(WINE[COLS], WINE.target)


def str_labels(df):
    return pd.Series(LABELLED.predict(df[COLS]), index=df.index, name="label")


def int_labels(df):
    X = df[COLS].fillna(0)
    return pd.Series(NUMBERED.predict(X), index=df.index) * 2 + 1


def labels_column(df):
    out = pd.DataFrame(index=df.index)
    out["label"] = pd.Series(LABELLED.predict(df[COLS]), index=df.index)
    out["alcohol"] = df["alcohol"] * 2
    return out


@pytest.mark.parametrize("fn", [str_labels, int_labels, labels_column])
def test_series_of_class_labels_keeps_its_index(fn: Any) -> None:
    """A classifier's ``predict`` is class indices natively, then ``classes_.take`` in
    Python; ``pd.Series`` of those labels with the frame's index was taken for a Series
    of native values and returned as the bare array, so the self-check ran the whole
    statement, the model included, in Python ("the result is a ndarray, the original's
    is a Series"). Now pandas builds the Series around the labels and the model is
    native."""
    compiled = _compiled(fn, WINE.iloc[:100])
    assert not compiled.traced.python_fallbacks, compiled.explain()
    same_on_batches(fn, compiled, WINE_BATCHES)


# endregion
