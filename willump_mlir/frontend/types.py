"""IR types of concrete (shadow-executed) Python values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from xdsl.dialects.builtin import TensorType, f32, f64, i1, i64
from xdsl.ir import Attribute

from willump_mlir.dialects.pipeline import (
    DATETIME_UNITS,
    DatetimeType,
    FrameType,
    ObjectType,
    StrType,
    batch_of,
    is_sparse,
    sparse_batch_of,
    vector_of,
)

from .spec import Unsupported

#: Element types of a sparse batch (the dtypes a text vectorizer can produce).
SPARSE_ELEMENTS: dict[np.dtype, Attribute] = {
    np.dtype(np.float64): f64,
    np.dtype(np.float32): f32,
    np.dtype(np.int64): i64,
}


def element_type(dtype: np.dtype) -> Attribute | None:
    """The IR element type of a numpy dtype, or None if it has none.

    Only int64 is ``i64``: numpy computes on narrower or unsigned integers in their own
    width (``uint8 + 1`` wraps at 256), which the IR does not model.
    """
    if dtype == np.float64:
        return f64
    if dtype == np.float32:  # what XGBoost predicts
        return f32
    if dtype == np.bool_:
        return i1
    if dtype == np.int64:
        return i64
    return None


def float32_number(number: float | int) -> float:
    """A Python number as numpy takes it beside float32 values (NEP 50): rounded to the
    nearest float32, infinite beyond its range."""
    with np.errstate(over="ignore"):
        return float(np.float32(number))


def column_kind(series: pd.Series) -> str | None:
    """``"f64"`` or ``"str"`` for a frame column, ``"M8[unit]"`` for a timezone-naive
    datetime64 column of a unit native code reads, None if none fits.

    A numeric column (float64 or float32, any integer, bool, a nullable ``Int64`` with
    ``pd.NA``) is ``"f64"``: native code reads it as float64 (NaN for missing) where a model
    or transformer does, exactly (see ``pipeline.to_array``); a nullable one only where
    pandas converts it too (``frontend.nullable``, ``marshal.nullable_floats``).
    """
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype in (np.float64, np.float32) or dtype.kind in "iub":
            return "f64"
        if dtype.kind == "M" and np.datetime_data(dtype)[0] in DATETIME_UNITS:
            return dtype.str[1:]  # "M8[us]"
        if dtype.kind != "O":
            return None
    elif pd.api.types.is_numeric_dtype(dtype):  # nullable Int64, Float64, boolean
        return "f64"
    elif not pd.api.types.is_string_dtype(dtype):
        return None
    return "str" if all(isinstance(v, str) for v in series.dropna()) else None


#: The kind of a frame argument's column of a dtype native code never reads (category,
#: timedelta, a time zone, Period, Interval, complex, objects that are not all str): only
#: Python code reads it, from the argument's own DataFrame, so it is never converted.
PYTHON_COLUMN = "python"


def frame_columns(frame: pd.DataFrame) -> list[tuple[str, str]] | None:
    """The (name, kind) columns of a frame (``PYTHON_COLUMN`` for a column that is not
    f64, str or datetime), or None if two have one name or a name is not a str."""
    if not frame.columns.is_unique:
        return None
    columns = []
    for name in frame.columns:
        if not isinstance(name, str):
            return None
        columns.append((name, column_kind(frame[name]) or PYTHON_COLUMN))
    return columns


def _column_type(kind: str) -> Attribute:
    if kind == "f64":
        return f64
    if kind.startswith("M8"):
        return DatetimeType(np.datetime_data(kind)[0])
    return ObjectType() if kind == PYTHON_COLUMN else StrType()


def frame_type(columns: list[tuple[str, str]]) -> FrameType:
    """The ``!pipeline.frame`` of (name, kind) columns."""
    return FrameType([(n, _column_type(k)) for n, k in columns])


def refuse_python_columns(typ: Attribute | None, value: object) -> None:
    """``Unsupported`` if the frame type ``typ`` has a column only Python code reads
    (``!pipeline.object``), naming it and its dtype in ``value`` (the example: a DataFrame,
    or the Series of a one-column frame)."""
    if not isinstance(typ, FrameType):
        return
    for name, dtype in typ.columns:
        if isinstance(dtype, ObjectType):
            found = value[name] if isinstance(value, pd.DataFrame) and name in value else value
            shown = str(getattr(found, "dtype", "of a dtype"))
            if shown == "object" and isinstance(found, pd.Series):  # name what it holds
                other = next((v for v in found.dropna() if not isinstance(v, str)), None)
                shown += f" of {type(other).__name__} values" if other is not None else ""
            raise Unsupported(f"column {name!r} is {shown}, which native code does not read "
                              "(only Python code reads it)")  # fmt: skip


def is_text(value: object) -> bool:
    """True for a 1-D sequence of str: a list/tuple, a numpy array or a Series of them.

    This is what a text vectorizer reads one document per item of; a DataFrame is not (a
    vectorizer would iterate over its column names).
    """
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind not in "UO":
            return False
        return value.dtype.kind == "U" or all(isinstance(v, str) for v in value)
    if isinstance(value, pd.Series):
        return column_kind(value) == "str" and not value.hasnans
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


def text_type(name: str) -> FrameType:
    """``!pipeline.frame<"name" : !pipeline.str>``: a column of text documents."""
    return FrameType([(name, StrType())])


def _sparse_type(value: sp.spmatrix | sp.sparray) -> Attribute:
    """A CSR matrix is a sparse batch; another format is typed as its dense equivalent."""
    if value.format == "csr" and value.dtype in SPARSE_ELEMENTS:
        return sparse_batch_of(value.shape[1], SPARSE_ELEMENTS[value.dtype])
    element = element_type(value.dtype)
    return batch_of(value.shape[1], element) if element is not None else ObjectType()


def type_of(value: object, name: str = "text") -> Attribute:
    """The IR type of a value: batches of rows as tensors/frames, else ``!pipeline.object``.

    A CSR matrix is ``tensor<?xWxT, "csr">``; a 1-D sequence of str is a one-column frame
    whose column is called ``name``.
    """
    if isinstance(value, pd.DataFrame):
        columns = frame_columns(value)
        return frame_type(columns) if columns is not None else ObjectType()
    if is_text(value):
        return text_type(name)
    if isinstance(value, pd.Series):  # a nullable (extension) column is not a numpy vector
        numpy = isinstance(value.dtype, np.dtype) and column_kind(value) == "f64"
        value = value.to_numpy() if numpy else None
    if sp.issparse(value) and value.ndim == 2:
        return _sparse_type(value)
    if isinstance(value, np.ndarray) and value.ndim in (1, 2):
        element = element_type(value.dtype)
        if element is None:
            return ObjectType()
        return vector_of(element) if value.ndim == 1 else batch_of(value.shape[1], element)
    return ObjectType()


def dense_type_of(value: object) -> Attribute:
    """``type_of(value)``, but a sparse matrix as the dense batch native code builds."""
    typ = type_of(value)
    if is_sparse(typ):
        assert isinstance(typ, TensorType)
        element = element_type(np.dtype(value.dtype))  # type: ignore[attr-defined]
        return batch_of(typ.get_shape()[1], element) if element is not None else ObjectType()
    return typ


def represents(typ: Attribute, value: object) -> bool:
    """Whether an IR value of type ``typ`` stands for ``value``: its type, or a dense batch
    for a sparse matrix (native code builds it densely; the result is converted back)."""
    return typ == type_of(value) or (sp.issparse(value) and typ == dense_type_of(value))


def is_f64_batch(typ: Attribute) -> bool:
    """True for the dense ``tensor<?xf64>`` and ``tensor<?xWxf64>``."""
    return isinstance(typ, TensorType) and typ.get_element_type() == f64 and not is_sparse(typ)
