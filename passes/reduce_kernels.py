"""Batch reductions (``pipeline.reduce``) as kernels of their own, with pandas' arithmetic.

A reduction reads every row of its column, so ``lower-feature-to-scf`` gives it a kernel
that runs once over the whole batch (never split into blocks of rows) after the kernel
that stores the column, and before the kernel whose rows use the result, which reads it as
a one-value ``scalar`` input. The result is bit for bit pandas' (``pandas.core.nanops``,
without bottleneck): NaN counts as 0 in sums and is not counted; sums are numpy's pairwise
sums (``@wm_pairwise_sum_<dtype>``, numpy's ``pairwise_sum`` with its 8-way unrolled
blocks of up to 128 values), and an integer column's mean sums its values as float64 in
numpy's buffers of 8,192 values, one after another; ``var`` is the two-pass
``sum((mean - x) ** 2) / (count - ddof)``, NaN where ``count <= ddof``; ``std`` its square
root; ``min``/``max`` skip NaN (the later of equal values wins, as numpy's) and are NaN
with no value; ``median`` selects the middle values by radix selection (eight passes of
byte counts over the values' order-preserving bit patterns, no copy of the column) and
takes numpy's mean of the middle two::

    func.func private @wm_pairwise_sum_f64(%a: memref<?xf64>, %start: index, %n: index,
                                           %center: f64, %squared: i1) -> f64
      ; n < 8: 0.0 + x0 + x1 + ...; n <= 128: eight running sums; else the sums of the
      ; halves (the first a multiple of 8 long), each by a recursive call
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import arith, func, math, memref
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    IndexType,
    MemRefType,
    TensorType,
    f64,
    i1,
    i8,
    i64,
)
from xdsl.ir import Attribute, Block, Region, SSAValue

from willump_mlir.dialects import pipeline
from willump_mlir.passes.kernel_builder import KernelBuilder

if TYPE_CHECKING:
    from willump_mlir.passes.lower_feature_to_scf import KernelEmitter

index = IndexType()
#: numpy's pairwise summation: blocks of at most this many values are summed 8 ways.
PAIRWISE_BLOCK = 128
#: numpy's ufunc buffer, in values: a sum that casts (int64 to float64) goes buffer by buffer.
NUMPY_BUFFER = 8192


def _term(b: KernelBuilder, ref: SSAValue, at: SSAValue, center: SSAValue, squared: SSAValue,
          element: Attribute) -> SSAValue:  # fmt: skip
    """The value summed for ``ref[at]``: as float64, ``(center - x) ** 2`` if ``squared``,
    and 0 where ``x`` is NaN."""
    x = b.load(ref, at)
    if element == i8:
        x = b.emit(arith.ExtUIOp(x, i64))
    if x.type == i64:
        x = b.emit(arith.SIToFPOp(x, f64))
    diff = b.emit(arith.SubfOp(center, x))
    value = b.select(squared, b.emit(arith.MulfOp(diff, diff)), x)
    return b.select(b.cmpf("uno", x, x), b.constant(0.0, f64), value)


def pairwise_sum_function(element: Attribute) -> func.FuncOp:
    """``@wm_pairwise_sum_<dtype>(a, start, n, center, squared) -> f64``: numpy's pairwise
    sum of the terms (``_term``) of ``a[start:start + n]``."""
    name = pairwise_sum_name(element)
    ref_type = MemRefType(element, [DYNAMIC_INDEX])
    entry = Block(arg_types=[ref_type, index, index, f64, i1])
    ref, start, n, center, squared = entry.args
    b = KernelBuilder(entry)
    add = b.add

    def term(at: SSAValue) -> SSAValue:
        return _term(b, ref, b.emit(arith.AddiOp(start, at)), center, squared, element)

    def small() -> list[SSAValue]:
        zero, one = b.constant(0, index), b.constant(1, index)
        return b.for_range(zero, n, [b.constant(0.0, f64)],
                           lambda j, total: [add(total[0], term(j))], one)  # fmt: skip

    def blocked() -> list[SSAValue]:
        sums = [term(b.constant(k, index)) for k in range(8)]
        rest = b.emit(arith.RemUIOp(n, b.constant(8, index)))
        whole = b.emit(arith.SubiOp(n, rest))

        def step(i: SSAValue, running: list[SSAValue]) -> list[SSAValue]:
            return [
                add(r, term(b.emit(arith.AddiOp(i, b.constant(k, index)))))
                for k, r in enumerate(running)
            ]

        r = b.for_range(8, whole, sums, step, 8)
        total = add(add(add(r[0], r[1]), add(r[2], r[3])), add(add(r[4], r[5]), add(r[6], r[7])))
        return b.for_range(whole, n, [total], lambda j, tail: [add(tail[0], term(j))])

    def halves() -> list[SSAValue]:
        half = b.emit(arith.DivUIOp(n, b.constant(2, index)))
        first = b.emit(arith.SubiOp(half, b.emit(arith.RemUIOp(half, b.constant(8, index)))))
        second = b.emit(arith.SubiOp(n, first))
        middle = b.emit(arith.AddiOp(start, first))
        x = b.emit(func.CallOp(name, [ref, start, first, center, squared], [f64]))
        y = b.emit(func.CallOp(name, [ref, middle, second, center, squared], [f64]))
        return [add(x, y)]

    def large() -> list[SSAValue]:
        fits = b.emit(arith.CmpiOp(n, b.constant(PAIRWISE_BLOCK, index), "ule"))
        return b.if_else(fits, blocked, halves)

    few = b.emit(arith.CmpiOp(n, b.constant(8, index), "ult"))
    b.emit(func.ReturnOp(*b.if_else(few, small, large)))
    return func.FuncOp(name, ([ref_type, index, index, f64, i1], [f64]), Region(entry),
                       visibility="private")  # fmt: skip


def pairwise_sum_name(element: Attribute) -> str:
    return f"wm_pairwise_sum_{ {f64: 'f64', i64: 'i64', i8: 'i8'}[element]}"


class ReduceEmitter:
    """The ``pipeline.reduce`` handler; mixed into ``KernelEmitter``. The kernel it runs in
    has no row loop: the ops it emits run once."""

    def column_buffer(self: KernelEmitter, value: SSAValue) -> tuple[SSAValue, Attribute]:
        """The kernel argument holding every row of the column ``value``, and its element
        (a boolean column is one byte a row)."""
        assert isinstance(value.type, TensorType)
        element = value.type.get_element_type()
        stored = i8 if element == i1 else element
        return self.input(value, "", "values", stored), stored

    def pairwise_sum(self: KernelEmitter, ref: SSAValue, element: Attribute, start: SSAValue,
                     count: SSAValue, center: SSAValue | None = None) -> SSAValue:  # fmt: skip
        """numpy's pairwise sum of ``count`` values from ``start`` (of ``(center - x) ** 2``
        with a ``center``), NaN as 0."""
        if pairwise_sum_name(element) not in self.lowering.declared:  # built once a module
            self.lowering.declare_function(pairwise_sum_function(element))
        squared = self.constant(int(center is not None), i1)
        center = center if center is not None else self.constant(0.0, f64)
        return self.emit(func.CallOp(pairwise_sum_name(element), [ref, start, count, center,
                                                                  squared], [f64]))  # fmt: skip

    def numpy_sum(self: KernelEmitter, ref: SSAValue, element: Attribute, n: SSAValue,
                  center: SSAValue | None = None, buffered: bool = False) -> SSAValue:  # fmt: skip
        """``x.sum(dtype=float64)`` as numpy adds it: ``0.0 +`` the pairwise sum; ``buffered``
        (a cast from int64) adds the pairwise sums of buffers of ``NUMPY_BUFFER`` values."""
        zero = self.constant(0.0, f64)
        if not buffered:
            return self.add(zero, self.pairwise_sum(ref, element, self.constant(0, index), n,
                                                    center))  # fmt: skip
        size = self.constant(NUMPY_BUFFER, index)

        def step(start: SSAValue, total: SSAValue) -> SSAValue:
            left = self.emit(arith.SubiOp(n, start))
            count = self.emit(arith.MinUIOp(left, size))
            return self.add(total, self.pairwise_sum(ref, element, start, count, center))

        return self.for_range(0, n, [zero], lambda start, total: [step(start, total[0])], size)[0]

    def valid_count(self: KernelEmitter, ref: SSAValue, element: Attribute,
                    n: SSAValue) -> SSAValue:  # fmt: skip
        """How many of the ``n`` values are not NaN, as an i64."""
        if element != f64:
            return self.emit(arith.IndexCastOp(n, i64))

        def step(j: SSAValue, count: SSAValue) -> SSAValue:
            x = self.load(ref, j)
            present = self.emit(arith.ExtUIOp(self.cmpf("ord", x, x), i64))
            return self.emit(arith.AddiOp(count, present))

        return self.loop(n, self.constant(0, i64), step)

    def integer_sum(self: KernelEmitter, ref: SSAValue, element: Attribute,
                    n: SSAValue) -> SSAValue:  # fmt: skip
        """The int64 sum of integers or booleans (wrapping, as numpy's)."""

        def step(j: SSAValue, total: SSAValue) -> SSAValue:
            x = self.load(ref, j)
            x = self.emit(arith.ExtUIOp(x, i64)) if element == i8 else x
            return self.emit(arith.AddiOp(total, x))

        return self.loop(n, self.constant(0, i64), step)

    def extreme(self: KernelEmitter, ref: SSAValue, element: Attribute, n: SSAValue,
                largest: bool) -> SSAValue:  # fmt: skip
        """``max`` or ``min``: of the values that are not NaN, the later of equal ones."""
        if element == i64:
            first = self.constant(-(2**63) if largest else 2**63 - 1, i64)

            def step_int(j: SSAValue, best: SSAValue) -> SSAValue:
                x = self.load(ref, j)
                return self.select(self.cmpi("sge" if largest else "sle", x, best), x, best)

            return self.loop(n, first, step_int)
        start = self.constant(float("-inf") if largest else float("inf"), f64)

        def step(j: SSAValue, best: SSAValue) -> SSAValue:
            x = self.load(ref, j)
            return self.select(self.cmpf("oge" if largest else "ole", x, best), x, best)

        best = self.loop(n, start, step)
        none = self.cmpi("eq", self.valid_count(ref, element, n), self.constant(0, i64))
        return self.select(none, self.constant(float("nan"), f64), best)

    def sortable(self: KernelEmitter, x: SSAValue) -> SSAValue:
        """The i64 whose unsigned order is the order of the double ``x`` (not NaN)."""
        bits = self.emit(arith.BitcastOp(x, i64))
        negative = self.cmpi("slt", bits, self.constant(0, i64))
        flip = self.select(negative, self.constant(-1, i64), self.constant(-(2**63), i64))
        return self.emit(arith.XOrIOp(bits, flip))

    def unsortable(self: KernelEmitter, key: SSAValue) -> SSAValue:
        """The double of a ``sortable`` key."""
        positive = self.cmpi("slt", key, self.constant(0, i64))  # the top bit set
        flip = self.select(positive, self.constant(-(2**63), i64), self.constant(-1, i64))
        return self.emit(arith.BitcastOp(self.emit(arith.XOrIOp(key, flip)), f64))

    def order_statistic(self: KernelEmitter, ref: SSAValue, element: Attribute, n: SSAValue,
                        rank: SSAValue, counts: SSAValue) -> SSAValue:  # fmt: skip
        """The ``rank``-th smallest (from 0) of the values that are not NaN, as float64: a
        radix selection on their ``sortable`` keys, a byte a pass from the top, counting
        in ``counts`` (256 i64s)."""
        prefix, mask = self.constant(0, i64), self.constant(0, i64)
        for digit in reversed(range(8)):
            shift = self.constant(8 * digit, i64)

            def clear(b: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                self.emit(memref.StoreOp.get(self.constant(0, i64), counts, [b]))
                return []

            self.for_range(0, 256, [], clear)

            def count(
                j: SSAValue, _: list[SSAValue], shift: SSAValue = shift,
                prefix: SSAValue = prefix, mask: SSAValue = mask,
            ) -> list[SSAValue]:  # fmt: skip
                x = self.load(ref, j)
                x = self.emit(arith.ExtUIOp(x, i64)) if element == i8 else x
                x = self.emit(arith.SIToFPOp(x, f64)) if x.type == i64 else x
                key = self.sortable(x)
                inside = self.emit(arith.AndIOp(
                    self.cmpf("ord", x, x),
                    self.cmpi("eq", self.emit(arith.AndIOp(key, mask)), prefix),
                ))  # fmt: skip
                byte = self.emit(arith.AndIOp(self.emit(arith.ShRUIOp(key, shift)),
                                              self.constant(255, i64)))  # fmt: skip
                at = self.to_index(byte)

                def bump() -> None:
                    total = self.emit(arith.AddiOp(self.load(counts, at), self.constant(1, i64)))
                    self.emit(memref.StoreOp.get(total, counts, [at]))

                self.if_then(inside, bump)
                return []

            self.for_range(0, n, [], count)

            def find(b: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
                found, left, bucket = carried
                c = self.load(counts, b)
                hit = self.emit(arith.AndIOp(self.negate(found), self.cmpi("slt", left, c)))
                passed = self.emit(arith.OrIOp(found, hit))
                left = self.select(passed, left, self.emit(arith.SubiOp(left, c)))
                bucket = self.select(hit, self.emit(arith.IndexCastOp(b, i64)), bucket)
                return [passed, left, bucket]

            _, rank, bucket = self.for_range(
                0, 256, [self.constant(0, i1), rank, self.constant(0, i64)], find
            )
            prefix = self.emit(arith.OrIOp(prefix, self.emit(arith.ShLIOp(bucket, shift))))
            top = self.emit(arith.ShLIOp(self.constant(255, i64), shift))
            mask = self.emit(arith.OrIOp(mask, top))
        return self.unsortable(prefix)

    def median(self: KernelEmitter, ref: SSAValue, element: Attribute, n: SSAValue) -> SSAValue:
        """numpy's median of the values that are not NaN (``np.nanmedian``, as pandas takes
        it): the middle one, or the mean ``(0.0 + lo + hi) / 2`` of the middle two; NaN of
        none."""
        counts = self.emit(memref.AllocaOp.get(i64, shape=[256]))
        valid = self.valid_count(ref, element, n)
        half = self.emit(arith.DivSIOp(valid, self.constant(2, i64)))
        odd = self.emit(arith.RemSIOp(valid, self.constant(2, i64)))
        # odd: the same statistic twice, whose mean is itself
        low_rank = self.emit(arith.SubiOp(half, self.emit(arith.SubiOp(self.constant(1, i64),
                                                                         odd))))  # fmt: skip
        low = self.order_statistic(ref, element, n, low_rank, counts)
        high = self.order_statistic(ref, element, n, half, counts)
        zero = self.constant(0.0, f64)
        pair = self.emit(arith.DivfOp(self.add(self.add(zero, low), high),
                                      self.constant(2.0, f64)))  # fmt: skip
        middle = self.select(self.cmpi("eq", odd, self.constant(1, i64)), self.add(zero, high),
                             pair)  # fmt: skip
        none = self.cmpi("eq", valid, self.constant(0, i64))
        return self.select(none, self.constant(float("nan"), f64), middle)

    def reduce(self: KernelEmitter, op: pipeline.ReduceOp) -> SSAValue:
        """The value of ``op`` over the ``n`` rows of its column (see the module doc)."""
        ref, element = self.column_buffer(op.input)
        n = self.state.entry.args[0]
        function = op.function.data
        nan = self.constant(float("nan"), f64)
        if function == "count":
            return self.valid_count(ref, element, n)
        if function == "median":
            return self.median(ref, element, n)
        if function in ("min", "max"):
            return self.extreme(ref, element, n, function == "max")
        if function == "sum":
            if element != f64:
                return self.integer_sum(ref, element, n)
            return self.numpy_sum(ref, element, n)
        count = self.emit(arith.SIToFPOp(self.valid_count(ref, element, n), f64))
        if function == "mean":
            if element == i8:  # pandas sums booleans in int64
                total = self.emit(arith.SIToFPOp(self.integer_sum(ref, element, n), f64))
            else:
                total = self.numpy_sum(ref, element, n, buffered=element == i64)
            empty = self.cmpf("ole", count, self.constant(0.0, f64))
            return self.select(empty, nan, self.emit(arith.DivfOp(total, count)))
        assert op.ddof is not None
        ddof = self.constant(float(op.ddof.value.data), f64)
        mean = self.emit(arith.DivfOp(self.numpy_sum(ref, element, n), count))
        squares = self.numpy_sum(ref, element, n, center=mean)
        variance = self.emit(arith.DivfOp(squares, self.emit(arith.SubfOp(count, ddof))))
        if function == "std":
            variance = self.emit(math.SqrtOp(variance))
        return self.select(self.cmpf("ole", count, ddof), nan, variance)
