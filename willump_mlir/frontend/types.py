"""IR types of concrete (shadow-executed) Python values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from xdsl.dialects.builtin import TensorType, f64, i1, i64
from xdsl.ir import Attribute

from willump_mlir.dialects.pipeline import FrameType, ObjectType, StrType, batch_of, vector_of


def element_type(dtype: np.dtype) -> Attribute | None:
    """The IR element type of a numpy dtype, or None if it has none."""
    if dtype == np.float64:
        return f64
    if dtype == np.bool_:
        return i1
    if np.issubdtype(dtype, np.integer):
        return i64
    return None


def column_kind(series: pd.Series) -> str | None:
    """``"f64"`` or ``"str"`` for a frame column, None if neither fits."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype == np.float64 or dtype.kind in "iub":
            return "f64"
        if dtype.kind != "O":
            return None
    elif not pd.api.types.is_string_dtype(dtype):
        return None
    return "str" if all(isinstance(v, str) for v in series.dropna()) else None


def frame_columns(frame: pd.DataFrame) -> list[tuple[str, str]] | None:
    """The (name, kind) columns of a frame, or None if some column is not f64/str."""
    columns = []
    for name in frame.columns:
        if not isinstance(name, str):
            return None
        kind = column_kind(frame[name])
        if kind is None:
            return None
        columns.append((name, kind))
    return columns if len(set(frame.columns)) == len(columns) else None


def frame_type(columns: list[tuple[str, str]]) -> FrameType:
    """The ``!pipeline.frame`` of (name, kind) columns."""
    return FrameType([(n, f64 if k == "f64" else StrType()) for n, k in columns])


def type_of(value: object) -> Attribute:
    """The IR type of a value: batches of rows as tensors/frames, else ``!pipeline.object``."""
    if isinstance(value, pd.DataFrame):
        columns = frame_columns(value)
        return frame_type(columns) if columns is not None else ObjectType()
    if isinstance(value, pd.Series):
        value = value.to_numpy() if column_kind(value) == "f64" else None
    if sp.issparse(value) and value.ndim == 2:
        element = element_type(value.dtype)
        return batch_of(value.shape[1], element) if element is not None else ObjectType()
    if isinstance(value, np.ndarray) and value.ndim in (1, 2):
        element = element_type(value.dtype)
        if element is None:
            return ObjectType()
        return vector_of(element) if value.ndim == 1 else batch_of(value.shape[1], element)
    return ObjectType()


def is_f64_batch(typ: Attribute) -> bool:
    """True for ``tensor<?xf64>`` and ``tensor<?xWxf64>``."""
    return isinstance(typ, TensorType) and typ.get_element_type() == f64
