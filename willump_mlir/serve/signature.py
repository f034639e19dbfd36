"""A pipeline's signature as Open Inference Protocol tensors, and the conversions between
request tensors and the pipeline's data arguments.

Each data argument of the pipeline (``CompiledPipeline.signature``) becomes request inputs:
a DataFrame argument one input per column, named by the column, of the KServe datatype of
the example's dtype, shape ``[-1]``; a text argument (a list, array or Series of str) one
BYTES input named by the argument; a 2-D numeric array one input named by the argument,
shape ``[-1, width]``. A request's tensors are converted to the example's dtypes only where
that is exact (an int64 column takes integers and integral floats in range, a float64
column integers up to 2**53, a str column UTF-8 text), else the request is refused naming
the input. The result becomes outputs: ``predict`` for an array or Series (shape ``[-1]``
or ``[-1, k]``), one output per column for a DataFrame; a model's config may rename them.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from willump_mlir.frontend.spec import ArgumentSpec, ValueSpec
from willump_mlir.runtime.compiled import Signature
from willump_mlir.runtime.marshal import Columns
from willump_mlir.serve.errors import ServeError
from willump_mlir.serve.protocol import Table

#: raw dtypes (``ServeSignature.raw``) -> the datatype of a ``table`` input
_TABLE = {"<f8": "FP64", "<i8": "INT64", "|O": "BYTES"}
#: numpy dtype names -> KServe datatypes (anything else travels as BYTES: str, objects,
#: datetimes as ISO text)
DATATYPES = {
    "bool": "BOOL", "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64",
    "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32", "uint64": "UINT64",
    "float16": "FP16", "float32": "FP32", "float64": "FP64",
}  # fmt: skip
PREDICT = "predict"  # the output of a result that is not a DataFrame (MLServer's name)
TOP_K_ROWS = "top_k_rows"  # a top-K answer's row numbers, best first


@dataclass(frozen=True)
class TensorSpec:
    """One input or output: its name, KServe datatype and shape (-1: any number of rows)."""

    name: str
    datatype: str
    shape: list[int]


def datatype(dtype: str) -> str:
    """The KServe datatype of a numpy or pandas dtype name (a nullable ``Int64`` or
    ``boolean`` is its numpy one's)."""
    return DATATYPES.get(_numpy_name(dtype), "BYTES")


def _numpy_name(dtype: str) -> str:
    """The numpy dtype name of a pandas nullable one (``Int64``, ``Float64``, ``boolean``)."""
    return "bool" if dtype == "boolean" else dtype.lower() if dtype[:1] in "IUF" else dtype


@dataclass(frozen=True)
class Field:
    """Where one request input goes: data argument ``argument`` (its position among the data
    arguments), its ``column`` (None: the whole argument), converted to ``dtype``."""

    tensor: TensorSpec
    argument: int
    column: str | None
    dtype: str

    @property
    def numeric(self) -> np.dtype | None:
        """The numpy dtype of a numeric field (None for str and datetimes)."""
        return np.dtype(self.dtype) if self.dtype in DATATYPES else None


class ServeSignature:
    """A pipeline's inputs and outputs as tensors, and the conversions for a request."""

    def __init__(self, signature: Signature, output_names: Sequence[str] | None = None):
        self.data = signature.data
        self.fields: list[Field] = []
        for position, spec in enumerate(self.data):
            self.fields.extend(_fields(position, spec))
        names = [f.tensor.name for f in self.fields]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"inputs {repeated} are named twice (columns of two arguments)")
        self.by_name = {f.tensor.name: f for f in self.fields}
        self.numeric = [f.numeric if len(f.tensor.shape) == 1 else None for f in self.fields]
        raw = [_raw_dtype(f) for f in self.fields]
        known = [d for d in raw if d is not None]
        #: per field, the dtype of a 1-D request array whose conversion can wait for its
        #: batch (see ``columns``); None if some field's cannot
        self.raw = tuple(known) if raw and len(known) == len(raw) else None
        #: the inputs as a ``protocol.Table`` when every field is a column of float64, int64
        #: or text (a request that fits it becomes arrays with its batch); else None
        self.table: Table | None = None
        if self.raw is not None:
            table = {f.tensor.name: _TABLE.get(d.str)
                     for f, d in zip(self.fields, self.raw, strict=True)}  # fmt: skip
            if None not in table.values():
                self.table = Table(table)  # type: ignore[arg-type]
        self._take = operator.itemgetter(*names) if names else None
        self.result = signature.result
        self.outputs = _outputs(signature.result)
        if output_names is not None:
            if len(output_names) != len(self.outputs):
                raise ValueError(
                    f"the config names {len(output_names)} outputs; the pipeline has "
                    f"{len(self.outputs)} ({', '.join(t.name for t in self.outputs)})"
                )
            self.outputs = [TensorSpec(n, t.datatype, t.shape)
                            for n, t in zip(output_names, self.outputs, strict=True)]  # fmt: skip
        #: whether a result can be ranked for top-K (one number a row)
        self.rankable = signature.result is None or (
            signature.result.type in ("ndarray", "Series") and signature.result.row_shape == ()
            and datatype(signature.result.dtypes[0][1]) != "BYTES"
        )  # fmt: skip

    @property
    def inputs(self) -> list[TensorSpec]:
        return [f.tensor for f in self.fields]

    def arguments(self, inputs: dict[str, np.ndarray]) -> tuple[tuple[Any, ...], int]:
        """The data arguments for a request's ``inputs`` (one array per input, as decoded),
        and its number of rows; ``ServeError`` naming an input that is unknown, missing,
        of the wrong shape or not exactly convertible."""
        unknown = sorted(set(inputs) - set(self.by_name))
        if unknown:
            raise ServeError(f"unknown input {unknown[0]!r}; the model's inputs are "
                             f"{', '.join(self.by_name)}")  # fmt: skip
        missing = [n for n in self.by_name if n not in inputs]
        if missing:
            field = self.by_name[missing[0]]
            what = f"column {missing[0]!r} of argument {self.data[field.argument].name!r}" \
                if field.column is not None else f"argument {missing[0]!r}"  # fmt: skip
            raise ServeError(f"missing input {missing[0]!r} ({what})")
        return self.convert([inputs[name] for name in self.by_name])

    def columns(self, inputs: dict[str, Any]) -> tuple[tuple[np.ndarray, ...], int] | None:
        """A request's inputs in field order, and its rows, when their conversion can wait
        until its batch is known (``combine``): exactly the model's inputs, each a 1-D
        array of its field's ``raw`` dtype (numbers of the column's dtype, text and dates
        as objects), all of one length. None otherwise (``arguments`` converts the request
        alone, naming what is wrong)."""
        raw = self.raw
        if raw is None or self._take is None or len(inputs) != len(raw):
            return None
        try:
            arrays = self._take(inputs)
        except KeyError:
            return None
        if len(raw) == 1:
            arrays = (arrays,)
        first = arrays[0]
        if type(first) is not np.ndarray or first.ndim != 1:
            return None
        shape = first.shape
        for array, dtype in zip(arrays, raw):  # noqa: B905 - one per field: checked above
            if type(array) is not np.ndarray or array.shape != shape \
                    or (array.dtype is not dtype and array.dtype != dtype):  # fmt: skip
                return None
        return arrays, shape[0]

    def combine(self, requests: Sequence[tuple[np.ndarray | list[Any], ...]]) -> tuple[Any, ...]:
        """The data arguments for the rows of several requests' ``columns`` (or ``table``
        lists), one after the other: each field's values joined, then converted once
        (``ServeError`` naming the input and the row among the joined ones if a value does
        not convert)."""
        assert self.raw is not None
        if len(requests) == 1:
            return self.convert(self.arrays(requests[0]))[0]
        joined = []
        for parts, dtype in zip(zip(*requests, strict=True), self.raw, strict=True):
            if all(type(part) is list for part in parts):  # ``table`` lists: one array
                joined.append(np.array(list(chain.from_iterable(parts)), dtype=dtype))
            else:
                joined.append(np.concatenate([np.asarray(part, dtype=dtype) for part in parts]))
        return self.convert(joined)[0]

    def arrays(self, columns: Sequence[np.ndarray | list[Any]]) -> list[np.ndarray]:
        """One request's ``columns`` or ``table`` lists as arrays of the fields' raw dtypes."""
        assert self.raw is not None
        return [np.array(c, dtype=d) if type(c) is list else c
                for c, d in zip(columns, self.raw, strict=True)]  # fmt: skip

    def convert(self, arrays: Sequence[Any]) -> tuple[tuple[Any, ...], int]:
        """The data arguments for one array per field (in field order), and the rows."""
        rows: int | None = None
        converted: list[dict[str, Any]] = [{} for _ in self.data]
        for field, numeric, value in zip(self.fields, self.numeric, arrays, strict=True):
            name = field.tensor.name
            array = np.asarray(value)
            count = array.shape[0] if array.ndim else -1
            if rows is not None and count != rows:
                raise ServeError(
                    f"input {name!r} has {count} rows where earlier inputs have {rows}"
                )
            rows = count
            if not (numeric is not None and array.dtype == numeric and array.ndim == 1
                    and array.flags.c_contiguous):  # fmt: skip
                array = _convert(field, array)  # a 1-D column of its dtype is used as it is
            converted[field.argument][field.column or ""] = array
        values = tuple(_argument(spec, parts) for spec, parts in zip(self.data, converted,
                                                                      strict=True))  # fmt: skip
        return values, rows or 0

    def outputs_of(self, result: Any) -> dict[str, np.ndarray]:
        """The named output arrays of a result, rows first."""
        if type(result) is np.ndarray and result.dtype.kind not in "US" \
                and len(self.outputs) == 1:  # fmt: skip
            return {self.outputs[0].name: result}  # as ``_plain`` gives it
        if isinstance(result, pd.DataFrame):
            arrays = [_plain(result.iloc[:, k]) for k in range(result.shape[1])]
        else:
            arrays = [_plain(result)]
        if len(arrays) != len(self.outputs):
            raise ServeError(f"the pipeline returned {len(arrays)} outputs where its signature "
                             f"has {len(self.outputs)}")  # fmt: skip
        return {t.name: a for t, a in zip(self.outputs, arrays, strict=True)}


def _raw_dtype(field: Field) -> np.dtype | None:
    """The dtype of a 1-D request array whose conversion to ``field`` is elementwise, so
    that the arrays of several requests can be joined first: the column's own dtype for
    numbers, objects for text and dates (None for a 2-D input or a nullable column)."""
    if len(field.tensor.shape) != 1:
        return None
    if field.numeric is not None:
        return field.numeric
    target = field.dtype
    if target in ("object", "str") or target.startswith(("string", "datetime64")):
        return np.dtype(object)
    return None


def _fields(position: int, spec: ArgumentSpec) -> list[Field]:
    example = spec.example
    assert example is not None
    if spec.kind == "frame":
        return [Field(TensorSpec(c, datatype(d), [-1]), position, c, d) for c, d in example.dtypes]
    dtype = example.dtypes[0][1]
    if spec.kind == "strings":
        return [Field(TensorSpec(spec.name, "BYTES", [-1]), position, None, "object")]
    shape = [-1, *example.row_shape]
    return [Field(TensorSpec(spec.name, datatype(dtype), shape), position, None, dtype)]


def _outputs(result: ValueSpec | None) -> list[TensorSpec]:
    if result is None:  # a save from before signatures: the usual one score a row
        return [TensorSpec(PREDICT, "FP64", [-1])]
    if result.type == "DataFrame":
        return [TensorSpec(c, datatype(d), [-1]) for c, d in result.dtypes]
    return [TensorSpec(PREDICT, datatype(result.dtypes[0][1]), [-1, *result.row_shape])]


def _argument(spec: ArgumentSpec, parts: dict[str, Any]) -> Any:
    """A data argument of the example's type from its converted inputs."""
    example = spec.example
    assert example is not None
    if spec.kind == "frame":
        return Columns({c: parts[c] for c, _ in example.dtypes})
    value = parts[""]
    if spec.kind != "strings":
        return value
    if example.type == "Series":
        return pd.Series(value, dtype=example.dtypes[0][1], name=example.name)
    if example.type == "ndarray":
        kind = np.dtype(example.dtypes[0][1]).kind
        return value if kind == "O" else np.array(value.tolist(), dtype=str)
    items = value.tolist()
    return tuple(items) if example.type == "tuple" else items


def _describe(array: np.ndarray) -> str:
    return "BYTES" if array.dtype.kind in "OUS" else datatype(str(array.dtype))


def _convert(field: Field, array: np.ndarray) -> Any:
    """One request input converted exactly to its field's dtype and shape."""
    name = field.tensor.name
    shape = field.tensor.shape
    if len(shape) == 1:
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise ServeError(f"input {name!r} must have shape [rows] (or [rows, 1]), got "
                             f"{list(array.shape)}")  # fmt: skip
    elif array.ndim != 2 or array.shape[1] != shape[1]:
        raise ServeError(f"input {name!r} must have shape [rows, {shape[1]}], got "
                         f"{list(array.shape)}")  # fmt: skip
    what = f"input {name!r}"
    target = field.dtype
    if target in ("object", "str") or target.startswith("string"):
        strings = _strings(what, array)
        return strings if target == "object" else pd.array(strings, dtype=target)
    if target.startswith("datetime64") and "," not in target:  # no time zone: numpy's
        return _datetimes(what, array, np.dtype(target))
    if target in DATATYPES:
        return exact_cast(what, array, np.dtype(target))
    if _numpy_name(target) not in DATATYPES:
        raise ServeError(f"{what}: the pipeline's {target} column cannot be sent")
    missing = np.isnan(array) if array.dtype.kind == "f" else np.zeros(len(array), dtype=bool)
    filled = np.where(missing, 0, array) if missing.any() else array  # NaN is NA
    nullable = pd.array(exact_cast(what, filled, np.dtype(_numpy_name(target))), dtype=target)
    nullable[missing] = pd.NA
    return nullable


def exact_cast(what: str, array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``array`` as ``dtype`` where every value converts exactly (NaN only into floats);
    ``ServeError`` naming ``what`` otherwise."""
    if array.dtype == dtype:
        return np.ascontiguousarray(array)
    if array.dtype.kind not in "biuf":
        raise ServeError(f"{what} is {_describe(array)} where the pipeline reads "
                         f"{datatype(str(dtype))} ({dtype})")  # fmt: skip
    if dtype.kind in "biu" and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ServeError(f"{what}: NaN or infinity where the pipeline reads {dtype}")
    with np.errstate(all="ignore"):
        cast = array.astype(dtype)
        back = cast.astype(array.dtype)
    same = back == array
    if array.dtype.kind == "f":
        same |= np.isnan(array) & np.isnan(back)
    if dtype.kind in "iu" and array.dtype.kind == "f":  # 2**63 rounds back equal: bound it
        info = np.iinfo(dtype)
        same &= (array >= info.min) & (array < float(info.max) + 1)
    if not same.all():
        row = int(np.flatnonzero(~same.reshape(len(array), -1).all(axis=1))[0])
        raise ServeError(f"{what}, row {row}: {array.reshape(len(array), -1)[row].tolist()} "
                         f"is not exactly a {dtype} value")  # fmt: skip
    return np.ascontiguousarray(cast)


def _strings(what: str, array: np.ndarray) -> np.ndarray:
    """Text as an object array of str (UTF-8 bytes decoded; None and NaN stay missing)."""
    if array.dtype.kind == "U":
        return array.astype(object)
    if array.dtype.kind != "O" and array.dtype.kind != "S":
        raise ServeError(f"{what} is {_describe(array)} where the pipeline reads BYTES (str)")
    if array.dtype.kind == "O" and pd.api.types.infer_dtype(array, skipna=False) == "string":
        return np.ascontiguousarray(array)  # already text (as a request decodes it)
    items = array.tolist()
    out = np.empty(len(array), dtype=object)
    for row, item in enumerate(items):
        if isinstance(item, bytes):
            try:
                item = item.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ServeError(f"{what}, row {row}: not UTF-8 text ({error})") from None
        elif not (item is None or isinstance(item, str) or item != item):  # NaN: missing
            raise ServeError(f"{what}, row {row}: {type(item).__name__} where the pipeline "
                             "reads str")  # fmt: skip
        out[row] = item
    return out


def _datetimes(what: str, array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """ISO 8601 text (or integer ticks of the unit) as datetime64 of ``dtype``."""
    if array.dtype.kind in "iu":
        return exact_cast(what, array, np.dtype(np.int64)).view(dtype)
    strings = _strings(what, array)
    try:
        return np.array(["NaT" if s is None else s for s in strings], dtype=dtype)
    except ValueError as error:
        raise ServeError(f"{what}: not an ISO 8601 date ({error})") from None


def _plain(value: Any) -> np.ndarray:
    """A result (or a column of one) as a numpy array: str and other objects as object."""
    if sp.issparse(value):
        return np.asarray(value.toarray())
    if isinstance(value, pd.Series | pd.Index):
        dtype = value.dtype
        return value.to_numpy(dtype=object) if not isinstance(dtype, np.dtype) else \
            value.to_numpy()  # fmt: skip
    array = np.asarray(value)
    return array.astype(object) if array.dtype.kind in "US" else array


def concat(values: list[Any]) -> Any:
    """The rows of several values of one data argument, one after the other, in its type."""
    first = values[0]
    if len(values) == 1:
        return first
    if isinstance(first, Columns):
        return Columns({c: _concat_arrays([v.arrays[c] for v in values]) for c in first.arrays})
    if isinstance(first, pd.Series):
        return pd.concat(values, ignore_index=True)
    if isinstance(first, np.ndarray):
        return np.concatenate(values)
    items = [item for v in values for item in v]
    return tuple(items) if isinstance(first, tuple) else items


def _concat_arrays(arrays: list[Any]) -> Any:
    if isinstance(arrays[0], np.ndarray):
        return np.concatenate(arrays)
    return type(arrays[0])._concat_same_type(arrays)


def split(result: Any, counts: list[int]) -> list[Any]:
    """A combined result cut into consecutive parts of ``counts`` rows."""
    bounds = np.cumsum([0, *counts])
    if isinstance(result, pd.DataFrame | pd.Series):
        return [result.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return [result[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
