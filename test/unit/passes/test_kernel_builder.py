"""``passes.kernel_builder``: ops land at the insertion point, each region's ops in its block,
and the insertion point comes back after a region, also when building it fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import IndexType, ModuleOp, i1, i64
from xdsl.ir import Block, Region, SSAValue

from willump_mlir.passes.kernel_builder import KernelBuilder

index = IndexType()


def function(build: Callable[[KernelBuilder, SSAValue, SSAValue], SSAValue]) -> str:
    """The text of ``@f(%n: index, %flag: i1) -> i64`` whose body ``build(b, n, flag)`` emits."""
    entry = Block(arg_types=[index, i1])
    b = KernelBuilder(entry)
    b.emit(func.ReturnOp(build(b, *entry.args)))
    module = ModuleOp([func.FuncOp("f", ([index, i1], [i64]), Region(entry))])
    module.verify()
    return str(module)


EXPECTED = """\
builtin.module {
  func.func @f(%0: index, %1: i1) -> i64 {
    %2 = arith.constant 0 : i64
    %3 = arith.constant 0 : index
    %4 = arith.constant 1 : index
    %5 = scf.for %6 = %3 to %0 step %4 iter_args(%7 = %2) -> (i64) {
      %8 = scf.if %1 -> (i64) {
        %9 = arith.index_cast %6 : index to i64
        scf.yield %9 : i64
      } else {
        %10 = arith.constant 1 : i64
        scf.yield %10 : i64
      }
      %11 = arith.addi %7, %8 : i64
      scf.yield %11 : i64
    }
    %12 = scf.while (%13 = %5) : (i64) -> i64 {
      %14 = arith.constant 9 : i64
      %15 = arith.cmpi sgt, %13, %14 : i64
      scf.condition(%15) %13 : i64
    } do {
    ^bb0(%16: i64):
      %17 = arith.constant 1 : i64
      %18 = arith.shrui %16, %17 : i64
      scf.yield %18 : i64
    }
    scf.if %1 {
      %19 = arith.addi %12, %12 : i64
    }
    %20 = arith.constant 3 : i64
    %21 = arith.muli %12, %20 : i64
    func.return %21 : i64
  }
}"""


def test_loops_and_branches_nest_and_return_to_the_outer_block() -> None:
    """Each region's ops go to its block; the loop bounds and everything after a region go
    to the outer block, in order."""

    def build(b: KernelBuilder, n: SSAValue, flag: SSAValue) -> SSAValue:
        def step(j: SSAValue, total: list[SSAValue]) -> list[SSAValue]:
            (odd,) = b.if_else(flag, lambda: [b.cast(j, i64)], lambda: [b.constant(1, i64)])
            return [b.iadd(total[0], odd)]

        (total,) = b.for_range(0, n, [b.constant(0, i64)], step)
        (halved,) = b.while_loop(
            [total], lambda v: b.cmpi("sgt", v[0], b.constant(9, i64)), lambda v: [b.shr(v[0], 1)]
        )

        def double() -> None:
            b.emit(arith.AddiOp(halved, halved))

        b.if_then(flag, double)
        return b.imul(halved, 3)

    assert function(build) == EXPECTED


def test_a_failing_region_puts_the_insertion_point_back() -> None:
    entry = Block(arg_types=[index])
    b = KernelBuilder(entry)

    def fail(j: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
        b.cast(j, i64)
        raise ValueError("unsupported")

    with pytest.raises(ValueError, match="unsupported"):
        b.for_range(0, entry.args[0], [], fail)
    b.constant(7, i64)
    assert [op.name for op in entry.ops] == ["arith.constant"]
