"""Pandas' nullable columns of frame arguments: ``Int64`` (and the other widths),
``Float64``/``Float32`` and ``boolean``, masked arrays of values and pd.NA flags.

Native code reads such a column as float64, NaN for pd.NA (``marshal.nullable_floats``):
what pandas and scikit-learn make of it where they convert it. So a model reading the
frame, ``s.astype(float)`` (``"float64"``, ``np.float64``), ``s.to_numpy(dtype=float)``
(``na_value=np.nan``) and ``s.isna()``/``s.notna()`` are native and exact. A ``Float64``
NaN that is not pd.NA (pandas 3 keeps the two apart in ``isna``, ``fillna`` and
comparisons) runs the original function at run time.

Elsewhere pandas computes with pd.NA: arithmetic gives ``Float64`` with NA, comparisons
``boolean`` with NA (Kleene logic, and ``if`` on NA raises), ``fillna`` keeps the nullable
dtype and refuses a fill it cannot hold. Native code builds none of these: the column is
carried as the frame's own (a one-column selection, ``pipeline.select_columns``) and such
code runs in Python, saying why (:func:`refuse_nullable`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from willump_mlir.dialects.pipeline import BinaryOp, SelectColumnsOp, TakeColumnOp

from .reductions import REDUCTIONS
from .spec import Unsupported
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

_MASKED = (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)
_MISSING = {"isna": False, "isnull": False, "notna": True, "notnull": True}


def is_nullable(value: object) -> bool:
    """A pandas Series of a masked nullable dtype (``Int64``, ``Float64``, ``boolean``...)."""
    return isinstance(value, pd.Series) and isinstance(value.array, _MASKED)


def refuse_nullable(*operands: Val) -> None:
    """``Unsupported`` naming the nullable column among ``operands``, if any: pandas
    computes on it with pd.NA, which native code does not build."""
    for val in operands:
        if is_nullable(val.value):
            raise Unsupported(
                f"a nullable {val.value.dtype} column: pandas computes on it with pd.NA "  # type: ignore[union-attr]
                "(Float64 results with NA, boolean comparisons with NA in Kleene logic), "
                "which native code does not build; it reads the column as float64 only "
                "where pandas converts it (a model, astype(float), to_numpy(dtype=float), "
                "isna)"
            )


def fillna_reason(dtype: object) -> str:
    """Why ``fillna`` of a nullable column of ``dtype`` runs in Python."""
    nan = ", and a NaN it holds is not NA: fillna keeps it" if getattr(dtype, "kind", "") == "f" \
        else ""  # fmt: skip
    return (f"fillna of a nullable {dtype} column is not compiled: pandas keeps the nullable "
            f"dtype ({dtype} with pd.NA filled{nan}), which native code does not build (it "
            "reads a nullable column as float64 only where pandas converts it)")  # fmt: skip


def _float_dtype(val: Val) -> bool:
    """``float``, ``"float64"``, ``np.float64``...: numpy's float64 (not ``"Float64"``)."""
    if not val.is_static or val.value is None:
        return False
    try:
        return np.dtype(val.value) == np.float64  # type: ignore[arg-type]
    except TypeError:
        return False


def no_missing_value(val: Val | None) -> bool:
    """No ``na_value`` (of ``to_numpy(dtype=float)``), or NaN: what it gives for pd.NA
    anyway, and a float64 column's NaN stays NaN."""
    if val is None:
        return True
    number = val.value
    return val.is_static and isinstance(number, float) and math.isnan(number)


class NullableColumns:
    """Columns of a nullable dtype, carried as one-column selections of their frame."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def column(self, frame: Val, name: str, value: pd.Series) -> Val:
        """``frame[name]`` of a nullable column: the frame's own column."""
        return Val(value, self.tracer.emit(SelectColumnsOp(frame.ssa, [name])).result)

    def call(
        self, receiver: Val, attr: str | None, args: list[Val], kwargs: dict[str, Val],
        evaluate: Callable[[], object],
    ) -> Val | None:  # fmt: skip
        """``astype(float)``, ``to_numpy(dtype=float[, na_value=np.nan])``, ``isna()``,
        ``notna()`` of a nullable column ``receiver``; None for other calls."""
        if not is_nullable(receiver.value) or receiver.ssa is None:
            return None
        converts = (attr == "astype" and len(args) == 1 and not kwargs
                    and _float_dtype(args[0])) or (
            attr == "to_numpy" and not args and set(kwargs) <= {"dtype", "na_value"}
            and _float_dtype(kwargs.get("dtype", Val(None)))
            and no_missing_value(kwargs.get("na_value"))
        )  # fmt: skip
        if converts:
            return self.floats(receiver, evaluate())
        if attr in _MISSING and not args and not kwargs:
            floats = self.floats(receiver, receiver.value.astype(np.float64))  # type: ignore[union-attr]
            assert floats.ssa is not None
            kind = "eq" if _MISSING[attr] else "ne"  # NaN != NaN
            return self.tracer._checked(BinaryOp(kind, floats.ssa, floats.ssa), evaluate())
        if attr == "fillna":
            raise Unsupported(fillna_reason(receiver.value.dtype))  # type: ignore[union-attr]
        if attr in REDUCTIONS:
            raise Unsupported(f"{attr} of a nullable {receiver.value.dtype} column is not "  # type: ignore[union-attr]
                              "compiled: pandas skips pd.NA and gives pd.NA for a batch of "
                              "none, which native code does not build")  # fmt: skip
        return None

    def floats(self, column: Val, value: object) -> Val:
        """The nullable ``column`` as a float64 vector, NaN for pd.NA (``value``)."""
        assert column.ssa is not None and isinstance(column.value, pd.Series)
        frame = Val(column.value.to_frame(), column.ssa)
        matrix = self.tracer.estimators.as_array(frame)
        assert matrix.ssa is not None
        return self.tracer._checked(TakeColumnOp(matrix.ssa, 0), value)
