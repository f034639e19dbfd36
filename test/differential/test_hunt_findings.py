"""Silently wrong results found by a differential hunt on notebook-style code: compiled on
one batch, called on others, compared with the original (``selfcheck.difference``)."""

from __future__ import annotations

import dataclasses
import types
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import check_notebook

import willump_mlir as wm
from willump_mlir.frontend.spec import FrontendError
from willump_mlir.runtime.refit import RefitError
from willump_mlir.selfcheck import difference

RNG = np.random.default_rng(5)
FRAME = pd.DataFrame({"a": RNG.normal(size=40), "c": RNG.normal(size=40),
                      "k": RNG.choice(["x", "y", "z"], 40),
                      "i": RNG.integers(0, 9, 40)})  # fmt: skip


def _same_on(fn: Any, example: pd.DataFrame, *batches: pd.DataFrame) -> wm.CompiledPipeline:
    """Compiled on ``example``, the same result as ``fn`` on each of ``batches``."""
    return check_notebook(fn, example, native=False, example=len(example), rows=batches)


def first_column_doubled(df):
    return df.iloc[:, 0] * 2


def first_two_columns_plus_one(df):
    return df.iloc[:, [0, 1]].to_numpy() + 1


def numbers_doubled(df):
    return df.select_dtypes("number").to_numpy() * 2


def first_by_name_filled(df):
    x = df[df.columns[0]]
    return x.fillna(0) + x


@pytest.mark.parametrize("fn", [first_column_doubled, first_two_columns_plus_one,
                                numbers_doubled, first_by_name_filled])  # fmt: skip
def test_python_step_whose_columns_follow_the_batch(fn) -> None:
    """A Python step (``iloc``, ``select_dtypes``, ``df.columns[0]``) whose result's columns
    or name follow the batch's column order, computed on natively: native code read the
    columns by the example's names (values of other columns) and named the result as on the
    example. A result with other labels than the example's now runs the original."""
    reordered = FRAME[["c", "a", "i", "k"]]
    _same_on(fn, FRAME, FRAME.iloc[:7], reordered, reordered.iloc[[2]],
             FRAME.assign(extra=1.5))  # fmt: skip


class Dummies:
    """An opaque callable (not inlined): its result's width follows the batch's categories."""

    def __call__(self, column: pd.Series) -> np.ndarray:
        return pd.get_dummies(column).to_numpy(float)


DUMMIES = Dummies()


def dummies_doubled(df):
    return DUMMIES(df["k"]) * 2


def second_dummy_plus_a(df):
    return DUMMIES(df["k"])[:, 1] + df["a"]


def test_python_step_of_another_width_runs_the_original() -> None:
    """A Python step's array of another width than on the example (fewer categories in the
    batch) raised ``InputError`` where the original returns; now the original runs, and
    raises its own error where it does (a batch of one category has no column 1)."""
    fewer = FRAME.iloc[:6].assign(k=["x", "x", "w", "x", "x", "x"])
    _same_on(dummies_doubled, FRAME, FRAME.iloc[:9], fewer, FRAME.iloc[[1]], FRAME.iloc[:0])
    compiled = _same_on(second_dummy_plus_a, FRAME, FRAME.iloc[:9], fewer)
    with pytest.raises(IndexError, match="index 1 is out of bounds"):
        compiled(FRAME.iloc[[1]])


def assigned_and_returned(df):
    df["x"] = df["a"] * 2
    return df


def assigned_frame(df):
    return df.assign(x=df["a"] + 1)


def numbers_filled(df):
    return df.drop(columns=["k"]).fillna(0).to_numpy()


def numbers_as_float(df):
    return df.drop(columns=["k"]).astype(float).to_numpy()


def by_name(df):
    x = df.copy()
    x["s"] = x["a"] + x["c"]
    return x[["s", "a"]].to_numpy()


REORDERED = FRAME.iloc[:6][["c", "a", "i", "k"]]
WIDER = FRAME.iloc[:6].assign(zz=1.0)
NARROWER = FRAME.iloc[:6][["a", "c", "k"]]


@pytest.mark.parametrize("fn", [assigned_and_returned, assigned_frame, numbers_filled,
                                numbers_as_float])  # fmt: skip
def test_frame_read_whole_with_other_columns(fn) -> None:
    """A frame argument pandas reads whole (returned with a new column, ``drop(...)`` then
    ``to_numpy()``), called with its columns reordered or one more: native code gave the
    example's columns (other values, a narrower matrix). Now such a batch runs the
    original, and the compiled code stays native for the example's columns."""
    compiled = _same_on(fn, FRAME, REORDERED, WIDER, NARROWER, REORDERED.iloc[[1]], FRAME)
    assert [a.ordered for a in compiled.traced.arguments] == [True]
    assert not compiled.traced.python_fallbacks
    name = compiled.traced.arguments[0].name
    assert f"argument {name!r}: the result depends on the order of its columns" in \
        compiled.explain()  # fmt: skip


def test_frame_read_by_name_takes_any_column_order() -> None:
    """Code that reads columns by name only is not marked: a reordered batch stays native."""
    compiled = _same_on(by_name, FRAME, REORDERED, WIDER)
    assert [a.ordered for a in compiled.traced.arguments] == [False]
    assert compiled.calls_in_python == 0
    assert "depends on the order of its columns" not in compiled.explain()


def test_model_given_the_whole_frame(tmp_path) -> None:
    """``model.predict(df)``: scikit-learn refuses a frame whose columns are not those it
    was fitted on, in order, and ``df.to_numpy()`` reads them by position; the compiled
    code returned a result read by name (other values behind a scaler). The marking
    survives ``save``/``load`` and pickling."""
    import pickle

    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    numbers = FRAME[["a", "c", "i"]]
    model = make_pipeline(StandardScaler(), LinearRegression()).fit(numbers, FRAME["a"] * 2)

    def predicted(df, m):
        return m.predict(df)

    def positional(df, m):
        return m.predict(df.to_numpy())

    reordered = numbers[["c", "a", "i"]]
    for fn in (predicted, positional):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = wm.compile(fn, example=(numbers, model))
        for again in (compiled, pickle.loads(pickle.dumps(compiled))):
            for batch in (reordered, numbers.assign(zz=1.0)):
                try:
                    expected = fn(batch, model)
                except ValueError as error:
                    assert "feature" in str(error)
                    with pytest.raises(ValueError, match="feature"):
                        again(batch)  # the data arguments alone: the model is bound
                    continue
                assert difference(expected, again(batch)) is None
        compiled.save(tmp_path / fn.__name__)  # no pickle: the original is not in the save
        loaded = wm.load(tmp_path / fn.__name__)
        assert [a.ordered for a in loaded.traced.arguments if a.kind != "bound"] == [True]
        with pytest.raises(wm.InputError, match=r"has the columns \['c', 'a', 'i'\]"):
            loaded(reordered)
        assert difference(fn(numbers, model), loaded(numbers)) is None


def doubled(df):
    return df["a"] * 2


def test_unsupported_example_frame_names_the_column() -> None:
    """An example frame with two columns of one name crashed in the frontend
    (``AttributeError``); a column of a dtype native code does not read is
    ``test_unsupported_columns``'."""
    example = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    with pytest.raises(FrontendError, match="its column names are not distinct"):
        wm.compile(doubled, example=(example,))


CODES = {"x": 1.0, "y": 2.0}
SEEN: dict[int, int] = {}


def coded(df):
    return df["k"].map(CODES).fillna(0) + df["a"]


def counted(df):
    SEEN[len(SEEN)] = 1  # the function changes this global itself: not a stale table
    return df["k"].map(CODES).fillna(0) + df["a"]


def test_global_table_changed_in_place() -> None:
    """A global lookup dict changed in place after wm.compile (``CODES["x"] = -5``): the
    compiled code returned the old codes; now the call raises ``RefitError`` naming it,
    as for a rebound global. A dict the function changes itself is not watched."""
    compiled = _same_on(coded, FRAME, FRAME.iloc[:5])
    counting = _same_on(counted, FRAME, FRAME.iloc[:5], FRAME.iloc[5:9])
    try:
        CODES["x"] = -5.0
        with pytest.raises(RefitError, match="global 'CODES' was changed in place"):
            compiled(FRAME)
        CODES["x"] = 1.0  # its items as they were: the compiled code is right again
        assert difference(coded(FRAME.copy()), compiled(FRAME.copy())) is None
        CODES["z"] = 3.0  # a new key: a row of "z" would get 3, not 0
        with pytest.raises(RefitError, match="'CODES'"):
            compiled(FRAME)
    finally:
        CODES.pop("z", None)
        CODES["x"] = 1.0
    assert difference(counted(FRAME.copy()), counting(FRAME.copy())) is None


def test_bound_and_closure_tables_changed_in_place() -> None:
    """The same for a dict given as an argument (bound) and one a closure reads."""
    codes = {"x": 1.0, "y": 2.0}

    def by_argument(df, table):
        return df["k"].map(table).fillna(0) + df["a"]

    def by_closure(df):
        return df["k"].map(codes).fillna(0) + df["a"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bound = wm.compile(by_argument, example=(FRAME, codes))
        closure = wm.compile(by_closure, example=(FRAME,))
    codes["y"] = 7.0
    with pytest.raises(RefitError, match="argument 'table' was changed in place"):
        bound(FRAME, codes)
    with pytest.raises(RefitError, match="closure variable 'codes' was changed in place"):
        closure(FRAME)


@dataclasses.dataclass
class Settings:
    """A notebook's config object."""

    scale: float = 2.0


SETTINGS = Settings()
STATS = types.SimpleNamespace(calls=0)


def scaled(df):
    return df["a"] * SETTINGS.scale


def scaled_and_counted(df):
    STATS.calls += 1  # the function changes this object itself: it is not watched
    return df["a"] * SETTINGS.scale


def test_config_object_changed_in_place() -> None:
    """A dataclass instance whose attribute the compiled code folded (``SETTINGS.scale``),
    changed after wm.compile: the old scale was used; now ``RefitError``."""
    compiled = _same_on(scaled, FRAME, FRAME.iloc[:5])
    counting = _same_on(scaled_and_counted, FRAME, FRAME.iloc[:5], FRAME.iloc[5:9])
    try:
        SETTINGS.scale = 10.0
        with pytest.raises(RefitError, match="global 'SETTINGS' was changed in place"):
            compiled(FRAME)
    finally:
        SETTINGS.scale = 2.0
    assert difference(scaled_and_counted(FRAME.copy()), counting(FRAME.copy())) is None
