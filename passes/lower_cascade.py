"""lower-cascade: split a scheduled cascade into the two native programs the runtime runs.

After ``schedule-lazy`` a cascaded function reads: the cheap path, a
``cascade.confidence_mask``, ``cascade.compact`` of its arguments, a
``cascade.lazy_branch`` and a ``cascade.merge``. This pass splits it into

- ``@f``: the cheap path on every row, the cheap model's call inlined, returning the
  cheap result and the cheap model's class probabilities; it carries
  ``cascade.settle = {metric = "top_probability", threshold = 9.0e-01 : f64}``;
- ``@f__rest``: the branch body as a function of the compacted arguments, returning the
  full result for those rows.

The cheap model's private function is erased. The mask, the compaction of the arguments
(Python strings, pandas frames) and the merge are done by the runtime between the two
calls, in numpy; both functions go through the ordinary lowering to machine code.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp, StringAttr
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.traits import SymbolTable

from willump_mlir.dialects.cascade import (
    ApproxPredictOp,
    CompactOp,
    ConfidenceMaskOp,
    LazyBranchOp,
    MergeOp,
    YieldOp,
)
from willump_mlir.dialects.pipeline import PredictOp

SETTLE = "cascade.settle"
REST_SUFFIX = "__rest"


def split(module: ModuleOp, function: FuncOp, merge: MergeOp) -> set[str]:
    """Split ``function``; return the names of the cheap-model functions it called."""
    branch = merge.full.owner
    assert isinstance(branch, LazyBranchOp)
    mask = next(op for op in function.walk() if isinstance(op, ConfidenceMaskOp))
    name = function.sym_name.data
    rest_block = Block(arg_types=branch.body.block.arg_types)
    mapping: dict[SSAValue, SSAValue] = dict(
        zip(branch.body.block.args, rest_block.args, strict=True)
    )
    for op in branch.body.block.ops:
        if isinstance(op, YieldOp):
            rest_block.add_op(ReturnOp(*[mapping[v] for v in op.values]))
            break
        copy = op.clone(value_mapper=dict(mapping))
        rest_block.add_op(copy)
        mapping.update(zip(op.results, copy.results, strict=True))
    rest = FuncOp(
        name + REST_SUFFIX,
        (branch.body.block.arg_types, branch.outputs.types),
        Region(rest_block),
    )
    module.body.block.insert_op_after(rest, function)

    callees: set[str] = set()
    for approx in [op for op in function.walk() if isinstance(op, ApproxPredictOp)]:
        model = SymbolTable.lookup_symbol(module, approx.model)
        assert isinstance(model, FuncOp)
        callees.add(model.sym_name.data)
        inner = next(op for op in model.walk() if isinstance(op, PredictOp))
        Rewriter.replace_op(approx, inner.clone(value_mapper={inner.input: approx.features}))
    probabilities = mask.probabilities
    function.attributes[SETTLE] = DictionaryAttr(
        {"metric": StringAttr(mask.metric.data), "threshold": mask.threshold}
    )
    ret = function.body.block.last_op
    assert isinstance(ret, ReturnOp)
    approx_result = merge.approx
    ret.operands = [approx_result, probabilities]
    for op in [merge, branch, *[o for o in function.walk() if isinstance(o, CompactOp)], mask]:
        Rewriter.erase_op(op, safe_erase=False)
    function.function_type = function.function_type.from_lists(
        function.function_type.inputs.data, [approx_result.type, probabilities.type]
    )
    return callees


@dataclass(frozen=True)
class LowerCascadePass(ModulePass):
    """Split every function holding a ``cascade.merge`` into ``@f`` and ``@f__rest``."""

    name = "lower-cascade"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        callees: set[str] = set()
        for function in list(op.ops):
            if not isinstance(function, FuncOp) or function.is_declaration:
                continue
            merges = [o for o in function.walk() if isinstance(o, MergeOp)]
            if len(merges) > 1:
                raise ValueError(f"@{function.sym_name.data} has {len(merges)} cascades")
            if merges:
                callees |= split(op, function, merges[0])
        for function in list(op.ops):
            if isinstance(function, FuncOp) and function.sym_name.data in callees:
                Rewriter.erase_op(function)

