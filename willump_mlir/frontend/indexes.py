"""``df.index`` and the frames and Series built on it.

``df.index`` is a traced value standing for the index of the frame ``df`` (``Val.index_of``):
it is data, never a compile-time constant. ``pd.DataFrame(index=df.index)`` is an empty
assembled frame (``frontend.frames``) that columns are then assigned to
(``X["a"] = df["a"] * 2``); ``pd.Series(values, index=df.index, name=...)`` of a native
1-D array is that array with ``df``'s index, name and dtype (rebuilt around it where it
leaves native code, ``frontend.fallback``). Both check that the rows they combine come from
``df`` itself: pandas would align another object's rows by label.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import TensorType

from willump_mlir.dialects.pipeline import PythonCallOp, is_sparse

from .fallback import check_aligned, same_index
from .frames import is_frame
from .spec import Unsupported
from .types import type_of
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer


def index_of(frame: Val, value: object) -> Val | None:
    """``frame.index`` (``value``) of a DataFrame argument or selection; None otherwise."""
    if not is_frame(frame) or frame.columns is not None or not isinstance(value, pd.Index):
        return None
    return Val(value, index_of=frame)


def empty_frame(tracer: Tracer, index: Val, value: object) -> Val:
    """``pd.DataFrame(index=df.index)``: an assembled frame of no columns yet."""
    del tracer
    if not isinstance(value, pd.DataFrame) or len(value.columns) or index.index_of is None:
        raise Unsupported("this DataFrame constructor is not compiled")
    return Val(value, items=[], columns=[], index_of=index.index_of)


def series(tracer: Tracer, values: Val, index: Val, name: Hashable, value: object) -> Val:
    """``pd.Series(values, index=df.index, name=name)`` of a native 1-D numpy array, or of
    one a Python call returned (class labels), which pandas builds around it."""
    typ = values.ssa.type if values.ssa is not None else None
    python = values.ssa is not None and isinstance(values.ssa.owner, PythonCallOp)
    if (
        index.index_of is None or index.index_of.ssa is None
        or not isinstance(values.value, np.ndarray) or values.columns is not None
        or not (python or isinstance(typ, TensorType) and not is_sparse(typ)
                and typ.get_num_dims() == 1)
    ):  # fmt: skip
        raise Unsupported("pd.Series of this value is not compiled (a 1-D numpy array of "
                          "numbers with a frame's index only)")  # fmt: skip
    if not isinstance(value, pd.Series) or value.name != name or \
            not python and type_of(value) != typ:  # fmt: skip
        raise Unsupported("the Series is not the array's values")
    if not same_index(value.index, index.value):  # type: ignore[arg-type]
        raise Unsupported("the Series does not have the frame's index")
    assert values.ssa is not None
    if python:
        return _python_series(tracer, values, index.index_of, name)
    check_aligned([values.ssa, index.index_of.ssa], tracer.examples, value, tracer.index_roots)
    return Val(value, values.ssa)


def _python_series(tracer: Tracer, values: Val, frame: Val, name: Hashable) -> Val:
    """``pd.Series(values, index=frame.index, name=name)`` of an array a Python call
    returns (which reaches Python code and the result as it is), built by pandas."""

    def build(array: np.ndarray, rows: pd.DataFrame) -> pd.Series:
        return pd.Series(array, index=rows.index, name=name)

    return tracer.python_op("series", build, [values, frame], "the Series of an array "
                            "Python computed is built by pandas",
                            f"pd.Series(..., index=....index, name={name!r})", wraps=True)
