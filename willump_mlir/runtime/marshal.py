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
    return int(value.shape[0])


def frame_column(name: str, frame: pd.DataFrame, column: str) -> pd.Series:
    try:
        return frame[column]
    except KeyError:
        raise InputError(f"argument {name!r} is missing column {column!r}") from None


def numeric_column(name: str, frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as contiguous f64 (missing values as NaN)."""
    series = frame_column(name, frame, column)
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise InputError(
            f"argument {name!r}: column {column!r} must be numeric, got dtype {series.dtype} "
            f"({error})"
        ) from None
    return np.ascontiguousarray(values)


def string_column(name: str, frame: pd.DataFrame, column: str) -> dict[str, np.ndarray]:
    """A string column as UTF-8 ``bytes``, i64 ``offsets`` (rows + 1) and ``missing`` flags."""
    series = frame_column(name, frame, column)
    try:
        array = pa.array(series.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid) as error:
        raise InputError(
            f"argument {name!r}: column {column!r} must hold strings (None/NaN for missing): "
            f"{error}"
        ) from None
    _, offsets, data = array.buffers()
    rows = len(array)
    offsets_view = np.frombuffer(offsets, dtype=np.int64, count=rows + 1, offset=array.offset * 8)
    data_view = (
        np.frombuffer(data, dtype=np.uint8) if data is not None and data.size else EMPTY_BYTES
    )
    missing = array.is_null().to_numpy(zero_copy_only=False).view(np.uint8)
    return {"bytes": data_view, "offsets": offsets_view, "missing": np.ascontiguousarray(missing)}


def matrix(what: str, value: Any, rows: int, width: int, dtype: np.dtype) -> np.ndarray:
    """A batch value (a Python op's result or an array argument) as a flat row-major buffer."""
    array = np.asarray(value)
    expected = (rows,) if width == 1 and array.ndim == 1 else (rows, width)
    if array.shape != expected:
        raise InputError(f"{what} has shape {array.shape}; the compiled code expects {expected}")
    if dtype == np.uint8:
        array = array.astype(bool, copy=False).view(np.uint8)
    return np.ascontiguousarray(array, dtype=dtype).reshape(-1)
