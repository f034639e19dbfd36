"""The op builder every kernel emitter shares: xDSL's ``Builder``, scalar arithmetic and
structured control flow.

An emitter appends ops at one insertion point (``self.builder``, an xDSL ``Builder``): one
op (``emit``) or a helper's few (``iadd``, ``load``, ``cast``, ...). The control-flow
helpers build each region's block with the insertion point moved into it and put back
afterwards (``inside``, MLIR's ``OpBuilder::InsertionGuard``), so the code that fills a
loop body or a branch is ordinary emitter code::

    (total,) = b.for_range(lo, hi, [zero], lambda j, acc: [b.emit(arith.AddiOp(acc[0], j))])
  ~>
    %c1 = arith.constant 1 : index
    %total = scf.for %j = %lo to %hi step %c1 iter_args(%acc = %zero) -> (i64) {
      %s = arith.addi %acc, %j : i64
      scf.yield %s : i64
    }

Constants come from ``constant``: here emitted at the insertion point; ``KernelEmitter``
hoists them out of the row loop and shares them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from xdsl.builder import Builder
from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import FloatAttr, IndexType, IntegerAttr, IntegerType, i1
from xdsl.ir import Attribute, Block, BlockArgument, Operation, SSAValue
from xdsl.rewriter import InsertPoint

from willump_mlir.dialects import feature

index = IndexType()


def constant_op(value: float | int, typ: Attribute) -> arith.ConstantOp:
    """``arith.constant value : typ`` (an integer, index or float type)."""
    if isinstance(typ, IntegerType | IndexType):
        return arith.ConstantOp(IntegerAttr(int(value), typ))
    return arith.ConstantOp(FloatAttr(float(value), typ))  # type: ignore[arg-type]


class KernelBuilder:
    """Emits ops at ``builder``'s insertion point: arithmetic, loads and stores, and ``scf``
    loops and branches. Mixed into ``KernelEmitter``; used alone for helper functions."""

    def __init__(self, block: Block):
        self.builder = Builder(InsertPoint.at_end(block))

    def emit(self, op: Operation) -> SSAValue:
        """Insert ``op`` at the insertion point; its first result (None if it has none)."""
        self.builder.insert(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def constant(self, value: float | int, typ: Attribute) -> SSAValue:
        return self.emit(constant_op(value, typ))

    # region Scalars

    def load(self, ref: SSAValue, position: SSAValue | int) -> SSAValue:
        if isinstance(position, int):
            position = self.constant(position, index)
        return self.emit(memref.LoadOp.get(ref, [position]))

    def prefetch(self, ref: SSAValue, position: SSAValue) -> None:
        """Fetch the cache line of ``ref[position]`` without waiting (``feature.prefetch``)."""
        self.emit(feature.PrefetchOp(ref, position))

    def add(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.AddfOp(a, b))

    def select(self, cond: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.SelectOp(cond, a, b))

    def cmpf(self, predicate: str, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.CmpfOp(a, b, predicate))

    def cmpi(self, predicate: str, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.CmpiOp(a, b, predicate))

    def to_index(self, value: SSAValue) -> SSAValue:
        return self.emit(arith.IndexCastOp(value, index))

    def integer(self, value: SSAValue | int, like: SSAValue) -> SSAValue:
        """``value``, or the constant ``value`` of ``like``'s type if it is an int."""
        return self.constant(value, like.type) if isinstance(value, int) else value

    def iadd(self, a: SSAValue, b: SSAValue | int) -> SSAValue:
        return self.emit(arith.AddiOp(a, self.integer(b, a)))

    def isub(self, a: SSAValue, b: SSAValue | int) -> SSAValue:
        return self.emit(arith.SubiOp(a, self.integer(b, a)))

    def imul(self, a: SSAValue, b: SSAValue | int) -> SSAValue:
        return self.emit(arith.MuliOp(a, self.integer(b, a)))

    def iand(self, a: SSAValue, b: SSAValue | int) -> SSAValue:
        return self.emit(arith.AndIOp(a, self.integer(b, a)))

    def ior(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.OrIOp(a, b))

    def shl(self, a: SSAValue, bits: SSAValue | int) -> SSAValue:
        return self.emit(arith.ShLIOp(a, self.integer(bits, a)))

    def shr(self, a: SSAValue, bits: SSAValue | int) -> SSAValue:
        return self.emit(arith.ShRUIOp(a, self.integer(bits, a)))

    def cast(self, value: SSAValue, typ: Attribute) -> SSAValue:
        """Integer ``value`` as ``typ`` (index casts sign-extend, i8 zero-extends)."""
        if value.type == typ:
            return value
        if value.type == index or typ == index:
            return self.emit(arith.IndexCastOp(value, typ))
        assert isinstance(value.type, type(typ))
        if value.type.width.data > typ.width.data:  # type: ignore[attr-defined]
            return self.emit(arith.TruncIOp(value, typ))
        return self.emit(arith.ExtUIOp(value, typ))

    def negate(self, flag: SSAValue) -> SSAValue:
        return self.emit(arith.XOrIOp(flag, self.constant(1, i1)))

    def min_index(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.emit(arith.MinUIOp(a, b))

    def store(self, value: SSAValue, ref: SSAValue, position: SSAValue) -> None:
        self.emit(memref.StoreOp.get(value, ref, [position]))

    # endregion
    # region Control flow

    @contextmanager
    def inside(self, block: Block) -> Iterator[tuple[BlockArgument, ...]]:
        """Insert at the end of ``block`` (yielding its arguments), then where we were."""
        outer = self.builder.insertion_point
        self.builder.insertion_point = InsertPoint.at_end(block)
        try:
            yield block.args
        finally:
            self.builder.insertion_point = outer

    def nested(
        self, build: Callable[..., Sequence[SSAValue]], arg_types: Sequence[Attribute] = ()
    ) -> Block:
        """A block of ``arg_types`` filled by ``build(*args)`` and ended by ``scf.yield`` of
        the values it returns."""
        block = Block(arg_types=arg_types)
        with self.inside(block) as args:
            self.emit(scf.YieldOp(*build(*args)))
        return block

    def for_range(
        self,
        lower: SSAValue | int,
        upper: SSAValue | int,
        carried: Sequence[SSAValue],
        body: Callable[[SSAValue, list[SSAValue]], Sequence[SSAValue]],
        step: SSAValue | int = 1,
    ) -> list[SSAValue]:
        """``scf.for %j = lower to upper step step`` carrying ``carried``:
        ``carried = body(j, carried)``; the carried values at the end."""
        types = [index, *(v.type for v in carried)]
        block = self.nested(lambda j, *values: body(j, list(values)), types)
        bounds = [
            self.constant(b, index) if isinstance(b, int) else b for b in (lower, upper, step)
        ]
        loop = scf.ForOp(*bounds, carried, block)
        self.emit(loop)
        return list(loop.results)

    def loop(
        self, upper: SSAValue, initial: SSAValue, step: Callable[[SSAValue, SSAValue], SSAValue]
    ) -> SSAValue:
        """``scf.for %j = 0 to upper`` carrying one value: ``value = step(j, value)``."""
        return self.for_range(0, upper, [initial], lambda j, value: [step(j, value[0])])[0]

    def if_else(
        self,
        condition: SSAValue,
        then: Callable[[], Sequence[SSAValue]],
        otherwise: Callable[[], Sequence[SSAValue]] | None = None,
    ) -> list[SSAValue]:
        """``scf.if`` yielding what ``then`` / ``otherwise`` return (an else that yields
        nothing if no ``otherwise``)."""
        then_block = self.nested(then)
        yielded = then_block.last_op
        assert isinstance(yielded, scf.YieldOp)
        types = [v.type for v in yielded.operands]
        else_block = self.nested(otherwise if otherwise is not None else list)
        op = scf.IfOp(condition, types, [then_block], [else_block])
        self.emit(op)
        return list(op.results)

    def if_then(self, condition: SSAValue, then: Callable[[], None]) -> None:
        """``scf.if`` without results or else region: run ``then`` if ``condition``."""
        block = Block()
        with self.inside(block):
            then()
            self.emit(scf.YieldOp())
        self.emit(scf.IfOp(condition, [], [block]))

    def while_loop(
        self,
        initial: Sequence[SSAValue],
        condition: Callable[[list[SSAValue]], SSAValue],
        body: Callable[[list[SSAValue]], Sequence[SSAValue]],
    ) -> list[SSAValue]:
        """``scf.while``: while ``condition(values)``, ``values = body(values)``."""
        types = [v.type for v in initial]
        before, after = Block(arg_types=types), Block(arg_types=types)
        with self.inside(before) as values:
            self.emit(scf.ConditionOp(condition(list(values)), *values))
        with self.inside(after) as values:
            self.emit(scf.YieldOp(*body(list(values))))
        op = scf.WhileOp(initial, types, [before], [after])
        self.emit(op)
        return list(op.results)

    # endregion
