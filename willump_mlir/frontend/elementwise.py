"""numpy's elementwise idioms composed of ``pipeline`` ops, with numpy's exact semantics.

* ``round``: ``x.round(n)``, ``np.round(x, n)``, ``round(x, n)`` of a column, an array or a
  model's output, as numpy computes it (``PyArray_Round``): ``rint(x * 10**n) / 10**n``
  for ``n > 0``, ``rint(x / 10**-n) * 10**-n`` for ``n < 0``, ``rint(x)`` for ``n == 0``,
  with numpy's ``10**n`` (exact up to ``1e22``, then multiplied up by 10); an integer
  batch is kept for ``n >= 0`` and rounded through float64 and back for ``n < 0``.
* powers: a float power with a scalar exponent 0.5 is ``sqrt`` (numpy's fast path, which
  differs from ``pow`` for ``-0.0`` and ``-inf``); an int64 batch to a constant
  non-negative int power is the product numpy computes (wrapping on overflow as numpy's
  repeated squaring does: multiplication modulo 2**64 does not depend on the order).
* frames: ``astype``, ``round`` and ``drop(columns=...)`` of frames column by column (as
  assembled frames, ``frontend.frames``), and ``assign`` with lambdas, each traced with its
  parameter bound to the frame so far, as pandas calls it.
* ``np.select(conditions, choices, default)`` and ``np.nan_to_num(x)`` as nested
  ``pipeline.where``; ``pd.to_numeric`` of a numeric column as the column itself, and
  ``sp.csr_matrix(dense)`` as the dense batch standing for the CSR matrix.
* ``replace`` of numeric columns and frames as nested ``pipeline.where`` (all at once, as
  pandas replaces: ``{1: 2, 2: 1}`` swaps), and ``clip`` by columns of the same rows.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from xdsl.dialects.builtin import TensorType, f32, f64, i1, i64
from xdsl.ir import SSAValue
from xdsl.utils.exceptions import VerifyException

from willump_mlir.dialects.pipeline import (
    DIVISIONS,
    BinaryOp,
    CastOp,
    ConstantOp,
    UnaryOp,
    WhereOp,
    is_sparse,
)

from .frames import is_frame
from .narrow_ints import widened
from .nullable import is_nullable
from .spec import Unsupported
from .types import represents
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: The largest |decimals| rounded natively (numpy's ``10**n`` is infinite beyond 308).
_MAX_DECIMALS = 308


def power_of_ten(n: int) -> float:
    """numpy's ``power_of_ten`` (``calculation.c``): a table up to 1e8, then 1e9 multiplied
    by 10 once per further digit (so not always the nearest double to ``10**n``)."""
    if n < 9:
        return float(10**n)
    value = 1e9
    for _ in range(n - 9):
        value *= 10.0
    return value


def _dense(val: Val) -> TensorType | None:
    """The type of a dense native batch, or None."""
    typ = val.ssa.type if val.ssa is not None else None
    return typ if isinstance(typ, TensorType) and not is_sparse(typ) else None


class Elementwise:
    """numpy's and pandas' elementwise idioms on native values (see the module docstring)."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def _emit(self, op: BinaryOp | UnaryOp | CastOp | ConstantOp | WhereOp) -> SSAValue:
        return self.tracer.emit(op).results[0]

    def round(self, operand: Val, decimals: object, value: object) -> Val | None:
        """``operand.round(decimals)`` standing for ``value`` (None if not a numeric batch)."""
        typ = _dense(operand)
        if typ is None or isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
            return None
        decimals = int(decimals)
        element = typ.get_element_type()
        x = operand.ssa
        assert x is not None
        if element == i1:  # pandas keeps a bool column; numpy refuses a bool array
            if not isinstance(operand.value, pd.Series | pd.DataFrame):
                return None
            return self.tracer._checked_result(x, value)
        if element not in (f64, i64):
            return None
        if element == i64 and decimals >= 0:
            return self.tracer._checked_result(x, value)
        if abs(decimals) > _MAX_DECIMALS:
            raise Unsupported(f"round to {decimals} digits is not compiled (10**{abs(decimals)} "
                              "is not a finite double)")  # fmt: skip
        floats = self._emit(CastOp(x, f64)) if element == i64 else x
        if decimals == 0:
            result = self._emit(UnaryOp("rint", floats))
        else:
            scale = self._emit(ConstantOp(power_of_ten(abs(decimals))))
            first, then = ("mul", "div") if decimals > 0 else ("div", "mul")
            scaled = self._emit(BinaryOp(first, floats, scale))
            result = self._emit(BinaryOp(then, self._emit(UnaryOp("rint", scaled)), scale))
        if element == i64:  # numpy casts back (a value beyond int64 gives -2**63, as here)
            result = self._emit(CastOp(result, i64))
        return self.tracer._checked_result(result, value)

    def power(self, lhs: Val, rhs: Val, value: object) -> Val | None:
        """``lhs ** rhs`` / ``np.power(lhs, rhs)`` where numpy's result is not ``pow``'s:
        a float power with the scalar exponent 0.5 (``sqrt``), a float32 square and an int64
        batch to a constant int power; None for the other powers (``pow``,
        ``pipeline.binary``; not for float32)."""
        typ = _dense(lhs)
        exponent = rhs.value
        if typ is None or not rhs.is_static or isinstance(exponent, bool) \
                or not isinstance(exponent, (int, float, np.integer, np.floating)):  # fmt: skip
            return None
        element = typ.get_element_type()
        integral = isinstance(exponent, (int, np.integer))
        if element == i64 and integral:
            return self._integer_power(lhs, int(exponent), value)
        if element in (f64, f32, i64) and exponent == 0.5:  # numpy's loop: sqrt for 0.5
            return self.tracer._checked(UnaryOp("sqrt", lhs.ssa), value)
        if element == f32 and exponent == 2:  # numpy's float32 x ** 2 is x * x (powf not)
            return self.tracer._checked(UnaryOp("square", lhs.ssa), value)
        return None

    def pandas_division(self, function: str, lhs: Val, rhs: Val, value: object) -> bool:
        """Whether ``lhs // rhs`` or ``lhs % rhs`` (standing for ``value``) of integers is
        pandas' (a Series or frame operand), whose result is float64 with inf/NaN where a
        divisor is 0: the op is then ``speculative`` (a zero divisor runs the original
        function). Not compiled: pandas' division by a constant 0 (float64, but int64 for an
        empty batch) and an example with a zero divisor (float64)."""
        if function not in DIVISIONS or not any(
            isinstance(v.value, pd.Series | pd.DataFrame | pd.Index) for v in (lhs, rhs)
        ):  # fmt: skip
            return False
        if any(_element(v) == f64 for v in (lhs, rhs)):
            return False
        if rhs.is_static and rhs.value == 0:
            symbol = "//" if function == "floor_divide" else "%"
            raise Unsupported(f"pandas' integer {symbol} 0 is float64 (inf and NaN), but int64 "
                              "for an empty batch")  # fmt: skip
        if getattr(value, "dtype", None) == np.float64:
            raise Unsupported("pandas gives float64 (inf and NaN) for an integer division where "
                              "a divisor is 0, as in the example")  # fmt: skip
        return True

    def pandas_zero_by_zero(self, lhs: Val, rhs: Val, quotient: BinaryOp, value: object) -> Val:
        """pandas' float ``lhs // rhs`` (a Series or frame operand): numpy's ``floor_divide``
        (``quotient``) but where both are zeros (of either sign), which pandas fills with
        ``np.nan`` (``mask_zero_div_zero``): positive, where numpy's ``0.0 / 0.0`` has the
        sign bit set. Returned as is where a constant operand is not zero.

        ```mlir
        %q = pipeline.binary "floor_divide" %a, %b : (...) -> tensor<?xf64>
        %m = ... (%a == 0) & (%b == 0) ...
        %r = pipeline.where %m, %nan, %q : (tensor<?xi1>, f64, tensor<?xf64>) -> tensor<?xf64>
        ```
        """
        if any(v.ssa is None and v.value != 0 for v in (lhs, rhs)):
            return self.tracer._checked(quotient, value)
        self.tracer.emit(quotient)
        zero = self._emit(ConstantOp(0))
        zeros = [self._emit(BinaryOp("eq", v.ssa, zero)) for v in (lhs, rhs) if v.ssa is not None]
        both = zeros[0] if len(zeros) == 1 else self.tracer._mask("and", *zeros)
        nan = self._emit(ConstantOp(float("nan")))
        return self.tracer._checked(WhereOp(both, nan, quotient.result), value)

    def _integer_power(self, base: Val, exponent: int, value: object) -> Val:
        """``base ** exponent`` of an int64 batch by repeated squaring."""
        if exponent < 0:
            raise Unsupported("numpy raises for a negative integer power (it runs in Python)")
        x = base.ssa
        assert x is not None
        if exponent == 0:  # 1 everywhere: x * 0 + 1
            zeros = self._emit(BinaryOp("mul", x, self._emit(ConstantOp(0))))
            return self.tracer._checked(BinaryOp("add", zeros, self._emit(ConstantOp(1))), value)
        result: SSAValue | None = None
        while True:
            if exponent & 1:
                result = x if result is None else self._emit(BinaryOp("mul", result, x))
            exponent >>= 1
            if not exponent:
                break
            x = self._emit(BinaryOp("mul", x, x))
        assert result is not None
        return self.tracer._checked_result(result, value)

    def round_frame(self, frame: Val, decimals: object, value: object) -> Val | None:
        """``frame.round(decimals)`` (an int): each numeric column rounded, text kept."""
        if not isinstance(value, pd.DataFrame):
            return None
        assembled = self.tracer.frames.columns_of(frame)
        assert assembled.columns is not None and assembled.items is not None
        items = []
        for name, item in zip(assembled.columns, assembled.items, strict=True):
            if _dense(item) is None or item.columns is not None or item.category is not None:
                raise Unsupported(f"round of the frame's column {name!r} is not compiled")
            rounded = self.round(Val(value[name], item.ssa), decimals, value[name])
            if rounded is None:
                raise Unsupported(f"round of the frame's column {name!r} is not compiled")
            items.append(rounded)
        return Val(value, items=items, columns=assembled.columns)

    def _numeric_columns(self, frame: Val, what: str,
                         widen: bool = False) -> tuple[list[str], list[Val]]:  # fmt: skip
        """The names and native numeric columns of ``frame`` (``Unsupported`` naming the
        first other column and ``what`` is done to it); with ``widen``, an int column
        narrower than int64 as its int64 values (for ops numpy computes alike on them)."""
        assembled = self.tracer.frames.columns_of(frame)
        assert assembled.columns is not None and assembled.items is not None
        items = [Val(i.value, i.narrow) if widen and i.narrow is not None else i
                 for i in assembled.items]  # fmt: skip
        for name, item in zip(assembled.columns, items, strict=True):
            if _dense(item) is None or item.columns is not None or item.category is not None:
                raise Unsupported(f"{what} of the frame's column {name!r} is not compiled")
        return list(assembled.columns), items

    def _each_column(self, frame: Val, value: object, what: str,
                     compute: Callable[[str, Val], Val | None],
                     widen: bool = False) -> Val | None:  # fmt: skip
        """The frame ``value`` made of ``compute(name, column)`` of each numeric column of
        ``frame`` (``widen``: see ``_numeric_columns``); None if ``value`` is not a frame of
        the same columns or a column's ``compute`` is None (``Unsupported`` naming ``what``
        for a column not numeric)."""
        if not isinstance(value, pd.DataFrame):
            return None
        names, items = self._numeric_columns(frame, what, widen)
        if list(value.columns) != names:
            return None
        columns = []
        for name, item in zip(names, items, strict=True):
            column = compute(name, item)
            if column is None:
                return None
            columns.append(column)
        return Val(value, items=columns, columns=names)

    def frame_binary(self, function: str, lhs: Val, rhs: Val, value: object) -> Val | None:
        """``frame <op> other`` or ``other <op> frame`` column by column, as pandas computes
        a frame's arithmetic and comparisons: ``other`` a number, a frame of the same columns,
        or a constant Series indexed by the frame's columns (``X - means``); None for others
        (a Series of rows is aligned with the columns by pandas)."""
        if not isinstance(value, pd.DataFrame):
            return None
        left = is_frame(lhs)
        frame, other = (lhs, rhs) if left else (rhs, lhs)
        names = list(value.columns)
        if is_frame(other):
            other_names, others = self._numeric_columns(other, "arithmetic")
            if other_names != names:
                return None
            partners = dict(zip(names, others, strict=True))
        elif other.is_static and isinstance(other.value, pd.Series):
            if list(other.value.index) != names:
                return None
            partners = {name: Val(other.value[name]) for name in names}
        elif other.is_static and isinstance(other.value, int | float | np.integer | np.floating) \
                and not isinstance(other.value, bool):  # fmt: skip
            partners = dict.fromkeys(names, other)
        else:
            return None

        def compute(name: str, item: Val) -> Val:
            a, b = (item, partners[name]) if left else (partners[name], item)
            return self.tracer.binary_of(function, a, b, value[name])

        return self._each_column(frame, value, "arithmetic", compute)

    def frame_unary(self, function: str, frame: Val, value: object) -> Val | None:
        """``np.<ufunc>(frame)``, ``frame.abs()``, ``-frame``: the ufunc of each column."""

        def compute(name: str, item: Val) -> Val:
            column = self.tracer.unary_of(function, item, value[name])  # type: ignore[index]
            if column is None:
                raise Unsupported(f"{function} of the frame's column {name!r} is not compiled")
            return column

        return self._each_column(frame, value, function, compute)

    def frame_missing(self, frame: Val, present: bool, value: object) -> Val | None:
        """``frame.isna()`` / ``frame.notna()`` of numeric columns: each column's."""

        def compute(name: str, item: Val) -> Val:
            if is_nullable(item.value):
                raise Unsupported(f"isna of the frame's nullable column {name!r} is not compiled")
            return self.tracer.frames.missing(item, present, value[name])  # type: ignore[index]

        return self._each_column(frame, value, "isna", compute, widen=True)

    def frame_float_test(self, comparison: str, frame: Val, value: object) -> Val | None:
        """``np.isnan(frame)`` (``np.isinf``, ``np.isfinite``) of numeric columns: each
        column's (``Tracer._float_test``)."""

        def compute(name: str, item: Val) -> Val | None:
            if is_nullable(item.value):
                raise Unsupported(f"np.isnan of the frame's nullable column {name!r} is not "
                                  "compiled")  # fmt: skip
            return self.tracer._float_test(comparison, item, value[name])  # type: ignore[index]

        return self._each_column(frame, value, "np.isnan", compute, widen=True)

    def row_reduce(self, which: str, frame: Val, value: object) -> Val | None:
        """``frame.max/min/sum/any/all(axis=1)``, column by column in order (None for
        other columns; pandas' dtype is checked on the example):

        * ``max``/``min`` of float64 (and int) columns: pandas skips NaN (a row of NaN gives
          NaN), which is ``np.fmax``/``np.fmin`` of the columns, ints converted to float64
          as pandas' transpose converts them (``pipeline.binary`` hands 0.0 against -0.0 to
          the original); of int columns only, ``np.maximum``/``np.minimum`` in int64;
        * ``sum`` of int or bool columns: int64 sums, which wrap alike in any order (float
          sums round by the frame's blocks: ``ROW_SUM_LAYOUT``);
        * ``any``/``all`` of bool columns: ``|``/``&`` of the columns."""
        if not isinstance(value, pd.Series):
            return None
        _, items = self._numeric_columns(frame, f"{which}(axis=1)", widen=True)
        types = [_dense(i) for i in items]
        if not items or any(t is None or t.get_num_dims() != 1 for t in types):
            return None
        elements = {t.get_element_type() for t in types}  # type: ignore[union-attr]
        columns = [i.ssa for i in items]
        if which in ("any", "all") and elements == {i1}:
            result = columns[0]
            for column in columns[1:]:
                result = self.tracer._mask("or" if which == "any" else "and", result, column)
            return self.tracer._checked_result(result, value)  # type: ignore[arg-type]
        if which == "sum" and elements <= {i64, i1}:
            function, element = "add", i64
        elif which in ("max", "min") and elements <= {f64, i64}:
            ints = elements == {i64}
            function = {(True, "max"): "maximum", (True, "min"): "minimum",
                        (False, "max"): "fmax", (False, "min"): "fmin"}[ints, which]  # fmt: skip
            element = i64 if ints else f64
        else:
            return None
        columns = [c if t.get_element_type() == element else self._emit(CastOp(c, element))  # type: ignore[union-attr,arg-type]
                   for c, t in zip(columns, types, strict=True)]  # fmt: skip
        return self.tracer._checked_result(self.row_fold(function, columns), value)  # type: ignore[arg-type]

    def row_fold(self, function: str, columns: list[SSAValue], nan: bool = False) -> SSAValue:
        """``function`` (``pipeline.binary``: ``fmax``, ``add``, ...) of ``columns`` from the
        left; with ``nan``, NaN where any column is NaN, as numpy's ``x.max(axis=1)`` is
        (pandas' ``frame.max(axis=1)`` skips NaN, as ``fmax`` does)::

            %m = pipeline.binary "fmax" %c0, %c1
            %n = pipeline.binary "ne" %c0, %c0   // and "ne" %c1, %c1, or-ed
            %r = pipeline.where %n, %nan, %m"""
        result = columns[0]
        for column in columns[1:]:
            result = self._emit(BinaryOp(function, result, column))
        if not nan:
            return result
        missing = [self._emit(BinaryOp("ne", c, c)) for c in columns]
        for more in missing[1:]:
            missing[0] = self.tracer._mask("or", missing[0], more)
        return self._emit(WhereOp(missing[0], self._emit(ConstantOp(float("nan"))), result))

    def frame_clip(self, frame: Val, args: list[Val], kwargs: dict[str, Val],
                   value: object) -> Val | None:  # fmt: skip
        """``frame.clip(lower, upper)`` with constant bounds: pandas clips each column as a
        Series (``Tracer.bounds``)."""
        if "axis" in kwargs or any(v.ssa is not None for v in (*args, *kwargs.values())):
            return None  # bounds of rows or columns are aligned by pandas

        def compute(name: str, item: Val) -> Val | None:
            typ = _dense(item)
            if typ is None or typ.get_num_dims() != 1 or typ.get_element_type() not in (f64, i64):
                raise Unsupported(f"clip of the frame's column {name!r} is not compiled")
            return self.tracer.bounds(item, "clip", args, kwargs, value[name])  # type: ignore[index]

        return self._each_column(frame, value, "clip", compute)

    def astype_frame(self, frame: Val, dtype: object, value: object) -> Val | None:
        """``frame.astype(dtype)`` (one dtype, or a dict of them by column) of a frame whose
        columns are numeric, as ``pipeline.cast`` of each column (a Series' ``astype``)."""
        if not isinstance(value, pd.DataFrame):
            return None
        assembled = self.tracer.frames.columns_of(frame)
        assert assembled.columns is not None and assembled.items is not None
        dtypes = dtype if isinstance(dtype, dict) else dict.fromkeys(assembled.columns, dtype)
        if set(dtypes) - set(assembled.columns):
            return None
        items = []
        for name, item in zip(assembled.columns, assembled.items, strict=True):
            if name not in dtypes:
                items.append(item)
                continue
            # a narrow integer column: a cast converts its values as their int64 ones
            column = widened(item) if item.narrow is not None \
                else Val(frame.value[name], item.ssa)  # type: ignore[index]  # fmt: skip
            if item.narrow is None and (_dense(item) is None or item.columns is not None
                                        or item.category is not None):  # fmt: skip
                raise Unsupported(f"astype of the frame's column {name!r} is not compiled")
            cast = self.tracer._astype(column, [Val(dtypes[name])], {}, value[name])
            if cast is None:
                raise Unsupported(f"astype({dtypes[name]!r}) of the frame's column {name!r} "
                                  "is not compiled")  # fmt: skip
            items.append(cast)
        return Val(value, items=items, columns=assembled.columns)

    def drop(self, frame: Val, args: list[Val], kwargs: dict[str, Val],
             value: object) -> Val | None:  # fmt: skip
        """``frame.drop(columns=...)`` / ``frame.drop(labels, axis=1)``: the columns left,
        selected as ``frame[kept]`` (None for dropping rows)."""
        axis = kwargs.get("axis", Val(0))
        by_columns = "columns" in kwargs and not args and "labels" not in kwargs
        by_labels = (len(args) == 1) != ("labels" in kwargs) and axis.is_static \
            and axis.value in (1, "columns") and "columns" not in kwargs  # fmt: skip
        allowed = {"columns", "labels", "axis", "errors"}
        if not (by_columns or by_labels) or set(kwargs) - allowed \
                or not all(v.is_static for v in (*args, *kwargs.values())):  # fmt: skip
            return None
        kept = self.tracer.frames.subset(frame, value)
        errors = kwargs.get("errors", Val("raise")).value
        if kept is not None and frame.ssa is not None and errors == "raise":  # KeyError if absent
            dropped = [n for n in frame.value.columns if n not in value.columns]  # type: ignore[union-attr]
            self.tracer.name_columns(frame.ssa, dropped)
        return kept

    def select(self, args: list[Val], kwargs: dict[str, Val], value: object) -> Val | None:
        """``np.select(condlist, choicelist, default)``: numpy fills the default, then each
        choice where its condition holds, the last first (so the first true condition wins):
        ``where(c1, v1, where(c2, v2, default))``. Choices and the default are batches or
        numbers (numpy's ``asarray`` of a Python int is int64, of a float float64)."""
        names = ("condlist", "choicelist", "default")
        if len(args) > 3 or set(kwargs) - set(names[len(args):]):
            return None
        bound = dict(zip(names, args, strict=False)) | kwargs
        if "condlist" not in bound or "choicelist" not in bound:
            return None
        conditions = _elements(bound["condlist"])
        choices = _elements(bound["choicelist"])
        if not conditions or choices is None or len(conditions) != len(choices):
            return None
        for condition in conditions:
            typ = _dense(condition)
            if typ is None or typ.get_element_type() != i1:
                raise Unsupported("np.select needs batches of booleans as its conditions")
        first = conditions[0].ssa
        assert first is not None
        default = bound.get("default", Val(0))
        result = self.tracer._operand(default, conditions[0])
        if default.is_static:
            result = self.tracer._constant_batch(result, first)
        for condition, choice in reversed(list(zip(conditions, choices, strict=True))):
            then_value = self.tracer._operand(choice, conditions[0])
            try:
                result = self._emit(WhereOp(condition.ssa, then_value, result))  # type: ignore[arg-type]
            except VerifyException as error:
                raise Unsupported(f"np.select operands do not broadcast: {error}") from None
        return self.tracer._checked_result(result, value)

    def to_numeric(self, args: list[Val], kwargs: dict[str, Val], value: object) -> Val | None:
        """``pd.to_numeric(s, errors="coerce")`` (or ``errors="raise"``) of a numeric column
        (float64, int64, bool or a narrower int): pandas gives the column's values and dtype
        as they are, so it is the column itself. Of a str column, pandas parses each value
        and the batch decides the dtype (int64 when every value is an integer, else
        float64): that runs in Python (``Unsupported``)."""
        names = ("arg", "errors", "downcast", "dtype_backend")
        if len(args) > 2 or set(kwargs) - set(names[len(args) :]):
            return None
        bound = dict(zip(names, args, strict=False)) | kwargs
        column = bound.get("arg")
        errors = bound.get("errors", Val("raise"))
        if column is None or not isinstance(column.value, pd.Series) \
                or set(bound) - {"arg", "errors"} \
                or not errors.is_static or errors.value not in ("raise", "coerce"):  # fmt: skip
            return None
        dtype = column.value.dtype
        if dtype == np.dtype(object) or isinstance(dtype, pd.StringDtype):
            raise Unsupported("pd.to_numeric of a str column is not compiled: pandas parses "
                              "each value and the batch's values decide the dtype (int64 "
                              "when all are integers, else float64)")  # fmt: skip
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
            raise Unsupported(f"pd.to_numeric of a {dtype} column is not compiled")
        if not isinstance(value, pd.Series) or value.dtype != dtype:
            return None
        if column.narrow is not None:  # an int32 column stays one (``frontend.narrow_ints``)
            return Val(value, column.ssa, narrow=column.narrow)
        typ = _dense(column)
        if typ is None or typ.get_num_dims() != 1:
            return None
        assert column.ssa is not None
        return self.tracer._checked_result(column.ssa, value)

    def nan_to_num(self, args: list[Val], kwargs: dict[str, Val], value: object) -> Val | None:
        """``np.nan_to_num(x, copy, nan=0.0, posinf=None, neginf=None)`` of a float64 batch
        (a column or an array; numpy returns an array): NaN, inf and -inf replaced by
        ``nan``, ``posinf`` and ``neginf`` (None: float64's largest and lowest values), as
        nested ``pipeline.where``; other values, ``-0.0`` included, kept.

        ```mlir
        %n = pipeline.binary "ne" %x, %x : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xi1>
        %p = pipeline.binary "eq" %x, %inf : (tensor<?xf64>, f64) -> tensor<?xi1>
        %a = pipeline.where %p, %max, %x : (tensor<?xi1>, f64, tensor<?xf64>) -> tensor<?xf64>
        %r = pipeline.where %n, %zero, %a : (tensor<?xi1>, f64, tensor<?xf64>) -> tensor<?xf64>
        ```
        """
        names = ("x", "copy", "nan", "posinf", "neginf")
        if len(args) > len(names) or set(kwargs) - set(names[len(args) :]):
            return None
        bound = dict(zip(names, args, strict=False)) | kwargs
        x = bound.get("x")
        typ = _dense(x) if x is not None else None
        if typ is None or typ.get_element_type() != f64 or not isinstance(value, np.ndarray):
            return None
        largest = float(np.finfo(np.float64).max)
        fills = {"nan": 0.0, "posinf": largest, "neginf": -largest}
        for key in fills:
            given = bound.get(key, Val(None))
            if not given.is_static or type(given.value) not in (int, float, type(None)):
                return None
            if given.value is not None:
                fills[key] = float(given.value)  # numpy stores it in the float64 array
        assert x is not None and x.ssa is not None
        infinity = self._emit(ConstantOp(float("inf")))
        tests = {"neginf": BinaryOp("eq", x.ssa, self._emit(ConstantOp(-float("inf")))),
                 "posinf": BinaryOp("eq", x.ssa, infinity), "nan": BinaryOp("ne", x.ssa, x.ssa)}
        result = x.ssa
        for key, test in tests.items():
            fill = self._emit(ConstantOp(fills[key]))
            result = self._emit(WhereOp(self._emit(test), fill, result))
        return self.tracer._checked_result(result, value)

    def clip(self, node: ast.Call, pieces: dict[int, Val], args: list[Val],
             kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """``np.clip(x, low, high)``: of a Series or a frame, pandas' ``x.clip(low, high)``
        (numpy calls it); of an array, numpy's ``minimum(maximum(x, low), high)``, so NaN in
        ``x`` or a bound propagates and a ``low`` above ``high`` gives ``high``."""
        names = ("a", "a_min", "a_max")
        aliases = {"min": "a_min", "max": "a_max"}
        if len(args) > 3 or set(kwargs) - {"a", "a_min", "a_max", "min", "max"}:
            return None
        bound = dict(zip(names, args, strict=False))
        bound |= {aliases.get(k, k): v for k, v in kwargs.items()}
        x = bound.get("a")
        if x is None:
            return None
        limits = [bound.get(name, Val(None)) for name in ("a_min", "a_max")]
        if isinstance(x.value, pd.Series) and x.ssa is not None:
            return self.tracer._bounds(node, pieces, x, "clip", limits, {})
        if is_frame(x):
            return self.frame_clip(x, limits, {}, self.tracer.evaluate(node, pieces))
        if _dense(x) is None or not isinstance(x.value, np.ndarray):
            return None
        value = self.tracer.evaluate(node, pieces)
        result = x
        for function, limit in zip(("maximum", "minimum"), limits, strict=True):
            if limit.is_static and limit.value is None:
                continue
            operands = self.tracer._operand(result, limit), self.tracer._operand(limit, result)
            try:
                result = Val(None, self._emit(BinaryOp(function, *operands)))
            except VerifyException as error:
                raise Unsupported(f"np.clip's operands do not broadcast: {error}") from None
        if result is x:
            return None
        assert result.ssa is not None
        return self.tracer._checked_result(result.ssa, value)

    def series_where(self, receiver: Val, attr: str, args: list[Val], kwargs: dict[str, Val],
                     value: object) -> Val | None:  # fmt: skip
        """``s.where(cond, other)`` (``s`` where ``cond``, else ``other``) and ``s.mask(cond,
        other)`` (``other`` where ``cond``) of a numeric column, a boolean batch ``cond`` and
        a number or numeric batch ``other``, as ``pipeline.where``. pandas keeps an int64
        column int64 when ``other`` fits it (an int, an integral float) and makes it
        float64 only if a value is replaced otherwise: that (NaN, the default ``other``,
        a fraction, a float batch) is not compiled."""
        names = ("cond", "other")
        if len(args) > 2 or set(kwargs) - set(names[len(args):]):
            return None
        bound = dict(zip(names, args, strict=False)) | kwargs
        condition, other = bound.get("cond"), bound.get("other", Val(np.nan))
        typ, mask = _dense(receiver), condition and _dense(condition)
        if typ is None or typ.get_num_dims() != 1 or typ.get_element_type() not in (f64, i64) \
                or mask is None or mask.get_element_type() != i1:  # fmt: skip
            return None
        assert condition is not None and condition.ssa is not None and receiver.ssa is not None
        if isinstance(other.value, bool | np.bool_) or _element(other) not in (f64, i64):
            return None  # pandas makes an object column of numbers and booleans
        if typ.get_element_type() == i64 and _element(other) == f64:
            number = other.value
            if not other.is_static or not isinstance(number, float | np.floating) \
                    or not float(number).is_integer() or abs(number) >= 2**63:  # fmt: skip
                what = repr(number) if other.is_static else "float values"
                raise Unsupported(f"{attr} of an int64 column with {what} is int64 unless a "
                                  "value is replaced, then float64 (pandas)")  # fmt: skip
            other = Val(int(number))
        put = self.tracer._operand(other, receiver)
        kept, replaced = (receiver.ssa, put) if attr == "where" else (put, receiver.ssa)
        try:
            result = self._emit(WhereOp(condition.ssa, kept, replaced))
        except VerifyException as error:
            raise Unsupported(f"{attr}'s operands do not broadcast: {error}") from None
        return self.tracer._checked_result(result, value)

    def replace(self, receiver: Val, args: list[Val], kwargs: dict[str, Val],
                value: object) -> Val | None:  # fmt: skip
        """``x.replace({old: new, ...})`` (or ``replace(old, new)``, ``replace([olds], new)``,
        ``replace([olds], [news])``) of a numeric column or a frame, and a frame's
        ``replace({column: {old: new}})``; None for other arguments."""
        if kwargs or not 1 <= len(args) <= 2 or not all(a.is_static for a in args):
            return None
        mapping = _replacements(*(a.value for a in args))
        if mapping is None:
            return None
        if not is_frame(receiver):
            return self._replace_column(receiver, mapping, value)
        if not isinstance(value, pd.DataFrame):
            return None
        frame = self.tracer.frames.columns_of(receiver)
        assert frame.columns is not None and frame.items is not None
        nested = bool(mapping) and all(isinstance(v, dict) for v in mapping.values())
        if nested and not set(mapping) <= set(frame.columns):
            return None
        items = []
        for name, item in zip(frame.columns, frame.items, strict=True):
            olds = mapping.get(name, {}) if nested else mapping
            if _dense(item) is None and not any(isinstance(k, str) for k in olds) \
                    and frame.value[name].equals(value[name]):  # type: ignore[index]
                items.append(item)  # a str column no number matches: pandas keeps it
                continue
            replaced = self._replace_column(item, olds, value[name])  # type: ignore[arg-type]
            if replaced is None:
                raise Unsupported(f"replace in the frame's column {name!r} is not compiled")
            items.append(replaced)
        return Val(value, items=items, columns=frame.columns)

    def _replace_column(self, column: Val, mapping: dict, value: object) -> Val | None:
        """``column.replace(mapping)`` of an f64 or i64 column, all at once (``{1: 2, 2: 3}``
        makes 1 a 2, not a 3) as nested ``pipeline.where`` of ``column == old`` (NaN: of
        ``column != column``). A float column takes any number (``0.0`` matches ``-0.0``);
        an int64 column int keys and int (or integral float) values, which keep it int64
        (a fractional value makes it float64 only where a value matches)."""
        typ = _dense(column)
        if typ is None or typ.get_num_dims() != 1 or typ.get_element_type() not in (f64, i64):
            return None
        if not all(_plain_number(k) and _plain_number(v) for k, v in mapping.items()):
            raise Unsupported("replace of a numeric column is compiled for numbers only "
                              "(pandas never matches a bool to a number)")  # fmt: skip
        ints = typ.get_element_type() == i64
        result = column.ssa
        assert result is not None
        for old, new in mapping.items():
            if ints and (isinstance(old, float | np.floating) or not _int64(new)):
                raise Unsupported(f"replace of an int64 column with {old!r}: {new!r} is not "
                                  "compiled (pandas compares it, or makes it float64, only "
                                  "where a value matches)")  # fmt: skip
            if old != old:  # NaN matches NaN
                hit = self._emit(BinaryOp("ne", column.ssa, column.ssa))
            else:
                hit = self._emit(BinaryOp("eq", column.ssa, self.tracer._operand(Val(old), column)))
            put = self.tracer._operand(Val(int(new) if ints else float(new)), column)
            result = self._emit(WhereOp(hit, put, result))
        return self.tracer._checked_result(result, value)

    def clip_by_rows(self, column: Val, lower: Val | None, upper: Val | None,
                     value: object) -> Val:  # fmt: skip
        """``s.clip(lower, upper)`` of a numeric column where a bound is a column of the
        same rows, as pandas clips: ``x`` is compared with each bound (a NaN bound, or
        ``x``, compares False: no clipping), the upper one last, so where a row's lower
        bound is above its upper one, ``x`` beyond both takes the upper one and ``x``
        below both the lower one (bounds are not swapped, unlike two numbers)."""
        typ = _dense(column)
        assert typ is not None and column.ssa is not None
        ints = typ.get_element_type() == i64
        elements = (i64,) if ints else (f64, i64)
        result = column.ssa
        for limit, beyond in ((lower, "lt"), (upper, "gt")):
            if limit is None or limit.is_static and limit.value is None:
                continue
            limit_type = _dense(limit)
            if limit_type is not None:
                if limit_type.get_num_dims() != 1 or limit.columns is not None \
                        or limit_type.get_element_type() not in elements:  # fmt: skip
                    raise Unsupported("clip of this column by these bounds is not compiled (an "
                                      "int64 column clipped by floats is float64 only where a "
                                      "value is clipped)")  # fmt: skip
                bound = limit.ssa
            elif not limit.is_static or not _plain_number(limit.value):
                raise Unsupported("clip by a bound that is neither a number nor a column")
            elif limit.value != limit.value:  # a NaN bound: no bound
                continue
            elif ints and not _int64(limit.value):
                raise Unsupported(f"clip of an int64 column to {limit.value!r} is not compiled")
            else:
                bound = self.tracer._operand(Val(int(limit.value) if ints else limit.value),
                                             column)  # fmt: skip
            assert bound is not None
            outside = self._emit(BinaryOp(beyond, column.ssa, bound))
            result = self._emit(WhereOp(outside, bound, result))
        return self.tracer._checked_result(result, value)

    def assign(self, node: ast.Call) -> Val | None:
        """``frame.assign(name=value or lambda t: ..., ...)``: as pandas does, each lambda's
        body is traced with ``t`` bound to the frame with the columns assigned before it."""
        tracer = self.tracer
        assert isinstance(node.func, ast.Attribute)
        receiver = tracer.lower(node.func.value)
        pieces = {id(node.func.value): receiver}
        if not is_frame(receiver):
            return tracer.opaque(node, "assign of a value that is not a native frame", pieces)
        mark = tracer.mark()
        try:
            frame = receiver
            for keyword in node.keywords:
                assert keyword.arg is not None
                column = self._assigned(keyword.value, frame)
                frame = tracer.frames.assign(frame, keyword.arg, column)
            value = tracer.evaluate(node, pieces)
        except Unsupported as error:
            tracer.rollback(mark)
            return tracer.opaque(node, error.reason, pieces)
        return Val(value, items=frame.items, columns=frame.columns)

    def _assigned(self, node: ast.expr, frame: Val) -> Val:
        """The value of one ``assign`` keyword: a lambda's body with its parameter bound to
        ``frame``, or the expression itself."""
        tracer = self.tracer
        if not isinstance(node, ast.Lambda):
            return tracer.lower(node)
        params = node.args
        if params.posonlyargs or params.vararg or params.kwonlyargs or params.kwarg \
                or len(params.args) != 1 or params.defaults:  # fmt: skip
            raise Unsupported("a lambda of assign takes one argument, the frame")
        name = params.args[0].arg
        missing = object()
        saved = tracer.env.get(name, missing)
        tracer.env[name] = frame
        try:
            return tracer.lower(node.body)
        finally:
            if saved is missing:
                del tracer.env[name]
            else:
                tracer.env[name] = saved  # type: ignore[assignment]

    def csr_matrix(self, args: list[Val], kwargs: dict[str, Val], value: object) -> Val | None:
        """``sp.csr_matrix(dense)``: the dense batch stands for the CSR matrix (native code
        keeps it dense; an ``hstack`` into a sparse matrix stores its nonzero entries)."""
        if len(args) != 1 or kwargs or args[0].ssa is None or not sp.issparse(value):
            return None
        if value.format != "csr" or not represents(args[0].ssa.type, value):  # type: ignore[attr-defined]
            return None
        return Val(value, args[0].ssa)


def _element(val: Val) -> object:
    """The element type of a binary operand: a batch's or a reduction's, f64 for a float."""
    if val.ssa is not None:
        typ = val.ssa.type
        return typ.get_element_type() if isinstance(typ, TensorType) else typ
    return f64 if isinstance(val.value, float | np.floating) else i64


def _elements(val: Val) -> list[Val] | None:
    """The elements of a list or tuple (traced, or a compile-time constant)."""
    if val.items is not None and isinstance(val.value, (list, tuple)):
        return list(val.items)
    if val.is_static and isinstance(val.value, (list, tuple)):
        return [Val(v) for v in val.value]
    return None


def _plain_number(number: object) -> bool:
    """An int or float, not a bool."""
    return isinstance(number, int | float | np.integer | np.floating) \
        and not isinstance(number, bool | np.bool_)  # fmt: skip


def _int64(number: object) -> bool:
    """An int, or an integral float, within int64."""
    return float(number).is_integer() and -(2**63) <= int(number) < 2**63  # type: ignore[arg-type]


def _replacements(to_replace: object, *values: object) -> dict | None:
    """``replace``'s arguments as one dict of old to new (per column if nested); None for
    forms not compiled (regex, a missing value, lists of different lengths)."""
    if isinstance(to_replace, dict) and not values:
        return to_replace
    if len(values) != 1 or isinstance(to_replace, dict | str) or isinstance(values[0], dict):
        return None
    new = values[0]
    olds = list(to_replace) if isinstance(to_replace, list | tuple) else [to_replace]
    if isinstance(new, list | tuple):
        return dict(zip(olds, new, strict=True)) if len(new) == len(olds) else None
    return dict.fromkeys(olds, new)
