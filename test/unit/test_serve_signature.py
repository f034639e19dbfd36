"""``serve.signature``: a pipeline's signature as tensors, exact request conversions and
results as outputs (no pipeline needed: signatures are built from example values)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from willump_mlir.frontend.spec import ArgumentSpec, ValueSpec
from willump_mlir.runtime.compiled import Signature
from willump_mlir.runtime.marshal import Columns
from willump_mlir.serve.errors import ServeError
from willump_mlir.serve.signature import ServeSignature, TensorSpec, concat, split

EXAMPLE = pd.DataFrame({
    "f": [1.5, np.nan], "i": np.array([1, 2]), "b": [True, False],
    "o": pd.Series(["a", None], dtype=object), "s": pd.array(["a", None], dtype="str"),
    "n": pd.array([1, None], dtype="Int64"), "t": pd.to_datetime(["2020-01-02", "2021-03-04"]),
})  # fmt: skip


def signature(kind: str, example: Any, result: Any = None) -> ServeSignature:
    spec = ArgumentSpec("x", kind, None, None, example=ValueSpec.of(example))
    scores = ValueSpec.of(np.zeros(2) if result is None else result)
    return ServeSignature(Signature([spec], scores))


def test_a_frame_is_one_input_a_column_of_its_example_dtype() -> None:
    table = signature("frame", EXAMPLE)
    assert table.inputs == [
        TensorSpec("f", "FP64", [-1]), TensorSpec("i", "INT64", [-1]),
        TensorSpec("b", "BOOL", [-1]), TensorSpec("o", "BYTES", [-1]),
        TensorSpec("s", "BYTES", [-1]), TensorSpec("n", "INT64", [-1]),
        TensorSpec("t", "BYTES", [-1]),
    ]  # fmt: skip
    inputs = {
        "f": np.array([2, 3], dtype=np.int32), "i": np.array([4.0, 5.0]),
        "b": np.array([1, 0]), "o": np.array([b"x", None], dtype=object),
        "s": np.array(["y", "\u00df"], dtype=object), "n": np.array([np.nan, 7.0]),
        "t": np.array(["2022-05-06T07:08:09", None], dtype=object),
    }  # fmt: skip
    (columns,), rows = table.arguments(inputs)
    assert isinstance(columns, Columns) and rows == 2
    frame = columns.frame()
    assert frame.dtypes.equals(EXAMPLE.dtypes)
    assert frame["f"].tolist() == [2.0, 3.0] and frame["i"].tolist() == [4, 5]
    assert frame["b"].tolist() == [True, False] and frame["o"].tolist() == ["x", None]
    assert frame["s"].tolist() == ["y", "\u00df"] and frame["n"].isna().tolist() == [True, False]
    assert frame["t"].iloc[0] == pd.Timestamp("2022-05-06 07:08:09") and pd.isna(frame["t"][1])


@pytest.mark.parametrize(("column", "array", "message"), [
    ("i", np.array([1.0, np.nan]), "input 'i': NaN or infinity where the pipeline reads int64"),
    ("i", np.array([1.0, 2.5]), r"input 'i', row 1: \[2.5\] is not exactly a int64 value"),
    ("f", np.array([2**53, 2**53 + 1]), r"row 1: \[9007199254740993\] is not exactly a float64"),
    ("i", np.array([2.0**63, 1.0]), "row 0"),
    ("b", np.array([0, 2]), r"row 1: \[2\] is not exactly a bool"),
    ("f", np.array(["1", "2"], dtype=object), "input 'f' is BYTES where the pipeline reads FP64"),
    ("o", np.array([1.0, 2.0]), "input 'o' is FP64 where the pipeline reads BYTES"),
    ("o", np.array([b"\xff", b"a"], dtype=object), "input 'o', row 0: not UTF-8"),
    ("o", np.array([1, "a"], dtype=object), "input 'o', row 0: int where the pipeline reads str"),
    ("t", np.array(["yesterday", None], dtype=object), "input 't': not an ISO 8601 date"),
    ("f", np.zeros((2, 2)), r"input 'f' must have shape \[rows\] \(or \[rows, 1\]\), got \[2, 2\]"),
])  # fmt: skip
def test_inexact_conversions_are_refused_naming_the_input(
    column: str, array: np.ndarray, message: str
) -> None:
    table = signature("frame", EXAMPLE)
    good = {c: EXAMPLE[c].to_numpy() for c in EXAMPLE}
    good["t"] = np.array(["2020-01-01", "2020-01-02"], dtype=object)
    table.arguments(good)
    with pytest.raises(ServeError, match=message):
        table.arguments(good | {column: array})


@pytest.mark.parametrize(("column", "dtype"), [
    (pd.date_range("2020", periods=2, tz="UTC"), "datetime64[us, UTC]"),
    (pd.Categorical(["x", "y"]), "category"),
])  # fmt: skip
def test_a_column_of_a_dtype_a_request_cannot_hold_is_refused(column: Any, dtype: str) -> None:
    """A frame may hold columns native code does not read; a request cannot send them."""
    table = signature("frame", pd.DataFrame({"a": [1.0, 2.0], "c": column}))
    inputs = {"a": np.array([1.0]), "c": np.array(["2020-01-01T00:00:00"], dtype=object)}
    with pytest.raises(ServeError, match=re.escape(f"input 'c': the pipeline's {dtype} column")):
        table.arguments(inputs)


@pytest.mark.parametrize("example", [["a b", "c"], ("a b", "c"), np.array(["a b", "c"]),
                                     np.array(["a b", "c"], dtype=object),
                                     pd.Series(["a b", "c"], name="docs")])  # fmt: skip
def test_text_comes_in_the_examples_container(example: Any) -> None:
    text = signature("strings", example)
    assert text.inputs == [TensorSpec("x", "BYTES", [-1])]
    (docs,), rows = text.arguments({"x": np.array([b"d\xc3\xa9j\xc3\xa0", "vu"], dtype=object)})
    assert type(docs) is type(example) and list(docs) == ["déjà", "vu"] and rows == 2
    if isinstance(example, pd.Series):
        assert docs.name == "docs"
    if isinstance(example, np.ndarray):
        assert docs.dtype.kind == example.dtype.kind


def test_an_array_is_one_input_of_its_width() -> None:
    matrix = signature("array", np.zeros((3, 4), dtype=np.float32))
    assert matrix.inputs == [TensorSpec("x", "FP32", [-1, 4])]
    (x,), _ = matrix.arguments({"x": np.ones((2, 4), dtype=np.float64)})
    assert x.dtype == np.float32 and x.shape == (2, 4)
    with pytest.raises(ServeError, match=r"input 'x' must have shape \[rows, 4\], got \[2, 3\]"):
        matrix.arguments({"x": np.ones((2, 3))})
    with pytest.raises(ServeError, match="missing input 'x' \\(argument 'x'\\)"):
        matrix.arguments({})


def test_results_become_outputs() -> None:
    frame = pd.DataFrame({"p": [0.5, 0.25], "label": pd.Series(["a", "b"], dtype="str")})
    cases = [
        (np.array([1, 2]), [TensorSpec("predict", "INT64", [-1])]),
        (np.zeros((2, 3)), [TensorSpec("predict", "FP64", [-1, 3])]),
        (pd.Series([True, False]), [TensorSpec("predict", "BOOL", [-1])]),
        (frame, [TensorSpec("p", "FP64", [-1]), TensorSpec("label", "BYTES", [-1])]),
        (sp.csr_matrix(np.eye(2)), [TensorSpec("predict", "FP64", [-1, 2])]),
        (np.array(["a", "b"]), [TensorSpec("predict", "BYTES", [-1])]),
    ]
    for result, outputs in cases:
        table = signature("frame", EXAMPLE, result)
        assert table.outputs == outputs
        got = table.outputs_of(result)
        assert list(got) == [t.name for t in outputs]
        assert all(len(a) == 2 for a in got.values())
    labels = signature("frame", EXAMPLE, frame).outputs_of(frame)["label"]
    assert labels.dtype == object and labels.tolist() == ["a", "b"]
    assert signature("frame", EXAMPLE, frame).rankable is False
    assert signature("frame", EXAMPLE, np.zeros(2)).rankable is True


def test_concat_and_split_keep_each_requests_rows() -> None:
    parts = [Columns({"a": np.arange(n, dtype=float), "s": pd.array(["x"] * n, dtype="str")})
             for n in (1, 3, 2)]  # fmt: skip
    joined = concat(parts)
    assert joined.rows == 6 and str(joined.frame()["s"].dtype) == "str"
    assert [len(p) for p in split(np.arange(6), [1, 3, 2])] == [1, 3, 2]
    assert concat([["a"], ["b", "c"]]) == ["a", "b", "c"]
    assert concat([("a",), ("b",)]) == ("a", "b")
    series = concat([pd.Series(["a"]), pd.Series(["b"])])
    assert list(series.index) == [0, 1]
    assert split(pd.Series([1, 2, 3]), [2, 1])[1].tolist() == [3]


def test_requests_joined_before_conversion_equal_each_converted_alone() -> None:
    """``columns`` takes a request whose inputs are 1-D arrays of the columns' dtypes (text
    and dates as objects), ``combine`` joins several and converts them once: the same data
    arguments as converting each alone and joining. Anything else is left to
    ``arguments``, and a signature with a column whose conversion is not elementwise
    (a nullable integer) takes no request."""
    example = EXAMPLE.drop(columns=["n"])
    table = signature("frame", example)
    first = {
        "f": np.array([1.5, np.nan]), "i": np.array([1, 2]), "b": np.array([True, False]),
        "o": np.array(["a", None], dtype=object), "s": np.array([b"x", "\u00e9"], dtype=object),
        "t": np.array(["2020-01-02", None], dtype=object),
    }  # fmt: skip
    second = {k: v[:1].copy() for k, v in first.items()}
    one, two = table.columns(first), table.columns(second)
    assert one is not None and two is not None and (one[1], two[1]) == (2, 1)
    (joined,) = table.combine([one[0], two[0]])
    alone = concat([table.arguments(r)[0][0] for r in (first, second)])
    assert list(joined.arrays) == list(alone.arrays)
    for name in alone.arrays:
        assert joined.arrays[name].dtype == alone.arrays[name].dtype, name
        assert pd.Series(joined.arrays[name]).equals(pd.Series(alone.arrays[name])), name
    assert table.columns(first | {"i": np.array([1.0, 2.0])}) is None  # converted alone
    assert table.columns(first | {"f": np.array([[1.5], [2.0]])}) is None
    assert table.columns(first | {"f": [1.5, 2.0]}) is None
    assert table.columns(first | {"f": np.array([1.5])}) is None  # rows disagree
    assert table.columns({k: v for k, v in first.items() if k != "f"}) is None
    assert table.columns(first | {"extra": np.zeros(2)}) is None
    assert signature("frame", EXAMPLE).columns(first) is None
    bad = table.columns(first | {"o": np.array(["a", b"\xff"], dtype=object)})
    assert bad is not None
    with pytest.raises(ServeError, match="input 'o', row 3: not UTF-8"):  # a row of the batch
        table.combine([one[0], bad[0]])


def test_table_lists_join_to_the_same_arguments_as_arrays() -> None:
    """A frame of float64, int64 and text columns has a ``table`` (a frame with a column
    of any other dtype has none); requests kept as JSON lists, alone or joined with each
    other and with requests decoded as arrays, give exactly the data arguments the arrays
    give; a bad value among them is still named by its row in the batch."""
    example = EXAMPLE[["f", "i", "o", "t"]]
    table = signature("frame", example)
    assert table.table is not None and table.table.names == ["f", "i", "o", "t"]
    assert table.table.datatypes == ["FP64", "INT64", "BYTES", "BYTES"]
    assert signature("frame", EXAMPLE).table is None
    assert signature("frame", EXAMPLE[["f", "b"]]).table is None
    lists = ([1.5, None, float("nan")], [1, -(2**63), 2**63 - 1], ["a", "\u00e9", ""],
             ["2020-01-02", "2021-03-04", "1999-12-31"])  # fmt: skip
    arrays = table.columns({"f": np.array([1.5, np.nan, np.nan]),
                            "i": np.array([1, -(2**63), 2**63 - 1]),
                            "o": np.array(["a", "\u00e9", ""], dtype=object),
                            "t": np.array(["2020-01-02", "2021-03-04", "1999-12-31"],
                                          dtype=object)})  # fmt: skip
    assert arrays is not None

    def same(left: tuple[Any, ...], right: tuple[Any, ...]) -> None:
        for name in example.columns:
            a, b = left[0].arrays[name], right[0].arrays[name]
            assert a.dtype == b.dtype, name
            assert pd.Series(a).equals(pd.Series(b)), name

    same(table.combine([lists]), table.combine([arrays[0]]))
    one_row = tuple(column[1:2] for column in lists)
    one_row_arrays = tuple(a[1:2] for a in arrays[0])
    same(table.combine([lists, one_row, lists]),
         table.combine([arrays[0], one_row_arrays, arrays[0]]))  # fmt: skip
    same(table.combine([lists, arrays[0]]), table.combine([arrays[0], arrays[0]]))
    bad = (*lists[:3], ["2020-01-02", "not a date", "1999-12-31"])
    with pytest.raises(ServeError, match="input 't'"):
        table.combine([lists, bad])


def test_a_save_from_before_signatures_lists_what_its_code_reads() -> None:
    """A manifest without examples: numbers as float64, strings as objects."""
    from willump_mlir.runtime.compiled import _example

    spec = ArgumentSpec("x", "frame", None, None, [("a", "f64"), ("s", "str"), ("d", "M8[us]")])
    assert _example(spec).dtypes == (("a", "float64"), ("s", "object"), ("d", "datetime64[us]"))
    assert _example(ArgumentSpec("docs", "strings", None, None)).type == "list"
    old = ServeSignature(Signature([ArgumentSpec("x", "frame", None, None,
                                                 example=_example(spec))], None))  # fmt: skip
    assert [t.datatype for t in old.inputs] == ["FP64", "BYTES", "BYTES"]
    assert old.outputs == [TensorSpec("predict", "FP64", [-1])]
