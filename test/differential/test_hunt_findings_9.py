"""Defects found by a ninth differential hunt (notebook idioms on generated tables with
nullable, small-int and float32 columns, and on scikit-learn's bundled data sets, ending in
linear, tree and boosted models): the compiled pipeline against the original function."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import quiet_compile, same_on_batches
from sklearn.linear_model import LogisticRegression, Ridge

from willump_mlir.selfcheck import difference

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
    compiled = quiet_compile(words_then_model, NAMES)
    sources = [call.source for call in compiled.traced.python_fallbacks.values()]
    assert sources and all("str.split()" in s and "predict" not in s for s in sources), sources
    assert "compiling it failed" not in compiled.explain()
    odd = NAMES.assign(name=["  ", "ǅx y", None, "a\tb", "ß"] * 8)
    same_on_batches(words_then_model, compiled,
                    [NAMES.iloc[::-1], NAMES.iloc[[3]], NAMES.iloc[:0], odd])  # fmt: skip


# endregion
# region B: a top-level `if` on a constant (a notebook's feature flag)

FLAGS = pd.DataFrame({"a": [0.5, -0.0, np.nan, 3.0] * 10, "b": np.arange(40.0) % 3})
RIDGE = Ridge().fit(FLAGS.fillna(0), np.arange(40.0))
USE_LOG = True
MODE = "square"


def flagged(df):
    X = df[["a", "b"]].fillna(0)
    if USE_LOG:
        X["a"] = np.log1p(X["a"].abs())
    return RIDGE.predict(X)


def chosen_by_mode(df):
    X = df[["a", "b"]].fillna(0)
    if MODE == "log":
        X["a"] = np.log1p(X["a"].abs())
    elif MODE == "square":
        X["a"] = X["a"] ** 2
        X["b"] = X["b"].astype(str).str.len()  # not compiled: runs in Python on its own
    else:
        X["a"] = X["a"] * 0
    return RIDGE.predict(X)


def extra_column_if_present(df):
    X = df[["a"]].copy()
    if "c" in df.columns:
        X["a"] = X["a"] + df["c"]
    return X


@pytest.mark.parametrize(("fn", "python"), [
    (flagged, []), (chosen_by_mode, ["X['b'].astype(str)"]),
])  # fmt: skip
def test_if_on_a_constant_traces_its_branch(fn: Any, python: list[str]) -> None:
    """``if USE_LOG:`` on an immutable global, at the top level of the function, ran in
    Python as a whole ("an if statement is not compiled"), and with it every statement of
    the branch; an inlined helper's such ``if`` was already traced. Now the branch the
    constant chooses is traced, each statement of it native or in Python on its own."""
    compiled = quiet_compile(fn, FLAGS)
    assert [c.source for c in compiled.traced.python_fallbacks.values()] == python
    batches = [FLAGS.iloc[::-1], FLAGS.iloc[[2]], FLAGS.iloc[:0], FLAGS.assign(c=1.0),
               FLAGS.assign(b=FLAGS["b"].astype(int))]  # fmt: skip
    same_on_batches(fn, compiled, batches)


def test_if_on_the_batch_columns_is_guarded() -> None:
    """An ``if`` on the batch's column names takes the example's branch (idioms10: the names
    are compile-time constants), and a batch of other columns runs the original: one with
    the column the example lacked gets the other branch."""
    compiled = quiet_compile(extra_column_if_present, FLAGS)
    assert compiled.traced.arguments[0].ordered
    same_on_batches(extra_column_if_present, compiled, [FLAGS, FLAGS.assign(c=2.0)])


# endregion
# region C: a call of an array pipeline with too few or too many arguments

ROWS = np.random.default_rng(0).normal(size=(40, 3))
CLASSIFIER = LogisticRegression().fit(ROWS, ROWS[:, 0] > 0)


def probability(X):
    return CLASSIFIER.predict_proba(X)[:, 1]


def test_wrong_number_of_arguments_is_a_type_error() -> None:
    """The direct path (a C-contiguous float64 array straight to the kernel) read the
    arguments by position before anything counted them: ``compiled()`` raised
    ``IndexError`` and ``compiled(X, X)`` returned the probabilities where the original
    raises ``TypeError``. Now both raise ``TypeError``, naming the arguments."""
    compiled = quiet_compile(probability, ROWS)
    for args in [(), (ROWS, ROWS), (ROWS[:3], ROWS[:3], ROWS[:3])]:
        with pytest.raises(TypeError, match="probability"):
            probability(*args)
        with pytest.raises(TypeError, match=r"takes 1 arguments \(X\)"):
            compiled(*args)
    assert difference(probability(ROWS[:5]), compiled(ROWS[:5])) is None


# endregion
# region D: columns of a 2-D array by slice or list (`X[:, 1:]`, `X[:, [0, 2]]`)

WIDE = np.round(np.random.default_rng(1).normal(0, 2, (60, 5)), 3)
FIRST_THREE = Ridge().fit(WIDE[:, :3], WIDE[:, 4])


def sliced_to_a_model(X):
    return FIRST_THREE.predict(X[:, :3])


def last_three_logged(X):
    return np.log1p(np.abs(X[:, -3:]))


def listed_columns(X):
    return X[:, [4, 0, -1]] * 2


def doubled_then_the_rest(X):
    return FIRST_THREE.predict(np.column_stack([X[:, 0] * 2, X[:, 1:3]]))


def _arrays() -> list[np.ndarray]:
    special = WIDE.copy()
    special[:6, 0] = [np.nan, np.inf, -np.inf, -0.0, 1e308, 5e-324]
    tall = np.tile(WIDE, (50, 1))
    return [WIDE[::-1], WIDE[[3]], WIDE[:0], np.asfortranarray(WIDE), WIDE[::2], special,
            WIDE.astype(np.float32), WIDE.astype(">f8"), WIDE[:, :4], tall, tall[::-1]]  # fmt: skip


@pytest.mark.parametrize("fn", [sliced_to_a_model, last_three_logged, listed_columns,
                                doubled_then_the_rest])  # fmt: skip
def test_array_columns_by_slice_or_list_are_native(fn: Any) -> None:
    """Only ``X[:, i]`` of a 2-D array was compiled: ``X[:, :3]`` into a model, or a list of
    columns, ran in Python ("this indexing is not compiled"), and with nothing else native
    the whole function ran the original. Now the columns are taken and stacked natively."""
    compiled = quiet_compile(fn, WIDE)
    assert not compiled.traced.python_fallbacks and compiled.original_reason is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in _arrays():
            try:
                expected = fn(batch.copy())
            except Exception as error:
                with pytest.raises(type(error)):
                    compiled(batch.copy())
                continue
            assert difference(expected, compiled(batch.copy())) is None


# endregion
