"""``marshal.Columns``: a frame argument given as its columns (how ``willump serve`` passes
a table request, and ``wm.ray`` an Arrow block: ``arrow_columns``) gives what the same call
on its DataFrame gives, results and errors, without building the DataFrame when no Python
code reads it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import serve_pipelines as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm
from willump_mlir.runtime.marshal import Columns, InputError, arrow_columns


def columns(frame: pd.DataFrame) -> Columns:
    return Columns({name: column.array if not isinstance(column.dtype, np.dtype)
                    else column.to_numpy() for name, column in frame.items()})  # fmt: skip


def same(got: Any, expected: Any) -> None:
    if isinstance(expected, pd.Series | pd.DataFrame):
        assert type(got) is type(expected)
        assert got.equals(expected) and list(got.index) == list(expected.index)
        assert getattr(got, "name", None) == getattr(expected, "name", None)
    else:
        np.testing.assert_array_equal(got, expected)
        assert np.asarray(got).dtype == np.asarray(expected).dtype


def errors(call: Any) -> tuple[type, str]:
    with pytest.raises(Exception) as raised:
        call()
    return type(raised.value), str(raised.value)


@pytest.fixture(scope="module")
def loans() -> tuple[Any, Any, Any, pd.DataFrame]:
    frame, y = sp.loans()
    model = sp.loan_model(frame[:400], y[:400], unknown="error")
    native = wm.compile(sp.score_loans, example=(frame[:200], model))
    python = wm.compile(sp.score_loans_py, example=(frame[:200], model))
    return native, python, model, frame[400:].reset_index(drop=True)


def test_columns_build_their_frame_with_each_arrays_dtype() -> None:
    table = Columns({
        "f": np.array([1.5, np.nan]), "i": np.array([1, 2]),
        "o": np.array(["a", None], dtype=object), "s": pd.array(["a", None], dtype="str"),
    })  # fmt: skip
    frame = table.frame()
    assert [str(d) for d in frame.dtypes] == ["float64", "int64", "object", "str"]
    assert isinstance(frame.index, pd.RangeIndex) and table.rows == 2
    assert table.frame() is frame  # built once
    assert list(table) == ["f", "i", "o", "s"] and table["i"].tolist() == [1, 2]
    assert table.take(np.array([1])).frame()["o"].tolist() == [None]
    with pytest.raises(InputError, match="different lengths"):
        Columns({"a": np.zeros(2), "b": np.zeros(3)})


@pytest.mark.parametrize("rows", [slice(0, 200), slice(5, 6), slice(0, 2)])
def test_native_and_python_steps_give_the_frames_result(loans: Any, rows: slice) -> None:
    native, python, model, fresh = loans
    part = fresh.iloc[rows].reset_index(drop=True)
    assert part["amount"].isna().any() or rows.stop - rows.start < 10
    for compiled, fn in ((native, sp.score_loans), (python, sp.score_loans_py)):
        table = columns(part)
        same(compiled(table), compiled(part))
        np.testing.assert_allclose(compiled(table), fn(part, model), rtol=0, atol=1e-9)
    table = columns(part)
    native(table)
    assert table._frame is None  # fully native: no DataFrame was built


def test_errors_are_the_frames_errors(loans: Any) -> None:
    native, _, _, fresh = loans
    unknown = fresh.iloc[:3].assign(grade=["A", "Z", "B"])  # an unknown category
    assert errors(lambda: native(columns(unknown))) == errors(lambda: native(unknown))
    assert "'Z'" in errors(lambda: native(unknown))[1]
    empty = fresh.iloc[:0]  # 0 rows: the original function runs, and raises
    assert errors(lambda: native(columns(empty))) == errors(lambda: native(empty))
    missing = fresh.drop(columns=["state"]).iloc[:4]
    assert errors(lambda: native(columns(missing))) == errors(lambda: native(missing))


def add_years(frame: pd.DataFrame) -> pd.Series:
    return frame["rate"] * 2 + frame["years"]


def fill_state(frame: pd.DataFrame) -> pd.Series:
    return frame["state"].fillna("none")


def tfidf_score(frame: pd.DataFrame, vectorizer: TfidfVectorizer, model: Any) -> Any:
    return model.predict_proba(vectorizer.transform(frame["text"]))[:, 1]


@pytest.mark.parametrize("fn", [add_years, fill_state])
def test_pandas_results_keep_the_frames_index_and_dtypes(fn: Any) -> None:
    frame = pd.DataFrame({
        "rate": [1.5, np.nan, 3.0, 4.0], "years": np.array([1, 2, 3, 4]),
        "state": pd.Series(["CA", None, np.nan, "NY"], dtype=object),
    })  # fmt: skip
    compiled = wm.compile(fn, example=(frame,))
    for part in (frame, frame.iloc[[2]].reset_index(drop=True)):
        same(compiled(columns(part)), fn(part))
        same(compiled(columns(part)), compiled(part))


def test_a_text_column_is_read_from_its_array() -> None:
    docs = [f"{w} movie {k % 7}" for k, w in enumerate(["good", "bad", "great", "dull"] * 60)]
    frame = pd.DataFrame({"text": pd.Series(docs, dtype=object), "n": np.arange(len(docs))})
    vectorizer = TfidfVectorizer().fit(docs)
    model = LogisticRegression().fit(vectorizer.transform(docs), np.arange(len(docs)) % 2)
    compiled = wm.compile(tfidf_score, example=(frame[:100], vectorizer, model))
    for part in (frame[100:], frame.iloc[[7]].reset_index(drop=True)):
        same(compiled(columns(part)), compiled(part))
        np.testing.assert_allclose(compiled(columns(part)), tfidf_score(part, vectorizer, model),
                                   rtol=0, atol=1e-9)  # fmt: skip


def test_a_cascade_takes_the_unsettled_rows_of_columns() -> None:
    fast, model, rows = sp.cascade()
    same(fast(columns(rows)), fast(rows, model))
    np.testing.assert_array_equal(fast.top_k(9, columns(rows)), fast.top_k(9, rows, model))


def arrow_table() -> pa.Table:
    """Every kind of column a Ray Data block holds: numbers with and without nulls, bools,
    str (nulls, empty strings, Unicode; string and large_string; two chunks), dates."""
    words = ["CA", None, "", "Zürich", "日本", "NY"] * 6
    return pa.table({
        "f": pa.array(np.linspace(0, 1, 36)),
        "f_null": pa.array([1.5, None, -0.0] * 12, pa.float64()),
        "i": pa.array(np.arange(36, dtype=np.int64)),
        "i_null": pa.array([1, None, 3] * 12, pa.int64()),
        "b": pa.array([True, False] * 18),
        "b_null": pa.array([True, None, False] * 12),
        "s": pa.array(words, pa.string()),
        "s_full": pa.array([w or "x" for w in words], pa.string()),
        "large": pa.array(words, pa.large_string()),
        "chunks": pa.chunked_array([words[:10], words[10:]], pa.string()),
        "t": pa.array(np.arange(36).astype("datetime64[s]")),
    })  # fmt: skip


def test_arrow_columns_are_the_columns_of_to_pandas() -> None:
    table = arrow_table()
    for names in (table.column_names, ["s_full", "f"], ["chunks"]):
        got = arrow_columns(table, names)
        assert list(got) == names and got.rows == 36
        pd.testing.assert_frame_equal(got.frame(), table.select(names).to_pandas())
    shared = arrow_columns(table, ["f"]).arrays["f"]  # numbers without nulls: read in place
    assert np.shares_memory(shared, table.column("f").chunk(0).to_numpy())
    assert str(arrow_columns(table, ["s"]).arrays["s"].dtype) == str(table["s"].to_pandas().dtype)
    rows = np.array([4, 1])
    pd.testing.assert_frame_equal(arrow_columns(table, table.column_names).take(rows).frame(),
                                  table.take(rows).to_pandas())  # fmt: skip


def test_arrow_columns_keep_the_dtypes_pandas_metadata_names() -> None:
    """A block written from pandas (``from_pandas``, Parquet) names its columns' dtypes: a
    nullable Int64, boolean or string column converts to one, as ``to_pandas`` does."""
    frame = pd.DataFrame({
        "o": pd.Series(["a", None, "é"], dtype=object),
        "s": pd.Series(["a", None, ""], dtype="str"),
        "I": pd.array([1, None, 3], dtype="Int64"), "I_full": pd.array([1, 2, 3], dtype="Int64"),
        "i": [1, 2, 3], "f": [1.0, np.nan, 2.0], "c": pd.Categorical(["x", "y", "x"]),
        "B": pd.array([True, None, False], dtype="boolean"),
        "sn": pd.array(["a", None, "b"], dtype="string"),
        "sn_full": pd.array(list("abc"), dtype="string"),
        "u": np.array([1, 2, 3], dtype=np.uint8), "f32": np.array([1, 2, 3], dtype=np.float32),
    })  # fmt: skip
    table = pa.Table.from_pandas(frame, preserve_index=False)
    names = ["sn_full", "f", "I_full", "o", "c", "B", "I", "s", "i", "sn", "u", "f32"]
    expected = table.select(names).to_pandas()
    pd.testing.assert_frame_equal(arrow_columns(table, names).frame(), expected)


@pytest.fixture(scope="module")
def ignoring(loans: Any) -> Any:
    """The loan pipeline with unknown (and missing) categories ignored."""
    frame, y = sp.loans()
    model = sp.loan_model(frame[:400], y[:400], unknown="ignore")
    return wm.compile(sp.score_loans, example=(frame[:200], model))


@pytest.mark.parametrize("rows", [slice(0, 200), slice(5, 6), slice(0, 2), slice(0, 0)])
def test_a_pipeline_on_arrow_columns_gives_the_frames_result(
    loans: Any, ignoring: Any, rows: slice
) -> None:
    native, python, _, fresh = loans
    part = fresh.iloc[rows].reset_index(drop=True)
    if len(part) > 2:  # missing, unknown and Unicode strings, as Arrow nulls and values
        part.loc[3, "state"] = None
        part.loc[7, "grade"] = np.nan
        part.loc[8, "state"] = "Zürich"
        part.loc[9, "grade"] = ""
    table = pa.Table.from_pandas(part, preserve_index=False)
    frame = table.to_pandas()
    for compiled in (native, python, ignoring):  # unknown="error": such a row is an error
        try:
            expected = compiled(frame)
        except Exception:  # noqa: BLE001 - the same error, from the columns
            assert errors(lambda c=compiled: c(arrow_columns(table, table.column_names))) == \
                errors(lambda c=compiled: c(frame))  # fmt: skip
        else:
            same(compiled(arrow_columns(table, table.column_names)), expected)
    full = pa.Table.from_pandas(fresh.assign(state="NY"), preserve_index=False)  # no nulls
    for compiled in (native, python):
        same(compiled(arrow_columns(full, full.column_names)), compiled(full.to_pandas()))
    unknown = pa.Table.from_pandas(fresh.iloc[:40].assign(grade="Z"), preserve_index=False)
    assert errors(lambda: native(arrow_columns(unknown, unknown.column_names))) == \
        errors(lambda: native(unknown.to_pandas()))  # fmt: skip
