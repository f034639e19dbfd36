"""Defects found by a second differential hunt on notebook-style code: the compiled
pipeline (and its pickle and save) against the original function on the same rows."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import quiet_compile

import willump_mlir as wm
from willump_mlir.selfcheck import difference


def _round_trips(compiled: wm.CompiledPipeline, tmp_path: Any) -> list[Any]:
    """The compiled pipeline, its pickle and its save loaded again."""
    compiled.save(tmp_path / "saved")
    return [compiled, pickle.loads(pickle.dumps(compiled)),
            wm.load(tmp_path / "saved", trust=True)]  # fmt: skip


PRICES = pd.DataFrame({"ville": ["São Paulo", "Zürich", "Köln", ""],
                       "prix_€": [1.5, 2.0, np.nan, 4.0]})  # fmt: skip


class Counter:
    """An opaque callable: its call runs in Python, with its source in the IR."""

    def __call__(self, column: pd.Series, text: str) -> pd.Series:
        return column.str.count(text)


COUNT = Counter()


def euro_column(df):
    df["größe"] = df["prix_€"].fillna(0) * 2
    return df[["größe", "prix_€"]].to_numpy()


def unicode_source(df):
    return COUNT(df["ville"], "ü") + (df["ville"] == "São Paulo")


def unicode_reason(df):
    return df["ville"].replace({"Köln": 0, "Zürich": 1, "São Paulo": 2, "": 3}).astype(float)


@pytest.mark.parametrize("fn", [euro_column, unicode_source, unicode_reason])
def test_non_ascii_names_sources_and_reasons_survive_pickle_and_save(fn, tmp_path) -> None:
    """A column name, a Python op's source or its reason (``pandas computes…``) past ASCII:
    xDSL prints such a string with hex escapes its own lexer reads back as bytes, so
    unpickling (``wm.ray``, a process pool) and ``wm.load`` failed with "cannot parse the
    pipeline IR"."""
    compiled = quiet_compile(fn, PRICES)
    for again in _round_trips(compiled, tmp_path):
        for batch in (PRICES, PRICES.iloc[[1]], PRICES.iloc[::-1]):
            assert difference(fn(batch.copy()), again(batch.copy())) is None


def last_letter(df):
    return df["s"].str[-1]


def first_letter_kept(df):
    df["first"] = df["s"].str.strip().str.get(0)
    return df


def first_letter_is_x(df):
    return (df["s"].str[0] == "x").astype(float) + df["a"]


WORDS = pd.DataFrame({"s": ["Apple pie", " banana ", "Straße", "", "x1"], "a": [1.0, 2, 3, 4, 5]})


@pytest.mark.parametrize("dtype", ["str", object])
@pytest.mark.parametrize("fn", [last_letter, first_letter_kept, first_letter_is_x])
def test_position_of_strings_none_has_is_float_nan(fn, dtype) -> None:
    """``s.str[i]`` of an object column where no row has position ``i`` (``""``, ``None``):
    pandas converts its all-NaN objects to float64; the compiled code gave object. Now a
    position read by Python or returned is pandas'; one native code reads stays native."""
    compiled = quiet_compile(fn, WORDS.astype({"s": dtype}))
    for values in ([None, "", None], ["", ""], [""], [None], ["ab", ""], ["x", None]):
        for kind in ("str", object):
            batch = pd.DataFrame({"s": values, "a": 1.5}).astype({"s": kind})
            assert difference(fn(batch.copy()), compiled(batch.copy())) is None
    assert bool(compiled.traced.python_fallbacks) == (fn is not first_letter_is_x)


CITIES = pd.DataFrame({"ville": ["São", "Köln", "", None], "a": [1.0, 2.0, 3.0, 4.0]})


def lengths_beside_text(df):
    df["n"] = df["ville"].str.len().fillna(0)  # float64 with a missing value, else int64
    df["u"] = df["ville"].str.upper()
    return df


def lengths_beside_numbers(df):
    df["n"] = df["ville"].str.len().fillna(0)
    df["b"] = df["a"] * 2
    return df


@pytest.mark.parametrize("fn", [lengths_beside_text, lengths_beside_numbers])
def test_python_frame_with_text_keeps_its_run_time_dtypes(fn) -> None:
    """A Python step's frame holding a str column and a column whose dtype depends on the
    batch (``str.len().fillna(0)``: float64 on an example with a missing value, int64 on a
    batch without): its dtypes were not checked (only all-numeric frames were), so native
    code read the int64 column as float64 and returned it so. Now the original runs."""
    compiled = quiet_compile(fn, CITIES)
    for batch in (CITIES, CITIES.iloc[:2], CITIES.iloc[[3]], CITIES.iloc[[1]]):
        assert difference(fn(batch.copy()), compiled(batch.copy())) is None


class Seen:
    """An opaque Python step (not inlined) that records the values it is given."""

    def __init__(self) -> None:
        self.values: list[list[str]] = []

    def __call__(self, column: pd.Series) -> pd.Series:
        self.values.append(column.tolist())
        return column.rank()


SEEN = Seen()


def upper_ranked(df):
    return df["s"].str.upper().rank()


def upper_seen(df):
    return SEEN(df["s"].str.upper()) + df["a"]


NAMES = pd.DataFrame({"s": ["b", "a", "c"], "a": [1.0, 2.0, 3.0]})
SHARP_S = pd.DataFrame({"s": ["", "x", "ß", "日本"], "a": [0.5, 1.5, 2.5, 3.5]}, dtype=object)
SHARP_S = SHARP_S.astype({"s": "str", "a": float})  # pyarrow: 'ß'.upper() is 'ẞ', not 'SS'


@pytest.mark.parametrize("fn", [upper_ranked, upper_seen])
def test_rows_handed_back_to_python_never_reach_a_python_step(fn) -> None:
    """A row native code hands back to Python (``'ß'.upper()`` of pandas' ``str`` dtype,
    a capital sigma's lowercase) was computed by running the original on that row alone,
    assuming every op row-wise; a Python step (``rank()``) got the unfinished column (``''``
    for the row) and then the row alone, giving ranks of the wrong rows. Now a Python step
    never sees such a row: the original runs on the whole batch."""
    compiled = quiet_compile(fn, NAMES)
    SEEN.values.clear()
    for batch in (SHARP_S, SHARP_S.iloc[[2, 0]], SHARP_S.astype({"s": object})):
        assert difference(fn(batch.copy()), compiled(batch.copy())) is None
    assert ["", "X", "", "日本"] not in SEEN.values  # the unfinished column


def as_int(df):
    return (df["a"] * 2).astype("int64")


def frame_as_int(df):
    return df[["a", "c"]].astype(int)


@pytest.mark.parametrize("fn", [as_int, frame_as_int])
def test_astype_int_of_nan_raises_pandas_own_class(fn) -> None:
    """pandas refuses NaN or inf in ``astype(int)`` with ``IntCastingNaNError``; native
    code raised a plain ``ValueError`` (``InputError``), which ``except
    pd.errors.IntCastingNaNError`` did not catch."""
    compiled = quiet_compile(fn, pd.DataFrame({"a": [1.5, 2.0], "c": [1.0, 3.0]}))
    for bad in ([np.nan, 2.0], [np.inf, 1.0]):
        batch = pd.DataFrame({"a": bad, "c": [1.0, 2.0]})
        with pytest.raises(pd.errors.IntCastingNaNError):
            fn(batch.copy())
        with pytest.raises(pd.errors.IntCastingNaNError, match="argument 'df', row 0") as caught:
            compiled(batch.copy())
        assert isinstance(caught.value, wm.InputError)


WEIGHTS = np.array([1.0, 2.0])
CODES = pd.Series({"x": 1.0, "y": 2.0})
TABLE = pd.DataFrame({"k": ["x", "y"], "v": [10.0, 20.0]})
LETTERS = pd.DataFrame({"a": [0.1, 0.7, -2.0], "c": [1.0, 2.0, 3.0], "k": ["x", "y", "z"]})


def weighted(df):
    return df["a"] * WEIGHTS[1]


def coded_by_series(df):
    return df["k"].map(CODES).fillna(0)


def joined(df):
    return df.merge(TABLE, on="k", how="left")["v"].fillna(0)


@pytest.mark.parametrize(("fn", "change", "undo"), [
    (weighted, lambda: WEIGHTS.__setitem__(1, 5.0), lambda: WEIGHTS.__setitem__(1, 2.0)),
    (coded_by_series, lambda: CODES.__setitem__("x", 100.0),
     lambda: CODES.__setitem__("x", 1.0)),
    (joined, lambda: TABLE.__setitem__("v", [-5.0, 20.0]),
     lambda: TABLE.__setitem__("v", [10.0, 20.0])),
])  # fmt: skip
def test_global_array_series_and_table_changed_in_place(fn, change, undo) -> None:
    """A global numpy array (``WEIGHTS[1]`` folded), Series (``.map``) or DataFrame (the
    right side of a merge) changed in place after wm.compile: the compiled code returned
    the old values; now ``RefitError`` names it, as for a dict."""
    from willump_mlir.runtime.refit import RefitError

    compiled = quiet_compile(fn, LETTERS)
    try:
        change()
        with pytest.raises(RefitError, match="was changed in place"):
            compiled(LETTERS.copy())
    finally:
        undo()
    assert difference(fn(LETTERS.copy()), compiled(LETTERS.copy())) is None


def _loan_features(df):
    X = df[["int_rate", "annual_inc", "funded_amnt"]].fillna(0)
    X["income_vs_median"] = df["annual_inc"] - df["annual_inc"].quantile(0.5)  # in Python
    return X


def loan_score(df, model):
    return model.predict_proba(_loan_features(df))[:, 1]


def test_cascade_refused_where_a_python_step_depends_on_the_batch() -> None:
    """``wm.optimize`` refused a cascade over a native batch statistic but not over one
    computed in Python (``s.quantile(0.5)``, ``s.rank()``): the full program ran on the
    unsettled rows alone, whose median is another, and a row's probability moved by up to
    0.8 on lending_club. Now no cascade, and the report says why."""
    from sklearn.linear_model import LogisticRegression

    from willump_mlir.workloads import lending_club

    frame = lending_club.load_frame().iloc[:1600].reset_index(drop=True)
    labels = (frame[lending_club.LABEL] == "bad").to_numpy()
    train, test = frame.iloc[:1200], frame.iloc[1200:]
    model = LogisticRegression(max_iter=5000).fit(_loan_features(train), labels[:1200])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = wm.optimize(loan_score, train=(train, model), y=labels[:1200],
                           max_accuracy_loss=0.05, progress=False)  # fmt: skip
    assert not fast.cascaded
    assert "depends on the other rows of its batch" in str(fast.report())
    assert difference(loan_score(test.copy(), model), fast(test.copy(), model)) is None


def loan_frame_score(df, model):
    X = df.copy()
    X["log_inc"] = np.log1p(X["annual_inc"])
    X["ratio"] = X["funded_amnt"] / (X["annual_inc"] + 1)
    return model.predict_proba(X)[:, 1]


def test_frame_with_text_columns_into_a_column_transformer_is_native() -> None:
    """``X = df.copy(); X["new"] = ...; model.predict_proba(X)`` with a ColumnTransformer
    one-hot encoding str columns: reading the assembled frame as a float matrix raised
    ``ValueError: could not convert string to float`` while tracing, so the whole model
    call ran in Python; now the model reads the frame built around the native columns."""
    from notebook_check import check_notebook
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from willump_mlir.workloads import lending_club as lc

    frame = lc.load_frame().iloc[:3000].reset_index(drop=True)
    labels = (frame[lc.LABEL] == "bad").to_numpy()
    frame = frame[lc.NUMERIC + lc.CATEGORICAL]
    built = frame.assign(log_inc=np.log1p(frame["annual_inc"]),
                         ratio=frame["funded_amnt"] / (frame["annual_inc"] + 1))  # fmt: skip
    features = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         [*lc.NUMERIC, "log_inc", "ratio"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), lc.CATEGORICAL),
    ])  # fmt: skip
    model = make_pipeline(features, LogisticRegression(max_iter=3000)).fit(built, labels)
    compiled = check_notebook(loan_frame_score, frame, model)
    assert "LogisticRegression.predict_proba" in compiled.explain()


def scaled_column(df, scale=2.0, column="a"):
    return df[column].fillna(0) * scale


def test_arguments_left_to_their_defaults() -> None:
    """A call giving some bound arguments and leaving the others to the function's defaults
    (``compiled(df, 2.0)``, ``compiled(df, scale=2.0)``) raised ``TypeError: takes 3
    arguments, got 2`` where the original returns; now they take their defaults, and a
    value other than the compiled one is the usual ``InputError`` naming it."""
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, 3.0]})
    compiled = quiet_compile(scaled_column, frame)
    for call in (lambda f: f(frame), lambda f: f(frame, 2.0), lambda f: f(frame, scale=2.0),
                 lambda f: f(df=frame, column="a"), lambda f: f(frame, 2.0, "a")):  # fmt: skip
        assert difference(call(scaled_column), call(compiled)) is None
    with pytest.raises(wm.InputError, match="argument 'column'"):
        compiled(frame, column="b")
    with pytest.raises(TypeError, match="unexpected arguments"):
        compiled(frame, 2.0, colour="a")
