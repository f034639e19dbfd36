"""Text arguments at run time: the argument check and the UTF-8 buffers kernels read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from willump_mlir.runtime import marshal
from willump_mlir.runtime.marshal import InputError

DOCS = ["The quick fox", "Zürich café", "", "naïve 東京 🎉", "x"]


def decode(parts: dict[str, np.ndarray], rows: int) -> list[str]:
    """The documents back from ``bytes`` and ``offsets``."""
    data, offsets = parts["bytes"].tobytes(), parts["offsets"]
    assert offsets.dtype == np.int64 and offsets.shape == (rows + 1,) and offsets[0] == 0
    return [data[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogatepass")
            for i in range(rows)]  # fmt: skip


# region check_strings


@pytest.mark.parametrize(
    "value",
    [DOCS, tuple(DOCS), np.array(DOCS), np.array(DOCS, dtype=object), pd.Series(DOCS),
     pd.Series(DOCS, dtype=object), pd.Series(DOCS, index=range(10, 15))],
    ids=["list", "tuple", "unicode-array", "object-array", "series", "object-series",
         "series-index"],
)  # fmt: skip
def test_check_strings_accepts_sequences(value) -> None:
    rows, bound = marshal.check_strings("texts", value)
    assert rows == len(DOCS)
    assert bound is value  # Python calls see the value as given


@pytest.mark.parametrize("value", [[], (), np.array([], dtype=str), pd.Series([], dtype=object)])
def test_check_strings_empty_batch_is_left_to_the_original(value) -> None:
    """The original function decides what no documents give (a vectorizer returns no rows, a
    model refuses them)."""
    with pytest.raises(marshal.Unhandled, match=r"argument 'texts' is an empty batch"):
        marshal.check_strings("texts", value)


@pytest.mark.parametrize("value", ["one document", b"one document"])
def test_check_strings_bare_string(value) -> None:
    with pytest.raises(InputError, match="argument 'texts' must be a sequence of str documents, "
                                         "got a single .*Iterable over raw text documents "
                                         "expected, string object received."):  # fmt: skip
        marshal.check_strings("texts", value)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.array([DOCS, DOCS]), r"argument 'texts' must be 1-D, got shape \(2, 5\)"),
        (np.arange(3.0), "argument 'texts' must hold str documents, got a float64 array"),
        (pd.DataFrame({"t": DOCS}), "argument 'texts' must be a list, tuple, 1-D numpy array "
                                    "or pandas Series of str, got DataFrame"),
        ((d for d in DOCS), "got generator"),
        (set(DOCS), "got set"),
        (None, "got NoneType"),
    ],
    ids=["2-D", "numeric", "frame", "generator", "set", "none"],
)  # fmt: skip
def test_check_strings_refuses(value, match) -> None:
    with pytest.raises(InputError, match=match):
        marshal.check_strings("texts", value)


# endregion
# region text_column


@pytest.mark.parametrize("rows", [5, 100])  # the Python path and the pyarrow path
@pytest.mark.parametrize(
    "kind", ["list", "tuple", "unicode-array", "object-array", "series", "object-series",
             "category-series"],
)  # fmt: skip
def test_text_column_round_trips(rows, kind) -> None:
    docs = (DOCS * 20)[:rows]
    value = {
        "list": lambda: docs,
        "tuple": lambda: tuple(docs),
        "unicode-array": lambda: np.array(docs),
        "object-array": lambda: np.array(docs, dtype=object),
        "series": lambda: pd.Series(docs),
        "object-series": lambda: pd.Series(docs, dtype=object),
        "category-series": lambda: pd.Series(docs, dtype="category"),
    }[kind]()
    array = marshal.column_array("texts", value, "texts")
    parts = marshal.text_column("texts", array, "texts")
    assert decode(parts, rows) == docs
    assert parts["bytes"].dtype == np.uint8
    assert parts["missing"].dtype == np.uint8 and not parts["missing"].any()
    assert len(parts["missing"]) == rows


def test_text_column_of_a_frame_column() -> None:
    frame = pd.DataFrame({"n": np.arange(40.0), "text": (DOCS * 8)})
    array = marshal.column_array("df", frame, "text")
    assert decode(marshal.text_column("df", array, "text"), 40) == DOCS * 8


@pytest.mark.parametrize("rows", [0, 1])
def test_text_column_empty_and_single(rows) -> None:
    parts = marshal.text_column("texts", ["only"][:rows])
    assert decode(parts, rows) == ["only"][:rows]
    assert parts["bytes"].size >= 1  # always a valid pointer


@pytest.mark.parametrize("rows", [5, 100])
@pytest.mark.parametrize(
    ("bad", "found"),
    [
        (None, r"a missing value \(None\)"),
        (float("nan"), "NaN: np.nan is an invalid document"),
        (7, "int 7"),
        (b"raw", "bytes b'raw'; decode them to str first"),
        (["a"], r"list \['a'\]"),
    ],
    ids=["none", "nan", "int", "bytes", "list"],
)  # fmt: skip
def test_text_column_names_the_bad_row(rows, bad, found) -> None:
    docs: list[object] = (DOCS * 20)[:rows]
    docs[3] = bad
    with pytest.raises(InputError, match=f"argument 'texts', row 3: expected a str document, "
                                         f"got {found}"):  # fmt: skip
        marshal.text_column("texts", docs, "texts")
    frame = pd.DataFrame({"text": pd.Series(docs, dtype=object)})
    with pytest.raises(InputError, match="argument 'df': column 'text', row 3: "):
        marshal.text_column("df", marshal.column_array("df", frame, "text"), "text")


@pytest.mark.parametrize("rows", [5, 100])
def test_text_column_missing_in_pandas_string_column(rows) -> None:
    docs: list[object] = (DOCS * 20)[:rows]
    docs[2] = None
    series = pd.Series(docs, dtype="string")
    with pytest.raises(InputError, match="argument 'texts', row 2: expected a str document"):
        marshal.text_column("texts", marshal.column_array("texts", series, "texts"))


@pytest.mark.parametrize("rows", [5, 100])
@pytest.mark.parametrize("kind", ["list", "unicode-array"])
def test_text_column_keeps_lone_surrogates(rows, kind) -> None:
    docs = (DOCS * 20)[:rows]
    docs[4] = "bad \ud800 half"
    value = docs if kind == "list" else np.array(docs)
    parts = marshal.text_column("texts", value)
    assert decode(parts, rows) == docs
    start, end = parts["offsets"][4], parts["offsets"][5]
    assert parts["bytes"][start:end].tobytes() == "bad \ud800 half".encode("utf-8", "surrogatepass")


def test_column_array_of_text_values() -> None:
    assert marshal.column_array("texts", DOCS, "texts") == marshal.TextItems(DOCS)
    series = pd.Series(DOCS, dtype=object)
    items = marshal.column_array("texts", series, "texts")
    assert isinstance(items, marshal.TextItems) and len(items) == len(DOCS)
    np.testing.assert_array_equal(items.items, DOCS)
    with pytest.raises(InputError, match="'texts' must be a list, tuple, 1-D numpy array or "
                                         "pandas Series of str, got int"):  # fmt: skip
        marshal.column_array("texts", 3, "texts")


@pytest.mark.parametrize("rows", [5, 100])
def test_string_column_reads_text_items_strictly(rows) -> None:
    """A text value read as a string column is checked and encoded as ``text_column`` does;
    a frame's string column keeps None/NaN as missing flags."""
    docs: list[object] = (DOCS * 20)[:rows]
    docs[1] = "lone \udfff"
    items = marshal.column_array("texts", docs, "texts")
    assert decode(marshal.string_column("texts", items, "texts"), rows) == docs
    docs[3] = None
    with pytest.raises(InputError, match="argument 'texts', row 3: expected a str document"):
        marshal.string_column("texts", marshal.column_array("texts", docs, "texts"), "texts")
    docs[1] = "fine"
    frame = pd.DataFrame({"text": pd.Series(docs, dtype=object)})
    parts = marshal.string_column("df", marshal.column_array("df", frame, "text"), "text")
    assert parts["missing"][3] == 1 and parts["missing"].sum() == 1


class Text(str):
    """A str subclass: read through the loop, not the all-str fast path."""


@pytest.mark.parametrize("rows", [1, 5, 31, 32, 100, 1023, 1024, 1500])
@pytest.mark.parametrize("kind", ["str", "missing", "subclass", "unicode-array", "series"])
def test_string_column_python_and_arrow_encode_alike(rows, kind, monkeypatch) -> None:
    """Encoded in Python (below ``SMALL_STRINGS`` rows) or by pyarrow, a string column's
    parts are the same: bytes, offsets and missing flags (None and NaN kept apart)."""
    docs: list[object] = (DOCS * (rows // len(DOCS) + 1))[:rows]
    if kind == "missing":
        docs[0] = None
        docs[-1] = float("nan")
    if kind == "subclass":
        docs[rows // 2] = Text("sub 東京")
    value: object = np.array(docs, dtype=object)
    if kind == "unicode-array":
        value = np.array(docs)
    if kind == "series":
        value = pd.Series(docs, dtype=object)
    column = marshal.column_array("df", pd.DataFrame({"c": value}), "c")
    small = marshal.string_column("df", column, "c")
    monkeypatch.setattr(marshal, "SMALL_STRINGS", 0)
    arrow = marshal.string_column("df", column, "c")
    assert small.keys() == arrow.keys()
    np.testing.assert_array_equal(small["offsets"], arrow["offsets"])
    np.testing.assert_array_equal(small["missing"], arrow["missing"])
    end = small["offsets"][-1]  # (either may hold a byte or padding past the last string)
    assert small["bytes"][:end].tobytes() == arrow["bytes"][:end].tobytes()
    assert {k: v.dtype for k, v in small.items()} == {k: v.dtype for k, v in arrow.items()}
    assert decode(small, rows)[1:-1] == [d if isinstance(d, str) else "" for d in docs][1:-1]


@pytest.mark.parametrize("rows", [3, 40])
def test_string_column_refuses_a_lone_surrogate(rows) -> None:
    docs = np.array((DOCS * 10)[:rows], dtype=object)
    docs[2] = "bad \ud800"
    column = marshal.column_array("df", pd.DataFrame({"c": pd.Series(docs, dtype=object)}), "c")
    with pytest.raises(marshal.Unhandled, match="column 'c' holds a string that is not valid"):
        marshal.string_column("df", column, "c")


# endregion
# region Sparse batches from Python


def test_csr_parts() -> None:
    dense = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])
    coo = sp.coo_matrix(([1.0, 1.0, 2.0, 3.0], ([1, 1, 0, 1], [0, 0, 1, 2])), shape=(2, 3))
    for value in (sp.csr_matrix(dense), sp.csr_array(dense), coo):
        parts = marshal.csr_parts("m", value, 2, 3, np.float64)
        rebuilt = sp.csr_matrix((parts["data"], parts["indices"], parts["indptr"]), shape=(2, 3))
        assert parts["indices"].dtype == parts["indptr"].dtype == np.int64
        np.testing.assert_array_equal(rebuilt.toarray(), value.toarray())
    with pytest.raises(InputError, match=r"m has shape \(2, 3\); the compiled code expects"):
        marshal.csr_parts("m", sp.csr_matrix(dense), 2, 4, np.float64)
    with pytest.raises(InputError, match="expects a scipy sparse matrix"):
        marshal.csr_parts("m", dense, 2, 3, np.float64)


def test_matrix_densifies_a_sparse_value() -> None:
    dense = np.array([[0.0, 2.0], [1.0, 0.0]])
    np.testing.assert_array_equal(
        marshal.matrix("m", sp.csr_matrix(dense), 2, 2, np.float64), dense.reshape(-1)
    )


# endregion
