"""``wm.ray``'s Scorer on the Arrow blocks real Parquet files and Ray Data give (in process,
no cluster): its appended column equals the original function called on ``table.to_pandas()``
of the block, row by row (probabilities within 1e-9, labels and strings identical, the same
missing places), or both raise: strings with nulls, empty and Unicode strings, large_string,
string_view, dictionary-encoded (a Parquet categorical read back), several chunks, a slice
(offsets not starting at 0), ints and bools with nulls, narrow and unsigned ints, float32,
decimal, timestamps with and without a time zone, pandas metadata naming another dtype than
the Arrow type's, 0 and 1 rows, extra and reordered columns."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import serve_pipelines as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm

WORDS = ["good", "bad", "loan", "café", "日本", "pay", "Zürich", "İstanbul", "straße", "😀"]


def text_score(frame: pd.DataFrame, vectorizer: TfidfVectorizer, model: Any) -> Any:
    return model.predict_proba(vectorizer.transform(frame["text"]))[:, 1]


def labels(frame: pd.DataFrame, model: Any) -> Any:
    return model.predict(frame)


def rate_years(frame: pd.DataFrame) -> Any:
    return (frame["rate"] * 2 + frame["years"]).to_numpy()


def upper_state(frame: pd.DataFrame) -> pd.Series:
    """A str Series with NaN where the state is missing."""
    return frame["state"].str.upper()


def rate_and_state(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["rate", "state"]]


def rows(count: int = 800) -> tuple[pd.DataFrame, np.ndarray]:
    frame, y = sp.loans(count)
    rng = np.random.default_rng(5)
    frame["text"] = [" ".join(rng.choice(WORDS, 4)) for _ in range(count)]
    return frame, y


@pytest.fixture(scope="module")
def pipelines() -> tuple[dict[str, tuple[Callable[..., Any], Any, tuple[Any, ...]]], pd.DataFrame]:
    """Compiled loan (probabilities and labels: imputer, scaler, one-hot, logistic
    regression) and TF-IDF pipelines, with their functions and models; fresh rows."""
    frame, y = rows()
    model = sp.loan_model(frame[:400], y[:400], unknown="ignore")
    vectorizer = TfidfVectorizer().fit(frame["text"][:400])
    text_model = LogisticRegression().fit(vectorizer.transform(frame["text"][:400]), y[:400])
    example = frame[:200]
    found = {
        "proba": (sp.score_loans, (model,)),
        "labels": (labels, (model,)),
        "text": (text_score, (vectorizer, text_model)),
        "arithmetic": (rate_years, ()),
    }
    compiled = {name: (fn, wm.compile(fn, example=(example, *bound)), bound)
                for name, (fn, bound) in found.items()}  # fmt: skip
    return compiled, frame[400:].reset_index(drop=True)


def recast(table: pa.Table, name: str, values: Any) -> pa.Table:
    """``table`` with column ``name`` replaced (its Arrow type is the values'), no pandas
    metadata."""
    array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    index = table.schema.get_field_index(name)
    return table.set_column(index, name, array).replace_schema_metadata(None)


def parquet(table: pa.Table, **read: Any) -> pa.Table:
    """``table`` written to Parquet (row groups of 64 rows: several chunks) and read back."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=64)
    buffer.seek(0)
    return pq.read_table(buffer, **read)


def blocks(fresh: pd.DataFrame) -> Iterator[tuple[str, pa.Table]]:
    """Arrow blocks of ``fresh``'s rows, as Parquet and Ray Data give them."""
    holes = fresh.copy()
    holes.loc[3, "state"] = None
    holes.loc[5, "grade"] = ""
    holes.loc[8, "state"] = "Zürich"
    holes.loc[9, "text"] = ""
    table = pa.Table.from_pandas(fresh, preserve_index=False)
    bare = table.replace_schema_metadata(None)
    nulls = pa.Table.from_pandas(holes, preserve_index=False)
    pieces = pa.concat_tables([bare.slice(0, 50), bare.slice(50, 3), bare.slice(53)])
    yield from {
        "metadata": table, "bare": bare, "slice": table.slice(7, 100),
        "chunks": pieces, "chunks_slice": pieces.slice(45, 40), "one_row": table.slice(13, 1),
        "no_rows": table.slice(0, 0), "str_nulls": nulls, "str_nulls_slice": nulls.slice(2, 60),
        "one_null_row": nulls.slice(3, 1),
        "extra": table.append_column("zzz", pa.array(np.arange(len(fresh)))),
        "reordered": bare.select(["text", "state", "years", "grade", "rate", "amount"]),
        "categorical": pa.Table.from_pandas(fresh.assign(grade=fresh["grade"].astype("category"))),
        "parquet": parquet(nulls),
        "parquet_dictionary": parquet(nulls, read_dictionary=["grade", "state", "text"]),
    }.items()  # fmt: skip
    for name in ("state", "text"):
        column = nulls.column(name)
        yield f"large_{name}", recast(nulls, name, column.cast(pa.large_string()))
        yield f"view_{name}", recast(nulls, name, column.cast(pa.string_view()))
        yield f"dictionary_{name}", recast(nulls, name, column.dictionary_encode()).slice(7, 100)
    for dtype in ("str", "string", "string[pyarrow]"):
        strings = {c: fresh[c].astype(dtype) for c in ("grade", "state", "text")}
        yield f"pandas_{dtype}", pa.Table.from_pandas(fresh.assign(**strings), preserve_index=False)
    years = [None if k % 7 == 0 else int(v) for k, v in enumerate(fresh["years"])]
    yield "int_nulls", recast(table, "years", pa.array(years, pa.int64()))
    yield "Int64_nulls", pa.Table.from_pandas(fresh.assign(years=pd.array(years, dtype="Int64")))
    yield "Int64", pa.Table.from_pandas(fresh.assign(years=fresh["years"].astype("Int64")))
    for kind in (pa.int8(), pa.uint8(), pa.int32(), pa.uint64(), pa.decimal128(24, 2)):
        yield f"years_{kind}", recast(table, "years", table.column("years").cast(kind))
    yield "amount_float32", recast(table, "amount", table.column("amount").cast(pa.float32()))
    yield "rate_nulls", recast(table, "rate", pa.array(fresh["rate"].where(fresh.index % 5 > 0)))
    yield "state_all_null", recast(table, "state", pa.nulls(len(fresh), pa.string()))
    yield "state_null_type", recast(table, "state", pa.nulls(len(fresh)))
    flags = [None if k % 5 == 0 else v > 10 for k, v in enumerate(fresh["years"])]
    yield "years_bool_nulls", recast(table, "years", pa.array(flags, pa.bool_()))
    hours = pa.array(pd.date_range("2020-01-01", periods=len(fresh), freq="h"))
    yield "years_timestamp", recast(table, "years", hours)
    yield "years_timestamp_tz", recast(table, "years", hours.cast(pa.timestamp("us", tz="UTC")))
    yield "years_date32", recast(table, "years", hours.cast(pa.date32()))
    meta = json.loads(table.schema.metadata[b"pandas"])
    for column in meta["columns"]:  # metadata naming other dtypes than the Arrow types'
        if column["name"] in ("years", "state"):
            column["numpy_type"], column["pandas_type"] = "float64", "float64"
    yield "metadata_differs", table.replace_schema_metadata({b"pandas": json.dumps(meta)})


def outcome(call: Callable[[], Any]) -> Any:
    """``call()``'s result, or the exception it raised."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - compared with the other side's
        return error


def assert_same(got: Any, expected: Any) -> None:
    """Numbers within 1e-9 with NaN in the same places (an object array of floats, as its
    appended column, too); anything else identical."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    if "f" in (expected.dtype.kind, got.dtype.kind):
        np.testing.assert_allclose(got.astype(float), expected.astype(float), rtol=0, atol=1e-9)
    else:
        np.testing.assert_array_equal(got, expected)


def test_blocks_score_as_the_original_on_to_pandas(pipelines: Any) -> None:
    compiled, fresh = pipelines
    tried = 0
    for block, table in blocks(fresh):
        frame = table.to_pandas()
        for name, (fn, pipeline, bound) in compiled.items():
            plan = wm.ray.feeds(pipeline, table.column_names)
            scored = outcome(lambda p=pipeline, q=plan, t=table: wm.ray.Scorer(p, q, "p")(t))
            expected = outcome(lambda f=fn, b=bound, x=frame: f(x, *b))
            where = f"{block}, {name}"
            if isinstance(expected, Exception) and table.num_rows:
                assert isinstance(scored, type(expected)), (where, scored, expected)
                assert str(expected) in f"{scored} {getattr(scored, '__notes__', '')}", where
            elif isinstance(expected, Exception):  # no rows: no values, as documented
                assert scored.column("p").to_pylist() == [], where
            else:
                assert not isinstance(scored, Exception), (where, scored)
                assert_same(scored.column("p").to_numpy(zero_copy_only=False), expected)
            tried += 1
    assert tried > 160


def test_a_training_frames_label_column_need_not_be_in_the_dataset(pipelines: Any) -> None:
    """A pipeline compiled on its training frame (with the label) scores a dataset without
    the label; a column the code reads is still required, before any task runs."""
    _, fresh = pipelines
    frame, y = rows(600)
    model = sp.loan_model(frame[:400], y[:400], unknown="ignore")
    pipeline = wm.compile(sp.score_loans, example=(frame.assign(label=y)[:200], model))
    table = pa.Table.from_pandas(fresh, preserve_index=False)
    plan = wm.ray.feeds(pipeline, table.column_names)
    assert "label" not in plan[0].columns
    scored = wm.ray.Scorer(pipeline, plan, "p")(table).column("p").to_numpy()
    assert_same(scored, sp.score_loans(table.to_pandas(), model))
    with pytest.raises(wm.InputError, match=r"no column\(s\) \['rate'\]"):
        wm.ray.feeds(pipeline, [c for c in table.column_names if c != "rate"])
    python = wm.compile(upper_state, example=(frame.assign(label=y)[:200],))
    with pytest.raises(wm.InputError, match="label"):  # Python code given the whole frame
        wm.ray.feeds(python, table.column_names)


@pytest.mark.parametrize("fn", [upper_state, rate_and_state])
def test_a_result_of_strings_with_missing_values_is_appended(fn: Any) -> None:
    """A str Series (or a frame of numbers and str) holding NaN: the appended column is the
    result's values, a missing string a null (``pa.array`` of NaN among str raised)."""
    frame, _ = rows(300)
    frame.loc[[3, 5, 250], "state"] = None
    pipeline = wm.compile(fn, example=(frame[:200],))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for block in (table, table.slice(200), table.slice(3, 1)):
        expected = pd.DataFrame(fn(block.to_pandas()))
        names = ["p"] if expected.shape[1] == 1 else ["p", "q"]
        scored = wm.ray.Scorer(pipeline, wm.ray.feeds(pipeline, block.column_names), names)(block)
        got = scored.select(names).to_pandas()
        for j, name in enumerate(names):
            want = expected.iloc[:, j]
            assert got[name].isna().tolist() == want.isna().tolist()
            assert got[name].dropna().tolist() == want.dropna().tolist()
