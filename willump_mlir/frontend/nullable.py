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

pandas 3 computes on them with pd.NA, and gives NA wherever its float result is NaN
(``0 / 0``, ``inf - inf``, ``np.log(-1)``): so a float64 vector, NaN for pd.NA, holds
every ``Int64``, ``Int32``, ``Float64``, ``Float32`` and ``boolean`` result exactly, and
native code computes them (:meth:`NullableColumns.binary`, ``unary``, ``logical``): ``+ -
* /`` and numpy's unary ufuncs give ``Int64``, ``Int32``, ``Float64`` or ``Float32`` (an
``Int64`` result is exact in float64 below 2^53 in magnitude, an ``Int32`` one in the
int32 range, where pandas does not wrap: a row beyond runs the original function; a
``Float32`` one is computed in float32, as numpy's loop, where IEEE rounds it: ``+ - * /``,
``abs``, ``sqrt``...), comparisons ``boolean`` with NA where
an operand is NA or NaN, and ``&``, ``|``, ``^``, ``~`` Kleene logic (NA & False is False,
NA | True is True, else NA). Such a result is a ``Pending`` of its float64 vector, read
natively by the converters above, ``fillna(number)``, ``astype(bool)`` and ``np.where``
(pd.NA, which numpy refuses, runs the original), ``sum``/``mean`` of booleans and
``median`` (:meth:`NullableColumns.reduce`), and wrapped in Python as pandas' dtype with
pd.NA for any other use. Floor division, ``%``, powers, float32 functions numpy
approximates (``np.log``), and ``Float64``/``Int64`` sums and means stay in Python, saying why.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import TensorType, f32, f64, i1, i64
from xdsl.ir import BlockArgument, SSAValue
from xdsl.utils.exceptions import VerifyException

from willump_mlir.abi import DISTINGUISH_NAN, NULLABLE_COMPUTED
from willump_mlir.dialects.feature import resolve_column
from willump_mlir.dialects.pipeline import (
    COMPARISONS,
    BinaryOp,
    BroadcastOp,
    CastOp,
    ConstantOp,
    SelectColumnsOp,
    TakeColumnOp,
    UnaryOp,
    WhereOp,
    is_sparse,
)

from .reductions import REDUCTIONS, is_reduction, reduce
from .spec import Unsupported
from .stability import batch_dependent
from .types import float32_number
from .values import Pending, Val

if TYPE_CHECKING:
    from .tracer import Tracer

_MASKED = (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)
_MISSING = {"isna": False, "isnull": False, "notna": True, "notnull": True}


_FILLED = "nullable_fillna"
_NATIVE = "nullable_native"
_ARITHMETIC = ("add", "sub", "mul", "div")
#: Int64 results computed in float64 are exact below this magnitude.
_EXACT = 2.0**53
#: The integer results computed natively, and the magnitude from which the original runs:
#: an Int64 one is inexact in float64 beyond 2^53, an Int32 one wraps in pandas from 2^31.
_INTEGER_BOUNDS = {"Int64": _EXACT, "Int32": 2.0**31}
#: The nullable dtypes of numbers native code computes on (read as float64 exactly).
_NUMBERS = tuple(d for d in NULLABLE_COMPUTED if d != "boolean")


def is_nullable(value: object) -> bool:
    """A pandas Series of a masked nullable dtype (``Int64``, ``Float64``, ``boolean``...)."""
    return isinstance(value, pd.Series) and isinstance(value.array, _MASKED)


def refuse_nullable(*operands: Val) -> None:
    """``Unsupported`` naming the nullable column among ``operands``, if any: pandas
    computes on it with pd.NA, which native code does not build."""
    for val in operands:
        if is_nullable(val.value):
            raise Unsupported(
                f"a nullable {val.value.dtype} column: pandas computes on it with pd.NA, "  # type: ignore[union-attr]
                "which native code builds (as float64, NaN for NA) only for Int64, Int32, "
                "Float64, Float32 and boolean values in + - * /, unary ufuncs, comparisons "
                "and & | ^ ~ with "
                "other such values, float64 or bool batches and numbers"
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
        #: the (argument, column) pairs computed on natively: a batch must have the
        #: example's dtype there (a numpy float64 NaN is no pd.NA: comparisons differ)
        self.computed: set[tuple[int, str]] = set()

    def column(self, frame: Val, name: str, value: pd.Series) -> Val:
        """``frame[name]`` of a nullable column: the frame's own column."""
        return Val(value, self.tracer.emit(SelectColumnsOp(frame.ssa, [name])).result)

    def call(
        self, receiver: Val, attr: str | None, args: list[Val], kwargs: dict[str, Val],
        evaluate: Callable[[], object], text: str,
    ) -> Val | None:  # fmt: skip
        """``astype(float | bool)``, ``to_numpy(dtype=float[, na_value=np.nan])``,
        ``isna()``, ``notna()``, ``fillna(number | statistic)``, ``abs()`` and reductions of
        a nullable column or value ``receiver`` (``text``: the call's code); None for other
        calls."""
        if not is_nullable(receiver.value) or not _carried(receiver):
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
        if attr == "fillna" and len(args) == 1 and not kwargs and is_reduction(args[0]):
            return self.fill_statistic(receiver, args[0], evaluate(), text)
        if attr == "fillna":
            raise Unsupported(fillna_reason(receiver.value.dtype))  # type: ignore[union-attr]
        if attr == "abs" and not args and not kwargs:
            return self.unary("abs", receiver, evaluate(), text)
        if attr == "astype" and len(args) == 1 and not kwargs and args[0].is_static \
                and args[0].value in (bool, "bool", np.bool_):  # fmt: skip
            return self.tracer._checked_result(self.mask(receiver).ssa, evaluate())  # type: ignore[arg-type]
        if attr in ("astype", "to_numpy"):
            raise Unsupported(f"{attr} of a nullable {receiver.value.dtype} column is compiled "  # type: ignore[union-attr]
                              "into float64 only (NaN for pd.NA): pandas keeps a nullable "
                              "dtype, gives objects or raises on pd.NA for others")  # fmt: skip
        if attr in REDUCTIONS:
            return self.reduce(receiver, attr, args, kwargs, evaluate())
        return None

    def reduce(self, column: Val, method: str, args: list[Val], kwargs: dict[str, Val],
               value: object) -> Val:  # fmt: skip
        """``sum``/``mean`` of a nullable boolean value and ``median`` of an Int64/Float64
        one: pandas skips pd.NA, as native code skips NaN (a sum of 0/1 values is exact in
        any order; ``median`` is numpy's of the same values). pandas gives pd.NA for a mean
        or median of no value: native NaN there (or an infinite median) runs the original
        function (``guard``).

        ```mlir
        %m = pipeline.reduce "median" %a : tensor<?xf64> -> f64
        %p = pipeline.binary "mul" %m, %zero : (f64, f64) -> f64
        %b = pipeline.broadcast %p over %a : f64 over tensor<?xf64> -> tensor<?xf64>
        %k = pipeline.cast %b speculative : tensor<?xf64> -> tensor<?xi64>
        ```
        """
        kind = _dtype_name(column.value)
        if not ((kind == "boolean" and method in ("sum", "mean"))
                or (kind in ("Int64", "Float64") and method == "median")):  # fmt: skip
            raise Unsupported(f"{method} of a nullable {kind} column is not compiled: pandas "
                              "sums the values it keeps in another order than native code, "
                              "or gives pd.NA or a wrapped int64 where native float64 "
                              "cannot")  # fmt: skip
        emit = self.tracer.emit
        floats = self._read(column)
        operand = emit(BinaryOp("eq", floats, emit(ConstantOp(1.0)).result)).result \
            if method == "sum" else floats  # fmt: skip
        example = pd.Series(column.value.to_numpy(dtype=np.float64, na_value=np.nan))  # type: ignore[union-attr]
        reduced = reduce(self.tracer, Val(example, operand), method, args, kwargs, value)
        if reduced is None or reduced.ssa is None:
            raise Unsupported(f"{method} of a nullable {kind} column with these options")
        if method != "sum":  # NaN (no value) or infinite: the original
            zero = emit(ConstantOp(0.0)).result
            probe = emit(BroadcastOp(emit(BinaryOp("mul", reduced.ssa, zero)).result, floats))
            emit(CastOp(probe.result, i64, speculative=True))
        return reduced

    def fill_statistic(self, column: Val, fill: Val, value: object, text: str) -> Val:
        """``column.fillna(s)`` of a nullable Int64/Float64 value and a batch statistic
        ``s`` (``df["a"].median()``), whose native value is a number (:meth:`reduce`); an
        Int64 column refuses a fraction where it has pd.NA (pandas raises): the original
        runs there."""
        kind = _dtype_name(value)
        if kind not in ("Int64", "Float64") or fill.ssa is None or fill.ssa.type != f64:
            raise Unsupported(fillna_reason(getattr(value, "dtype", None)))
        emit = self.tracer.emit
        floats = self._read(column)
        missing = emit(BinaryOp("ne", floats, floats)).result
        if kind == "Int64":  # a fraction (or NaN) where a value is missing
            zero = emit(ConstantOp(0.0)).result
            spread = emit(BroadcastOp(fill.ssa, floats)).result
            probe = emit(WhereOp(missing, spread, emit(BroadcastOp(zero, floats)).result))
            emit(CastOp(probe.result, i64, speculative=True))
        return self.native(emit(WhereOp(missing, fill.ssa, floats)).result, value, text)

    def floats(self, column: Val, value: object) -> Val:
        """The nullable ``column`` (its ``fillna``, or a value computed natively) as a
        float64 vector, NaN for pd.NA (``value``)."""
        if is_native(column):
            assert column.pending is not None and column.pending.source.ssa is not None
            if value is None:
                return column.pending.source
            return self.tracer._checked_result(column.pending.source.ssa, value)
        if is_filled(column):
            assert column.pending is not None
            op = self._filled(column.pending.source, column.pending.options["floats"])  # type: ignore[arg-type]
            return self.tracer._checked(op, value) if value is not None else \
                Val(value, self.tracer.emit(op).result)  # fmt: skip
        assert column.ssa is not None and isinstance(column.value, pd.Series)
        frame = Val(column.value.to_frame(), column.ssa)
        matrix = self.tracer.estimators.as_array(frame)
        assert matrix.ssa is not None
        if value is None:
            return Val(value, self.tracer.emit(TakeColumnOp(matrix.ssa, 0)).results[0])
        return self.tracer._checked(TakeColumnOp(matrix.ssa, 0), value)

    def _filled(self, source: Val, fill: float) -> WhereOp:
        """``source``'s floats with ``fill`` where NaN (pd.NA), not yet emitted."""
        floats = self.floats(source, None)
        assert floats.ssa is not None
        missing = self.tracer.emit(BinaryOp("ne", floats.ssa, floats.ssa))  # NaN != NaN
        constant = self.tracer.emit(ConstantOp(fill))
        return WhereOp(missing.result, constant.result, floats.ssa)

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
        if is_native(column):  # computed natively: so is its fill
            return self.native(self.tracer.emit(self._filled(column, float(stored))).result,
                               value, text)  # fmt: skip
        build = functools.partial(pd.Series.fillna, value=fill)
        pending = Pending(_FILLED, column, {"value": fill, "floats": float(stored)}, build, text,
                          fillna_reason(dtype))  # fmt: skip
        return Val(value, pending=pending)

    # region Computing on nullable values

    def binary(self, function: str, lhs: Val, rhs: Val, value: object, text: str) -> Val:
        """``lhs + rhs`` (``- * /``) giving ``Int64`` or ``Float64``, or a comparison giving
        ``boolean``, of a nullable value and another (``value`` on the example).

        ```mlir
        %r = pipeline.binary "div" %a, %b : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
        %c = pipeline.binary "gt" %a, %k : (tensor<?xf64>, f64) -> tensor<?xi1>
        %f = pipeline.cast %c : tensor<?xi1> -> tensor<?xf64>
        %m = pipeline.binary "ne" %a, %a : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xi1>
        %n = pipeline.where %m, %nan, %f : (tensor<?xi1>, f64, tensor<?xf64>) -> tensor<?xf64>
        ```
        """
        kind = _dtype_name(value)
        arithmetic = function in _ARITHMETIC and kind in ("Int64", "Int32", "Float64", "Float32")
        if not (arithmetic or (function in COMPARISONS and kind == "boolean")):
            raise Unsupported(f"{function} of a nullable column giving {kind} is not compiled "
                              "(native code computes + - * / and comparisons of Int64, Int32, "
                              "Float64 and Float32 values)")  # fmt: skip
        x, y = self._number(lhs), self._number(rhs)
        for operand in (x, y) if arithmetic else ():
            found = batch_dependent(self.tracer, operand)
            if found is not None:  # pandas: Int64 beside its ints, Float64 beside floats
                raise Unsupported(f"{function} of a nullable column and {found}, whose "
                                  "pandas dtype depends on the batch, as the result's does")
        if not arithmetic:
            return self.native(self._compared(function, x, y), value, text)
        if kind == "Float32":  # numpy's float32 loop: of float32 values (and numbers, NEP 50)
            x, y = self._float32(x, lhs), self._float32(y, rhs)
        result = self.tracer.emit(BinaryOp(function, x, y)).result
        return self.native(self._exact(result, kind), value, text)

    def unary(self, function: str, operand: Val, value: object, text: str) -> Val:
        """numpy's unary ufunc ``function`` (``-x``, ``abs``, ``np.log1p``...) of a nullable
        ``Int64`` or ``Float64`` value (``value`` on the example: pandas gives pd.NA where the
        float result is NaN, as ``np.log(-1)``)."""
        kind = _dtype_name(value)
        if kind not in ("Int64", "Int32", "Float64", "Float32"):
            raise Unsupported(f"{function} of a nullable column giving {kind} is not compiled")
        x = self._number(operand)
        if kind == "Float32":
            x = self._float32(x, operand)
        try:
            result = self.tracer.emit(UnaryOp(function, x)).result
        except VerifyException as error:
            raise Unsupported(f"{function} of a nullable {kind} column: {error}") from None
        # an Int64's -x and abs keep |x| below 2^53 (as read, or guarded)
        unguarded = kind == "Int64" and function in ("negative", "abs")
        return self.native(self._exact(result, None if unguarded else kind), value, text)

    def logical(self, kind: str, lhs: Val, rhs: Val, value: object, text: str) -> Val:
        """``lhs & rhs`` (``|``, ``^``) of boolean batches, one nullable, in Kleene logic on
        0.0/1.0/NaN: ``a & b`` is 0 where either is 0, else ``a * b``; ``a | b`` is 1 where
        either is 1, else ``a + b``; ``a ^ b`` is ``(a - b) ** 2`` (NA where either is)."""
        if _dtype_name(value) != "boolean":
            raise Unsupported(f"{kind} of a nullable column is not compiled beside it")
        a, b = self._truth(lhs), self._truth(rhs)
        emit = self.tracer.emit
        if kind == "xor":
            difference = emit(BinaryOp("sub", a, b)).result
            return self.native(emit(BinaryOp("mul", difference, difference)).result, value, text)
        decisive = emit(ConstantOp(0.0 if kind == "and" else 1.0)).result
        decided = self.tracer._mask("or", emit(BinaryOp("eq", a, decisive)).result,
                                    emit(BinaryOp("eq", b, decisive)).result)  # fmt: skip
        combined = emit(BinaryOp("mul" if kind == "and" else "add", a, b)).result
        return self.native(emit(WhereOp(decided, decisive, combined)).result, value, text)

    def invert(self, operand: Val, value: object, text: str) -> Val:
        """``~mask`` of a nullable boolean value: ``1 - mask`` (NA stays NA)."""
        if _dtype_name(value) != "boolean":
            raise Unsupported("~ of a nullable column that is not boolean is not compiled")
        one = self.tracer.emit(ConstantOp(1.0)).result
        return self.native(self.tracer.emit(BinaryOp("sub", one, self._truth(operand))).result,
                           value, text)  # fmt: skip

    def mask(self, val: Val) -> Val:
        """A nullable boolean value as numpy's bools (``astype(bool)``, ``np.where``'s
        condition): where it holds pd.NA, which numpy refuses, the original runs."""
        if _dtype_name(val.value) != "boolean" or not _carried(val):
            raise Unsupported("a nullable column that is not boolean as a mask")
        floats = self._read(val)
        emit = self.tracer.emit
        self.guard(emit(BinaryOp("ne", floats, floats)).result)
        truth = emit(BinaryOp("eq", floats, emit(ConstantOp(1.0)).result)).result
        series = val.value
        assert isinstance(series, pd.Series)
        example = pd.Series(series.to_numpy(dtype=bool, na_value=False), index=series.index,
                            name=series.name)  # fmt: skip
        return self.tracer._checked_result(truth, example)

    def native(self, floats: SSAValue, value: object, text: str) -> Val:
        """The nullable Series ``value`` computed natively as ``floats`` (NaN for pd.NA): a
        ``Pending`` that converters read natively, built in Python, of ``value``'s dtype,
        for any other use."""
        assert isinstance(value, pd.Series) and isinstance(value.array, _MASKED)
        if pd.get_option(DISTINGUISH_NAN):
            raise Unsupported(f"pandas' option {DISTINGUISH_NAN} is set: a NaN result of "
                              "nullable arithmetic is not pd.NA, where native code has one "
                              "NaN")  # fmt: skip
        array = value.array
        if array.dtype.kind == "f" and bool((np.isnan(array._data) & ~array._mask).any()):
            raise Unsupported(f"the {value.dtype} result holds a NaN that is not pd.NA")
        floats_value = pd.Series(value.to_numpy(dtype=np.float64, na_value=np.nan),
                                 index=value.index, name=value.name)  # fmt: skip
        source = self.tracer._checked_result(floats, floats_value)
        reason = f"the nullable {value.dtype} result is built by pandas from its native " \
            "float64 values (NaN for pd.NA)"  # fmt: skip
        build = functools.partial(_rebuild, dtype=value.dtype)
        return Val(value, pending=Pending(_NATIVE, source, {}, build, text, reason))

    def materialize(self, val: Val) -> Val:
        """A nullable value computed natively, as pandas' Series of its dtype: a Python
        step that wraps the native float64 values."""
        pending = val.pending
        assert pending is not None and pending.kind == _NATIVE
        return self.tracer.python_op("nullable", pending.build, [pending.source], pending.reason,
                                     pending.text, wraps=True)  # fmt: skip

    def _number(self, val: Val) -> SSAValue:
        """An operand of arithmetic or a comparison beside a nullable value, as float64:
        an ``Int64``/``Float64`` value (NaN for pd.NA), a float64 batch or batch statistic
        (whose NaN pandas makes NA), or a number (an int of magnitude 2^53 at most)."""
        if is_nullable(val.value):
            if _dtype_name(val.value) not in _NUMBERS or not _carried(val):
                raise Unsupported(f"arithmetic on a nullable {val.value.dtype} column is not "  # type: ignore[union-attr]
                                  "compiled (native code computes on "
                                  f"{', '.join(_NUMBERS)})")  # fmt: skip
            return self._read(val)
        if _batch(val) == f64 or (is_reduction(val) and val.ssa.type == f64):  # type: ignore[union-attr]
            assert val.ssa is not None
            return val.ssa
        number = val.value
        if val.is_static and type(number) in (int, float, np.int64, np.float64) \
                and abs(number) <= _EXACT:  # fmt: skip
            return self.tracer.emit(ConstantOp(float(number))).result  # type: ignore[arg-type]
        raise Unsupported("an operand beside a nullable column is neither an Int64, Float64 or "
                          "float64 batch nor a number of magnitude 2^53 at most")  # fmt: skip

    def _truth(self, val: Val) -> SSAValue:
        """An operand of Kleene logic as 0.0/1.0/NaN: a nullable boolean value or a bool
        batch."""
        if is_nullable(val.value) and _dtype_name(val.value) == "boolean" and _carried(val):
            return self._read(val)
        if _batch(val) == i1:
            assert val.ssa is not None
            return self.tracer.emit(CastOp(val.ssa, f64)).result
        raise Unsupported("an operand of & | ^ beside a nullable boolean column is neither a "
                          "boolean nor a bool batch")  # fmt: skip

    def _read(self, val: Val) -> SSAValue:
        """The floats of a nullable value computed on, noting the frame column it reads."""
        column = val.pending.source if is_filled(val) else val  # type: ignore[union-attr]
        select = column.ssa.owner if column.ssa is not None else None
        if isinstance(select, SelectColumnsOp):  # (a rolled back statement's too: stricter)
            source, name = resolve_column(select.result, select.columns.data[0].data)
            if isinstance(source, BlockArgument) and isinstance(name, str):
                self.computed.add((source.index, name))
        floats = self.floats(val, None).ssa
        assert floats is not None
        return floats

    def _compared(self, function: str, x: SSAValue, y: SSAValue) -> SSAValue:
        """``x function y`` as 0.0/1.0, NaN where an operand is NaN (pd.NA, or a float64
        NaN, which pandas compares as NA)."""
        emit = self.tracer.emit
        truth = emit(CastOp(emit(BinaryOp(function, x, y)).result, f64)).result
        missing = [emit(BinaryOp("ne", v, v)).result for v in (x, y)
                   if isinstance(v.type, TensorType)]  # fmt: skip
        either = missing[0] if len(missing) == 1 else self.tracer._mask("or", *missing)
        nan = emit(ConstantOp(float("nan"))).result
        return emit(WhereOp(either, nan, truth)).result

    def _exact(self, result: SSAValue, kind: str | None) -> SSAValue:
        """A result of ``kind`` as the float64 values of pandas' one: a ``Float64`` one as
        it is, a ``Float32`` one (computed in f32) converted; an ``Int64`` one (``Int32``)
        exact below 2^53 (in the int32 range, where pandas does not wrap) in magnitude
        (beyond, the original function runs: ``guard``; not for ``kind`` None, an Int64
        that needs no guard), with ``-0.0`` (``-x``, ``0 * -3``) made the integer's
        ``0.0``."""
        emit = self.tracer.emit
        if kind == "Float32":
            return emit(CastOp(result, f64)).result
        if kind is not None and kind not in _INTEGER_BOUNDS:
            return result
        if kind is not None:
            magnitude = emit(UnaryOp("abs", result)).result
            bound = emit(ConstantOp(_INTEGER_BOUNDS[kind])).result
            self.guard(emit(BinaryOp("ge", magnitude, bound)).result)
        return emit(BinaryOp("add", result, emit(ConstantOp(0.0)).result)).result

    def _float32(self, x: SSAValue, val: Val) -> SSAValue:
        """An operand ``x`` (of ``val``) of pandas' float32 arithmetic, as numpy takes it:
        a batch's float64 values (which are float32 values, or ints float32 holds, else
        numpy's loop would be float64) as f32; a number rounded to float32 (NEP 50)."""
        if isinstance(x.type, TensorType):
            return self.tracer.emit(CastOp(x, f32)).result
        return self.tracer.emit(ConstantOp(float32_number(val.value), f32)).result  # type: ignore[arg-type]

    def guard(self, inexact: SSAValue) -> None:
        """Run the original function on a batch where ``inexact`` holds in a row: a
        speculative cast to int64 of NaN there (0.0 elsewhere) is that run-time signal
        (the ``not-integer`` handoff), and dead-code elimination keeps it (``ChecksInput``).

        ```mlir
        %z = pipeline.cast %inexact : tensor<?xi1> -> tensor<?xf64>
        %p = pipeline.where %inexact, %nan, %z : (tensor<?xi1>, f64, tensor<?xf64>) -> tensor<?xf64>
        %k = pipeline.cast %p speculative : tensor<?xf64> -> tensor<?xi64>
        ```
        """
        emit = self.tracer.emit
        zeros = emit(CastOp(inexact, f64)).result  # 0.0 where the probe passes
        nan = emit(ConstantOp(float("nan"))).result
        emit(CastOp(emit(WhereOp(inexact, nan, zeros)).result, i64, speculative=True))

    # endregion

    def native_items(self, frame: Val) -> Val:
        """An assembled ``frame`` whose nullable columns and fills are float64 vectors (what
        a model or ``to_numpy(dtype=float)`` reads of them)."""
        assert frame.items is not None and isinstance(frame.value, pd.DataFrame)
        if not any(is_nullable(item.value) for item in frame.items):
            return frame
        items = [
            self.floats(item, frame.value[name].astype(np.float64))
            if is_nullable(item.value) and _carried(item) else item
            for name, item in zip(frame.columns or [], frame.items, strict=True)
        ]  # fmt: skip
        return dataclasses.replace(frame, items=items)


def is_filled(val: Val) -> bool:
    """``fillna`` of a nullable column (:meth:`NullableColumns.fillna`)."""
    return val.pending is not None and val.pending.kind == _FILLED


def is_native(val: Val) -> bool:
    """A nullable value computed natively (:meth:`NullableColumns.native`)."""
    return val.pending is not None and val.pending.kind == _NATIVE


def _carried(val: Val) -> bool:
    """A nullable column of a frame argument, its ``fillna``, or a value computed natively:
    what native code reads as float64."""
    return val.ssa is not None or is_filled(val) or is_native(val)


def _dtype_name(value: object) -> str | None:
    dtype = getattr(value, "dtype", None)
    return getattr(dtype, "name", None)


def _batch(val: Val) -> object:
    """The element type of a dense vector ``val``, else None."""
    typ = val.ssa.type if val.ssa is not None else None
    if not isinstance(typ, TensorType) or is_sparse(typ) or typ.get_num_dims() != 1:
        return None
    return typ.get_element_type()


def _rebuild(floats: pd.Series, dtype: pd.api.extensions.ExtensionDtype) -> pd.Series:
    """The nullable Series of ``dtype`` whose float64 values (NaN for pd.NA) are ``floats``."""
    values = floats.to_numpy()
    missing = np.isnan(values)
    if dtype.kind == "b":
        array = pd.arrays.BooleanArray(values == 1, missing)
    elif dtype.kind == "i":
        with np.errstate(invalid="ignore"):  # NaN under the mask: any integer there
            array = pd.arrays.IntegerArray(values.astype(dtype.numpy_dtype), missing)
    else:  # (float32 values: exact)
        array = pd.arrays.FloatingArray(values.astype(dtype.numpy_dtype), missing)
    return pd.Series(array, index=floats.index, name=floats.name, copy=False)
