"""Pandas' nullable columns of frame arguments: ``Int64`` (and the other widths),
``Float64``/``Float32`` and ``boolean``, masked arrays of values and pd.NA flags.

Native code reads such a column as float64, NaN for pd.NA (``marshal.nullable_floats``):
what pandas and scikit-learn make of it where they convert it. So a model reading the
frame, ``s.astype(float)`` (``"float64"``, ``np.float64``), ``s.to_numpy(dtype=float)``
(``na_value=np.nan``) and ``s.isna()``/``s.notna()`` are native and exact. So is
``s.fillna(number)`` read by one of those (``df[cols].fillna(0)`` into a model): pandas'
result keeps the nullable dtype, so it is kept as a ``Pending`` fill of the column, built
in Python for any other use. A ``Float64`` NaN that is not pd.NA (pandas 3 keeps the two
apart in ``isna``, ``fillna`` and comparisons) runs the original function at run time.

Elsewhere pandas computes with pd.NA: arithmetic gives ``Float64`` with NA, comparisons
``boolean`` with NA (Kleene logic, and ``if`` on NA raises), ``fillna`` keeps the nullable
dtype and refuses a fill it cannot hold. Native code builds none of these: the column is
carried as the frame's own (a one-column selection, ``pipeline.select_columns``) and such
code runs in Python, saying why (:func:`refuse_nullable`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from willump_mlir.dialects.pipeline import (
    BinaryOp,
    ConstantOp,
    SelectColumnsOp,
    TakeColumnOp,
    WhereOp,
)

from .reductions import REDUCTIONS
from .spec import Unsupported
from .values import Pending, Val

if TYPE_CHECKING:
    from .tracer import Tracer

_MASKED = (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)
_MISSING = {"isna": False, "isnull": False, "notna": True, "notnull": True}


_FILLED = "nullable_fillna"


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


def gives_float64(dtype: Val, *, none: bool) -> bool:
    """Whether ``dtype`` (of ``astype`` or ``to_numpy``) is a spelling of numpy's float64:
    ``float``, ``"float64"``, ``"f8"``, ``"double"``, ``np.dtype("float64")``... (not
    ``"Float64"``, nor big-endian ``">f8"``). ``none``: whether ``None`` counts, as it does
    for a float column's ``to_numpy()`` (a nullable column's gives object)."""
    if not dtype.is_static or (dtype.value is None and not none):
        return False
    try:
        return np.dtype(dtype.value) == np.float64  # type: ignore[arg-type]
    except (TypeError, ValueError):
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
        evaluate: Callable[[], object], text: str,
    ) -> Val | None:  # fmt: skip
        """``astype(float)``, ``to_numpy(dtype=float[, na_value=np.nan])``, ``isna()``,
        ``notna()``, ``fillna(number)`` of a nullable column ``receiver`` (``text``: the
        call's code); None for other calls."""
        if not is_nullable(receiver.value) or (receiver.ssa is None and not is_filled(receiver)):
            return None
        converts = (attr == "astype" and len(args) == 1 and not kwargs
                    and gives_float64(args[0], none=False)) or (
            attr == "to_numpy" and not args and set(kwargs) <= {"dtype", "na_value"}
            and gives_float64(kwargs.get("dtype", Val(None)), none=False)
            and no_missing_value(kwargs.get("na_value"))
        )  # fmt: skip
        if converts:
            return self.floats(receiver, evaluate())
        if attr in _MISSING and not args and not kwargs and not is_filled(receiver):
            floats = self.floats(receiver, receiver.value.astype(np.float64))  # type: ignore[union-attr]
            assert floats.ssa is not None
            kind = "eq" if _MISSING[attr] else "ne"  # NaN != NaN
            return self.tracer._checked(BinaryOp(kind, floats.ssa, floats.ssa), evaluate())
        if attr == "fillna" and len(args) == 1 and not kwargs and args[0].is_static \
                and not is_filled(receiver):  # fmt: skip
            return self.fillna(receiver, args[0].value, evaluate(), text)  # type: ignore[arg-type]
        if attr == "fillna":
            raise Unsupported(fillna_reason(receiver.value.dtype))  # type: ignore[union-attr]
        if attr in ("astype", "to_numpy"):
            raise Unsupported(f"{attr} of a nullable {receiver.value.dtype} column is compiled "  # type: ignore[union-attr]
                              "into float64 only (NaN for pd.NA): pandas keeps a nullable "
                              "dtype, gives objects or raises on pd.NA for others")  # fmt: skip
        if attr in REDUCTIONS:
            raise Unsupported(f"{attr} of a nullable {receiver.value.dtype} column is not "  # type: ignore[union-attr]
                              "compiled: pandas skips pd.NA and gives pd.NA for a batch of "
                              "none, which native code does not build")  # fmt: skip
        return None

    def floats(self, column: Val, value: object) -> Val:
        """The nullable ``column`` (or its ``fillna``) as a float64 vector, NaN for pd.NA
        (``value``)."""
        if is_filled(column):
            assert column.pending is not None
            source = self.floats(column.pending.source, None)
            assert source.ssa is not None
            missing = self.tracer.emit(BinaryOp("ne", source.ssa, source.ssa))  # NaN != NaN
            fill = self.tracer.emit(ConstantOp(column.pending.options["floats"]))  # type: ignore[arg-type]
            op = WhereOp(missing.result, fill.result, source.ssa)
            return self.tracer._checked(op, value) if value is not None else \
                Val(value, self.tracer.emit(op).result)  # fmt: skip
        assert column.ssa is not None and isinstance(column.value, pd.Series)
        frame = Val(column.value.to_frame(), column.ssa)
        matrix = self.tracer.estimators.as_array(frame)
        assert matrix.ssa is not None
        if value is None:
            return Val(value, self.tracer.emit(TakeColumnOp(matrix.ssa, 0)).results[0])
        return self.tracer._checked(TakeColumnOp(matrix.ssa, 0), value)

    def fillna(self, column: Val, fill: object, value: pd.Series, text: str) -> Val:
        """``column.fillna(fill)`` (``value``) of a nullable column and a constant number:
        pandas keeps the dtype, so it is a ``Pending`` fill, native where a converter reads
        it (:meth:`floats`), built in Python elsewhere."""
        dtype = value.dtype
        number = isinstance(fill, int | float | np.integer | np.floating)
        if not number or isinstance(fill, bool) != (dtype.kind == "b"):
            raise Unsupported(fillna_reason(dtype))
        try:  # the fill as pandas stores it in the column (it refused other fills)
            stored = pd.array([fill], dtype=dtype)[0]
        except (TypeError, ValueError):
            stored = pd.NA
        if stored is pd.NA or math.isnan(float(stored)):  # NaN: pd.NA in a nullable array
            raise Unsupported(fillna_reason(dtype))
        build = functools.partial(pd.Series.fillna, value=fill)
        pending = Pending(_FILLED, column, {"value": fill, "floats": float(stored)}, build, text,
                          fillna_reason(dtype))  # fmt: skip
        return Val(value, pending=pending)

    def native_items(self, frame: Val) -> Val:
        """An assembled ``frame`` whose nullable columns and fills are float64 vectors (what
        a model or ``to_numpy(dtype=float)`` reads of them)."""
        assert frame.items is not None and isinstance(frame.value, pd.DataFrame)
        if not any(is_nullable(item.value) for item in frame.items):
            return frame
        items = [
            self.floats(item, frame.value[name].astype(np.float64))
            if is_nullable(item.value) and (is_filled(item) or item.ssa is not None) else item
            for name, item in zip(frame.columns or [], frame.items, strict=True)
        ]  # fmt: skip
        return dataclasses.replace(frame, items=items)


def is_filled(val: Val) -> bool:
    """``fillna`` of a nullable column (:meth:`NullableColumns.fillna`)."""
    return val.pending is not None and val.pending.kind == _FILLED
