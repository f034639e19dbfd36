"""Notebook idioms made native by idioms11 (or kept in Python, with the reason explain()
gives): the compiled pipeline against the original function on adversarial batches (NaN,
infinities, -0.0 against 0, ties, int extremes, one row, no rows, another index)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notebook_check import python_reasons, quiet_compile, same_on_batches
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

PACKING = "a list, tuple or dict of values stays in Python"
"""The reason of packing results in a tuple, which the tests here leave out."""

_RNG = np.random.default_rng(11)
_N = 80
NUMBERS = pd.DataFrame({
    "a": _RNG.integers(-5, 5, _N), "b": _RNG.integers(-5, 5, _N), "c": _RNG.integers(-5, 5, _N),
    "n": _RNG.integers(-3, 3, _N).astype(np.int32), "f": _RNG.normal(size=_N),
    "g": _RNG.normal(size=_N),
})  # fmt: skip
NUMBERS.loc[::4, "f"] = np.nan
NUMBERS.loc[::6, "g"] = np.nan
NUMBERS["p"] = NUMBERS["a"] > 0
NUMBERS["q"] = NUMBERS["b"] > 0
MODEL = LogisticRegression().fit(NUMBERS[["a", "b"]], NUMBERS["c"] > 0)


def _number_frames() -> list[pd.DataFrame]:
    """Other rows, one row, no rows, NaN/inf/-0.0 against int 0, int extremes (which float64
    rounds), all-NaN rows, another index."""
    special = NUMBERS.copy()
    special.loc[:7, "f"] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e308, 5e-324, np.nan]
    special.loc[:7, "g"] = [np.nan, -np.inf, np.inf, 0.0, -0.0, -1e308, np.nan, -5e-324]
    special.loc[:3, "a"] = [0, 2**62 + 1, -(2**63), 2**63 - 1]
    special.loc[:3, "b"] = [0, 2**62 + 3, 2**63 - 1, -(2**63)]
    no_zero = special[(special["f"] != 0) & (special["g"] != 0)]
    return [NUMBERS.iloc[::-1], NUMBERS.iloc[[3]], NUMBERS.iloc[:0], special, no_zero,
            NUMBERS.set_index(NUMBERS.index * 3 + 7)]  # fmt: skip


# region 1: row extremes of int columns, missing values of a frame, row sums of ints


def int_row_min(df):
    return df[["a", "b", "c"]].min(axis=1)


def int_row_max(df):
    return df[["a", "b", "c"]].max(axis="columns")


def mixed_row_max(df):
    return df[["a", "f", "g"]].max(axis=1)


def mixed_row_min(df):
    return df[["f", "a", "n"]].min(axis=1)


def narrow_row_max(df):
    return df[["a", "n"]].max(axis=1) * 2


def isnan_any(df):
    return np.isnan(df[["a", "f", "g"]]).any(axis=1)


def isna_sum(df):
    return df[["a", "f", "g"]].isna().sum(axis=1)


def notna_all(df):
    return df[["f", "g", "n"]].notna().all(axis=1)


def bool_int_sum(df):
    return df[["a", "b", "p", "q"]].sum(axis=1), df[["p", "q"]].any(axis=1)


def missing_counts_to_model(df):
    X = df[["a", "b"]].copy()
    X["a"] = X["a"] + df[["f", "g"]].isnull().sum(axis=1)
    X["b"] = np.isinf(df[["f", "g"]]).any(axis=1) + df[["a", "c"]].min(axis=1)
    return MODEL.predict_proba(X)[:, 1]


@pytest.mark.parametrize("fn", [int_row_min, int_row_max, mixed_row_max, mixed_row_min,
                                narrow_row_max, isnan_any, isna_sum, notna_all, bool_int_sum,
                                missing_counts_to_model])  # fmt: skip
def test_row_reductions_are_native(fn: Any) -> None:
    """``min``/``max(axis=1)`` of int columns (pandas' transpose makes a mixed frame
    float64), ``isna()``/``np.isnan`` of a frame, and ``sum``/``any``/``all(axis=1)`` of
    its bools or ints ran in Python ("not a recognised function", ``ROW_SUM_LAYOUT``)."""
    compiled = quiet_compile(fn, NUMBERS)
    assert not python_reasons(compiled, PACKING), compiled.explain()
    assert compiled.original_reason is None, compiled.explain()
    same_on_batches(fn, compiled, _number_frames())
    # the empty batch runs the original, and so does 0 against -0.0 for fmax/fmin
    assert set(compiled.handoffs.calls) <= {"empty", "signed-zero"}, compiled.handoffs.calls


def float_row_sum(df):
    return df[["f", "g"]].sum(axis=1)


def any_of_floats(df):
    return df[["f", "g"]].any(axis=1)


@pytest.mark.parametrize("fn", [float_row_sum, any_of_floats])
def test_float_row_sums_stay_in_python(fn: Any) -> None:
    """Float row sums round by the frame's blocks; ``any`` of floats tests ``!= 0`` with NaN
    skipped: both run in Python, exactly."""
    compiled = quiet_compile(fn, NUMBERS)
    assert python_reasons(compiled, PACKING), compiled.explain()
    same_on_batches(fn, compiled, _number_frames())


# endregion


# region 2: pieces of split strings

#: ``str.isspace`` code points of every kind (ASCII, C1, no-break, ideographic...), a comma,
#: a zero-width space (not a space), letters of several UTF-8 widths
ALPHABET = ("ab ,\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2009\u200a\u2028"
            "\u2029\u202f\u205f\u3000\u200bZöß😀")  # fmt: skip
TEXTS = pd.DataFrame({"s": ["Zoë de la Cruz", "  x\u3000y ", "", "   ", "a,b,,c", ",", "ß,x",
                            "one", "c\x1cd e\x85f", "g\u200bh", "😀 😀,b"] * 4})  # fmt: skip
CHARS = CountVectorizer(analyzer="char", lowercase=False).fit([ALPHABET, "<none>"])


def _pieces(k: int, sep: str | None) -> Any:
    def pieces(df):
        return CHARS.transform(df["s"].str.split(sep).str[k].fillna("<none>"))

    return pieces


def _text_frames() -> list[pd.DataFrame]:
    """Other rows, one row, no rows, an object column, a missing value, no value with the
    piece, blank values only."""
    return [TEXTS.iloc[::-1], TEXTS.iloc[[0]], TEXTS.iloc[:0], TEXTS.astype(object),
            pd.DataFrame({"s": ["a b", None, "c,d"]}), pd.DataFrame({"s": ["a", "b"]}),
            pd.DataFrame({"s": ["", " \u3000"]}),
            pd.DataFrame({"s": [None, None]}, dtype="str")]  # fmt: skip


PIECES = {(k, sep): _pieces(k, sep) for k in (0, 1, -1, -2) for sep in (None, ",")}


@pytest.fixture(scope="module")
def compiled_pieces() -> dict[tuple[int, str | None], wm.CompiledPipeline]:
    return {key: quiet_compile(fn, TEXTS) for key, fn in PIECES.items()}


def test_split_pieces_are_native(compiled_pieces: dict) -> None:
    """``s.str.split().str[k]`` and ``s.str.split(",").str[k]`` ran in Python (a list per
    row); now ``pipeline.str_split_piece``, which a vectorizer reads in the same row loop.
    A missing value runs the original on the batch (pandas raises AttributeError when every
    value is)."""
    for key, fn in PIECES.items():
        compiled = compiled_pieces[key]
        assert not python_reasons(compiled, PACKING), compiled.explain()
        assert compiled.original_reason is None, compiled.explain()
        same_on_batches(fn, compiled, _text_frames())
        assert compiled.handoffs.calls == {"empty": 1, "split-missing": 2}, key


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(st.one_of(st.text(ALPHABET, max_size=10), st.none()), min_size=1, max_size=8),
       st.sampled_from(sorted(PIECES, key=str)))  # fmt: skip
def test_split_pieces_match_pandas(compiled_pieces: dict, texts: list, key: tuple) -> None:
    """Random values of spaces of every kind, commas and letters of 1 to 4 UTF-8 bytes."""
    batch = pd.DataFrame({"s": pd.Series(texts, dtype="str")})
    same_on_batches(PIECES[key], compiled_pieces[key], [batch, batch.astype(object)])


def piece_returned(df):
    return df["s"].str.split().str[-1]


def piece_compared(df):
    last = df["s"].str.split(",").str.get(-1)
    return (last == "b") | last.isin(["x", "c"]), df["s"].str.split().str[1] == "la"


def piece_upper(df):
    return df["s"].str.split().str[0].str.upper()


@pytest.mark.parametrize("fn", [piece_returned, piece_compared, piece_upper])
def test_split_piece_uses(fn: Any) -> None:
    """Compared natively; returned, pandas computes it (an object column, float64 NaN where
    no value has the piece); its ``.str`` runs in Python (that float64 column's ``.str``
    raises)."""
    compiled = quiet_compile(fn, TEXTS)
    python = python_reasons(compiled, PACKING)
    assert (fn is piece_compared) == (not python), compiled.explain()
    if fn is piece_upper:
        assert any(".str of a split piece runs in Python" in r for r in python)
    same_on_batches(fn, compiled, _text_frames())


# endregion


# region 3: pd.cut into a number of bins (edges from the batch)


def _codes_of(codes: pd.Series, bins: int) -> tuple:
    """Each code compared with every bin and with 0: comparisons read float codes natively."""
    return [codes == k if k < bins else codes >= 0 for k in range(bins + 1)]


def _cut(bins: int, column: str, right: bool = True, lowest: bool = False) -> Any:
    def cut(df):
        codes = pd.cut(df[column], bins, labels=False, right=right, include_lowest=lowest)
        return _codes_of(codes, bins)

    return cut


CUTS = {
    "float": _cut(4, "f"), "float_left": _cut(3, "f", right=False),
    "float_lowest": _cut(5, "g", lowest=True), "one_bin": _cut(1, "f"),
    "int": _cut(4, "a"), "int_left_lowest": _cut(3, "b", right=False, lowest=True),
}  # fmt: skip


def cut_codes_to_model(df):
    X = df[["a", "b"]].copy()
    X["a"] = pd.cut(df["a"], 6, labels=False) * 1.5
    return MODEL.predict_proba(X)[:, 1]


def _cut_frames() -> list[pd.DataFrame]:
    """Ties with the edges, one value, equal values (0 and not), infinities and no value
    (pandas raises), ranges that overflow, that round away the 0.1% or are too small to
    split, int extremes whose difference wraps."""
    ramp = NUMBERS.assign(f=np.arange(_N) / 4.0, g=np.arange(_N) - 40.0, a=np.arange(_N) * 3)
    huge = np.where(np.arange(_N) % 2, 1e308, -1e308)
    edge = 2**63 - 1
    return [*_number_frames(), ramp, NUMBERS.iloc[[5]], NUMBERS.assign(f=2.5, g=0.0, a=7, b=0),
            NUMBERS.assign(f=np.inf), NUMBERS.assign(f=np.nan, g=np.nan),
            NUMBERS.assign(f=huge, g=huge / 2), NUMBERS.assign(f=1e16 + np.arange(_N) % 2 * 2),
            NUMBERS.assign(f=np.arange(_N) * 5e-324, g=5e-324),
            NUMBERS.assign(a=np.where(np.arange(_N) % 2, edge, -edge - 1),
                           b=-edge - 1)]  # fmt: skip


@pytest.mark.parametrize("name", [*CUTS, "to_model"])
def test_cut_into_bins_is_native(name: str) -> None:
    """``pd.cut(x, 4, labels=False)`` ran in Python (its edges come from the batch); now two
    batch reductions and ``pipeline.cut_width``, which computes pandas' edges bit for bit.
    int64 codes (the example's) are a speculative cast: a batch with a NaN code (a minimum
    the 0.1% does not move) runs the original, as does a batch pandas refuses."""
    fn = CUTS.get(name, cut_codes_to_model)
    compiled = quiet_compile(fn, NUMBERS)
    assert not python_reasons(compiled, PACKING), compiled.explain()
    assert compiled.original_reason is None, compiled.explain()
    same_on_batches(fn, compiled, _cut_frames())
    if name.startswith("float"):  # infinities, no value, ranges too small (an int64 of
        assert compiled.handoffs.rows["cut-edges"] > 0  # 2**53 or more runs the original)
    assert compiled.calls_in_python < len(_cut_frames()) - 3, compiled.handoffs.calls


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=False, width=64), min_size=1,
                max_size=12), st.sampled_from(["float", "float_left", "float_lowest"]))  # fmt: skip
def test_cut_edges_match_pandas(values: list, name: str) -> None:
    """Random floats of any magnitude (subnormal, near the largest), NaN among them."""
    frame = NUMBERS.iloc[: len(values)].assign(f=values, g=values[::-1])
    same_on_batches(CUTS[name], _compiled_cut(name), [frame])


_COMPILED_CUTS: dict[str, wm.CompiledPipeline] = {}


def _compiled_cut(name: str) -> wm.CompiledPipeline:
    if name not in _COMPILED_CUTS:
        _COMPILED_CUTS[name] = quiet_compile(CUTS[name], NUMBERS)
    return _COMPILED_CUTS[name]


def qcut_codes(df):
    return pd.qcut(df["f"], 4, labels=False) == 1


def cut_labels(df):
    return pd.cut(df["f"], 4).astype(str)


@pytest.mark.parametrize("fn", [qcut_codes, cut_labels])
def test_quantile_bins_and_labels_stay_in_python(fn: Any) -> None:
    compiled = quiet_compile(fn, NUMBERS)
    assert python_reasons(compiled, PACKING), compiled.explain()
    same_on_batches(fn, compiled, _number_frames()[:2])


# endregion
