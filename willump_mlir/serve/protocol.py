"""The Open Inference Protocol (KServe V2) REST bodies: infer requests decoded into numpy
arrays, responses encoded, in JSON and in the binary tensor extension.

Decoding never loops over rows in Python where numpy can do the work: binary tensors are
``np.frombuffer`` views of the body, JSON tensors one ``np.asarray`` of what orjson parsed.
Every malformed body is a :class:`ServeError` (400) whose message names what is wrong.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np
import orjson

from willump_mlir.serve.errors import ServeError, TooLarge
from willump_mlir.serve.native import split_strings

#: KServe datatype -> numpy dtype (little-endian, as the binary extension sends them).
DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    "BYTES": np.dtype(object),
}
_KINDS = {"BOOL": "b", "INT": "iu", "UINT": "iu", "FP": "iuf"}
_LENGTH = struct.Struct("<I")
_STR = {str}
MAX_DIMS = 32


@dataclass
class InferRequest:
    """A decoded infer request: inputs by name, in request order."""

    id: str | None
    parameters: dict[str, Any]
    inputs: dict[str, np.ndarray]
    #: the outputs asked for (None: all), and which of them go back as binary
    outputs: list[str] | None
    binary_outputs: set[str] = field(default_factory=set)
    #: binary for every output not listed (``binary_data_output``)
    binary_default: bool = False
    #: the number of rows: the longest first dimension among the inputs
    rows: int = 0
    #: the request as a model's :class:`Table` (then ``inputs`` is empty): each input's
    #: JSON data as parsed, in the table's order
    table: tuple[list[Any], ...] | None = None


class Table:
    """A model's inputs when every one is a column of float64, int64 or text
    (``ServeSignature.table``): a JSON request that sends exactly these, in this order, each
    of shape ``[rows]`` with values that convert exactly (numbers, integers in range, str),
    is checked with a few calls over all its inputs and its data kept as orjson parsed it,
    to become arrays once per batch (``ServeSignature.combine``) rather than once per
    request (``_from_json``). Any other request is decoded input by input."""

    def __init__(self, inputs: dict[str, str]):
        self.names = list(inputs)
        self.datatypes = list(inputs.values())
        #: per datatype present: its inputs' positions, the value types it takes and the
        #: range its integers convert exactly in (FP64: up to 2**53; null is NaN)
        self.groups = [
            (itemgetter(*positions) if len(positions) > 1 else _one(positions[0]),
             *_PLAIN[datatype])
            for datatype in dict.fromkeys(self.datatypes)
            for positions in [[k for k, d in enumerate(self.datatypes) if d == datatype]]
        ]  # fmt: skip
        #: a request accepted, as bytes to compare (``Template``), or None
        self.template: Template | None = None
        #: requests in a row the template did not fit (or since it could not be made)
        self.misses = RELEARN

    def match(
        self, body: bytes, max_rows: int | None
    ) -> tuple[dict[str, Any], tuple[list[Any], ...]] | None:
        """A JSON body that is the template's request with other values (``Template``):
        its parsed JSON but for the inputs, and its data as ``data`` gives it; else None."""
        template = self.template
        if template is None or type(body) is not bytes or (max_rows is not None and max_rows < 1):
            self.misses += 1
            return None
        values = template.values(body)
        if values is None or (list(map(type, values)) != template.types
                              and not self.holds(values, [])):  # fmt: skip
            self.misses += 1
            return None
        self.misses = 0
        return template.request, tuple(map(list, zip(values)))  # type: ignore[arg-type]

    def learn(self, body: bytes, request: dict[str, Any], data: tuple[list[Any], ...]) -> None:
        """Keep the template of an accepted JSON ``body`` (``request`` parsed, its inputs'
        ``data``) if the last ``RELEARN`` requests did not fit the one kept (or none could
        be made of the request before them)."""
        if self.misses >= RELEARN:
            self.template = Template.of(body, request, data)
            self.misses = 0

    def data(self, specs: list[Any], max_rows: int | None) -> tuple[list[Any], ...] | None:
        """The data of a request's input ``specs`` if they are this table's (see the class
        docstring), else None. (Each check is a C loop over all the inputs.)"""
        if len(specs) != len(self.names):
            return None
        try:
            if list(map(_NAME, specs)) != self.names or \
                    list(map(_DATATYPE, specs)) != self.datatypes:  # fmt: skip
                return None
            shapes = list(map(_SHAPE, specs))
            data = list(map(_DATA, specs))
            # each None or an object without sizes
            parameters = list(map(dict.get, specs, repeat("parameters")))
        except (KeyError, TypeError):  # a spec without one of them, or not an object
            return None
        shape = shapes[0]
        if type(shape) is not list or len(shape) != 1 or shapes.count(shape) != len(shapes):
            return None
        rows = shape[0]
        if type(rows) is not int or rows < 1 or (max_rows is not None and rows > max_rows):
            return None
        if set(map(type, data)) != _LIST or set(map(len, data)) != {rows}:
            return None
        kinds = set(map(type, parameters))
        if not kinds <= _OBJECT or (dict in kinds and any(map(_SIZED, filter(None, parameters)))):
            return None
        return tuple(data) if self.holds(list(map(_FIRST, data)) if rows == 1 else None,
                                         data) else None  # fmt: skip

    def holds(self, firsts: list[Any] | None, data: list[list[Any]]) -> bool:
        """Whether each input's values (``firsts``: of a one-row request, else in ``data``)
        are of its datatype, integers in its range."""
        for take, allowed, low, high in self.groups:
            values = take(firsts) if firsts is not None else tuple(chain.from_iterable(take(data)))
            kinds = set(map(type, values))
            if not kinds <= allowed:
                return False
            if int in kinds and not all(low <= v <= high for v in values if type(v) is int):
                return False
        return True


#: requests in a row that do not fit a ``Table``'s template (or since none could be made)
#: before the next accepted one replaces it
RELEARN = 16
#: a data array: its key, and the contents of its list up to the first ``]``
_ARRAY = re.compile(rb'"data"[ \t\n\r]*:[ \t\n\r]*\[([^\]]*)\]')


class Template:
    """A one-row table request that ``Table.data`` accepted, as the bytes around its data
    arrays (``_ARRAY``), and the types of their values: a body of the same bytes around
    arrays that each hold one value of its input's datatype (``Table.holds``; the types the
    accepted request had are checked with one comparison) is that request with these
    values. It is read with one split of the body and orjson on each array's contents,
    instead of orjson on the whole body and the checks of ``Table.data`` on what it built
    (names, datatypes, shapes and parameters checked once).

    Why nothing else fits: the bytes around the arrays are those of an accepted request,
    where ``_ARRAY`` found exactly its inputs' data arrays (a ``"data"`` key anywhere else
    would add a piece); what orjson parses as one value of the expected type from the
    contents between them is one JSON scalar (the contents hold no ``]``: a string holding
    one is cut short and does not parse), so the body is the accepted request's JSON with
    other scalars in its data arrays."""

    __slots__ = ("around", "types", "request")

    def __init__(
        self, around: list[bytes], types: list[type | None], request: dict[str, Any]
    ) -> None:
        self.around = around  # the body's bytes before, between and after the arrays
        #: each array's value's type: float or str, None for any other (then ``Table.holds``
        #: checks every request's values: integers have a range)
        self.types = types
        self.request = request  # the accepted request, parsed (for its other keys)

    @staticmethod
    def of(body: bytes, request: dict[str, Any], data: tuple[list[Any], ...]) -> Template | None:
        """The template of an accepted ``body`` (``request`` parsed, ``data`` its inputs'
        data, in order), or None: not one row, or its arrays not told apart from the rest."""
        if type(body) is not bytes or len(data[0]) != 1:
            return None
        template = Template(_ARRAY.split(body)[0::2], [], request)
        values = template.values(body)
        if values != [column[0] for column in data]:  # (NaN is not read: orjson refuses it)
            return None
        template.types = [t if t in (float, str) else None for t in map(type, values)]
        return template

    def values(self, body: bytes) -> list[Any] | None:
        """The value of each data array of a ``body`` made of the template's bytes around
        them (the data of a one-row request; ``Table.holds`` checks their types), else None."""
        parts = _ARRAY.split(body)
        if parts[0::2] != self.around:
            return None
        try:
            return list(map(orjson.loads, parts[1::2]))
        except orjson.JSONDecodeError:
            return None


def _one(position: int) -> Any:
    """Like ``itemgetter(position)``, as a tuple of one (``itemgetter`` of several gives one)."""
    return lambda items: (items[position],)


_NAME, _DATATYPE = itemgetter("name"), itemgetter("datatype")
_SHAPE, _DATA, _FIRST = itemgetter("shape"), itemgetter("data"), itemgetter(0)
_SIZED = methodcaller("__contains__", "binary_data_size")
_LIST = {list}
_OBJECT = frozenset((dict, type(None)))
#: per datatype of a ``Table``: the JSON values its data may hold, and the integers among
#: them that convert exactly
_PLAIN: dict[str, tuple[frozenset[type], int, int]] = {
    "FP64": (frozenset((float, int, type(None))), -(2**53), 2**53),
    "INT64": (frozenset((int,)), -(2**63), 2**63 - 1),
    "BYTES": (frozenset((str,)), 0, 0),
}


def datatype_of(array: np.ndarray) -> str:
    """The KServe datatype of a result array (strings and objects are BYTES)."""
    kind = array.dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return f"{'UINT' if kind == 'u' else 'INT'}{array.dtype.itemsize * 8}"
    if kind == "f" and array.dtype.itemsize in (2, 4, 8):
        return f"FP{array.dtype.itemsize * 8}"
    return "BYTES"


def _load_json(text: bytes | memoryview, what: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raw = bytes(text)
        if b"NaN" in raw or b"Infinity" in raw:  # as Python's json (and so tritonclient) writes
            try:
                return json.loads(raw)
            except (ValueError, RecursionError):
                pass
        raise ServeError(f"{what} is not valid JSON: {error}") from None


def parse_json(body: bytes, what: str = "the request body") -> Any:
    """A JSON body (an empty one is ``{}``); 400 naming the problem otherwise."""
    return _load_json(body, what) if body.strip() else {}


def _mapping(value: object, what: str, *where: object) -> dict[str, Any]:
    """`value` if it is a JSON object (None: an empty one); else a 400 naming `what`, a
    format string of `where` (built only then: this runs for every input)."""
    if type(value) is dict:
        return value
    if value is None:
        return {}
    raise ServeError(f"{what.format(*where)} must be a JSON object, not {type(value).__name__}")


def _shape(spec: dict[str, Any], name: str) -> tuple[int, ...]:
    shape = spec.get("shape")
    if type(shape) is list and len(shape) <= MAX_DIMS:
        for dim in shape:
            if type(dim) is not int or dim < 0:
                break
        else:
            return tuple(shape)
    raise ServeError(
        f"input '{name}': 'shape' must be a list of at most {MAX_DIMS} non-negative integers"
    )


def decode_request(
    body: bytes, header_length: int | None = None, *, max_rows: int | None = None,
    table: Table | None = None,
) -> InferRequest:  # fmt: skip
    """Decode an infer request body; `header_length` is the ``Inference-Header-Content-Length``
    header (the JSON part's length) when the body carries binary tensors; `table`: the
    model's, if it has one (a request that fits it is kept as parsed: ``InferRequest.table``)."""
    if table is not None and header_length is None:
        fits = table.match(body, max_rows)
        if fits is not None:
            return _finish(fits[0], {}, len(fits[1][0]), fits[1])
    view = memoryview(body)
    if header_length is None:
        header, binary = view, view[:0]
    else:
        if not 0 <= header_length <= len(body):
            raise ServeError(
                f"Inference-Header-Content-Length is {header_length} but the body has "
                f"{len(body)} bytes"
            )
        header, binary = view[:header_length], view[header_length:]
    request = _mapping(_load_json(header, "the request JSON"), "the request")
    specs = request.get("inputs")
    if not isinstance(specs, list) or not specs:
        raise ServeError("the request has no 'inputs' (a non-empty list of tensors)")
    kept = table.data(specs, max_rows) if table is not None and header_length is None else None
    if kept is not None:
        table.learn(body, request, kept)  # type: ignore[union-attr]
        return _finish(request, {}, len(kept[0]), kept)
    inputs: dict[str, np.ndarray] = {}
    offset = rows = 0
    for position, spec in enumerate(specs):  # the common case first in each check: it runs
        if type(spec) is not dict:  # for every input of every request
            spec = _mapping(spec, "input {}", position)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise ServeError(f"input {position} has no 'name'")
        if name in inputs:
            raise ServeError(f"input '{name}' is given twice")
        datatype = spec.get("datatype")
        if type(datatype) is not str or datatype not in DTYPES:
            raise ServeError(
                f"input '{name}': datatype {datatype!r} is not one of {', '.join(DTYPES)}"
            )
        dims = spec.get("shape")
        if type(dims) is list and len(dims) == 1 and type(dims[0]) is int and dims[0] >= 0:
            first = dims[0]
            shape: tuple[int, ...] = (first,)
        else:
            shape = _shape(spec, name)
            first = shape[0] if shape else 1
        if max_rows is not None and first > max_rows:
            raise TooLarge(f"input '{name}' has {first} rows, over the limit of {max_rows}")
        if first > rows:
            rows = first
        parameters = spec.get("parameters")
        if type(parameters) is not dict:
            parameters = _mapping(parameters, "input '{}' parameters", name)
        size = parameters.get("binary_data_size")
        if size is not None:
            if "data" in spec:
                raise ServeError(f"input '{name}' has both 'data' and 'binary_data_size'")
            if type(size) is not int or size < 0:
                raise ServeError(f"input '{name}': binary_data_size must be a non-negative integer")
            if offset + size > len(binary):
                raise ServeError(
                    f"input '{name}': binary_data_size {size} runs past the end of the body "
                    f"({len(binary) - offset} bytes left): the body is truncated"
                )
            chunk = binary[offset : offset + size]
            offset += size
            array = _from_binary(chunk, datatype, shape, name, parameters)
        elif "data" in spec:
            array = _from_json(spec["data"], datatype, shape, name, parameters)
        else:
            raise ServeError(f"input '{name}' has neither 'data' nor 'binary_data_size'")
        inputs[name] = array
    if offset != len(binary):
        raise ServeError(
            f"the body has {len(binary) - offset} bytes after the last binary tensor "
            "(binary_data_size does not match the data sent)"
        )
    return _finish(request, inputs, rows, None)


def _finish(
    request: dict[str, Any], inputs: dict[str, np.ndarray], rows: int,
    table: tuple[list[Any], ...] | None,
) -> InferRequest:  # fmt: skip
    """The decoded request, with what its JSON says besides the inputs."""
    parameters = _mapping(request.get("parameters"), "the request parameters")
    outputs, binary_outputs = _requested_outputs(request.get("outputs"))
    request_id = request.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise ServeError("'id' must be a string")
    return InferRequest(
        id=request_id,
        parameters=parameters,
        inputs=inputs,
        outputs=outputs,
        binary_outputs=binary_outputs,
        binary_default=bool(parameters.get("binary_data_output", False)),
        rows=rows,
        table=table,
    )


def _requested_outputs(specs: object) -> tuple[list[str] | None, set[str]]:
    if specs is None:
        return None, set()
    if not isinstance(specs, list):
        raise ServeError("'outputs' must be a list of {name, parameters}")
    names: list[str] = []
    binary: set[str] = set()
    for position, spec in enumerate(specs):
        spec = _mapping(spec, "output {}", position)
        name = spec.get("name")
        if not isinstance(name, str):
            raise ServeError(f"output {position} has no 'name'")
        names.append(name)
        if _mapping(spec.get("parameters"), "output '{}' parameters", name).get("binary_data"):
            binary.add(name)
    return names, binary


def _count(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _from_binary(
    chunk: memoryview, datatype: str, shape: tuple[int, ...], name: str,
    parameters: dict[str, Any],
) -> np.ndarray:  # fmt: skip
    if datatype == "BYTES":
        return _decode_strings(chunk, _count(shape), shape, name, parameters)
    dtype = DTYPES[datatype]
    expected = _count(shape) * dtype.itemsize
    if len(chunk) != expected:
        raise ServeError(
            f"input '{name}': {len(chunk)} bytes of {datatype} data for shape {list(shape)} "
            f"(expected {expected})"
        )
    if datatype == "BOOL":
        return (np.frombuffer(chunk, dtype=np.uint8) != 0).reshape(shape)
    return np.frombuffer(chunk, dtype=dtype).reshape(shape)


def _split_bytes(chunk: bytes, count: int, name: str) -> tuple[list[int], list[int]]:
    """Where the BYTES elements of the binary extension lie in ``chunk`` (each a 4-byte
    little-endian length, then the bytes): their starts and ends. Only the lengths are read
    here (an element's position depends on every length before it); the elements become
    objects in ``_decode_strings``."""
    starts: list[int] = []
    ends: list[int] = []
    unpack = _LENGTH.unpack_from
    offset, end = 0, len(chunk)
    while offset < end:
        if offset + 4 > end:
            raise ServeError(f"input '{name}': truncated BYTES element length at byte {offset}")
        (length,) = unpack(chunk, offset)
        offset += 4
        starts.append(offset)
        offset += length
        ends.append(offset)
    if offset > end:
        raise ServeError(
            f"input '{name}': BYTES element {len(starts) - 1} of {ends[-1] - starts[-1]} bytes "
            "runs past the end of its data"
        )
    if len(starts) != count:
        raise ServeError(f"input '{name}': {len(starts)} BYTES elements for a shape of {count}")
    return starts, ends


def _decode_strings(
    chunk: memoryview, count: int, shape: tuple[int, ...], name: str,
    parameters: dict[str, Any],
) -> np.ndarray:  # fmt: skip
    """Binary BYTES as str (UTF-8) unless the input says ``content_type: "bytes"``; without a
    content type, a tensor that is not all UTF-8 stays bytes. ASCII data (lengths included,
    as for elements shorter than 128 bytes) is decoded in one call and sliced. The native
    split (``native.split_strings``) does it all where it is compiled; what it refuses (not
    UTF-8, or malformed: the error names the element) is decoded here."""
    raw = bytes(chunk)
    content_type = parameters.get("content_type")
    fast = split_strings(raw, count, text=content_type != "bytes")
    if fast is not None:
        return fast.reshape(shape)
    starts, ends = _split_bytes(raw, count, name)
    array = np.empty(count, dtype=object)
    if content_type != "bytes":
        if raw.isascii():
            text = raw.decode("ascii")
            array[:] = [text[a:b] for a, b in zip(starts, ends, strict=True)]
            return array.reshape(shape)
        try:
            array[:] = [raw[a:b].decode("utf-8") for a, b in zip(starts, ends, strict=True)]
            return array.reshape(shape)
        except UnicodeDecodeError as error:
            if content_type == "str":
                raise ServeError(f"input '{name}' is content_type 'str' but {error}") from None
    array[:] = [raw[a:b] for a, b in zip(starts, ends, strict=True)]
    return array.reshape(shape)


def _from_json(
    data: object, datatype: str, shape: tuple[int, ...], name: str, parameters: dict[str, Any]
) -> np.ndarray:
    if not isinstance(data, list):
        data = [data]
    if datatype == "BYTES" and len(shape) == 1 and len(data) == shape[0] \
            and set(map(type, data)) == _STR:  # fmt: skip
        return np.array(data, dtype=object)  # a column of text: no '<U' array between
    try:  # text stays objects: numpy would turn ["a", 1] into two strings
        array = np.asarray(data, dtype=object if datatype == "BYTES" else None)
    except ValueError:
        raise ServeError(
            f"input '{name}': 'data' is ragged (nested lists of unequal length)"
        ) from None
    if array.shape == shape and datatype != "BYTES" and array.dtype == DTYPES[datatype]:
        return array  # numbers parsed as the datatype: in range and of its kind already
    count = _count(shape)
    if array.size != count:
        raise ServeError(
            f"input '{name}': {array.size} values for shape {list(shape)} ({count} expected)"
        )
    if array.ndim > 1 and array.shape != shape:
        raise ServeError(
            f"input '{name}': 'data' is nested as {list(array.shape)} but shape is {list(shape)}"
        )
    if datatype == "BYTES":
        return _json_strings(array, name, parameters).reshape(shape)
    dtype = DTYPES[datatype]
    kinds = _KINDS[datatype.rstrip("0123456789")]
    if array.dtype == object and datatype.startswith("FP"):
        # null stands for a missing value (NaN): JSON has no NaN
        values = array.reshape(-1)
        if not all(v is None or type(v) in (int, float) for v in values):
            raise ServeError(f"input '{name}': {datatype} data holds a non-number")
        array = np.array(values.tolist(), dtype=np.float64)
    elif array.size and array.dtype.kind not in kinds:
        raise ServeError(f"input '{name}': {datatype} data holds {_describe(array)}")
    if array.dtype.kind in "iu" and dtype.kind in "iu" and array.size:
        info = np.iinfo(dtype)
        if array.min() < info.min or array.max() > info.max:
            raise ServeError(f"input '{name}': a value is out of range for {datatype}")
    if array.dtype != dtype:
        array = array.astype(dtype)
    return array if array.shape == shape else array.reshape(shape)


def _describe(array: np.ndarray) -> str:
    kind = array.dtype.kind
    return {
        "U": "strings", "b": "booleans", "f": "non-integer numbers", "O": "mixed or null values",
        "i": "integers", "u": "integers",
    }.get(kind, str(array.dtype))  # fmt: skip


def _json_strings(array: np.ndarray, name: str, parameters: dict[str, Any]) -> np.ndarray:
    values = array.reshape(-1)  # an object array
    for value in values:
        if not (value is None or isinstance(value, str)):  # null is a missing string (None)
            raise ServeError(f"input '{name}': BYTES data must be strings, not "
                             f"{type(value).__name__}")  # fmt: skip
    return values.copy()


def _json_data(array: np.ndarray) -> Any:
    """A flat JSON-ready view of an output: numpy for orjson where it can, else a list."""
    flat = np.ascontiguousarray(array).reshape(-1)
    if flat.dtype.kind in "biuf" and flat.dtype != np.float16:
        return flat
    if flat.dtype == np.float16:
        return flat.astype(np.float64)
    return [_text(v) for v in flat.tolist()]


def _text(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def _binary_data(array: np.ndarray) -> bytes:
    if datatype_of(array) != "BYTES":
        return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    parts: list[bytes] = []
    for value in array.reshape(-1).tolist():
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
        parts += (_LENGTH.pack(len(raw)), raw)
    return b"".join(parts)


def encode_response(
    model_name: str,
    model_version: str | None,
    request: InferRequest,
    outputs: dict[str, np.ndarray],
    parameters: dict[str, Any] | None = None,
) -> tuple[bytes, int | None]:
    """The response body and, when it carries binary tensors, its JSON header's length (for
    ``Inference-Header-Content-Length``)."""
    tensors = []
    blobs: list[bytes] = []
    for name, array in outputs.items():
        array = np.asarray(array)
        tensor: dict[str, Any] = {
            "name": name, "datatype": datatype_of(array), "shape": list(array.shape),
        }  # fmt: skip
        listed = request.outputs is not None and name in request.outputs
        if name in request.binary_outputs or (request.binary_default and not listed):
            raw = _binary_data(array)
            tensor["parameters"] = {"binary_data_size": len(raw)}
            blobs.append(raw)
        else:
            tensor["data"] = _json_data(array)
        tensors.append(tensor)
    response: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        response["model_version"] = model_version
    if request.id is not None:
        response["id"] = request.id
    if parameters:
        response["parameters"] = parameters
    response["outputs"] = tensors
    header = dumps(response)
    if not blobs:
        return header, None
    return b"".join([header, *blobs]), len(header)


def dumps(value: object) -> bytes:
    """JSON bytes (numpy arrays serialized natively; NaN becomes null)."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


def error_body(message: str) -> bytes:
    """The protocol's error body."""
    return orjson.dumps({"error": message})
