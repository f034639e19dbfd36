"""The row code of numpy's own loops (``abi.UFUNC_LOOPS``: ``np.log1p``, ``np.exp``,
``np.power``, ``np.arctan2``...), for ``lower-feature-to-scf``.

numpy computes these with routines it picks for the CPU (SIMD ones on AVX-512), which the C
library's functions do not reproduce bit for bit, so kernels call numpy's loop itself
(``feature.ufunc``, bound at load time by ``runtime.ufunc_loops``). One element per call
costs several times a C library call: numpy's SIMD loop reads the element with a masked load
just after the kernel stored it, and the kernel reads the result just after a masked store,
which waits for the stores to reach the cache. So a one-operand ufunc of a row value runs the
loop over a chunk of :data:`UFUNC_CHUNK` rows at a time, into a stack buffer the rows then
read, when the row leaves the chunk last computed::

    %offset = arith.subi %i, %first          (unsigned: a row before the chunk too)
    scf.if %offset >= 256 {
      feature.ufunc_loop "log1p" %x[%i] into %chunk count min(%n - %i, 256)
      %first = %i
    }
    %y = memref.load %chunk[%stale ? 0 : %offset]

The loop reads a column straight from its input buffer; a value computed from columns by
exact elementwise arithmetic (``df["a"] * 0.5 + df["b"]``, ``np.sqrt(df["k"])``) is computed
for the chunk's rows first, into a second stack buffer, by the same lowering for each row
(the columns read again at that row, values the same in every row reused). Other values
(lookups, model outputs, functions that record errors) call the loop one element at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import DictionaryAttr, IndexType, IntegerAttr, i64
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint

from willump_mlir.dialects import feature, pipeline

if TYPE_CHECKING:
    from willump_mlir.passes.lower_feature_to_scf import KernelEmitter

index = IndexType()

#: Rows numpy's loop computes at a time for a row kernel.
UFUNC_CHUNK = 256
#: Functions a chunk's inputs may be computed with: exact (IEEE-rounded) ones that record
#: no error, so computing them for the chunk's rows ahead of the row loop changes nothing.
AHEAD_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "copysign")
AHEAD_UNARY = ("abs", "negative", "floor", "ceil", "trunc", "rint", "fabs", "square", "sqrt")


@dataclass
class Ahead:
    """How a row kernel computes a value at another row (``computed_ahead``)."""

    leaves: list[SSAValue] = field(default_factory=list)  # read at the row, or invariant
    ops: list[Operation] = field(default_factory=list)  # lowered again, in order


@dataclass(frozen=True)
class ChunkRead:
    """A row's value read from a chunk: the block that fills the chunk, the chunk, the
    rows the fill computes and the row's position in it. A ufunc of that value runs its loop
    on the whole chunk in the same fill (``np.arccos(np.sin(x))``)."""

    fill: Block
    chunk: SSAValue
    count: SSAValue
    position: SSAValue


class UfuncEmitter:
    """numpy's own loops on row values; mixed into ``KernelEmitter``, which keeps the values
    read from chunks (``chunk_reads``)."""

    chunk_reads: dict[SSAValue, ChunkRead]

    def ufunc(self: KernelEmitter, function: str, operands: list[SSAValue],
              scalar_rhs: bool = False) -> SSAValue:  # fmt: skip
        """numpy's loop of ``function`` on the row's elements ``operands`` (``scalar_rhs``:
        the second is a scalar numpy broadcasts, which its loop reads with stride 0)."""
        self.read_as_they_are(operands)
        return self.emit(feature.UfuncOp(function, operands, scalar_rhs))

    def ufunc_of_row(
        self: KernelEmitter, function: str, source: SSAValue, k: int, x: SSAValue,
        scalar: SSAValue | None = None,
    ) -> SSAValue:  # fmt: skip
        """numpy's loop of ``function`` on ``x``, element ``k`` of the row of ``source``
        (converted to the loop's type), and ``scalar`` for a two-operand ufunc (the same in
        every row): a chunk of rows at a time where the chunk's inputs can be read or
        computed ahead (module doc), else ``x`` alone."""
        operands = [x] if scalar is None else [x, scalar]
        self.read_as_they_are(operands)
        if not isinstance(self.state.loop, scf.ForOp):
            return self.ufunc(function, operands, scalar is not None)
        read = self.chunk_reads.get(x)
        if read is not None and (scalar is None or isinstance(scalar.owner, arith.ConstantOp)):
            # another chunked ufunc's value: its chunk, in the same fill (a constant scalar
            # is defined before the row loop, so before that fill)
            chunk = self.stack_buffer(UFUNC_CHUNK, x.type)
            slot = self.scalar_slot(scalar, InsertPoint.before(self.state.loop))
            loop = feature.UfuncLoopOp(function, read.chunk, self.constant(0, index), chunk,
                                       read.count, slot, slot is not None)  # fmt: skip
            assert read.fill.last_op is not None
            read.fill.insert_op_before(loop, read.fill.last_op)
            value = self.load(chunk, read.position)
            self.chunk_reads[value] = ChunkRead(read.fill, chunk, read.count, read.position)
            return value
        column = self.column_of_row(x)
        if column is not None:
            return self.chunked(x.type, lambda row, count, chunk: self.emit(
                feature.UfuncLoopOp(function, column, row, chunk, count,
                                    self.scalar_slot(scalar), scalar is not None)))  # fmt: skip
        ahead = self.computed_ahead(source)
        if ahead is None:
            return self.ufunc(function, operands, scalar is not None)
        inputs = self.stack_buffer(UFUNC_CHUNK, x.type)
        zero = self.constant(0, index)

        def fill(row: SSAValue, count: SSAValue, chunk: SSAValue) -> None:
            def compute(j: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                value = self.at_row(source, ahead, self.iadd(row, j))[k]
                self.store(self.convert(value, x.type), inputs, j)
                return []

            self.for_range(zero, count, [], compute)
            slot = self.scalar_slot(scalar)
            self.emit(feature.UfuncLoopOp(function, inputs, zero, chunk, count, slot,
                                          slot is not None))  # fmt: skip

        return self.chunked(x.type, fill)

    def scalar_slot(
        self: KernelEmitter, scalar: SSAValue | None, where: InsertPoint | None = None
    ) -> SSAValue | None:
        """A one-value stack buffer holding ``scalar`` (stored at ``where``, by default
        here), which numpy's loop reads with stride 0; None for no scalar."""
        if scalar is None:
            return None
        slot = self.stack_buffer(1, scalar.type)
        store = memref.StoreOp.get(scalar, slot, [self.constant(0, index)])
        if where is None:
            self.emit(store)
        else:
            self.builder.insert(store, where)
        return slot

    def ufunc_pair_of_row(
        self: KernelEmitter, function: str, sources: tuple[SSAValue, SSAValue], k: int,
        a: SSAValue, b: SSAValue,
    ) -> SSAValue:  # fmt: skip
        """numpy's loop of the two-operand ``function`` on ``a`` and ``b``, elements ``k`` of
        the rows of ``sources`` (converted to the loop's type): a chunk of rows at a time
        where both can be computed ahead (a column is read, values from columns computed),
        into two stack buffers the loop reads; else one element at a time."""
        self.read_as_they_are([a, b])
        aheads = [self.computed_ahead(source) for source in sources]
        if not isinstance(self.state.loop, scf.ForOp) or None in aheads:
            return self.ufunc(function, [a, b])
        buffers = [self.stack_buffer(UFUNC_CHUNK, a.type) for _ in sources]
        zero = self.constant(0, index)

        def fill(row: SSAValue, count: SSAValue, chunk: SSAValue) -> None:
            def compute(j: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                at = self.iadd(row, j)
                for source, ahead, buffer in zip(sources, aheads, buffers, strict=True):
                    value = self.at_row(source, ahead, at)[k]  # type: ignore[arg-type]
                    self.store(self.convert(value, a.type), buffer, j)
                return []

            self.for_range(zero, count, [], compute)
            self.emit(feature.UfuncLoopOp(function, buffers[0], zero, chunk, count, buffers[1]))

        return self.chunked(a.type, fill)

    def chunked(
        self: KernelEmitter,
        element: Attribute,
        fill: Callable[[SSAValue, SSAValue, SSAValue], object],
    ) -> SSAValue:
        """The row's value from a stack buffer of :data:`UFUNC_CHUNK` values that
        ``fill(row, count, chunk)`` writes for rows ``row`` to ``row + count`` when the row
        leaves the chunk last filled."""
        assert isinstance(self.state.loop, scf.ForOp)
        rows, row = self.state.loop.ub, self.state.row
        zero, size = self.constant(0, index), self.constant(UFUNC_CHUNK, index)
        chunk = self.stack_buffer(UFUNC_CHUNK, element)
        first = self.stack_buffer(1, index)  # the chunk's first row; no row at first
        self.state.entry.insert_op_before(memref.StoreOp.get(rows, first, [zero]),
                                          self.state.loop)  # fmt: skip
        offset = self.isub(row, self.load(first, zero))
        stale = self.cmpi("uge", offset, size)  # unsigned: before the chunk too

        filled: list[tuple[Block, SSAValue]] = []

        def refill() -> None:
            count = self.min_index(self.isub(rows, row), size)
            fill(row, count, chunk)
            self.store(row, first, zero)
            filled.append((self.builder.insertion_point.block, count))

        self.if_then(stale, refill)
        position = self.select(stale, zero, offset)
        value = self.load(chunk, position)
        self.chunk_reads[value] = ChunkRead(filled[0][0], chunk, filled[0][1], position)
        return value

    def read_as_they_are(self: KernelEmitter, operands: list[SSAValue]) -> None:
        """Mark ``ufunc`` the entries of the input buffers ``operands`` are loads of: the
        original hands those arrays to numpy's loop as they are, so the runtime checks they
        run forwards in memory (numpy's loops compute otherwise on a reversed view; a value
        computed first is a new array, forwards, in numpy too)."""
        for operand in operands:
            load = operand.owner
            if isinstance(load, memref.LoadOp) and load.memref in self.state.input_entries:
                position = self.state.input_entries[load.memref]
                entry = {**self.state.inputs[position].data, "ufunc": IntegerAttr(1, i64)}
                self.state.inputs[position] = DictionaryAttr(entry)

    def column_of_row(self: KernelEmitter, x: SSAValue) -> SSAValue | None:
        """The input buffer ``x`` is the row loop's load of at the row (a column, or a
        matrix of one column: one value per row), if it is one."""
        load = x.owner
        if not isinstance(load, memref.LoadOp) or list(load.indices) != [self.state.row]:
            return None
        return load.memref if load.memref in self.state.input_entries else None

    def computed_ahead(self: KernelEmitter, source: SSAValue) -> Ahead | None:
        """How to compute ``source`` at another row: the values it depends on that are read
        at the row or the same in every row, and the ops between, in order, if they are all
        exact arithmetic (:data:`AHEAD_BINARY`, :data:`AHEAD_UNARY`); None if ``source``
        depends on anything else."""
        ahead = Ahead()

        def visit(value: SSAValue) -> bool:
            if value in ahead.leaves or any(value in op.results for op in ahead.ops):
                return True
            row = self.rows.get(value)
            if isinstance(row, list) and all(self.read_at_row(v) or self.row_invariant(v)
                                             for v in row):  # fmt: skip
                ahead.leaves.append(value)
                return True
            op = value.owner
            if isinstance(op, pipeline.ConstantOp):
                return True
            exact = (
                isinstance(op, pipeline.BinaryOp) and op.function.data in AHEAD_BINARY
                and op.speculative is None
            ) or (
                isinstance(op, pipeline.UnaryOp) and op.function.data in AHEAD_UNARY
                and "check_finite" not in op.attributes
            )  # fmt: skip
            if not exact or not all(visit(operand) for operand in op.operands):  # type: ignore[union-attr]
                return False
            ahead.ops.append(op)  # type: ignore[arg-type]
            return True

        return ahead if visit(source) else None

    def at_row(
        self: KernelEmitter, source: SSAValue, ahead: Ahead, row: SSAValue
    ) -> list[SSAValue]:
        """The row of ``source`` at ``row`` (``computed_ahead``): its columns read again
        there, values the same in every row reused, the ops between lowered again."""
        saved_rows, saved_row = self.rows, self.state.row
        self.rows = {}
        for leaf in ahead.leaves:
            values = saved_rows[leaf]
            assert isinstance(values, list)
            self.rows[leaf] = [
                self.load(v.owner.memref, row) if self.read_at_row(v) else v  # type: ignore[union-attr]
                for v in values
            ]
        self.state.row = row
        try:
            for op in ahead.ops:
                self.lower(op)
            return self.row_of(source)
        finally:
            self.rows, self.state.row = saved_rows, saved_row

    def read_at_row(self: KernelEmitter, value: SSAValue) -> bool:
        """Whether ``value`` is the row loop's load of an input buffer at the row."""
        return self.column_of_row(value) is not None

    def row_invariant(self: KernelEmitter, value: SSAValue) -> bool:
        """Whether ``value`` is the same in every row: a constant, or a load at a constant
        position (a batch reduction's scalar)."""
        op = value.owner
        if isinstance(op, arith.ConstantOp):
            return True
        return isinstance(op, memref.LoadOp) and all(
            isinstance(i.owner, arith.ConstantOp) for i in op.indices
        )
