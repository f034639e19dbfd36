"""Silently wrong results found in review: notebook-style functions compiled on one batch
and called on others, compared with the original (``selfcheck.difference``)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import willump_mlir as wm
from willump_mlir.selfcheck import difference

CASED = ["apple", "ß", "İx", None, "", "ŉ", "ǰ", "ΑΣ Σ", "🙂", "Straße"]


def _same_on(fn, example: pd.DataFrame, *batches: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(example,))
        for batch in batches:
            found = difference(fn(batch.copy()), compiled(batch.copy()))
            assert found is None, found


def upper(d):
    return d["s"].str.upper()


def prefixed_lower(d):
    return "p_" + d["s"].str.lower()


@pytest.mark.parametrize("fn", [upper, prefixed_lower])
@pytest.mark.parametrize("example_dtype", ["str", object])
def test_case_of_a_batch_of_the_other_str_dtype(fn, example_dtype) -> None:
    """pandas' pyarrow-backed ``str`` dtype cases ß, İ and others as pyarrow does, an object
    column as Python does: a batch of either dtype gets its own dtype's result, whichever
    the example had."""
    example = pd.DataFrame({"s": pd.Series(["apple", "Banana", "x"] * 4, dtype=example_dtype)})
    objects = pd.DataFrame({"s": pd.Series(CASED, dtype=object)})
    arrow = pd.DataFrame({"s": pd.Series(CASED, dtype="str")})
    big = pd.concat([objects] * 120, ignore_index=True)
    _same_on(fn, example, objects, arrow, big, big.astype("str"), arrow.iloc[[1]])


def squared_plus_half(d):
    return d["i"] * d["i"] + 0.5


def plus_hundred(d):
    return d["i"] + 100


@pytest.mark.parametrize("fn", [squared_plus_half, plus_hundred])
@pytest.mark.parametrize("dtype", ["int32", "uint8", "uint64", "int16"])
def test_int_column_of_another_width_than_the_example(fn, dtype) -> None:
    """Compiled for an int64 column, a batch whose column is narrower or unsigned: pandas
    computes in that width (int32 squares wrap, uint8 sums wrap at 256) and keeps it."""
    example = pd.DataFrame({"i": range(40)})
    batch = pd.DataFrame({"i": pd.Series([200, 3, 100], dtype=dtype)})
    if dtype == "int32":
        batch.loc[0, "i"] = 100_000
    _same_on(fn, example, batch, batch.iloc[[0]])


def is_apple(d):
    return d["s"] == "apple"


def starts_with_a(d):
    return d["s"].str.startswith("a", na=False)


def apple_as_int(d):
    return (d["s"] != "apple").astype(int)


def stripped(d):
    return d["s"].str.strip()


def head(d):
    return d["s"].str[:2]


@pytest.mark.parametrize("fn", [is_apple, starts_with_a, apple_as_int, stripped, head])
@pytest.mark.parametrize("dtype", ["string", "string[pyarrow]", "category"])
def test_batch_of_a_nullable_string_or_category_column(fn, dtype) -> None:
    """Compiled on an object column, a batch of pandas' nullable ``string`` dtype (boolean
    results with <NA>, or a TypeError casting <NA>) or a category (str methods give object
    columns)."""
    example = pd.DataFrame({"s": ["apple", "Banana", " cherry ", "apple", "a.b"] * 5})
    values = ["apple", "Banana", None, "", " ß ", "apple"]
    batch = pd.DataFrame({"s": pd.Series(values, dtype=dtype)})
    big = pd.DataFrame({"s": pd.Series(values * 300, dtype=dtype)})
    outcome = []
    for rows in (batch, big, batch.iloc[[0]]):
        try:
            expected = fn(rows.copy())
        except TypeError as error:  # pandas casting <NA>: the compiled call raises it too
            with pytest.raises(type(error)):
                wm.compile(fn, example=(example,))(rows.copy())
            outcome.append(None)
            continue
        outcome.append(expected)
    _same_on(fn, example, *[r for r, o in zip((batch, big, batch.iloc[[0]]), outcome, strict=True)
                            if o is not None])  # fmt: skip


def counted(d):
    return d["s"].str.count("a").fillna(0)


def counted_twice(d):
    count = d["s"].str.count("a")
    return count.fillna(0) * 2


def test_python_result_with_another_dtype_than_on_the_example() -> None:
    """``str.count`` is int64 on the example and float64 (NaN) on a batch with a missing
    value, whose ``fillna(0)`` must not be dropped as an int's."""
    example = pd.DataFrame({"s": ["apple", "Banana", "cherry", "a1"] * 5})
    batch = pd.DataFrame({"s": ["a", None, "aa", "b"]})
    _same_on(counted, example, batch, batch.iloc[[1]], example)
    _same_on(counted_twice, example, batch, batch.iloc[[1]], example)
