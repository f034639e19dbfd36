"""schedule-lazy: compute the full path only for the rows the cheap model did not settle.

``insert-cascade`` leaves a cascade that still computes everything on every row. This pass
takes the ops the full result needs (its whole use-def slice), compacts every argument of
the function (so the branch keeps the function's signature) to the unsettled rows, moves
those ops into a ``cascade.lazy_branch`` that runs on the compacted rows only, and merges
its result back in the original row order:

```mlir
%settled = cascade.confidence_mask top_probability(%q) >= 9.0e-01 : tensor<?x2xf64>
%r = cascade.select_rows %settled, %ya, %y : tensor<?xf64>
```
becomes
```mlir
%rest, %rows = cascade.compact %df drop %settled : !pipeline.frame<"text" : !pipeline.str>
%full = cascade.lazy_branch(%d = %rest) : (!pipeline.frame<...>) -> tensor<?xf64> {
  ... every op %y needs, on %d ...
  cascade.yield %y2 : tensor<?xf64>
}
%r = cascade.merge %full into %ya at %rows : tensor<?xf64>
```

Ops that the cheap path needs too (a shared text decoding, the cheap groups) are copied into
the branch and recomputed on the unsettled rows: only the function's arguments cross into
the branch, so the runtime compacts nothing but its inputs. Ops left unused outside (the
expensive groups) are erased: they no longer run on settled rows. An op that checks its
input (``ChecksInput``: ``df["e"].astype(int)`` of an expensive group) stays outside too,
with what it reads: the original refuses a NaN there on every row, settled or not.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.dialects.func import FuncOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from willump_mlir.dialects.cascade import (
    CompactOp,
    LazyBranchOp,
    MergeOp,
    SelectRowsOp,
    YieldOp,
)
from willump_mlir.dialects.pipeline import FrameType, checks_input


def use_def_slice(value: SSAValue) -> set[Operation]:
    """Every op ``value`` depends on, through all operands."""
    found: set[Operation] = set()
    stack = [value]
    while stack:
        owner = stack.pop().owner
        if isinstance(owner, Operation) and owner not in found:
            found.add(owner)
            stack.extend(owner.operands)
    return found


def schedule(function: FuncOp, select: SelectRowsOp) -> None:
    needed = use_def_slice(select.full)
    body = [op for op in function.body.block.ops if op in needed]
    arguments = list(function.args)  # all of them: the branch has the function's signature
    for argument in arguments:
        if not isinstance(argument.type, TensorType | FrameType):
            raise ValueError(
                f"@{function.sym_name.data}: argument #{argument.index} of type "
                f"{argument.type} is not a batch of rows to compact"
            )
    if not arguments:
        raise ValueError(f"@{function.sym_name.data} has no argument to compact")
    compacts = [CompactOp(a, select.settled) for a in arguments]
    branch = LazyBranchOp.build([c.rest for c in compacts], [select.full.type])
    mapping: dict[SSAValue, SSAValue] = {
        a: inner for a, inner in zip(arguments, branch.body.block.args, strict=True)
    }
    for op in body:
        copy = op.clone(value_mapper=dict(mapping))
        branch.body.block.add_op(copy)
        mapping.update(zip(op.results, copy.results, strict=True))
    branch.body.block.add_op(YieldOp(mapping[select.full]))
    merge = MergeOp(branch.outputs[0], select.approx, compacts[0].rows)
    Rewriter.insert_op([*compacts, branch], InsertPoint.before(select))
    Rewriter.replace_op(select, merge)
    checks = [r for op in body if checks_input(op) for r in op.results]
    kept = set().union(*map(use_def_slice, checks))
    for op in reversed(body):
        if op not in kept and all(not r.uses for r in op.results):
            Rewriter.erase_op(op)


@dataclass(frozen=True)
class ScheduleLazyPass(ModulePass):
    """Turn every ``cascade.select_rows`` into compact / lazy_branch / merge."""

    name = "schedule-lazy"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if not isinstance(function, FuncOp) or function.is_declaration:
                continue
            for select in [o for o in function.walk() if isinstance(o, SelectRowsOp)]:
                schedule(function, select)
