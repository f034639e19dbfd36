"""Notebook idioms made native by native14 (or kept in Python, with the reason explain()
gives): numpy's NaN-skipping reductions of a column (``np.nansum``, ``np.nanmean``, ...),
``pd.to_numeric(s, errors="coerce")`` of a numeric column, ``select_dtypes`` of a frame
argument, ``s.isin([..., np.nan])`` of a numeric column, ``s.str.count/find/rfind/replace``
of a literal, ``SimpleImputer(add_indicator=True)``, ``OneHotEncoder``'s infrequent
categories and ``TargetEncoder.transform``; the compiled pipeline against the original
function, bit for bit, on real tables (palmerpenguins, openintro loans) and adversarial
batches (NaN, None, all missing, one row, no rows, another index, int32 and bool columns,
Unicode, empty strings, pandas' str dtype, unknown categories, infinity)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notebook_check import python_reasons, quiet_compile, same_on_batches
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder

from willump_mlir.corpus import table
from willump_mlir.frontend.tracer import ARRAY_ROW_REDUCTION
from willump_mlir.selfcheck import difference
from willump_mlir.workloads import trump_tweets

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

PACKING = "a list, tuple or dict of values stays in Python"
PENGUINS = table("palmerpenguins", "penguins").iloc[:200].copy()
PENGUINS["year32"] = PENGUINS["year"].astype(np.int32)
PENGUINS["heavy"] = PENGUINS["body_mass_g"] > 4000
PENGUINS["code"] = PENGUINS["species"].map({"Adelie": 1.0, "Gentoo": 2.0}).astype(float)
LOANS = table("openintro", "loans_full_schema")[["emp_title", "loan_purpose", "state",
                                                 "annual_income"]].iloc[:400].copy()  # fmt: skip


def _native(compiled: Any) -> None:
    """Nothing of ``compiled`` runs in Python (but packing its results in a tuple)."""
    assert not python_reasons(compiled, PACKING) and compiled.original_reason is None, \
        compiled.explain()  # fmt: skip


def _in_python(compiled: Any, reason: str) -> None:
    """A step of ``compiled`` runs in Python, and explain() gives ``reason`` for it."""
    assert any(reason in r for r in python_reasons(compiled)), python_reasons(compiled)
    assert reason in " ".join(compiled.explain().split())


def _penguin_batches() -> list[pd.DataFrame]:
    """Other rows, one row, one row of NaN, no rows, another index, every float missing,
    a column of -0.0 and huge magnitudes (a pairwise sum rounds apart from one in order)."""
    rest = table("palmerpenguins", "penguins").iloc[200:].copy()
    rest["year32"] = rest["year"].astype(np.int32)
    rest["heavy"] = rest["body_mass_g"] > 4000
    rest["code"] = rest["species"].map({"Adelie": 1.0, "Gentoo": 2.0}).astype(float)
    floats = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "code"]
    missing = PENGUINS.copy()
    missing[floats] = np.nan
    huge = PENGUINS.copy()
    rng = np.random.default_rng(14)
    huge["bill_length_mm"] = rng.normal(size=len(huge)) * np.exp(rng.normal(size=len(huge)) * 20)
    huge.iloc[:5, huge.columns.get_loc("bill_depth_mm")] = -0.0
    # beyond numpy's 8,192-value buffers, int64 values of 2^40 (their float sums round)
    big = huge.sample(20_000, replace=True, random_state=14).reset_index(drop=True)
    big["year"] = rng.integers(-(2**40), 2**40, len(big))
    return [rest, PENGUINS.iloc[[3]], PENGUINS.iloc[[0]], PENGUINS.iloc[:0], missing, huge,
            PENGUINS.set_index(PENGUINS.index * 3 + 7), huge.iloc[::-1], big]  # fmt: skip


def _same(fn: Any, compiled: Any, batches: list[pd.DataFrame]) -> None:
    same_on_batches(fn, compiled, batches, bits=True)


# region 1: numpy's NaN-skipping reductions of a column


def nan_standardized(df):
    bill = df["bill_length_mm"]
    return (bill - np.nanmean(bill)) / np.nanstd(bill)


def nan_reductions(df):
    mass, depth = df["body_mass_g"], df["bill_depth_mm"]
    return (mass / np.nansum(mass) + np.nanvar(depth) - np.nanmedian(depth)
            + np.nanmax(mass) - np.nanmin(df["flipper_length_mm"]))  # fmt: skip


def nan_of_ints(df):
    year = df["year"]
    return year - np.nanmean(year) + np.nansum(df["year32"]) + np.nansum(df["heavy"]) \
        + np.nanmean(df["heavy"]) + np.nanstd(df["year32"]) \
        + np.nanmax(year) - np.nanmin(year)  # fmt: skip


def nan_fill(df):
    return df["bill_length_mm"].fillna(np.nanmedian(df["bill_length_mm"])), \
        df["code"].fillna(np.nanmean(df["code"]))  # fmt: skip


@pytest.mark.parametrize("fn", [nan_standardized, nan_reductions, nan_of_ints, nan_fill])
def test_nan_reductions_are_native(fn: Any) -> None:
    compiled = quiet_compile(fn, PENGUINS)
    _native(compiled)
    _same(fn, compiled, _penguin_batches())
    assert set(compiled.handoffs.calls) == {"empty"}, compiled.handoffs.calls  # else native


def nanmin_of_int32(df):
    return df["year32"] - np.nanmin(df["year32"])


def test_nanmin_of_int32_runs_in_python_and_says_why() -> None:
    """numpy's extreme of an int32 column is an int32 scalar, not the int64 of native code."""
    compiled = quiet_compile(nanmin_of_int32, PENGUINS)
    _in_python(compiled, "numpy computes on int32 otherwise than on int64")
    _same(nanmin_of_int32, compiled, _penguin_batches())


def row_nansum(df):
    return np.nansum(df[["bill_length_mm", "bill_depth_mm"]].values, axis=1)


def test_row_nansum_runs_in_python_and_says_why() -> None:
    compiled = quiet_compile(row_nansum, PENGUINS)
    _in_python(compiled, ARRAY_ROW_REDUCTION)
    batch = PENGUINS.iloc[::-1]
    np.testing.assert_array_equal(compiled(batch), row_nansum(batch))


# endregion
# region 2: pd.to_numeric of numeric columns


def numeric_coerced(df):
    return pd.to_numeric(df["bill_length_mm"], errors="coerce").fillna(0) \
        + pd.to_numeric(df["year"], errors="coerce") * 2 \
        + pd.to_numeric(df["year32"], errors="coerce") + pd.to_numeric(df["heavy"])  # fmt: skip


def numeric_returned(df):
    return pd.to_numeric(df["year32"], errors="coerce") - 2000, \
        pd.to_numeric(df["heavy"]) & (df["year"] > 2008), \
        pd.to_numeric(df["code"], errors="raise") * 2  # fmt: skip


@pytest.mark.parametrize("fn", [numeric_coerced, numeric_returned])
def test_to_numeric_of_numbers_is_native(fn: Any) -> None:
    compiled = quiet_compile(fn, PENGUINS)
    _native(compiled)
    _same(fn, compiled, _penguin_batches())
    assert set(compiled.handoffs.calls) == {"empty"}, compiled.handoffs.calls  # else native


def numeric_of_text(df):
    return pd.to_numeric(df["t"], errors="coerce").fillna(-1)


def numeric_of_nullable(df):
    return pd.to_numeric(df["n"], errors="coerce") + 1


@pytest.mark.parametrize(("fn", "reason"), [
    (numeric_of_text, "pd.to_numeric of a str column is not compiled"),
    (numeric_of_nullable, "pd.to_numeric of a Int64 column is not compiled"),
])  # fmt: skip
def test_to_numeric_of_text_runs_in_python_and_says_why(fn: Any, reason: str) -> None:
    frame = pd.DataFrame({
        "t": ["1", "2.5", "x", None, "", " 7 ", "1e3", "ⅷ"] * 5,
        "n": pd.array([1, None, 3, 4, 5, 6, 7, 8] * 5, dtype="Int64"),
    })  # fmt: skip
    compiled = quiet_compile(fn, frame)
    _in_python(compiled, reason)
    integers = frame.assign(t=["1", "2", "3", "4", "5", "6", "7", "8"] * 5)  # int64 in pandas
    _same(fn, compiled, [frame, frame.iloc[::-1], frame.iloc[[2]], integers])


# endregion
# region 3: select_dtypes of a frame argument


def numeric_max(df):
    return df.select_dtypes("number").fillna(0).max(axis=1)


def float_columns(df):
    return df.select_dtypes(include=["float64"]).fillna(-1) * 2


def without_text(df):
    return df[["species", "bill_length_mm", "year", "heavy"]].select_dtypes(
        exclude="object").fillna(0) + 1  # fmt: skip


@pytest.mark.parametrize("fn", [numeric_max, float_columns, without_text])
def test_select_dtypes_of_an_argument_is_native(fn: Any) -> None:
    """The example's columns and dtypes choose the columns: a batch with another dtype, an
    extra, missing or reordered column runs the original (an "input" handoff)."""
    compiled = quiet_compile(fn, PENGUINS)
    _native(compiled)
    others = [
        PENGUINS.assign(year=PENGUINS["year"].astype(float)), PENGUINS.assign(extra=1.0),
        PENGUINS[PENGUINS.columns[::-1]], PENGUINS.assign(species=1.0),
        PENGUINS.drop(columns="sex"), PENGUINS.assign(heavy=PENGUINS["heavy"].astype(object)),
    ]  # fmt: skip
    # (a frame's values are compared by selfcheck.difference: exact, NaN to NaN)
    same_on_batches(fn, compiled, [*_penguin_batches(), *others], bits=fn is numeric_max)
    assert compiled.handoffs.calls["input"] == len(others), compiled.handoffs.calls


# endregion
# region 4: isin with NaN among the numbers


def isin_nan(df):
    return df["bill_length_mm"].isin([39.1, np.nan]), df["code"].isin([float("nan")]), \
        df["year"].isin([np.nan, 2008]), df["year"].isin([np.nan]), \
        df["bill_depth_mm"].isin([0, np.float64("nan"), 18.7])  # fmt: skip


def isin_nan_to_model(df):
    return MODEL.predict_proba(np.column_stack([df["code"].isin([np.nan, 1.0]).astype(float),
                                                df["year"].isin([2009]).astype(float)]))


MODEL = LogisticRegression().fit(np.c_[PENGUINS["code"].isna(), PENGUINS["year"] == 2009],
                                 PENGUINS["species"] == "Adelie")  # fmt: skip


@pytest.mark.parametrize("fn", [isin_nan, isin_nan_to_model])
def test_isin_with_nan_is_native(fn: Any) -> None:
    compiled = quiet_compile(fn, PENGUINS)
    _native(compiled)
    zeros = PENGUINS.assign(bill_depth_mm=np.where(np.arange(len(PENGUINS)) % 2, 0.0, -0.0))
    same_on_batches(fn, compiled, [*_penguin_batches(), zeros], bits=fn is isin_nan)
    assert set(compiled.handoffs.calls) == {"empty"}, compiled.handoffs.calls


def isin_float32_nan(df):
    return df["code"].isin([np.float32("nan"), 1.0])


def test_isin_with_another_nan_runs_in_python_and_says_why() -> None:
    compiled = quiet_compile(isin_float32_nan, PENGUINS)
    _in_python(compiled, "isin with a float32 NaN (which pandas matches to no value)")
    _same(isin_float32_nan, compiled, _penguin_batches())


# endregion
# region 5: str.count, str.find, str.rfind and str.replace of a literal


TEXT = ["abab", "", "ééaé", "aXa", "aaaa", "ab", "日本語ab日本", "b", "ßaß", "a a", "😀ab😀a",
        "aaa", "ba"]  # fmt: skip


def _text(dtype: Any, missing: bool, n: int = 65, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values: list[Any] = list(rng.choice(TEXT, n))
    if missing:
        values[::4] = [None] * len(values[::4])
        values[1::6] = [np.nan] * len(values[1::6])
    return pd.DataFrame({"s": pd.Series(values, dtype=dtype), "x": rng.normal(size=n)})


def text_searches(df):
    s = df["s"]
    return s.str.count("a"), s.str.count("aa"), s.str.find("ab"), s.str.rfind("a"), \
        s.str.find("日本"), s.str.rfind("😀"), s.str.count("é")  # fmt: skip


def text_compared(df):
    return (df["s"].str.count("a") >= 2) & (df["s"].str.find("b") != -1), \
        df["s"].str.rfind("ab") * 2 + df["x"]  # fmt: skip


def _text_batches(dtype: Any) -> list[pd.DataFrame]:
    frame = _text(dtype, False)
    return [frame, _text(dtype, False, 200, 1), frame.iloc[[1]], frame.iloc[:0],
            _text(dtype, True, 80, 2), _text(dtype, True, 1, 3),
            frame.set_index(frame.index * 5 + 1)]  # fmt: skip


@pytest.mark.parametrize("dtype", [object, "str"])
@pytest.mark.parametrize("fn", [text_searches, text_compared])
def test_text_searches_are_native(fn: Any, dtype: Any) -> None:
    compiled = quiet_compile(fn, _text(dtype, False))
    _native(compiled)
    # (pandas' & of a batch with missing values is an object column holding NaN)
    same_on_batches(fn, compiled, _text_batches(dtype), bits=fn is text_searches)
    assert compiled.handoffs.calls["not-integer"] >= 1  # a missing value: float64 in pandas


def text_replaced(df):
    s = df["s"]
    return s.str.replace("a", "XYZ", regex=False) == "XYZbXYZb", \
        s.str.replace("aa", "").str.len(), s.str.replace("é", "e").str.upper() == "EEAE", \
        s.str.replace("日本", "→") + "!", s.str.replace("😀", "").str.count("a")  # fmt: skip


@pytest.mark.parametrize("dtype", [object, "str"])
def test_text_replace_is_native(dtype: Any) -> None:
    compiled = quiet_compile(text_replaced, _text(dtype, False))
    _native(compiled)
    same_on_batches(text_replaced, compiled, _text_batches(dtype))


def purpose_replaced(df):
    return df["loan_purpose"].str.replace("_", " ", regex=False).str.count(" ") \
        + (df["state"].str.replace("N", "") == "Y")  # fmt: skip


def test_text_replace_of_real_purposes() -> None:
    compiled = quiet_compile(purpose_replaced, LOANS.iloc[:300])
    _native(compiled)
    rest = LOANS.iloc[300:]
    same_on_batches(purpose_replaced, compiled, [rest, LOANS.iloc[[0]], rest.iloc[::-1]],
                    bits=True)  # fmt: skip


def replace_regex(df):
    return df["s"].str.replace("a+", "b", regex=True)


def replace_escape(df):
    return df["s"].str.replace("a", "\\\\", regex=True)


def replace_first(df):
    return df["s"].str.replace("a", "b", n=1)


def purpose_to_model(df):
    words = df["emp_title"].str.count(" ") + df["emp_title"].str.find("manager")
    return WORDS_MODEL.predict_proba(np.column_stack([words.fillna(-5),
                                                      df["loan_purpose"].str.rfind("_")]))


WORDS_MODEL = LogisticRegression().fit(
    np.c_[LOANS["emp_title"].str.count(" ").fillna(-5), LOANS["loan_purpose"].str.len()],
    LOANS["annual_income"] > 60000,
)  # fmt: skip


def test_text_searches_of_real_titles_feed_a_model() -> None:
    """Titles with missing values on the example: float64 counts, which only the model
    reads (pandas gives int64 for a batch without one)."""
    assert LOANS["emp_title"].isna().any()
    compiled = quiet_compile(purpose_to_model, LOANS.iloc[:300])
    _native(compiled)
    rest = LOANS.iloc[300:]
    same_on_batches(purpose_to_model, compiled,
                    [rest, rest.dropna(), LOANS.iloc[[0]], rest.iloc[::-1]])  # fmt: skip


def count_regex(df):
    return df["s"].str.count("a+")


def find_from(df):
    return df["s"].str.find("a", 1)


def count_empty(df):
    return df["s"].str.count("")


def counts_returned(df):
    return df["s"].str.count("a")


@pytest.mark.parametrize(("fn", "missing", "reason"), [
    (count_regex, False, "a regular expression is not compiled"),
    (find_from, False, "str.find with flags, start or end is not compiled"),
    (count_empty, False, "str.count of an empty pattern"),
    (counts_returned, True, "the lengths of a column with missing values are float64"),
    (replace_regex, False, "a regular expression is not compiled"),
    (replace_escape, False, "a regular expression is not compiled"),
    (replace_first, False, "str.replace with n, case=False or flags is not compiled"),
])  # fmt: skip
def test_text_searches_in_python_say_why(fn: Any, missing: bool, reason: str) -> None:
    compiled = quiet_compile(fn, _text(object, missing))
    _in_python(compiled, reason)
    same_on_batches(fn, compiled, _text_batches(object))  # (object results holding NaN)


def text_edits(df):
    s = df["s"]
    return s.str.count("a"), s.str.count("aa"), s.str.find("ab"), s.str.rfind("a"), \
        s.str.find("日本"), s.str.rfind("😀"), s.str.count("é"), \
        s.str.replace("a", "bb").str.len(), s.str.replace("ab", "").str.len(), \
        s.str.replace("é", "😀").str.find("😀")  # fmt: skip


SEARCHED = quiet_compile(text_edits, _text(object, False))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab é日😀\x00", max_size=12), min_size=1, max_size=20))
def test_text_searches_match_python(values: list[str]) -> None:
    frame = pd.DataFrame({"s": pd.Series(values, dtype=object), "x": 0.0})
    same_on_batches(text_edits, SEARCHED, [frame], bits=True)
    assert SEARCHED.handoffs.calls["not-integer"] == 0


# endregion
# region 6: SimpleImputer(add_indicator=True)

NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "code"]


def _imputing_model(strategy: str) -> Any:
    imputer = SimpleImputer(strategy=strategy, add_indicator=True, fill_value=-1)
    numbers = make_pipeline(imputer, StandardScaler())
    encoder = OneHotEncoder(handle_unknown="ignore")
    columns = ColumnTransformer([("n", numbers, NUMBERS), ("c", encoder, ["island"])])
    model = make_pipeline(columns, LogisticRegression(max_iter=2000))
    return model.fit(PENGUINS, PENGUINS["species"] == "Adelie")


def imputed_scores(df, model):
    return model.predict_proba(df)[:, 1]


def imputed_matrix(df, imputer):
    return imputer.transform(df[NUMBERS])


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
def test_imputer_with_indicator_is_native(strategy: str) -> None:
    """The missing flags of the columns missing in fit follow the imputed columns; a column
    never missing in fit gets none (``error_on_new=False``), even where a batch misses it."""
    imputer = SimpleImputer(strategy=strategy, add_indicator=True, fill_value=-1)
    imputer.fit(PENGUINS[NUMBERS])  # code (Chinstrap: NaN) is missing in later rows only
    assert list(imputer.indicator_.features_) == [0, 1, 2, 3]
    partial = SimpleImputer(strategy=strategy, add_indicator=True, fill_value=-1)
    partial.fit(PENGUINS[NUMBERS].fillna({"bill_length_mm": 0.0}))
    assert list(partial.indicator_.features_) == [1, 2, 3]
    infinite = PENGUINS.assign(code=np.where(PENGUINS["code"] == 1.0, np.inf, PENGUINS["code"]))
    batches = [*_penguin_batches(), infinite]
    for fn, fitted, bits in ((imputed_matrix, imputer, True), (imputed_matrix, partial, True),
                             (imputed_scores, _imputing_model(strategy), False)):  # fmt: skip
        compiled = quiet_compile(fn, PENGUINS, fitted)
        _native(compiled)
        same_on_batches(lambda d, f=fn, m=fitted: f(d, m),
                        lambda d, c=compiled, m=fitted: c(d, m), batches, bits=bits)  # fmt: skip


# endregion
# region 7: OneHotEncoder with infrequent categories

CATEGORIES = ["state", "loan_purpose"]


def encoded(df, encoder):
    return encoder.transform(df[CATEGORIES])


def encoded_scores(df, model):
    return model.predict_proba(df)[:, 1]


def _encoder_batches() -> list[pd.DataFrame]:
    """Other rows, one row, unknown states and purposes, missing values (None, NaN)."""
    rest = LOANS.iloc[300:]
    unknown = rest.assign(state=["ZZ", "Ω"] * (len(rest) // 2), loan_purpose="new")
    missing = rest.copy()
    missing.loc[missing.index[::3], "state"] = None
    missing.loc[missing.index[1::3], "loan_purpose"] = np.nan
    return [rest, LOANS.iloc[[0]], unknown, unknown.iloc[[1]], missing]


@pytest.mark.parametrize("options", [
    {"min_frequency": 10, "handle_unknown": "infrequent_if_exist"},
    {"min_frequency": 0.05, "handle_unknown": "ignore"},
    {"max_categories": 4, "handle_unknown": "infrequent_if_exist"},
    {"max_categories": 3, "min_frequency": 5, "handle_unknown": "error"},
])  # fmt: skip
def test_onehot_with_infrequent_categories_is_native(options: dict[str, Any]) -> None:
    """The infrequent categories of a column share its last column, which an unknown one
    takes with ``infrequent_if_exist`` (``ignore``: zeros; ``error``: the original raises)."""
    train = LOANS.iloc[:300].copy()
    train.loc[train.index[::7], "state"] = None
    encoder = OneHotEncoder(**options, sparse_output=False).fit(train[CATEGORIES])
    assert any(i is not None for i in encoder._infrequent_indices)
    model = make_pipeline(
        ColumnTransformer([("c", OneHotEncoder(**options), CATEGORIES)]),
        LogisticRegression(max_iter=2000),
    ).fit(train, train["annual_income"] > 60000)  # fmt: skip
    for fn, fitted, bits in ((encoded, encoder, True), (encoded_scores, model, False)):
        compiled = quiet_compile(fn, train, fitted)
        _native(compiled)
        same_on_batches(lambda d, f=fn, m=fitted: f(d, m),
                        lambda d, c=compiled, m=fitted: c(d, m), _encoder_batches(),
                        bits=bits)  # fmt: skip


# endregion
# region 8: TargetEncoder.transform

TARGETED = ["state", "loan_purpose", "emp_length"]


def target_encoded(df, encoder):
    return encoder.transform(df[TARGETED])


def target_scores(df, model):
    return model.predict(df)


@pytest.mark.parametrize("target_type", ["binary", "continuous"])
def test_target_encoder_is_native(target_type: str) -> None:
    """A category's encoding; an unknown one (an unseen state or number, NaN or None not
    seen in fit) the target mean; infinity refused as scikit-learn refuses it."""
    loans = table("openintro", "loans_full_schema")[[*TARGETED, "annual_income"]].iloc[:500]
    loans = loans.copy()
    loans.loc[loans.index[::11], "state"] = None
    train, rest = loans.iloc[:300], loans.iloc[300:]
    target = train["annual_income"] > 60000 if target_type == "binary" else train["annual_income"]
    encoder = TargetEncoder(target_type=target_type).fit(train[TARGETED], target)
    columns = ColumnTransformer([("t", TargetEncoder(target_type=target_type), TARGETED)])
    model = make_pipeline(columns, LogisticRegression() if target_type == "binary" else Ridge())
    model.fit(train, target)
    batches = [rest, loans.iloc[[0]], rest.assign(state="ZZ", emp_length=99.0),
               rest.assign(emp_length=np.nan, loan_purpose=None),
               rest.assign(emp_length=np.inf), rest.iloc[::-1]]  # fmt: skip
    for fn, fitted in ((target_encoded, encoder), (target_scores, model)):
        compiled = quiet_compile(fn, train, fitted)
        _native(compiled)
        same_on_batches(lambda d, f=fn, m=fitted: f(d, m),
                        lambda d, c=compiled, m=fitted: c(d, m), batches,
                        bits=fn is target_encoded)  # fmt: skip


def target_encoded_multiclass(df, encoder):
    return encoder.transform(df[["state"]])


def test_multiclass_target_encoder_runs_in_python_and_says_why() -> None:
    loans = table("openintro", "loans_full_schema").iloc[:300]
    encoder = TargetEncoder().fit(loans[["state"]], loans["grade"])
    compiled = quiet_compile(target_encoded_multiclass, loans, encoder)
    _in_python(compiled, "TargetEncoder of a multiclass target (a column per class)")
    same_on_batches(lambda d: target_encoded_multiclass(d, encoder),
                    lambda d: compiled(d, encoder), [loans.iloc[::-1]], bits=True)  # fmt: skip


# endregion
# region 9: a vectorizer's token_pattern of words of one character too

ONE_CHARACTER = ["a b c", "I", "x", "", "é ß 日 本", "_ 1 2 3", "a-b.c", "😀 a 😀", "A I a i",
                 "ⅷ ² ₂", "e\u0301 x", "  ", "I am a cat"]  # fmt: skip


def vectorized(texts, vectorizer):
    return vectorizer.transform(texts)


def vectorized_scores(texts, vectorizer, model):
    return model.predict_proba(vectorizer.transform(texts))[:, 1]


@pytest.mark.parametrize("pattern", [r"\b\w+\b", r"(?u)\b\w+\b", r"\w+", r"\w\w+"])
@pytest.mark.parametrize("make", [
    lambda p: CountVectorizer(token_pattern=p),
    lambda p: TfidfVectorizer(token_pattern=p, ngram_range=(1, 2), stop_words="english"),
    lambda p: HashingVectorizer(token_pattern=p, n_features=2**12),
])  # fmt: skip
def test_word_token_patterns_are_native(pattern: str, make: Any) -> None:
    r"""``\b\w+\b`` (and its spellings) tokenizes maximal runs of word characters, one
    character long too, as the default ``\b\w\w+\b`` does from two: tweets, and text
    of one-character words (Unicode letters, digits, a combining accent, an emoji)."""
    texts, labels = trump_tweets.load_texts()
    order = np.random.default_rng(14).permutation(len(texts))[:1200]
    texts, labels = [texts[i] for i in order], labels[order]
    vectorizer = make(pattern).fit(texts[:900])
    model = LogisticRegression(max_iter=500).fit(vectorizer.transform(texts[:900]), labels[:900])
    for fn, rest in ((vectorized, (vectorizer,)), (vectorized_scores, (vectorizer, model))):
        compiled = quiet_compile(fn, texts[:200], *rest)
        _native(compiled)
        for batch in (texts[900:], ONE_CHARACTER, ONE_CHARACTER[:1], ["I"]):
            want, got = fn(batch, *rest), compiled(batch, *rest)
            assert difference(want, got) is None, difference(want, got)
            if fn is vectorized:  # the same terms, counted the same, each weight bit for bit
                assert (want != got).nnz == 0
        assert not compiled.handoffs.calls, compiled.handoffs.calls


# endregion
# region 10: idioms that stay in Python, and the reason explain() gives


def shifted(df):
    return df["bill_length_mm"].shift(1).fillna(0) + df["bill_depth_mm"].diff().fillna(0)


def ranked(df):
    return df["body_mass_g"].rank() / len(df)


def filled_forward(df):
    return df["bill_length_mm"].ffill().fillna(-1)


def factorized(df):
    return pd.factorize(df["species"])[0] * 2


def category_codes(df):
    return df["island"].astype("category").cat.codes + 1


def titled(df):
    return df["species"].str.title() == "Adelie", df["island"].str.zfill(12) == "0000000Dream"


def numbers_of_python_frame(df):
    return df.shift(1).select_dtypes("number").fillna(0) * 2


@pytest.mark.parametrize(("fn", "reason"), [
    (shifted, "shift: reads other rows of the batch in its order"),
    (ranked, "rank: ranks each value among the batch's values"),
    (filled_forward, "ffill: reads other rows of the batch in its order"),
    (numbers_of_python_frame, "select_dtypes: the batch's dtypes choose the columns"),
    (factorized, "factorize: numbers the values in the order they first appear"),
    (category_codes, "astype('category') takes the batch's own sorted values"),
    (titled, "Unicode word casing (title, capitalize, swapcase, casefold) is not compiled"),
    (titled, "padding to a width (a new string per value) is not compiled"),
])  # fmt: skip
def test_batch_idioms_run_in_python_and_say_why(fn: Any, reason: str) -> None:
    compiled = quiet_compile(fn, PENGUINS)
    _in_python(compiled, reason)
    same_on_batches(fn, compiled, _penguin_batches())


# endregion
