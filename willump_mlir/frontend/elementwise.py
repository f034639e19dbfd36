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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import TensorType, f64, i1, i64
from xdsl.ir import SSAValue

from willump_mlir.dialects.pipeline import BinaryOp, CastOp, ConstantOp, UnaryOp, is_sparse

from .spec import Unsupported
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
    """``round`` and powers of native batches (see the module docstring)."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def _emit(self, op: BinaryOp | UnaryOp | CastOp | ConstantOp) -> SSAValue:
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
        a float power with the scalar exponent 0.5 (``sqrt``) and an int64 batch to a
        constant int power; None for the other powers (``pow``, ``pipeline.binary``)."""
        typ = _dense(lhs)
        exponent = rhs.value
        if typ is None or not rhs.is_static or isinstance(exponent, bool) \
                or not isinstance(exponent, (int, float, np.integer, np.floating)):  # fmt: skip
            return None
        element = typ.get_element_type()
        integral = isinstance(exponent, (int, np.integer))
        if element == i64 and integral:
            return self._integer_power(lhs, int(exponent), value)
        if element in (f64, i64) and exponent == 0.5:  # numpy's loop: sqrt for 0.5
            return self.tracer._checked(UnaryOp("sqrt", lhs.ssa), value)
        return None

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
