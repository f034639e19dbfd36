"""Turn the caller's data into the buffers native kernels read, and check it first.

Kernels trust their inputs: every length and width they rely on is checked here, before a
kernel runs. Numeric columns travel as contiguous f64 arrays; string columns as Arrow's
layout (UTF-8 bytes, i64 offsets) plus one missing-flag byte per row, built by pyarrow in C.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from willump_mlir.dialects.feature import MISSING_NAN, MISSING_NONE

EMPTY_BYTES = np.zeros(1, dtype=np.uint8)  # a valid pointer when every string is empty


class InputError(ValueError):
    """Bad input to a compiled pipeline; the message names the argument."""


def check_frame(name: str, value: Any) -> int:
    """Check a DataFrame argument and return its number of rows."""
    if not isinstance(value, pd.DataFrame):
        raise InputError(
            f"argument {name!r} must be a pandas DataFrame, got {type(value).__name__}"
        )
    if len(value) == 0:
        raise InputError(f"argument {name!r} is an empty batch (0 rows); pass at least one row")
    return len(value)


def check_array(name: str, value: Any, width: int) -> int:
    """Check a 2-D numeric array argument of ``width`` columns; return its number of rows."""
    if isinstance(value, pd.DataFrame | pd.Series) or not hasattr(value, "shape"):
        raise InputError(f"argument {name!r} must be a 2-D numpy array, got {type(value).__name__}")
    if len(value.shape) != 2:
        raise InputError(f"argument {name!r} must be 2-D, got shape {tuple(value.shape)}")
    if value.shape[1] != width:
        raise InputError(
            f"argument {name!r} has {value.shape[1]} columns; the compiled pipeline expects {width}"
        )
    if value.shape[0] == 0:
        raise InputError(f"argument {name!r} is an empty batch (0 rows); pass at least one row")
    check_precision(name, [value.dtype])
    return int(value.shape[0])


def check_precision(what: str, dtypes: list[Any]) -> None:
    """Refuse data that scikit-learn would compute on in less than float64.

    scikit-learn keeps float32 and float16 input (a matrix of columns takes their common
    dtype: float32 with int16 stays float32); the compiled code computes in float64, so
    its results would differ. Extension dtypes (nullable Float64, Int64) become float64.
    """
    common = np.result_type(*[d for d in dtypes if isinstance(d, np.dtype)] or [np.float64])
    if common.kind == "f" and common.itemsize < 8:
        raise InputError(
            f"argument {what!r} holds {common} values: scikit-learn would compute in {common} "
            "and the compiled pipeline computes in float64, so the results would differ; pass "
            "float64 data (e.g. .astype(np.float64))"
        )


SMALL_BATCH = 32  # below this many rows, strings are encoded in Python: cheaper than pyarrow


def column_array(name: str, frame: pd.DataFrame, column: str) -> Any:
    """The array behind ``frame[column]``, without building a Series (about 1 µs, not 9)."""
    try:
        position = frame.columns.get_loc(column)
    except KeyError:
        raise InputError(f"argument {name!r} is missing column {column!r}") from None
    if not isinstance(position, int):
        raise InputError(f"argument {name!r} has more than one column named {column!r}")
    return frame._get_column_array(position)


def numeric_column(name: str, values: Any, column: str) -> np.ndarray:
    """A numeric column's array (see ``column_array``) as contiguous f64, NaN for missing."""
    try:
        if isinstance(values, np.ndarray):
            return np.ascontiguousarray(values, dtype=np.float64)
        return np.ascontiguousarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
    except (TypeError, ValueError) as error:
        raise InputError(
            f"argument {name!r}: column {column!r} must be numeric, got dtype {values.dtype} "
            f"({error})"
        ) from None


def missing_flag(value: Any) -> int:
    """0 for a value, ``MISSING_NONE`` for None (and pd.NA), ``MISSING_NAN`` for NaN."""
    if value is None or value is pd.NA:
        return MISSING_NONE
    if isinstance(value, float) and value != value:
        return MISSING_NAN
    return 0


def _not_utf8(name: str, column: str, error: UnicodeEncodeError) -> InputError:
    return InputError(
        f"argument {name!r}: column {column!r} holds a string that is not valid Unicode "
        f"(a lone surrogate): {error}"
    )


def _small_string_column(name: str, column: str, values: Any) -> dict[str, np.ndarray]:
    encoded = []
    missing = np.zeros(len(values), dtype=np.uint8)
    for row, value in enumerate(values):
        if isinstance(value, str):
            try:
                encoded.append(value.encode("utf-8"))
            except UnicodeEncodeError as error:
                raise _not_utf8(name, column, error) from None
        elif flag := missing_flag(value):
            missing[row] = flag
            encoded.append(b"")
        else:
            raise InputError(
                f"argument {name!r}: column {column!r} must hold strings (None/NaN for "
                f"missing), row {row} holds {type(value).__name__} {value!r}"
            )
    ends = [0]
    for item in encoded:
        ends.append(ends[-1] + len(item))
    offsets = np.array(ends, dtype=np.int64)
    data = b"".join(encoded)
    data_view = np.frombuffer(data, dtype=np.uint8) if data else EMPTY_BYTES
    return {"bytes": data_view, "offsets": offsets, "missing": missing}


def string_column(name: str, values: Any, column: str) -> dict[str, np.ndarray]:
    """A string column's array (see ``column_array``) as UTF-8 ``bytes``, i64 ``offsets``
    (rows + 1) and ``missing`` flags."""
    if len(values) < SMALL_BATCH:
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
        raise InputError(
            f"argument {name!r}: column {column!r} must hold strings (None/NaN for missing): "
            f"{error}"
        ) from None
    except UnicodeEncodeError as error:
        raise _not_utf8(name, column, error) from None
    _, offsets, data = array.buffers()
    rows = len(array)
    width = 8 if pa.types.is_large_string(array.type) else 4  # i64 or i32 offsets
    offsets_view = np.frombuffer(
        offsets, dtype=np.int64 if width == 8 else np.int32, count=rows + 1,
        offset=array.offset * width,
    ).astype(np.int64, copy=False)  # fmt: skip
    has_data = data is not None and data.size
    data_view = np.frombuffer(data, dtype=np.uint8) if has_data else EMPTY_BYTES
    missing = array.is_null().to_numpy(zero_copy_only=False).astype(np.uint8)
    if isinstance(values, np.ndarray):  # object column: None and NaN stay apart
        for row in np.flatnonzero(missing):
            missing[row] = missing_flag(values[row])
    else:  # pandas string arrays hold NaN (or pd.NA, which numpy conversion makes NaN)
        missing *= MISSING_NAN
    return {"bytes": data_view, "offsets": offsets_view, "missing": missing}


def matrix(what: str, value: Any, rows: int, width: int, dtype: np.dtype) -> np.ndarray:
    """A batch value (a Python op's result or an array argument) as a flat row-major buffer."""
    array = np.asarray(value)
    expected = (rows,) if width == 1 and array.ndim == 1 else (rows, width)
    if array.shape != expected:
        raise InputError(f"{what} has shape {array.shape}; the compiled code expects {expected}")
    if array.dtype.kind not in "biuf":
        raise InputError(f"{what} holds {array.dtype} values; the compiled code expects numbers")
    if dtype == np.uint8:
        array = array.astype(bool, copy=False).view(np.uint8)
    return np.ascontiguousarray(array, dtype=dtype).reshape(-1)
