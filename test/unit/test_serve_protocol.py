"""The KServe V2 body codec (``willump_mlir.serve.protocol``): every datatype in JSON and in
the binary tensor extension, the checks that turn a malformed body into a 400 naming the
input, and responses read back the way tritonclient reads them."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from tritonclient.utils import deserialize_bytes_tensor, serialize_byte_tensor

from willump_mlir.serve import native
from willump_mlir.serve.errors import ServeError, TooLarge
from willump_mlir.serve.protocol import DTYPES, Table, decode_request, encode_response

NUMERIC = [t for t in DTYPES if t not in ("BYTES", "BOOL")]


def body(*inputs: dict[str, Any], **request: Any) -> bytes:
    return orjson.dumps({"inputs": list(inputs), **request})


def binary_body(*tensors: tuple[dict[str, Any], bytes], **request: Any) -> tuple[bytes, int]:
    specs = [dict(spec, parameters={"binary_data_size": len(raw)}) for spec, raw in tensors]
    header = orjson.dumps({"inputs": specs, **request})
    return header + b"".join(raw for _, raw in tensors), len(header)


def refused(data: bytes, header_length: int | None = None) -> str:
    with pytest.raises(ServeError) as caught:
        decode_request(data, header_length)
    assert caught.value.status == 400
    return str(caught.value)


@pytest.mark.parametrize("datatype", NUMERIC)
def test_numeric_json_flat_and_nested(datatype: str) -> None:
    values = [[0, 1, 2], [3, 4, 5]]
    for data in (values, sum(values, [])):
        spec = {"name": "x", "shape": [2, 3], "datatype": datatype, "data": data}
        array = decode_request(body(spec)).inputs["x"]
        assert array.dtype == DTYPES[datatype] and array.shape == (2, 3)
        np.testing.assert_array_equal(array, np.array(values))


@pytest.mark.parametrize("datatype", [*NUMERIC, "BOOL"])
def test_numeric_binary_is_a_view_of_the_body(datatype: str) -> None:
    values = (np.arange(6).reshape(2, 3) % (2 if datatype == "BOOL" else 7)).astype(
        DTYPES[datatype]
    )
    data, length = binary_body(
        ({"name": "x", "shape": [2, 3], "datatype": datatype}, values.tobytes())
    )
    request = decode_request(data, length)
    np.testing.assert_array_equal(request.inputs["x"], values)
    assert request.inputs["x"].dtype == values.dtype


def test_binary_bool_reads_any_nonzero_byte_as_true() -> None:
    data, length = binary_body(({"name": "b", "shape": [3], "datatype": "BOOL"}, b"\x00\x02\x01"))
    assert decode_request(data, length).inputs["b"].tolist() == [False, True, True]


def test_bytes_binary_and_json() -> None:
    docs = np.array(["ünï ✓", "", "plain"], dtype=object)
    spec = {"name": "docs", "shape": [3], "datatype": "BYTES"}
    data, length = binary_body((spec, serialize_byte_tensor(docs).item()), id="r1")
    request = decode_request(data, length)
    assert request.inputs["docs"].tolist() == docs.tolist() and request.id == "r1"
    assert decode_request(body(dict(spec, data=docs.tolist()))).inputs["docs"].tolist() == list(
        docs
    )
    # not UTF-8: bytes, unless the input says it is str
    raw = serialize_byte_tensor(np.array([b"\xff\xfe", b"ok"], dtype=object)).item()
    data, length = binary_body((dict(spec, shape=[2]), raw))
    assert decode_request(data, length).inputs["docs"].tolist() == [b"\xff\xfe", b"ok"]
    typed = dict(spec, shape=[2], parameters={"content_type": "str", "binary_data_size": len(raw)})
    header = orjson.dumps({"inputs": [typed]})
    assert "content_type 'str'" in refused(header + raw, len(header))


def test_missing_values() -> None:
    spec = {"name": "x", "shape": [3], "datatype": "FP64", "data": [1.5, None, 2]}
    x = decode_request(body(spec)).inputs["x"]
    assert x[0] == 1.5 and np.isnan(x[1]) and x[2] == 2
    # NaN and Infinity as Python's json writes them (tritonclient's JSON does)
    text = json.dumps({"inputs": [dict(spec, data=[float("nan"), float("inf"), 1.0])]})
    x = decode_request(text.encode()).inputs["x"]
    assert np.isnan(x[0]) and x[1] == np.inf
    strings = {"name": "s", "shape": [2], "datatype": "BYTES", "data": ["a", None]}
    assert decode_request(body(strings)).inputs["s"].tolist() == ["a", None]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"datatype": "INT64", "data": [1, 2.5]}, "'x': INT64 data holds non-integer numbers"),
        ({"datatype": "INT8", "data": [1, 300]}, "out of range for INT8"),
        ({"datatype": "UINT8", "data": [-1, 3]}, "out of range for UINT8"),
        ({"datatype": "FP64", "data": ["1.5", "2"]}, "FP64 data holds strings"),
        ({"datatype": "FP32", "data": [1, "a"]}, "FP32 data holds"),
        ({"datatype": "FP64", "data": [True, False]}, "FP64 data holds booleans"),
        ({"datatype": "BOOL", "data": [1, 0]}, "BOOL data holds integers"),
        ({"datatype": "BYTES", "data": [1, 2]}, "BYTES data must be strings"),
        ({"datatype": "FP64", "data": [1, 2, 3]}, "3 values for shape [2] (2 expected)"),
        ({"datatype": "FP64", "data": [[1], [2, 3]]}, "ragged"),
        ({"datatype": "FP9", "data": [1, 2]}, "datatype 'FP9' is not one of"),
        ({"datatype": "FP64", "shape": [-1], "data": [1]}, "non-negative integers"),
        ({"datatype": "FP64", "shape": [1] * 70, "data": [1]}, "at most 32 non-negative"),
        ({"datatype": "FP64"}, "neither 'data' nor 'binary_data_size'"),
    ],
)
def test_malformed_inputs_name_the_input(spec: dict[str, Any], message: str) -> None:
    assert message in refused(body({"name": "x", "shape": [2], **spec}))


def test_malformed_requests() -> None:
    assert "not valid JSON" in refused(b'{"inputs": [')
    assert "not valid JSON" in refused(b"[" * 100_000 + b"NaN")  # deeper than any parser goes
    assert "no 'inputs'" in refused(b'{"inputs": []}')
    assert "must be a JSON object" in refused(b"[1, 2]")
    spec = {"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}
    assert "given twice" in refused(body(spec, spec))
    assert "'id' must be a string" in refused(body(spec, id=7))
    assert "nested as [2, 3] but shape is [3, 2]" in refused(
        body(dict(spec, shape=[3, 2], data=[[1, 2, 3], [4, 5, 6]]))
    )


def test_truncated_and_overlong_binary_bodies() -> None:
    values = np.arange(4, dtype="<f8").tobytes()
    data, length = binary_body(({"name": "x", "shape": [4], "datatype": "FP64"}, values))
    assert "truncated" in refused(data[:-3], length)
    assert "bytes after the last binary tensor" in refused(data + b"\0", length)
    assert "Inference-Header-Content-Length is 999" in refused(data, 999)
    assert "the request JSON is not valid JSON" in refused(data, length - 2)
    short, length = binary_body(({"name": "x", "shape": [5], "datatype": "FP64"}, values))
    assert "32 bytes of FP64 data for shape [5] (expected 40)" in refused(short, length)
    strings, length = binary_body(
        ({"name": "s", "shape": [2], "datatype": "BYTES"}, b"\x05\0\0\0hello\x09\0\0\0abc")
    )
    assert "BYTES element 1 of 9 bytes runs past" in refused(strings, length)


def test_row_limit() -> None:
    spec = {"name": "x", "shape": [3], "datatype": "FP64", "data": [1, 2, 3]}
    with pytest.raises(TooLarge, match="3 rows, over the limit of 2"):
        decode_request(body(spec), max_rows=2)


def read_back(data: bytes, header_length: int | None) -> dict[str, np.ndarray]:
    """A response read the way tritonclient reads one."""
    header = orjson.loads(data[:header_length] if header_length else data)
    offset, arrays = header_length or 0, {}
    for out in header["outputs"]:
        size = out.get("parameters", {}).get("binary_data_size")
        if size is None:
            array = np.array(out["data"], dtype=object if out["datatype"] == "BYTES" else None)
        elif out["datatype"] == "BYTES":
            array = deserialize_bytes_tensor(data[offset : offset + size])
        else:
            array = np.frombuffer(data[offset : offset + size], DTYPES[out["datatype"]])
        offset += size or 0
        arrays[out["name"]] = (array.reshape(out["shape"]), out["datatype"])
    return arrays


def test_responses_json_and_binary() -> None:
    outputs = {
        "p": np.array([[0.25, np.nan], [1.0, 2.0]]),
        "n": np.array([1, 2, 3], dtype=np.int32),
        "b": np.array([True, False]),
        "label": np.array(["yes", "ünï"], dtype=object),
        "u": np.array(["a", "bc"]),
    }
    spec = {"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}
    as_json = decode_request(body(spec, id="q"))
    data, length = encode_response("m", "1", as_json, outputs)
    assert length is None
    header = orjson.loads(data)
    assert (header["model_name"], header["model_version"], header["id"]) == ("m", "1", "q")
    assert header["outputs"][0]["data"] == [0.25, None, 1.0, 2.0]  # JSON has no NaN
    types = {name: t for name, (_, t) in read_back(data, length).items()}
    assert types == {"p": "FP64", "n": "INT32", "b": "BOOL", "label": "BYTES", "u": "BYTES"}

    everything = decode_request(body(spec, parameters={"binary_data_output": True}))
    some = decode_request(
        body(spec, outputs=[{"name": "p", "parameters": {"binary_data": True}}, {"name": "n"}])
    )
    for request, binary in ((everything, set(outputs)), (some, {"p"})):
        data, length = encode_response("m", None, request, outputs)
        back = read_back(data, length)
        assert length is not None and "model_version" not in orjson.loads(data[:length])
        for name, expected in outputs.items():
            got = back[name][0]
            if expected.dtype.kind in "OU":
                got = [v.decode() if isinstance(v, bytes) else v for v in got.tolist()]
                assert got == expected.tolist()
            elif name in binary or name != "p":
                np.testing.assert_array_equal(got, expected)
        assert (
            orjson.loads(data[:length])["outputs"][0].get("parameters", {}).get("binary_data_size")
            == 32
        )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)
TENSORS = st.fixed_dictionaries(
    {
        "name": st.text(max_size=3) | JSON_VALUES,
        "datatype": st.sampled_from([*DTYPES, "X"]) | JSON_VALUES,
    },
    optional={
        "shape": st.lists(st.integers(-1, 4), max_size=3) | JSON_VALUES,
        "data": JSON_VALUES,
        "parameters": st.fixed_dictionaries(
            {}, optional={"binary_data_size": st.integers(-1, 40), "content_type": JSON_VALUES}
        ),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    tensors=st.lists(TENSORS, max_size=3),
    outputs=st.none() | JSON_VALUES,
    tail=st.binary(max_size=40),
    binary=st.booleans(),
)
def test_any_request_decodes_or_is_a_400(
    tensors: list[dict[str, Any]], outputs: Any, tail: bytes, binary: bool
) -> None:
    header = json.dumps({"inputs": tensors, "outputs": outputs}).encode()
    try:
        decode_request(header + tail if binary else header, len(header) if binary else None)
    except ServeError as error:
        assert error.status in (400, 413) and str(error)


def test_binary_bytes_of_every_length_and_encoding() -> None:
    # lengths of 128 and more put bytes >= 0x80 into the length prefixes of ASCII text;
    # UTF-8 text and text that is not UTF-8 each take their own path
    ascii_docs = ["", "a", "x" * 127, "y" * 128, "z" * 200, "w" * 70_000] * 50
    utf8_docs = [*ascii_docs[:5], "naïve ✓", "😀" * 40]
    spec = {"name": "docs", "datatype": "BYTES"}
    for docs in (ascii_docs, utf8_docs):
        raw = serialize_byte_tensor(np.array(docs, dtype=object)).item()
        data, length = binary_body((dict(spec, shape=[len(docs)]), raw))
        decoded = decode_request(data, length).inputs["docs"]
        assert decoded.dtype == object and decoded.tolist() == docs
        assert all(type(d) is str for d in decoded)
        parameters = {"content_type": "bytes", "binary_data_size": len(raw)}
        header = orjson.dumps({"inputs": [dict(spec, shape=[len(docs)], parameters=parameters)]})
        assert decode_request(header + raw, len(header)).inputs["docs"].tolist() == [
            d.encode() for d in docs
        ]
    matrix, length = binary_body(
        (
            dict(spec, shape=[2, 2]),
            serialize_byte_tensor(np.array(["a", "bb", "é", ""], dtype=object)).item(),
        )
    )
    assert decode_request(matrix, length).inputs["docs"].tolist() == [["a", "bb"], ["é", ""]]
    empty, length = binary_body((dict(spec, shape=[0]), b""))
    assert decode_request(empty, length).inputs["docs"].shape == (0,)


def test_malformed_binary_bytes_name_the_element() -> None:
    spec = {"name": "s", "datatype": "BYTES"}
    three = b"\x01\0\0\0a\x02\0\0\0bc\x00\0\0\0"
    for shape, raw, message in [
        ([2], three, "3 BYTES elements for a shape of 2"),
        ([4], three, "3 BYTES elements for a shape of 4"),
        ([0], three, "3 BYTES elements for a shape of 0"),
        ([2], b"\x01\0\0\0a\x02\0", "truncated BYTES element length at byte 5"),
        ([1], b"\xff\0\0\0abc", "BYTES element 0 of 255 bytes runs past"),
    ]:
        data, length = binary_body((dict(spec, shape=shape), raw))
        assert message in refused(data, length)


def test_json_columns_decode_to_their_datatype() -> None:
    def decoded(datatype: str, data: Any, shape: list[int]) -> np.ndarray:
        spec = {"name": "x", "shape": shape, "datatype": datatype, "data": data}
        return decode_request(body(spec)).inputs["x"]

    ints = decoded("INT64", [1, -(2**63), 2**63 - 1], [3])
    assert ints.dtype == np.int64 and ints.tolist() == [1, -(2**63), 2**63 - 1]
    assert decoded("FP64", [1, 2.5], [2]).dtype == np.float64  # integers into floats
    assert decoded("FP32", [1.5, 2.5], [2]).dtype == np.float32
    assert decoded("BOOL", [True, False], [2]).tolist() == [True, False]
    text = decoded("BYTES", ["a", "ü", ""], [3])
    assert text.dtype == object and text.tolist() == ["a", "ü", ""]
    assert decoded("BYTES", [["a"], ["b"]], [2, 1]).tolist() == [["a"], ["b"]]
    assert decoded("BYTES", "one", [1]).tolist() == ["one"]
    assert decoded("FP64", [[1.5, 2.5]], [1, 2]).shape == (1, 2)
    assert "out of range for INT64" in refused(
        body({"name": "x", "shape": [1], "datatype": "INT64", "data": [2**64 - 1]})
    )
    assert "BYTES data must be strings" in refused(
        body({"name": "x", "shape": [2], "datatype": "BYTES", "data": ["a", 1]})
    )


@pytest.fixture
def python_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """BYTES tensors decoded by the Python path (as before the native split is compiled)."""
    monkeypatch.setattr(native, "_function", None)


def _decoded_or_error(data: bytes, length: int) -> tuple[str, Any]:
    try:
        array = decode_request(data, length).inputs["s"]
    except ServeError as error:
        return "error", str(error)
    return "ok", [(type(v), v) for v in array.reshape(-1).tolist()]


@settings(max_examples=400, deadline=None)
@given(
    elements=st.lists(
        st.one_of(
            st.binary(max_size=12),
            st.text(max_size=6).map(lambda t: t.encode("utf-8", "surrogatepass")),
            st.sampled_from([b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]),
        ),
        max_size=6,
    ),
    shape=st.integers(0, 7),
    cut=st.integers(0, 3),
    content_type=st.sampled_from([None, "str", "bytes"]),
)
def test_native_bytes_split_decodes_as_python_does(
    elements: list[bytes], shape: int, cut: int, content_type: str | None
) -> None:
    # the native split and its UTF-8 check against Python's decoding: the same values of the
    # same types (str or bytes), or the same 400; surrogates, overlong forms and code points
    # past U+10FFFF are not UTF-8 for either; `cut` truncates the tensor
    assert native.warm()
    raw = b"".join(len(e).to_bytes(4, "little") + e for e in elements)
    raw = raw[: len(raw) - cut] if cut <= len(raw) else raw
    parameters: dict[str, Any] = {"binary_data_size": len(raw)}
    if content_type is not None:
        parameters["content_type"] = content_type
    header = orjson.dumps(
        {"inputs": [{"name": "s", "datatype": "BYTES", "shape": [shape], "parameters": parameters}]}
    )
    least, native.MIN_COUNT = native.MIN_COUNT, 0  # natively however few the elements
    try:
        fast = _decoded_or_error(header + raw, len(header))
    finally:
        native.MIN_COUNT = least
    function = native._function
    native._function = None
    try:
        slow = _decoded_or_error(header + raw, len(header))
    finally:
        native._function = function
    assert fast == slow


@pytest.mark.usefixtures("python_decoding")
def test_binary_bytes_decode_in_python_too() -> None:
    test_binary_bytes_of_every_length_and_encoding()
    test_malformed_binary_bytes_name_the_element()


TABLE = Table({"f": "FP64", "i": "INT64", "s": "BYTES"})
TABLE_VALUES = (
    st.floats() | st.integers(-(2**64), 2**64) | st.none() | st.booleans()
    | st.text(max_size=3) | st.lists(st.floats(), max_size=1)
)  # fmt: skip


COLUMN_VALUES = [  # per input of TABLE: values of its datatype (mostly), or anything
    st.lists(st.floats() | st.integers(-(2**60), 2**60) | st.none(), min_size=3, max_size=3),
    st.lists(st.integers(-(2**64), 2**64), min_size=3, max_size=3),
    st.lists(st.text(max_size=3), min_size=3, max_size=3),
]


@settings(max_examples=400, deadline=None)
@given(
    rows=st.integers(1, 3),
    values=st.tuples(*[v | st.lists(TABLE_VALUES, min_size=3, max_size=3)
                       for v in COLUMN_VALUES]),  # fmt: skip
    kinds=st.just(("FP64", "INT64", "BYTES"))
    | st.tuples(*[st.sampled_from(["FP64", "INT64", "BYTES", "FP32"])] * 3),
    shape=st.just("rows") | st.sampled_from(["other", "2-D", "absent"]),
    tweak=st.just("none") | st.sampled_from([
        "missing", "extra", "reordered", "sized", "parameters 0", "str parameters", "not a list",
    ]),  # fmt: skip
)
def test_a_table_request_keeps_exactly_what_decoding_it_input_by_input_gives(
    rows: int, values: tuple[list[Any], ...], kinds: tuple[str, ...], shape: str, tweak: str
) -> None:
    """``decode_request(table=...)`` keeps a request's JSON data only where every input is
    the table's, in order, 1-D of one length, its values of the datatype (NaN, null,
    integers up to 2**53 for FP64, str for BYTES); then each list, as the field's array, is
    exactly the array decoding without the table gives. Any other request decodes as without
    the table: the same arrays, or the same 400."""
    specs: list[dict[str, Any]] = []
    for k, (name, datatype) in enumerate(zip("fis", kinds, strict=True)):
        data = values[k][:rows]
        spec: dict[str, Any] = {"name": name, "datatype": datatype, "data": data}
        if shape != "absent":
            spec["shape"] = {"rows": [len(data)], "other": [rows + 1],
                             "2-D": [len(data), 1]}[shape]  # fmt: skip
        if datatype == "BYTES":
            spec["parameters"] = {"content_type": "str"}
        specs.append(spec)
    if tweak == "missing":
        specs.pop()
    elif tweak == "extra":
        specs.append({"name": "x", "datatype": "FP64", "shape": [1], "data": [1.0]})
    elif tweak == "reordered":
        specs.reverse()
    elif tweak == "sized":
        specs[0]["parameters"] = {"binary_data_size": 0}
    elif tweak == "parameters 0":
        specs[1]["parameters"] = 0
    elif tweak == "str parameters":
        specs[2]["parameters"] = "str"
    elif tweak == "not a list":
        specs[0]["data"] = specs[0]["data"][0]
    data = json.dumps({"inputs": specs, "id": "q"}).encode()  # NaN and Infinity as Python writes
    try:
        plain = decode_request(data)
    except ServeError as error:
        with pytest.raises(ServeError) as caught:
            decode_request(data, table=TABLE)
        assert str(caught.value) == str(error)
        return
    fast = decode_request(data, table=TABLE)
    assert fast.id == plain.id == "q" and fast.rows == plain.rows
    event(f"kept: {fast.table is not None}")
    if fast.table is None:
        assert list(fast.inputs) == list(plain.inputs)
        for name, array in plain.inputs.items():
            assert fast.inputs[name].dtype == array.dtype
            np.testing.assert_array_equal(fast.inputs[name], array)
        return
    # ("not a list" of a first value that is itself a one-row list is a valid column)
    assert fast.inputs == {} and list(plain.inputs) == ["f", "i", "s"] \
        and tweak in ("none", "not a list")  # fmt: skip
    for column, (name, dtype) in zip(fast.table, [("f", "<f8"), ("i", "<i8"), ("s", "O")],
                                     strict=True):  # fmt: skip
        array = np.array(column, dtype=dtype)
        assert plain.inputs[name].dtype == array.dtype, name
        np.testing.assert_array_equal(array, plain.inputs[name])
        assert [type(v) for v in array.tolist()] == [type(v) for v in plain.inputs[name].tolist()]


def test_a_table_request_of_one_row_is_kept_as_parsed() -> None:
    """The common case (MLServer's ``pd`` table, one row) is kept; NaN, null and Unicode
    too; a binary request never is."""
    specs = [
        {"name": "f", "shape": [1], "datatype": "FP64", "data": [float("nan")]},
        {"name": "i", "shape": [1], "datatype": "INT64", "data": [-(2**63)]},
        {"name": "s", "shape": [1], "datatype": "BYTES", "data": ["\u00e9\U0001f600"],
         "parameters": {"content_type": "str"}},
    ]  # fmt: skip
    request = decode_request(json.dumps({"inputs": specs}).encode(), table=TABLE)
    assert request.inputs == {} and request.rows == 1 and request.table is not None
    assert request.table[1:] == ([-(2**63)], ["\u00e9\U0001f600"])
    assert np.isnan(request.table[0][0])
    specs[0]["data"] = [None]
    assert decode_request(body(*specs), table=TABLE).table == ([None], [-(2**63)],
                                                               ["\u00e9\U0001f600"])  # fmt: skip
    raw = np.array([1.5]).tobytes()
    header = orjson.dumps({"inputs": [{"name": "f", "shape": [1], "datatype": "FP64",
                                       "parameters": {"binary_data_size": 8}}, *specs[1:]]})
    binary = decode_request(header + raw, len(header), table=TABLE)
    assert binary.table is None and binary.inputs["f"].tolist() == [1.5]


def _outcome(body: bytes, table: Table) -> Any:
    """What ``decode_request`` makes of ``body`` with ``table``: the request's fields, with
    each kept value's type (1 and 1.0, 0.0 and -0.0 told apart), or the error."""
    try:
        request = decode_request(body, max_rows=100, table=table)
    except ServeError as error:
        return type(error).__name__, str(error)
    kept = None if request.table is None else [
        [(type(v), repr(v)) for v in column] for column in request.table
    ]  # fmt: skip
    arrays = {name: (a.dtype.str, a.tolist()) for name, a in request.inputs.items()}
    return (request.id, request.parameters, request.outputs, request.rows, kept, repr(arrays))


#: raw JSON between the brackets of a data array: values of every datatype, the edges of
#: each, malformed text, more than one value, and text that mimics the bytes around arrays
RAW_CONTENTS = [
    b"1.5", b"-0.0", b"-0", b"0", b"1e5", b"1E-5", b"9007199254740992", b"9007199254740993",
    b"-9223372036854775808", b"9223372036854775808", b"1e400", b"-1e400", b"NaN",
    b"Infinity", b"null", b"true", b"false", b" 2.5 ", b"\t3\n", b"", b"1.0, 2.0", b"1.",
    b".5", b"+1", b"0x10", b"1_0", b"01", b'"a"', b'""', b'"\\u00e9t\\u00e9"',
    '"été ✓ 𝄞"'.encode(), b'"a\\"b"', b'"tab\\there"', b'"x]y"', b'"a", "b"', b"{}",
    b'{"a": 1}', b"[1", b'"unterminated', b'"\xff"', b'"\xed\xa0\x80"',
    b'"x"]}, {"name": "i", "shape": [1], "datatype": "INT64", "data": [1',
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    contents=st.tuples(*[
        st.builds(lambda v: json.dumps(v, ensure_ascii=False).encode(), values)
        | st.sampled_from(RAW_CONTENTS)
        for values in (st.floats(allow_nan=False) | st.integers(-(2**54), 2**54),
                       st.integers(-(2**64), 2**64), st.text(max_size=4))
    ]),  # fmt: skip
    kinds=st.sampled_from([("FP64", "INT64", "BYTES"), ("FP64", "FP64", "BYTES")]),
)
def test_a_table_request_read_by_its_template_is_what_orjson_reads(
    contents: tuple[bytes, bytes, bytes], kinds: tuple[str, str, str]
) -> None:
    """A table remembers the bytes of a one-row request it accepted (``protocol.Template``)
    and reads later bodies that differ only inside the data arrays without parsing the
    whole body; whatever goes between the brackets, the outcome is exactly that of a table
    that never saw a request: the same values of the same types, or the same 400."""
    names = ("f", "i", "s")
    table = Table(dict(zip(names, kinds, strict=True)))
    first = [b"1.5", b"2" if kinds[1] == "INT64" else b"2.5", b'"x"']

    def body(values: list[bytes]) -> bytes:
        inputs = b", ".join(
            b'{"name": "%s", "shape": [1], "datatype": "%s", %b"data": [%b]}'
            % (n.encode(), d.encode(), b'"parameters": {"content_type": "str"}, ' if d == "BYTES"
               else b"", v) for n, d, v in zip(names, kinds, values, strict=True)
        )  # fmt: skip
        return b'{"parameters": {"content_type": "pd"}, "inputs": [' + inputs + b'], "id": "q"}'

    learned = _outcome(body(first), table)
    assert table.template is not None and learned == _outcome(body(first), Table(table_of(kinds)))
    assert _outcome(body(first), table) == learned and table.misses == 0  # read by the template
    mixed = body(list(contents))
    assert _outcome(mixed, table) == _outcome(mixed, Table(table_of(kinds)))
    event(f"read by the template: {table.misses == 0}")


def table_of(kinds: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(("f", "i", "s"), kinds, strict=True))


@pytest.mark.parametrize(
    "changed",
    [
        b'{"parameters": {"content_type": "pd"}, "inputs": [{"name": "f", "shape": [2], '
        b'"datatype": "FP64", "data": [1.0]}, {"name": "s", "shape": [1], "datatype": "BYTES", '
        b'"data": ["a"]}]}',  # a shape that does not match its data
        b'{"parameters": {"content_type": "pd"}, "inputs": [{"name": "f", "shape": [1], '
        b'"datatype": "FP64", "data": [1.0]}]}',  # a column missing
        b'{"parameters": {"content_type": "pd"}, "inputs": [{"name": "f", "shape": [1], '
        b'"datatype": "FP32", "data": [1.0]}, {"name": "s", "shape": [1], "datatype": "BYTES", '
        b'"data": ["a"]}]}',  # another datatype
        b'{"parameters": {"content_type": "pd"}, "inputs": [{"name": "f", "shape": [1], '
        b'"datatype": "FP64", "data": [1.0]}, {"name": "s", "shape": [1], "datatype": "BYTES", '
        b'"data": ["a"], "data": [1]}]}',  # a key twice
        b'{"parameters": {"content_type": "pd"}, "inputs": [{"name": "f", "shape": [1], '
        b'"datatype": "FP64", "data": [1.0]}, {"name": "s", "shape": [1], "datatype": "BYTES", '
        b'"data": ["a"]}], "parameters": {"data": [1]}}',  # a "data" key elsewhere
        b'{"parameters": {"content_type": "pd"}, "inputs": [{"name": "f", "shape": [1], '
        b'"datatype": "FP64", "data": [1.0, 2.0]}, {"name": "s", "shape": [1], '
        b'"datatype": "BYTES", "data": ["a", "b"]}]}',  # two rows where the shape says one
    ],
)
def test_a_body_unlike_the_template_decodes_as_without_it(changed: bytes) -> None:
    table = Table({"f": "FP64", "s": "BYTES"})
    accepted = (b'{"parameters": {"content_type": "pd"}, "inputs": [{"name": "f", "shape": [1], '
                b'"datatype": "FP64", "data": [1.0]}, {"name": "s", "shape": [1], '
                b'"datatype": "BYTES", "data": ["a"]}]}')  # fmt: skip
    decode_request(accepted, table=table)
    assert table.template is not None
    assert _outcome(changed, table) == _outcome(changed, Table({"f": "FP64", "s": "BYTES"}))
