"""The row code of numpy's division ufuncs, extrema, ``copysign`` and ``hypot``, for
``lower-feature-to-scf`` (``pipeline.binary`` "floor_divide", "remainder", "fmod",
"maximum", "minimum", "fmax", "fmin", "copysign", "hypot" of f64; the integer ones but
``maximum``/``minimum``).

* floats: ``floor_divide`` and ``remainder`` follow numpy's ``npy_divmod`` step by step
  (``fmod``, then the remainder moved to the divisor's sign and the quotient snapped to
  the nearest integer); a zero divisor gives ``a / b`` and ``fmod(a, 0)`` (NaN), as
  ``npy_floor_divide``/``npy_remainder`` do. ``fmod`` is C's (``llvm.frem``).
* integers: truncating ``sdiv``/``srem`` moved to Python's signs, with numpy's results
  where the hardware traps: 0 for a zero divisor, ``-2**63 // -1`` is ``-2**63`` and its
  remainder 0 (the divisor is 1 there, so no row divides by 0). A ``speculative`` op
  records ``ErrorKind.NOT_INTEGER`` at a zero divisor (pandas gives float64 there: the
  runtime runs the original function).
* ``copysign`` of f64 (ints are converted first, as numpy does); ``hypot``: a ``func.call``
  of libm's ``hypot``, which numpy's loop calls (``npy_hypot``); MLIR's ``math`` has no such
  op. The transcendental ufuncs (``np.log1p``, ``np.power``, ``np.arctan2``...) are numpy's
  own loops (``passes.ufunc_kernels``).
* ``maximum``/``minimum`` of f64 as numpy's loops (``a`` if it is NaN or beyond ``b``, else
  ``b``: NaN propagates, and of ``0.0`` and ``-0.0`` the second is kept, where
  ``llvm.maximum`` would give ``0.0`` either way, which ``arctan2``/``copysign`` can show).
* ``pipeline.cut_width``: pandas' equal-width bins, whose edges each row recomputes from the
  batch's minimum and maximum exactly as ``pd.cut`` and ``np.linspace`` do (``k * step +
  start``, the last edge ``stop``; LLVM hoists them out of the loop), then the value's bin
  by comparisons with every edge. Edges pandas refuses or that do not increase hand the
  batch to the original (``"cut-edges"``).
* ``fmax``/``fmin``: ``llvm.maxnum``/``minnum`` (the other operand where one is NaN);
  integers ``maxsi``/``minsi``. Of ``0.0`` and ``-0.0`` numpy's loops keep either, by the
  array's length and the row's place in it (its SIMD body the second, its scalar loop the
  first): such a row records ``ErrorKind.SIGNED_ZERO`` (the runtime runs the original).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import arith, func, llvm, math
from xdsl.dialects.builtin import f32, f64, i64
from xdsl.ir import SSAValue

from willump_mlir.abi import ErrorKind
from willump_mlir.dialects import pipeline

if TYPE_CHECKING:
    from willump_mlir.passes.lower_feature_to_scf import KernelEmitter

INT64_MIN = -(2**63)


class NumberEmitter:
    """numpy's division ufuncs, ``fmax``/``fmin``, ``copysign`` and ``hypot``; mixed into
    ``KernelEmitter``."""

    def number_binary(self: KernelEmitter, op: pipeline.BinaryOp, a: SSAValue,
                      b: SSAValue) -> SSAValue:  # fmt: skip
        """``op``'s function of one pair of (promoted) elements."""
        name = op.function.data
        if a.type in (f64, f32):
            if name in ("maximum", "minimum"):  # numpy's: a if a is NaN or beyond b, else b
                beyond = self.cmpf("ogt" if name == "maximum" else "olt", a, b)
                return self.select(self.ior(self.cmpf("uno", a, a), beyond), a, b)
            if name in ("fmax", "fmin"):
                self.signed_zeros(op, a, b)
                return self.emit((arith.MaxnumfOp if name == "fmax" else arith.MinnumfOp)(a, b))
            if name == "fmod":
                return self.emit(llvm.FRemOp(a, b))
            if name == "copysign":
                return self.emit(math.CopySignOp(a, b))
            if name == "hypot":
                self.lowering.declare_function(func.FuncOp.external("hypot", [f64, f64], [f64]))
                return self.emit(func.CallOp("hypot", [a, b], [f64]))
            return self.float_division(name, a, b)
        if name in ("fmax", "fmin"):
            return self.emit((arith.MaxSIOp if name == "fmax" else arith.MinSIOp)(a, b))
        if op.speculative is not None:
            zero = self.cmpi("eq", b, self.constant(0, i64))
            self.report_error(zero, ErrorKind.NOT_INTEGER, self.lowering.error_site(op))
        return self.integer_division(name, a, b)

    def cut_width(self: KernelEmitter, op: pipeline.CutWidthOp) -> list[SSAValue]:
        """The f64 code of the row's value among pandas' equal-width edges (module doc)."""
        (x,), (low,), (high,) = (self.row_of(v) for v in op.operands)
        ints = low.type == i64
        n = op.bins.value.data
        real = [self.convert(v, f64) for v in (low, high)]
        zero = self.constant(0 if ints else 0.0, low.type)

        def number(value: float) -> SSAValue:
            return self.constant(value, f64)

        def widened(v: SSAValue, real_v: SSAValue, up: bool) -> SSAValue:
            """``v -= 0.001 * abs(v) if v != 0 else 0.001`` (``+=`` if ``up``); an int's
            ``abs`` wraps as numpy's (the minimum stays negative)."""
            if ints:
                negative = self.cmpi("slt", v, zero)
                magnitude = self.convert(self.select(negative, self.isub(zero, v), v), f64)
                nonzero = self.cmpi("ne", v, zero)
            else:
                magnitude = self.emit(math.AbsFOp(v))
                nonzero = self.cmpf("one", v, zero)
            step = self.select(nonzero, self.emit(arith.MulfOp(number(0.001), magnitude)),
                               number(0.001))  # fmt: skip
            return self.emit((arith.AddfOp if up else arith.SubfOp)(real_v, step))

        same = self.cmpi("eq", low, high) if ints else self.cmpf("oeq", low, high)
        start = self.select(same, widened(low, real[0], False), real[0])
        stop = self.select(same, widened(high, real[1], True), real[1])
        step = self.emit(arith.DivfOp(self.emit(arith.SubfOp(stop, start)), number(n)))
        edges = [self.add(self.emit(arith.MulfOp(number(k), step)), start) for k in range(n)]
        edges.append(stop)
        # 0.1% of the range (numpy subtracts int64 scalars in int64, wrapping)
        span = self.convert(self.isub(high, low), f64) if ints \
            else self.emit(arith.SubfOp(high, low))  # fmt: skip
        adj = self.emit(arith.MulfOp(span, number(0.001)))
        if op.right is not None:
            edges[0] = self.select(same, edges[0], self.emit(arith.SubfOp(edges[0], adj)))
        else:
            edges[-1] = self.select(same, edges[-1], self.add(edges[-1], adj))
        failed = self.cmpf("oeq", step, number(0.0))  # numpy's other linspace branch
        for below, above in zip(edges, edges[1:], strict=False):  # NaN fails too
            failed = self.ior(failed, self.negate(self.cmpf("olt", below, above)))
        if not ints:  # pandas refuses infinite bounds; no value at all gives NaN edges
            for bound in (low, high):
                infinite = self.cmpf("oeq", self.emit(math.AbsFOp(bound)), number(float("inf")))
                failed = self.ior(failed, self.ior(infinite, self.cmpf("uno", bound, bound)))
        self.hand_back(failed, "cut-edges")
        value = self.convert(x, f64)
        below = "olt" if op.right is not None else "ole"  # searchsorted side left / right
        count = self.constant(0, i64)
        for edge in edges:
            count = self.iadd(count, self.convert(self.cmpf(below, edge, value), i64))
        if op.include_lowest is not None:
            count = self.select(self.cmpf("oeq", value, edges[0]), self.constant(1, i64), count)
        inside = self.emit(arith.AndIOp(self.cmpi("sge", count, self.constant(1, i64)),
                                        self.cmpi("sle", count, self.constant(n, i64))))
        code = self.convert(self.isub(count, 1), f64)
        return [self.select(inside, code, number(float("nan")))]

    def signed_zeros(self: KernelEmitter, op: pipeline.BinaryOp, a: SSAValue,
                     b: SSAValue) -> None:  # fmt: skip
        """Record ``ErrorKind.SIGNED_ZERO`` where ``a`` and ``b`` are zeros of other signs."""
        zero, one = self.constant(0.0, f64), self.constant(1.0, f64)
        zeros = self.emit(arith.AndIOp(self.cmpf("oeq", a, zero), self.cmpf("oeq", b, zero)))
        signs = self.cmpf("une", self.emit(math.CopySignOp(one, a)),
                          self.emit(math.CopySignOp(one, b)))  # fmt: skip
        failed = self.emit(arith.AndIOp(zeros, signs))
        self.report_error(failed, ErrorKind.SIGNED_ZERO, self.lowering.error_site(op))

    def float_division(self: KernelEmitter, name: str, a: SSAValue, b: SSAValue) -> SSAValue:
        """numpy's ``floor_divide`` or ``remainder`` of two f64 (``npy_divmod``)."""
        zero = self.constant(0.0, f64)
        one = self.constant(1.0, f64)
        mod = self.emit(llvm.FRemOp(a, b))
        by_zero = self.cmpf("oeq", b, zero)  # NaN is not zero (it is truthy in C)
        if name == "remainder":
            first = mod
        else:
            first = self.emit(arith.DivfOp(a, b))
        # the remainder moved to the divisor's sign, the quotient down by one with it
        nonzero = self.cmpf("une", mod, zero)
        signs = self.cmpi("ne", self.cmpf("olt", b, zero), self.cmpf("olt", mod, zero))
        adjust = self.emit(arith.AndIOp(nonzero, signs))
        if name == "remainder":
            signed_zero = self.emit(math.CopySignOp(zero, b))
            moved = self.select(nonzero, mod, signed_zero)
            return self.select(by_zero, first, self.select(adjust, self.add(mod, b), moved))
        # a - mod, but a NaN operand given as the hardware gives it (the first NaN): LLVM
        # folds ``-0.0 - mod`` (a constant -0.0) into ``fneg mod``, which flips a NaN's sign
        first_nan = self.select(self.cmpf("uno", a, a), a, mod)
        difference = self.select(self.cmpf("uno", a, mod), first_nan,
                                 self.emit(arith.SubfOp(a, mod)))  # fmt: skip
        div = self.emit(arith.DivfOp(difference, b))
        div = self.select(adjust, self.emit(arith.SubfOp(div, one)), div)
        # snapped to the nearest integer; a zero quotient takes the sign of a / b
        floor = self.emit(math.FloorOp(div))
        above = self.cmpf("ogt", self.emit(arith.SubfOp(div, floor)), self.constant(0.5, f64))
        snapped = self.select(above, self.add(floor, one), floor)
        quotient = self.select(self.cmpf("une", div, zero), snapped,
                               self.emit(math.CopySignOp(zero, first)))  # fmt: skip
        return self.select(by_zero, first, quotient)

    def integer_division(self: KernelEmitter, name: str, n: SSAValue, d: SSAValue) -> SSAValue:
        """numpy's ``floor_divide``, ``remainder`` or ``fmod`` of two i64."""
        zero, minus_one = self.constant(0, i64), self.constant(-1, i64)
        by_zero = self.cmpi("eq", d, zero)
        overflow = self.emit(arith.AndIOp(self.cmpi("eq", n, self.constant(INT64_MIN, i64)),
                                          self.cmpi("eq", d, minus_one)))  # fmt: skip
        safe = self.select(self.ior(by_zero, overflow), self.constant(1, i64), d)
        remainder = self.emit(arith.RemSIOp(n, safe))
        if name == "fmod":  # C's: the dividend's sign
            return self.select(by_zero, zero, remainder)
        # truncation moved toward minus infinity where the signs differ and it is inexact
        signs = self.cmpi("ne", self.cmpi("sgt", n, zero), self.cmpi("sgt", d, zero))
        inexact = self.cmpi("ne", remainder, zero)
        adjust = self.emit(arith.AndIOp(signs, inexact))
        if name == "remainder":
            moved = self.select(adjust, self.iadd(remainder, safe), remainder)
            return self.select(by_zero, zero, moved)
        quotient = self.emit(arith.DivSIOp(n, safe))
        floored = self.select(adjust, self.iadd(quotient, minus_one), quotient)
        return self.select(by_zero, zero, floored)
