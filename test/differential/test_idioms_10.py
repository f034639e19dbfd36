"""Notebook idioms the ninth hunt found running in Python, made native by idioms10 (or kept
in Python, with the reason explain() gives): the compiled pipeline against the original
function on adversarial batches (NaN, ties, empty, one row, Unicode, other columns)."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import python_reasons, quiet_compile, same_on_batches
from sklearn.linear_model import LogisticRegression

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")




_RNG = np.random.default_rng(10)
FRAME = pd.DataFrame({
    "id": np.arange(60), "x_a": _RNG.normal(size=60).round(2), "x_b": _RNG.normal(size=60),
    "y": _RNG.normal(size=60), "s": ["Zoë", "", "a b", "ß"] * 15,
    **{f"f{i}": _RNG.normal(size=60) for i in range(5)},
})  # fmt: skip
FEATURES = ["id", "x_a", "x_b"]
XY = LogisticRegression().fit(FRAME[["x_a", "x_b"]], np.array(["nein ✗", "ja ✓"])[
    (FRAME["x_a"] + FRAME["x_b"] > 0).astype(int)])  # fmt: skip
FIVE = LogisticRegression().fit(FRAME[[f"f{i}" for i in range(5)]], FRAME["id"] % 3 * 10 - 7)


def _frames() -> list[pd.DataFrame]:
    """Other rows, one row, no rows, NaN and infinities, another index, reordered columns,
    one column more, and a column of the comprehension's more."""
    special = FRAME.copy()
    special.loc[:5, "x_a"] = [np.nan, np.inf, -np.inf, -0.0, 1e308, 5e-324]
    return [FRAME.iloc[::-1], FRAME.iloc[[3]], FRAME.iloc[:0], special,
            FRAME.set_index(FRAME.index * 3 + 7), FRAME[FRAME.columns[::-1]],
            FRAME.assign(extra=1.0), FRAME.assign(x_c=2.0)]  # fmt: skip


# region 1: column selection by a comprehension


def startswith_to_model(df):
    return XY.predict_proba(df[[c for c in df.columns if c.startswith("x_")]])[:, 1]


def stacked_x_columns(df):
    return np.column_stack([df[c] * 2 for c in df.columns if c.startswith("x_")])


def listed_then_dropped(df):
    return df[list(df.columns.drop(["id", "s", "y", "f0", "f1", "f2", "f3", "f4"]))] + 1


def constant_features(df):
    return XY.predict_proba(df[[c for c in FEATURES if c != "id"]])[:, 1]


def ranged_names(df):
    return FIVE.predict_proba(df[[f"f{i}" for i in range(5)]])


@pytest.mark.parametrize("fn", [startswith_to_model, stacked_x_columns, listed_then_dropped,
                                constant_features, ranged_names])  # fmt: skip
def test_comprehension_column_selection_is_native(fn: Any) -> None:
    """A comprehension over ``df.columns`` ran in Python ("a comprehension over a value that
    is not a static list ..."), and the selection with it. Now ``df.columns`` of a frame
    argument is the example's names, a constant, and the argument is ``ordered``: a batch
    of other columns (one more, reordered) runs the original, which may pick other columns
    or raise. Comprehensions over constants were native already."""
    compiled = quiet_compile(fn, FRAME)
    assert not python_reasons(compiled) and compiled.original_reason is None, compiled.explain()
    reads_names = fn not in (constant_features, ranged_names)
    assert compiled.traced.arguments[0].ordered == reads_names
    if reads_names:
        assert "or the code reads its names" in compiled.explain()
    same_on_batches(fn, compiled, _frames())
    if reads_names:
        assert compiled.handoffs.calls["input"] >= 2  # the frames of other columns


# endregion
# region 2: class labels of an argmax, labels of a mask


def labels_of_argmax(df):
    p = XY.predict_proba(df[["x_a", "x_b"]])
    return XY.classes_[p.argmax(1)]


def numbers_of_np_argmax(df):
    p = FIVE.predict_proba(df[["f0", "f1", "f2", "f3", "f4"]])
    return FIVE.classes_[np.argmax(p, axis=1)]


def labels_of_a_mask(df):
    p = XY.predict_proba(df[["x_a", "x_b"]])
    return np.where(p[:, 1] > 0.5, "ja ✓", "")


def _rows_of(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Batches a model accepts (scikit-learn refuses NaN): other rows, one, none, ties."""
    tied = frame.copy()
    tied[["x_a", "x_b"]] = 0.0  # probabilities of exactly 0.5
    return [frame.iloc[::-1], frame.iloc[[3]], frame.iloc[:0], tied, frame.iloc[::7]]


@pytest.mark.parametrize("fn", [labels_of_argmax, numbers_of_np_argmax, labels_of_a_mask])
def test_labels_of_native_scores(fn: Any) -> None:
    """``model.classes_[p.argmax(1)]`` and ``np.where(p[:, 1] > t, "yes", "no")`` ran in
    Python ("`p.argmax` is not a recognised function", "an operand is neither a batch of
    numbers ..."), the model's probabilities handed to them. Now the argmax and the mask are
    native, and numpy takes the labels around the native code, as it does for ``predict``."""
    compiled = quiet_compile(fn, FRAME)
    assert not python_reasons(compiled) and compiled.original_reason is None, compiled.explain()
    wraps = [c.reason for c in compiled.traced.python_calls.values() if c.wraps]
    assert any("numpy" in r for r in wraps), wraps
    same_on_batches(fn, compiled, _rows_of(FRAME))


def argmax_of_columns(X):
    return np.argmax(X[:, :3], axis=1)


def argmax_method(X):
    return (X * 2).argmax(axis=-1)


def _arrays() -> list[np.ndarray]:
    """Ties, NaN (the first NaN wins), infinities, signed zeros, one row, no rows."""
    base = np.round(_RNG.normal(size=(30, 4)), 1)
    special = np.array([[np.nan, 1, 2, 3], [1, np.nan, np.nan, 0], [2, 2, 1, 2],
                        [-0.0, 0.0, 0, 0], [0.0, -0.0, 0, 0], [-np.inf, -np.inf, -np.inf, -np.inf],
                        [np.inf, np.inf, 1, 0], [1, 5, np.nan, 5],
                        [5e-324, 0, -5e-324, 0]])  # fmt: skip
    return [base, special, base[[2]], base[:0], base.astype(np.float32),
            np.asfortranarray(base), np.tile(special, (300, 1))]  # fmt: skip


@pytest.mark.parametrize("fn", [argmax_of_columns, argmax_method])
def test_argmax_of_rows_is_numpys(fn: Any) -> None:
    """``argmax(axis=1)`` of a 2-D float array is ``feature.argmax``: numpy's first maximum
    on ties, the first NaN where a row has one."""
    arrays = _arrays()
    compiled = quiet_compile(fn, arrays[1])
    assert not python_reasons(compiled) and compiled.original_reason is None, compiled.explain()
    assert "row argmax" in compiled.explain()
    same_on_batches(fn, compiled, arrays)


def argmax_of_one_column(X):
    return X[:, 1:2].argmax(1) + X[:, 0]


def argmax_down_the_columns(X):
    return X.argmax(0)


@pytest.mark.parametrize(("fn", "why"), [
    (argmax_of_one_column, "two or more values"),
    (argmax_down_the_columns, "only argmax(axis=1)"),
])  # fmt: skip
def test_other_argmax_runs_in_python(fn: Any, why: str) -> None:
    arrays = _arrays()
    compiled = quiet_compile(fn, arrays[0])
    assert any(why in r for r in python_reasons(compiled)), compiled.explain()
    same_on_batches(fn, compiled, arrays)


# endregion
# region 3: an if that returns


USE_MODEL = True


def returns_on_a_flag(df):
    if USE_MODEL:
        return XY.predict_proba(df[["x_a", "x_b"]])[:, 1]
    return df["y"].to_numpy()


def returns_in_the_else(df):
    if not USE_MODEL:
        return df["y"].to_numpy()
    else:
        x = df["x_a"] * 2
    return x + 1


def returns_when_empty(df):
    if len(df) == 0:
        return np.array([])
    return XY.predict_proba(df[["x_a", "x_b"]])[:, 1]


def returns_unless_rows(X):
    if X.shape[0] > 0:
        return X[:, 0] * 2
    return np.zeros(3)


def returns_when_not_len(X):
    if not len(X):
        return None
    return X[:, 1] - X[:, 0]


def scaled_unless_empty(X):
    y = X[:, 0]
    if len(X) > 0:
        y = y / 2
    return y


@pytest.mark.parametrize("fn", [returns_on_a_flag, returns_in_the_else, returns_when_empty])
def test_if_with_a_return_on_a_constant_or_emptiness_is_traced(fn: Any) -> None:
    """An ``if`` whose branch returns ran, with the rest of the function, as one Python call
    ("an if statement containing return is not compiled"). Now the branch a constant (an
    immutable global) chooses is traced; so is the branch of a test of the batch's
    emptiness (``len(df) == 0``), which every non-empty batch takes: an empty batch runs
    the original (a counted handoff)."""
    compiled = quiet_compile(fn, FRAME)
    assert not python_reasons(compiled) and compiled.original_reason is None, compiled.explain()
    same_on_batches(fn, compiled, _rows_of(FRAME))
    emptiness = fn is returns_when_empty
    assert compiled.traced.arguments[0].nonempty == emptiness
    assert ("branches on whether it is empty" in compiled.explain()) == emptiness
    if emptiness:
        assert compiled.handoffs.calls["empty"] == 1


@pytest.mark.parametrize("fn", [returns_unless_rows, returns_when_not_len, scaled_unless_empty])
def test_emptiness_of_an_array_is_guarded(fn: Any) -> None:
    arrays = _arrays()
    compiled = quiet_compile(fn, arrays[0])
    assert not python_reasons(compiled) and compiled.original_reason is None, compiled.explain()
    same_on_batches(fn, compiled, arrays)
    loaded = pickle.loads(pickle.dumps(compiled))  # the guard travels with the pipeline
    assert loaded.traced.arguments[0].nonempty
    same_on_batches(fn, loaded, [arrays[3], arrays[2]])
    assert loaded.handoffs.calls["empty"] == 1


def returns_when_few(df):
    if len(df) < 5:
        return np.zeros(len(df))
    return df["x_a"].to_numpy() * 2


def test_if_on_more_than_emptiness_runs_in_python() -> None:
    """``len(df) < 5`` is decided by the batch's size, not by its emptiness (a row handed
    back alone would take the other branch): the function stays in Python."""
    compiled = quiet_compile(returns_when_few, FRAME)
    assert any("containing return" in r for r in python_reasons(compiled))
    same_on_batches(returns_when_few, compiled, _rows_of(FRAME))


# endregion
# region 4: edges from the batch, row selections


def cut_into_bins(df):
    return pd.cut(df["y"], bins=4, labels=False)


def quartiles(df):
    return pd.qcut(df["y"], 4, labels=False)


def queried(df):
    return df.query("x_a > 0 and y < 1")[["x_a", "y"]]


@pytest.mark.parametrize(("fn", "why"), [
    (cut_into_bins, None),  # native since idioms11 (pipeline.cut_width)
    (quartiles, "the batch's quantiles"),
    (queried, "row selections run in Python"),
])  # fmt: skip
def test_batch_edges_and_row_selections_stay_in_python(fn: Any, why: str | None) -> None:
    """Edges computed from the batch's quantiles (``pd.qcut``) and ``query``'s row selection
    stay in Python, each with its reason; ``pd.cut(x, n)`` is native."""
    compiled = quiet_compile(fn, FRAME)
    if why is None:
        assert not python_reasons(compiled), python_reasons(compiled)
    else:
        assert any(why in r for r in python_reasons(compiled)), python_reasons(compiled)
    same_on_batches(fn, compiled, _frames()[:5])


# endregion


LABELS = np.array(["low", "mid", "high", "top"])


def labels_by_a_column(df):
    return LABELS[df["id"] % 4]


def test_a_table_indexed_by_a_column_still_runs_in_python() -> None:
    """Only an argmax's indices (each inside the table) are taken around the native code; a
    table indexed by a column computed natively runs in Python, counted (an index may be
    outside it, and numpy raises there)."""
    compiled = quiet_compile(labels_by_a_column, FRAME)
    assert python_reasons(compiled) == ["this indexing is not compiled"]
    same_on_batches(labels_by_a_column, compiled, _frames()[:5])


# region 5: pieces of str.split

#: every str.isspace code point between two letters, and other code points beside them
_SPACED = ["a" + chr(c) + "b" for c in range(0x3001) if not 0xD800 <= c < 0xE000]
WORDS = pd.DataFrame({"s": ["a b", "c,d", "", "  e  f g ", "Zoë,,ß", "\u3000x\u3000",
                            " , ", "ǅx\ty"] * 5})  # fmt: skip


def word_count(df):
    return df["s"].str.split().str.len()


def comma_pieces(df):
    return df["s"].str.split(",").str.len() * 2.0


def first_word(df):
    return df["s"].str.split().str[0]


def _texts() -> list[pd.DataFrame]:
    """Every whitespace, Unicode, empty and blank values, missing values (every one, too),
    object and pyarrow str columns, one row, no rows."""
    spaced = pd.DataFrame({"s": _SPACED})
    missing = pd.DataFrame({"s": pd.Series(["a b", None, "", "x,y"], dtype=object)})
    return [WORDS.iloc[::-1], spaced, spaced.astype({"s": object}), missing,
            missing.iloc[[1]], WORDS.iloc[[3]], WORDS.iloc[:0],
            pd.DataFrame({"s": pd.Series([None, None], dtype="str")})]  # fmt: skip


@pytest.mark.parametrize("fn", [word_count, comma_pieces])
def test_pieces_of_a_split_are_counted_natively(fn: Any) -> None:
    """``s.str.split().str.len()`` ran in Python (``str.split`` was not recognised, and
    ``.str`` of its lists is an object). Now the pieces are counted natively
    (``pipeline.str_split_count``: runs of ``str.isspace`` code points, or one ASCII
    separator), int64 as pandas gives them; a missing value at run time runs the original
    (float64 then, or AttributeError where every value is missing)."""
    compiled = quiet_compile(fn, WORDS)
    assert not python_reasons(compiled) and compiled.original_reason is None, compiled.explain()
    same_on_batches(fn, compiled, _texts())


@pytest.mark.parametrize(("fn", "frame", "why"), [
    (first_word, WORDS, "pandas computes it"),  # returned: pandas' dtype (idioms11)
    (word_count, _texts()[3], "counted in Python"),
])  # fmt: skip
def test_other_uses_of_a_split_run_in_python(fn: Any, frame: pd.DataFrame, why: str) -> None:
    """Anything else of the lists (``.str[0]``), and the count where the example has a
    missing value, runs in Python (pandas makes the lists)."""
    compiled = quiet_compile(fn, frame)
    assert any(why in r for r in python_reasons(compiled)), python_reasons(compiled)
    same_on_batches(fn, compiled, _texts())


# endregion
