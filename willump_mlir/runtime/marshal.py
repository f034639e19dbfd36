"""Turn the caller's data into the buffers native kernels read, and check it first.

Kernels trust their inputs: every length and width they rely on is checked here, before a
kernel runs. Numeric columns travel as contiguous f64 arrays; string columns as Arrow's
layout (UTF-8 bytes, i64 offsets) plus one missing-flag byte per row, built by pyarrow in C.
A text argument (a list, tuple, 1-D array or Series of str) is one such column: Python
calls see the value as given, kernels its ``text_column``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from willump_mlir.abi import DISTINGUISH_NAN, MISSING_NAN, MISSING_NONE, NULLABLE_COMPUTED

EMPTY_BYTES = np.zeros(1, dtype=np.uint8)  # a valid pointer when every string is empty
_STR = {str}


class InputError(ValueError):
    """Bad input to a compiled pipeline; the message names the argument."""


class InputTypeError(InputError, TypeError):
    """Bad input the original function refuses with a ``TypeError`` (e.g. ``np.matrix``)."""


class Unhandled(InputError):  # noqa: N818 - a signal to the caller, not an error it reports
    """A value outside what the compiled code reads (no rows; sparse or ``np.matrix`` for a
    dense array; complex, text or other objects where numbers are read; non-text where
    text is read): the original function runs instead, and its result or error, naming
    ``what``, is the call's (see ``refused``). ``kind`` says why, for the counts
    ``explain()`` shows (a ``handoffs.CALL_HANDOFFS`` key)."""

    def __init__(self, what: str, reason: str, kind: str = "input"):
        super().__init__(f"{what} {reason}")
        self.what = what
        self.reason = reason
        self.kind = kind


_REFUSED: dict[type[BaseException], type[InputError] | None] = {
    ValueError: InputError,
    TypeError: InputTypeError,
}


def refused_class(kind: type[BaseException]) -> type[InputError] | None:
    """An ``InputError`` that is also a ``kind`` (None if the two cannot be combined)."""
    if kind not in _REFUSED:
        try:
            _REFUSED[kind] = type(f"Input{kind.__name__}", (InputError, kind), {
                "__module__": __name__, "__doc__": f"Bad input refused with {kind.__name__}."
            })  # fmt: skip
        except TypeError:  # an instance layout of its own (OSError, AttributeError, ...)
            _REFUSED[kind] = None
    return _REFUSED[kind]


def refused(error: Exception, unhandled: Unhandled) -> Exception:
    """``error``, raised by the original function on an ``Unhandled`` input, as an exception
    of its class (and an ``InputError``) whose message names the argument; else ``error``
    itself with a note naming it."""
    message = f"{unhandled.what} {unhandled.reason}, and the original function raised: {error}"
    wrapper = refused_class(type(error))
    if wrapper is not None:
        try:
            wrapped = wrapper(message)
            str(wrapped)  # a __str__ reading attributes of its own (numpy's UFuncTypeError)
            return wrapped
        except Exception:  # noqa: S110 - an exception class taking other arguments
            pass
    error.add_note(message)
    return error


class Columns(Mapping[str, Any]):
    """A table given as its columns, for a DataFrame argument: 1-D arrays of one length by
    name, in order, each a numpy array or a pandas extension array (pandas' ``str``).

    Kernels read the arrays as they are; the DataFrame (a ``RangeIndex``, each column of
    its array's dtype: an object array of str stays object) is built only when Python code
    needs it (a Python call, the original function) by ``frame()``, once. A call on
    ``Columns`` returns what the same call on ``frame()`` returns.
    """

    def __init__(self, arrays: Mapping[str, Any]):
        self.arrays = dict(arrays)
        lengths = {len(a) for a in self.arrays.values()}
        if len(lengths) > 1:
            raise InputError(f"columns of different lengths: {sorted(lengths)}")
        if any(getattr(a, "ndim", 1) != 1 for a in self.arrays.values()):
            raise InputError("columns must be 1-D arrays")
        self.rows = lengths.pop() if lengths else 0
        self._frame: pd.DataFrame | None = None

    def __getitem__(self, key: Any) -> Any:
        """A column as a pandas Series (or, for a list of names, a frame), as ``frame()``
        gives it."""
        return self.frame()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)

    def frame(self) -> pd.DataFrame:
        """The DataFrame of these columns (built on the first call)."""
        if self._frame is None:
            arrays = {name: a.array() if isinstance(a, ArrowStrings) else a
                      for name, a in self.arrays.items()}  # fmt: skip
            series = {name: pd.Series(a, dtype=a.dtype, copy=False, name=name)
                      for name, a in arrays.items()}  # fmt: skip
            self._frame = pd.DataFrame(series, copy=False)
        return self._frame

    def take(self, rows: np.ndarray) -> Columns:
        """The ``rows`` of every column."""
        return Columns({name: a[rows] for name, a in self.arrays.items()})

    def __repr__(self) -> str:
        return f"<Columns {list(self.arrays)}: {self.rows} rows>"


class ArrowStrings:
    """A str column of an Arrow table in a ``Columns`` value (``arrow_columns``): kernels
    read its UTF-8 bytes and offsets in place (``string_column``); Python code gets the
    pandas array ``to_pandas`` makes of it (``array()``), built when first needed."""

    ndim = 1

    def __init__(self, values: pa.ChunkedArray):
        self.arrow = values
        self._array: Any = None

    def __len__(self) -> int:
        return len(self.arrow)

    @functools.cached_property
    def dtype(self) -> Any:
        """The dtype ``to_pandas`` gives the column (``object``, or pandas' ``str``)."""
        return pa.chunked_array([[""]], type=self.arrow.type).to_pandas().dtype

    def array(self) -> Any:
        """The column as ``to_pandas`` gives it: a numpy object array or a pandas array."""
        if self._array is None:
            series = self.arrow.to_pandas()
            self._array = series.to_numpy() if isinstance(series.dtype, np.dtype) else \
                series.array  # fmt: skip
        return self._array

    def __getitem__(self, rows: Any) -> Any:
        return self.array()[rows]

    def __repr__(self) -> str:
        return f"<ArrowStrings {self.arrow.type}: {len(self)} rows>"


def arrow_columns(table: pa.Table, names: Sequence[str]) -> Columns:
    """The ``names`` columns of an Arrow ``table`` as the ``Columns`` of the DataFrame
    ``table.select(names).to_pandas()``, without building it: numbers without nulls as
    numpy views of Arrow's buffers, str columns as ``ArrowStrings``, the others as
    ``to_pandas`` converts them (with the dtypes the table's pandas metadata names: a
    nullable ``Int64`` or ``string`` column stays one)."""
    described = {
        column.get("field_name"): column.get("numpy_type")
        for column in (table.schema.pandas_metadata or {}).get("columns", [])
    }
    arrays: dict[str, Any] = {}
    rest = []
    for name in names:
        values = table.column(name)
        kind = values.type
        numpy_type = described.get(name)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            if numpy_type in (None, "object", "str"):
                arrays[name] = ArrowStrings(values)
                continue
        elif values.null_count == 0 and (
            pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
        ):  # fmt: skip
            array = values.to_numpy()
            if numpy_type in (None, array.dtype.name):
                arrays[name] = array
                continue
        arrays[name] = None  # converted below, keeping the order of ``names``
        rest.append(name)
    if rest:
        frame = table.select(rest).to_pandas()
        for name in rest:
            column = frame[name]
            arrays[name] = column.to_numpy() if isinstance(column.dtype, np.dtype) else \
                column.array  # fmt: skip
    return Columns(arrays)


def as_frame(value: Any) -> Any:
    """``value``, a ``Columns`` as its DataFrame: what Python code gets."""
    return value.frame() if isinstance(value, Columns) else value


def check_frame(name: str, value: Any) -> int:
    """Check a DataFrame argument (or ``Columns``) and return its number of rows.

    Anything else (a dict of columns, a Series for one row, a numpy array) is
    ``Unhandled``: the original function runs, which may read it (``d["a"] * 2`` of a dict)
    or refuse it with its own error.
    """
    if isinstance(value, Columns):
        if value.rows == 0:
            raise Unhandled(f"argument {name!r}", "is an empty batch (0 rows)", kind="empty")
        return value.rows
    if not isinstance(value, pd.DataFrame):
        raise Unhandled(f"argument {name!r}", f"must be a pandas DataFrame, got "
                        f"{type(value).__name__}")  # fmt: skip
    if len(value) == 0:
        raise Unhandled(f"argument {name!r}", "is an empty batch (0 rows)", kind="empty")
    return len(value)


def check_strings(name: str, value: Any) -> tuple[int, Any]:
    """Check a text argument; return its number of rows and the value to bind.

    The items are checked when a kernel reads them (``text_column``): until then a Python
    call may take any items, as the original function does.
    """
    if isinstance(value, str | bytes):
        raise InputError(
            f"argument {name!r} must be a sequence of str documents, got a single "
            f"{type(value).__name__}: Iterable over raw text documents expected, string object "
            "received."
        )
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise Unhandled(f"argument {name!r}", f"must be 1-D, got shape {value.shape}")
        if value.dtype.kind not in "UO":
            raise Unhandled(f"argument {name!r}", f"must hold str documents, got a {value.dtype} "
                            "array")  # fmt: skip
    elif not isinstance(value, list | tuple | pd.Series):
        raise Unhandled(
            f"argument {name!r}", "must be a list, tuple, 1-D numpy array or pandas Series of "
            f"str, got {type(value).__name__}"
        )
    if len(value) == 0:
        raise Unhandled(f"argument {name!r}", "is an empty batch (0 documents)", kind="empty")
    return len(value), value


#: the dtypes of a Series pandas builds from a list of str (``pd.Series(texts)``)
TEXT_DTYPES = ("str", "object")


def check_text_kind(name: str, value: Any, example: tuple[str, str, str | None]) -> None:
    """``Unhandled`` if a text argument is not of its example's kind (``example``: its type
    name, dtype and Series name, as ``ValueSpec``): a Series where the example was one must
    have its dtype and name (the result's Series takes them: ``s.str.len()`` of a
    ``string`` Series is ``Int64``); a list, tuple or array where it was a Series has no
    index or name; a Series where it was not must be of the dtype pandas gives a list of
    str (``pd.Series(texts)`` keeps a ``string`` Series' dtype)."""
    kind, dtype, series_name = example
    if isinstance(value, pd.Series):
        found = str(value.dtype)
        if kind == "Series":  # (a name other than a str is not recorded: never the same)
            same = found == dtype and value.name == series_name
        else:
            same = found in TEXT_DTYPES
        if not same:
            raise Unhandled(
                f"argument {name!r}", f"is a Series of {found} named {value.name!r}, where "
                f"the example was a {kind} of {dtype}"
                + (f" named {series_name!r}" if kind == "Series" else "")
            )
    elif kind == "Series":
        raise Unhandled(f"argument {name!r}", f"is a {type(value).__name__}, where the "
                        "example was a Series (its index and name)")  # fmt: skip


def check_array(name: str, value: Any, width: int) -> int:
    """Check a 2-D numeric array argument of ``width`` columns; return its number of rows.

    Anything else (a sparse matrix, ``np.matrix``, a masked array, whose masked entries
    numpy computes otherwise, a DataFrame or list, another shape) is ``Unhandled``: the
    original function runs, which may read it (``X[:, 0]`` of a wider array, a model given
    a list) or refuse it with its own error.
    """
    if sp.issparse(value):
        raise Unhandled(f"argument {name!r}", f"is a scipy sparse {value.format} matrix where "
                        "the pipeline was compiled for a dense array")  # fmt: skip
    if isinstance(value, np.matrix):
        raise Unhandled(f"argument {name!r}", "is an np.matrix, not a numpy array")
    if isinstance(value, np.ma.MaskedArray):
        raise Unhandled(f"argument {name!r}", "is a numpy masked array, not a plain array")
    if not isinstance(value, np.ndarray):
        raise Unhandled(f"argument {name!r}", f"must be a 2-D numpy array, got "
                        f"{type(value).__name__}")  # fmt: skip
    if value.ndim != 2:
        raise Unhandled(f"argument {name!r}", f"must be 2-D, got shape {value.shape}")
    if value.shape[1] != width:
        raise Unhandled(f"argument {name!r}", f"has {value.shape[1]} columns; the compiled "
                        f"pipeline expects {width}")  # fmt: skip
    if value.shape[0] == 0:
        raise Unhandled(f"argument {name!r}", "is an empty batch (0 rows)", kind="empty")
    if value.dtype.kind not in "biuf":
        raise Unhandled(f"argument {name!r}", f"holds {value.dtype} values, not real numbers")
    check_byte_order(f"argument {name!r}", value.dtype)
    check_precision(name, [value.dtype])
    return int(value.shape[0])


def check_byte_order(what: str, dtype: np.dtype) -> None:
    """``Unhandled`` for numbers not in the machine's byte order: XGBoost reads their bytes
    as native numbers (its result is not the values'), where the compiled code converts."""
    if not dtype.isnative:
        raise Unhandled(what, f"holds {dtype.str} numbers, not in the machine's byte order "
                        "(XGBoost reads their bytes as its own)")  # fmt: skip


def check_forward(what: str, array: Any) -> None:
    """``Unhandled`` for float values that run backwards in memory (a reversed view): numpy's
    loops of ``np.log1p``, ``np.power``... compute on them with the C library's functions,
    not with the SIMD routines the native code calls (``runtime.ufunc_loops``)."""
    strides = getattr(array, "strides", None)
    if strides and min(strides) < 0 and array.dtype.kind == "f":
        raise Unhandled(what, "runs backwards in memory (a reversed view), where numpy's "
                        "loops compute otherwise", kind="ufunc-layout")  # fmt: skip


def check_precision(what: str, dtypes: list[Any]) -> None:
    """``Unhandled`` for data that scikit-learn would compute on in another precision than
    float64.

    scikit-learn keeps float32, float16 and longdouble input (a matrix of columns takes
    their common dtype: float32 with int16 stays float32); the compiled code computes in
    float64, so its results would differ: the original function runs. Extension dtypes
    (nullable Float64, Int64) become float64.
    """
    common = np.result_type(*[d for d in dtypes if isinstance(d, np.dtype)] or [np.float64])
    if common.kind == "f" and common.itemsize != 8:
        raise Unhandled(
            f"argument {what!r}", f"holds {common} values: scikit-learn computes in {common} "
            "where the compiled pipeline computes in float64", kind="precision",
        )


def check_dtypes(name: str, value: Any, dtypes: dict[str, str]) -> None:
    """``Unhandled`` if a column (``""``: the value itself) whose dtype the result shows
    (``ArgumentSpec.dtypes``) has another dtype than the example's: pandas computes in it;
    or if it is nullable while pandas' ``DISTINGUISH_NAN`` option is set (then ``0 / 0`` of
    Int64 is NaN, not pd.NA, where native code has one NaN for both)."""
    nullable = any(d in NULLABLE_COMPUTED for d in dtypes.values())
    if nullable and pd.get_option(DISTINGUISH_NAN):
        raise Unhandled(f"argument {name!r}:", f"has nullable columns while pandas' option "
                        f"{DISTINGUISH_NAN} keeps NaN results apart from pd.NA, where native "
                        "code computes with one NaN for both")  # fmt: skip
    for column, expected in dtypes.items():
        found = column_array(name, value, column).dtype if column else \
            getattr(value, "dtype", None)  # fmt: skip
        if str(found) != expected:
            where = f"column {column!r}" if column else "it"
            raise Unhandled(
                f"argument {name!r}:", f"{where} is {found}, where the pipeline was compiled "
                f"for {expected} as in the example (pandas and numpy compute in its dtype)"
            )


def check_columns(name: str, value: Any, names: list[str]) -> None:
    """``Unhandled`` if a frame argument whose column order the result depends on
    (``ArgumentSpec.ordered``) has other columns than the example's ``names``, in order."""
    found = list(value.arrays if isinstance(value, Columns) else value.columns)
    if found != names:
        raise Unhandled(f"argument {name!r}", f"has the columns {found}, where the example had "
                        f"{names}: the code depends on their order (as pandas reads the frame "
                        "whole)")  # fmt: skip


def check_named(name: str, value: Any, names: list[str], example: dict[str, str]) -> None:
    """``Unhandled`` if a frame argument lacks a column the code names but native code does
    not read (``ArgumentSpec.named``): pandas raises ``KeyError`` there; or if a column of
    ``example`` (the example's dtypes of ``ArgumentSpec.unused``) has another dtype: pandas
    computes in it, or refuses it (``.str`` of numbers, ``astype(int)`` of ``<NA>``), in code
    whose result native code never needed (a statement whose value is unused)."""
    for column in names:
        found = str(column_array(name, value, column).dtype)
        expected = example.get(column)
        if expected is not None and found != expected:
            raise Unhandled(
                f"argument {name!r}:", f"column {column!r} is {found}, where the code that "
                f"names it was compiled for {expected} as in the example"
            )


def check_float_read(
    name: str, dtype: np.dtype, boolean: bool, example: str | None, where: str = ""
) -> None:
    """``Unhandled`` if a value native code reads as float64 is of a ``dtype`` numpy computes
    on otherwise than on the example's (``example``, None if unknown; ``boolean``: whether
    it was bool): bool where the example's was not, or the reverse (``True + True`` is
    ``True``), or integers that wrap around (narrower than 64 bits, or unsigned: ``a * b``
    of uint8 is modulo 256, ``a - b`` of uint64 never negative) where the example's dtype
    was another."""
    if (dtype == np.bool_) != boolean:
        raise Unhandled(f"argument {name!r}{where}", f"is {dtype}, where the example's was "
                        f"{'' if boolean else 'not '}bool (numpy computes on bools otherwise)")
    wraps = dtype.kind == "u" or (dtype.kind == "i" and dtype.itemsize < 8)
    if wraps and example is not None and str(dtype) != example:
        raise Unhandled(f"argument {name!r}{where}", f"is {dtype}, where the example's was "
                        f"{example} (numpy computes on {dtype} with wraparound)")


SMALL_BATCH = 32  # below this many rows, strings are encoded in Python: cheaper than pyarrow
#: below this many rows, an object column of str is encoded in Python (a C loop a step:
#: cheaper than pyarrow's conversion, ~45 µs a column, up to about a thousand rows)
SMALL_STRINGS = 1024
#: below this many rows, pandas' own str array is encoded in Python (iterating it costs
#: about 4 µs a row; Arrow takes it as it is, after about 150 µs of calls)
SMALL_STR_ARRAY = 8


def column_array(name: str, frame: Any, column: str) -> Any:
    """The array behind ``frame[column]``, without building a Series (about 1 µs, not 9).

    A text value (not a DataFrame: a text argument or a Python call's list of str) is its
    own one column, as ``TextItems``.
    """
    if isinstance(frame, Columns):
        if column not in frame.arrays:
            raise Unhandled(f"argument {name!r}", f"is missing column {column!r}")
        return frame.arrays[column]
    if not isinstance(frame, pd.DataFrame):
        return text_items(name, frame)
    try:
        position = frame.columns.get_loc(column)
    except KeyError:
        raise Unhandled(f"argument {name!r}", f"is missing column {column!r}") from None
    if not isinstance(position, int):
        raise Unhandled(f"argument {name!r}", f"has more than one column named {column!r}")
    return frame._get_column_array(position)


FLOAT64 = np.dtype(np.float64)
EXACT_INTEGERS = 2**53  # integers below this magnitude are exact as float64


def as_float64(what: str, values: Any) -> np.ndarray:
    """``values`` (numbers) as contiguous float64; ``Unhandled`` for 64-bit integers of
    magnitude 2**53 or more, which float64 rounds: a comparison on the integers (pandas) or
    their direct float32 rounding (scikit-learn trees, XGBoost) may then differ."""
    floats = np.ascontiguousarray(values, dtype=np.float64)
    dtype = getattr(values, "dtype", FLOAT64)
    if dtype.kind in "iu" and dtype.itemsize == 8 and floats.size and (
        floats.max() >= EXACT_INTEGERS or floats.min() <= -EXACT_INTEGERS
    ):  # fmt: skip
        raise Unhandled(what, "holds integers of magnitude 2^53 or more, not exact as float64",
                        kind="int53")
    return floats


def numeric_column(
    name: str,
    values: Any,
    column: str,
    dtype: np.dtype = FLOAT64,
    boolean: bool | None = None,
    example: str | None = None,
) -> np.ndarray:
    """A numeric column's array (see ``column_array``) as contiguous ``dtype`` values.

    float64 takes any numpy bool, int or float column; float32 takes only float32 columns,
    int64 only int64 columns, and uint8 (a kernel's bool) only bool columns: what the compiled
    code computes on as integers or booleans, as pandas does. ``Unhandled`` for anything
    else: complex numbers, object, category and nullable columns but into float64, on which
    pandas and the libraries compute otherwise (object arithmetic, new values refused, NA,
    categorical models), or another dtype than the
    example's where the code computes on integers or booleans, or a column into float64 of a
    dtype numpy computes on otherwise than on the example's (``check_float_read``;
    ``boolean``: whether the example's was bool, ``example``: its dtype; a narrower integer
    column into int64 only of the example's dtype). A nullable column into float64 is
    ``nullable_floats``.
    """
    kind = getattr(values, "dtype", np.dtype(object))
    if isinstance(values, pd.arrays.BooleanArray | pd.arrays.IntegerArray |
                  pd.arrays.FloatingArray) and dtype == np.float64:  # fmt: skip
        return nullable_floats(name, values, column, example)
    if not isinstance(kind, np.dtype) or kind.kind not in "biuf":
        raise Unhandled(f"argument {name!r}:", f"column {column!r} is {kind}, where the "
                        "pipeline was compiled for numpy numbers")  # fmt: skip
    if kind.kind == "f" and kind.itemsize > 8:  # pandas and scikit-learn compute in it
        raise Unhandled(f"argument {name!r}:", f"column {column!r} is {kind}, wider than the "
                        "float64 the compiled code computes in")  # fmt: skip
    check_byte_order(f"argument {name!r}: column {column!r}", kind)
    if boolean is not None:
        check_float_read(name, kind, boolean, example, f": column {column!r}")
    if dtype != np.float64:
        # int64 only: pandas computes on a narrower (or unsigned) column in its own width,
        # which wraps and keeps the dtype where the compiled code computes in int64; float32
        # only: pandas computes in float32 on float32 columns, in float64 on others
        exact = dtype in (np.int64, np.float32) and kind == dtype
        # a narrower integer column into int64 (exactly) where the example's was of its dtype:
        # native code computes on it only where numpy computes alike on int64 values
        narrow = dtype == np.int64 and str(kind) == example and kind.itemsize < 8
        if not (exact or narrow or (dtype == np.uint8 and kind == np.bool_)):
            wanted = "bool" if dtype == np.uint8 else example or str(dtype)
            raise Unhandled(
                f"argument {name!r}:", f"column {column!r} is {kind}, where the pipeline was "
                f"compiled for {wanted} as in the example"
            )
        return np.ascontiguousarray(values, dtype=dtype)
    return as_float64(f"argument {name!r}: column {column!r}", values)


def nullable_floats(name: str, values: Any, column: str, example: str | None) -> np.ndarray:
    """A pandas masked column (nullable ``Int64``..., ``Float64``, ``boolean``) of the
    example's dtype as float64, NaN where pd.NA: what scikit-learn and ``astype(float)`` make
    of it. ``Unhandled`` for another dtype than the example's (the code was traced on that
    one's NA semantics: a numpy column's are none), and for a ``Float64`` NaN that is not NA:
    pandas' ``isna``, ``fillna`` and comparisons keep it apart from pd.NA, where float64
    holds one NaN for both."""
    where = f"argument {name!r}: column {column!r}"
    if values.dtype.name != example:
        raise Unhandled(f"{where}", f"is {values.dtype}, where the example's was {example} "
                        "(pandas computes on nullable columns with pd.NA)")  # fmt: skip
    mask = values._mask
    data = values._data
    if data.dtype.kind == "f" and bool((np.isnan(data) & ~mask).any()):
        raise Unhandled(where, f"is {values.dtype} holding a NaN that is not pd.NA, which "
                        "pandas' isna, fillna and comparisons keep apart from pd.NA")  # fmt: skip
    if not mask.any():  # Float64's own buffer, without a copy
        return as_float64(where, data)
    if data.dtype.kind in "iu":  # (the data under the mask is arbitrary)
        data = np.where(mask, 0, data)
    return np.where(mask, np.nan, as_float64(where, data))  # never the caller's buffer


def datetime_column(name: str, values: Any, column: str, dtype: np.dtype) -> np.ndarray:
    """A datetime column's array (see ``column_array``) as its i64 ticks (NaT is -2**63);
    ``Unhandled`` unless it is timezone-naive datetime64 of ``dtype``'s unit, as in the
    example."""
    if getattr(values, "dtype", None) != dtype:
        raise Unhandled(
            f"argument {name!r}:", f"column {column!r} is {getattr(values, 'dtype', None)}, "
            f"where the pipeline was compiled for {dtype} as in the example"
        )
    return np.ascontiguousarray(np.asarray(values).view(np.int64))


def missing_flag(value: Any, what: str) -> int:
    """0 for a value, ``MISSING_NONE`` for None, ``MISSING_NAN`` for NaN; ``Unhandled`` for
    pd.NA in an object column (of ``what``): scikit-learn's encoders take it for an unknown
    value and its imputer refuses it, where the kernels would read it as None."""
    if value is None:
        return MISSING_NONE
    if value is pd.NA:
        raise Unhandled(what, "holds pd.NA in an object column, which scikit-learn reads "
                        "neither as None nor as NaN")  # fmt: skip
    if isinstance(value, float) and value != value:
        return MISSING_NAN
    return 0


def _not_utf8(name: str, column: str, error: UnicodeEncodeError) -> Unhandled:
    """A str column's lone surrogate, which is not UTF-8: Python's str methods and
    scikit-learn's encoders read it (an unknown category), so the original runs."""
    return Unhandled(
        f"argument {name!r}:", f"column {column!r} holds a string that is not valid Unicode "
        f"(a lone surrogate): {error}"
    )


def _small_string_column(name: str, column: str, values: Any) -> dict[str, np.ndarray]:
    missing = np.zeros(len(values), dtype=np.uint8)
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if set(map(type, items)) == _STR:  # no missing values: each str encoded in one C loop
        try:
            return _encoded_parts(list(map(str.encode, items)), missing)
        except UnicodeEncodeError as error:
            raise _not_utf8(name, column, error) from None
    encoded = []
    for row, value in enumerate(values):
        if isinstance(value, str):
            try:
                encoded.append(value.encode("utf-8"))
            except UnicodeEncodeError as error:
                raise _not_utf8(name, column, error) from None
        elif flag := missing_flag(value, f"argument {name!r}: column {column!r}"):
            missing[row] = flag
            encoded.append(b"")
        else:
            raise Unhandled(
                f"argument {name!r}:", f"column {column!r} must hold strings (None/NaN for "
                f"missing), row {row} holds {type(value).__name__} {value!r}"
            )
    return _encoded_parts(encoded, missing)


def _encoded_parts(encoded: list[bytes], missing: np.ndarray) -> dict[str, np.ndarray]:
    """A string column's parts from its rows' UTF-8 ``encoded`` and ``missing`` flags."""
    offsets = np.fromiter(accumulate(map(len, encoded), initial=0), np.int64, len(encoded) + 1)
    data = b"".join(encoded)
    data_view = np.frombuffer(data, dtype=np.uint8) if data else EMPTY_BYTES
    return {"bytes": data_view, "offsets": offsets, "missing": missing}


@dataclass(frozen=True)
class TextItems:
    """The documents of a text value, which ``string_column`` reads as ``text_column`` does.

    ``items`` is a list, tuple, 1-D numpy array or pandas array (a Series gives its array).
    """

    items: Any

    def __len__(self) -> int:
        return len(self.items)


def text_items(name: str, value: Any) -> TextItems:
    """The documents of a text value, without copying them."""
    if isinstance(value, pd.Series):
        return TextItems(value.to_numpy() if isinstance(value.dtype, np.dtype) else value.array)
    if (isinstance(value, np.ndarray) and value.ndim == 1) or isinstance(value, list | tuple):
        return TextItems(value)
    raise InputError(f"{name!r} must be a list, tuple, 1-D numpy array or pandas Series of str, "
                     f"got {type(value).__name__}")  # fmt: skip


def _arrow_parts(array: pa.Array) -> dict[str, np.ndarray]:
    """UTF-8 ``bytes`` and i64 ``offsets`` of a (large_)string array, without copying bytes."""
    _, offsets, data = array.buffers()
    rows = len(array)
    width = 8 if pa.types.is_large_string(array.type) else 4  # i64 or i32 offsets
    offsets_view = np.frombuffer(
        offsets, dtype=np.int64 if width == 8 else np.int32, count=rows + 1,
        offset=array.offset * width,
    ).astype(np.int64, copy=False)  # fmt: skip
    has_data = data is not None and data.size
    data_view = np.frombuffer(data, dtype=np.uint8) if has_data else EMPTY_BYTES
    return {"bytes": data_view, "offsets": offsets_view}


def _not_a_document(where: str, row: int, value: Any) -> Unhandled:
    if value is None or value is pd.NA:
        found = "a missing value (None)" if value is None else "a missing value (pd.NA)"
    elif isinstance(value, float) and math.isnan(value):
        found = "NaN: np.nan is an invalid document, expected byte or unicode string"
    elif isinstance(value, bytes):
        found = f"bytes {value[:40]!r}; decode them to str first"
    else:
        found = f"{type(value).__name__} {repr(value)[:60]}"
    return Unhandled(f"{where},", f"row {row}: expected a str document, got {found}")


def _encode_texts(where: str, values: Any) -> dict[str, np.ndarray]:
    """``text_column`` in Python: every item checked; lone surrogates kept (surrogatepass)."""
    encoded = []
    for row, value in enumerate(values):
        if not isinstance(value, str):
            raise _not_a_document(where, row, value)
        try:
            encoded.append(value.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: native code hands its row to Python
            encoded.append(value.encode("utf-8", "surrogatepass"))
    offsets = np.array([0, *accumulate(map(len, encoded))], dtype=np.int64)
    data = bytearray().join(encoded)  # writable: its address is cheaper to take
    return {
        "bytes": np.frombuffer(data, dtype=np.uint8) if data else EMPTY_BYTES,
        "offsets": offsets,
        "missing": np.zeros(len(encoded), dtype=np.uint8),
    }


def text_column(name: str, values: Any, column: str | None = None) -> dict[str, np.ndarray]:
    """The documents a text vectorizer reads (see ``column_array``) as UTF-8 ``bytes``, i64
    ``offsets`` (rows + 1) and ``missing`` flags, which are all 0.

    Every item must be a str: None, NaN, bytes or numbers raise ``Unhandled`` naming the
    argument (and column) and the row, and the original function decides (scikit-learn's
    vectorizers decode bytes and refuse the others). A str with
    a lone surrogate, which is not UTF-8, is encoded with ``surrogatepass``.
    """
    where = f"argument {name!r}" if column in (None, name) else f"argument {name!r}: column " \
        f"{column!r}"  # fmt: skip
    if isinstance(values, TextItems):
        values = values.items
    if isinstance(values, ArrowStrings):
        values = values.array()
    if len(values) < SMALL_BATCH:
        return _encode_texts(where, values)
    try:
        array = pa.array(values, from_pandas=True)  # type inference refuses numbers
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if pa.types.is_dictionary(array.type):  # a pandas "category" column
            array = array.dictionary_decode()
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeError):
        return _encode_texts(where, values)  # finds the bad row, or keeps lone surrogates
    text = pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
    if not text or array.null_count:  # bytes, or missing values
        return _encode_texts(where, values)
    return _arrow_parts(array) | {"missing": np.zeros(len(array), dtype=np.uint8)}


def string_column(name: str, values: Any, column: str) -> dict[str, np.ndarray]:
    """A string column's array (see ``column_array``) as UTF-8 ``bytes``, i64 ``offsets``
    (rows + 1) and ``missing`` flags; ``TextItems`` as ``text_column`` reads them."""
    if isinstance(values, TextItems):
        return text_column(name, values, column)
    if isinstance(values, ArrowStrings):
        # without nulls, the bytes are those of the DataFrame's column, object or pandas'
        # str (``arrow_columns`` leaves a column pandas metadata makes nullable to to_pandas)
        if len(values) >= SMALL_BATCH and values.arrow.null_count == 0:
            parts = _arrow_parts(values.arrow.combine_chunks())
            return parts | {"missing": np.zeros(len(values), dtype=np.uint8)}
        values = values.array()  # read as the DataFrame's column is
    dtype = getattr(values, "dtype", None)
    if dtype is not None and dtype.kind not in "OU":  # numbers, all missing: no str in them
        raise Unhandled(  # and pandas refuses ``.str`` and a merge with str keys on them
            f"argument {name!r}:", f"column {column!r} is {dtype}, not a column of strings"
        )
    if isinstance(dtype, pd.ArrowDtype) or (
        isinstance(dtype, pd.StringDtype) and dtype.na_value is pd.NA
    ):  # its comparisons, lengths and str methods are nullable (pd.NA, Arrow's), not numpy's
        raise Unhandled(
            f"argument {name!r}:", f"column {column!r} is pandas' nullable {dtype} dtype"
        )
    if len(values) < (SMALL_STRINGS if isinstance(values, np.ndarray) else SMALL_STR_ARRAY):
        return _small_string_column(name, column, values)
    try:
        array = pa.array(values, from_pandas=True)  # type inference rejects bytes and numbers
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if pa.types.is_dictionary(array.type):  # a pandas "category" column
            array = array.dictionary_decode()
        if pa.types.is_null(array.type):  # every value missing
            array = array.cast(pa.large_string())
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            raise pa.ArrowTypeError(f"found values of type {array.type}")
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise Unhandled(
            f"argument {name!r}:", f"column {column!r} must hold strings (None/NaN for "
            f"missing), {error}"
        ) from None
    except UnicodeEncodeError as error:
        raise _not_utf8(name, column, error) from None
    parts = _arrow_parts(array)
    missing = array.is_null().to_numpy(zero_copy_only=False).astype(np.uint8)
    if isinstance(values, np.ndarray):  # object column: None and NaN stay apart
        for row in np.flatnonzero(missing):
            missing[row] = missing_flag(values[row], f"argument {name!r}: column {column!r}")
    else:  # pandas string arrays hold NaN (or pd.NA, which numpy conversion makes NaN)
        missing *= MISSING_NAN
    return parts | {"missing": missing}


def string_frame(
    offsets: np.ndarray, missing: np.ndarray, data: np.ndarray, name: str, like: Any,
    column: str, dtype_from: list[tuple[Any, str]] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """A str column native code wrote (``string_column``'s parts) as a one-column frame
    ``name`` with the index and dtype of ``like``'s ``column`` (pandas' ``str`` dtype: NaN
    for a missing value; object: None or NaN as the flags say); with ``dtype_from``, the
    dtype of the first of its (value, column) pairs of a pandas ``str`` dtype, else object
    (pandas' ``a + b`` is ``str`` if either is)."""
    source = _column_of(like, column)
    index = source.index if isinstance(source, pd.Series) else pd.RangeIndex(len(missing))
    dtypes = [_column_of(v, c) for v, c in dtype_from] if dtype_from is not None else [source]
    kinds = (getattr(s, "dtype", None) for s in dtypes)
    # a category column's str methods give objects
    dtype = next((d for d in kinds if isinstance(d, pd.StringDtype)), np.dtype(object))
    valid = pa.array(missing == 0, pa.bool_()).buffers()[1]
    array = pa.LargeStringArray.from_buffers(
        len(missing), pa.py_buffer(offsets), pa.py_buffer(data), valid
    )
    if isinstance(dtype, pd.StringDtype):
        values: Any = pd.array(array, dtype=dtype)
    else:
        values = array.to_numpy(zero_copy_only=False)
        values[missing == MISSING_NAN] = np.nan
    series = pd.Series(values, index=index, name=name, dtype=dtype, copy=False)
    return pd.DataFrame({name: series}, copy=False)


def _column_of(value: Any, column: str) -> Any:
    return value[column] if isinstance(value, pd.DataFrame | Columns) else value


def matrix(what: str, value: Any, rows: int, width: int, dtype: np.dtype) -> np.ndarray:
    """A batch value (a Python op's result or an array argument) as a flat row-major buffer.

    A sparse matrix (a Python op's result typed as a dense batch) is made dense. One of
    another shape than the code was compiled for (a Python step's ``pd.get_dummies`` of a
    batch with other categories) is ``Unhandled``: the original function runs.
    """
    array = value.toarray() if sp.issparse(value) else np.asarray(value)
    expected = (rows,) if width == 1 and array.ndim == 1 else (rows, width)
    if array.shape != expected:
        raise Unhandled(what, f"has shape {array.shape}; the compiled code expects {expected}")
    if array.dtype.kind not in "biuf":
        raise Unhandled(what, f"holds {array.dtype} values, not real numbers")
    if dtype == np.uint8:
        array = array.astype(bool, copy=False).view(np.uint8)
    if dtype == np.float64:
        return as_float64(what, array).reshape(-1)
    return np.ascontiguousarray(array, dtype=dtype).reshape(-1)


def csr_parts(
    what: str, value: Any, rows: int, width: int, dtype: np.dtype | None
) -> dict[str, Any]:
    """A sparse batch (a Python op's CSR result) as CSR buffers: ``data`` of ``dtype`` (None:
    its own), i64 ``indices`` and ``indptr`` (rows + 1), sorted and without duplicate entries;
    an index out of range is an ``InputError``, never a native out-of-bounds access."""
    if not sp.issparse(value):
        raise InputError(f"{what} is a {type(value).__name__}; the compiled code expects a "
                         "scipy sparse matrix")  # fmt: skip
    if value.shape != (rows, width):  # the original runs, as for a dense one (``matrix``)
        raise Unhandled(what, f"has shape {value.shape}; the compiled code expects {(rows, width)}")
    if value.dtype.kind not in "biuf":
        raise Unhandled(what, f"holds {value.dtype} values, not real numbers")
    matrix = sp.csr_matrix(value)
    if not matrix.has_canonical_format:
        matrix = matrix.copy()
        matrix.sum_duplicates()
    indices = np.ascontiguousarray(matrix.indices, dtype=np.int64)
    indptr = np.ascontiguousarray(matrix.indptr, dtype=np.int64)
    # Native code indexes with these: check them rather than trust scipy's cached flags.
    counts = np.diff(indptr)
    if (
        indptr[0] != 0
        or indptr[-1] != len(indices)
        or (counts < 0).any()
        or (counts > width).any()
        or (len(indices) and (indices.min() < 0 or indices.max() >= width))
    ):
        raise InputError(f"{what} is not a valid CSR matrix of {width} columns")
    return {
        "data": np.ascontiguousarray(matrix.data, dtype=dtype),
        "indices": indices,
        "indptr": indptr,
    }
