"""fuse-features: apply a linear model to the parts of a concatenation, not to the concatenation.

A ``feature.linear`` over a ``pipeline.hstack`` is split into one partial dot product per
hstack operand, each reading its own columns of the same ``coef`` blob, summed by
``feature.sum``; a part that is a ``feature.onehot`` of category codes becomes a
``feature.weight_lookup`` of the codes, so the one-hot columns are never built::

    %s = feature.standardize %x sub <m : tensor<2xf64>> div <s : tensor<2xf64>>
           : tensor<?x2xf64> -> tensor<?x2xf64>
    %o = feature.onehot %c categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
    %h = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x5xf64>
    %d = feature.linear %h coef <w : tensor<1x5xf64>> offset 0 intercept <b : tensor<1xf64>>
           {check_finite} : tensor<?x5xf64> -> tensor<?x1xf64>
  ~>
    %s = feature.standardize %x sub <m : tensor<2xf64>> div <s : tensor<2xf64>>
           : tensor<?x2xf64> -> tensor<?x2xf64>
    %0 = feature.linear %s coef <w : tensor<1x5xf64>> offset 0 intercept <b : tensor<1xf64>>
           {check_finite} : tensor<?x2xf64> -> tensor<?x1xf64>
    %1 = feature.weight_lookup %c coef <w : tensor<1x5xf64>> offset 2 categories 3 drop -1
           : tensor<?x1xi64> -> tensor<?x1xf64>
    %d = feature.sum %0, %1 : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>

A ``feature.linear`` over sparse term rows (a vectorizer's output, or an hstack of several)
becomes one ``feature.sparse_linear`` of the sparse parts, so no sparse matrix is built: each
row's term weights are dotted with ``coef`` as they are computed, in scipy's column order::

    %h = pipeline.hstack %a, %b : (tensor<?x10xf64, "csr">, tensor<?x20xf64, "csr">)
           -> tensor<?x30xf64, "csr">
    %d = feature.linear %h coef <w : tensor<1x30xf64>> offset 0 intercept <b : tensor<1xf64>>
           {check_finite} : tensor<?x30xf64, "csr"> -> tensor<?x1xf64>
  ~>
    %d = feature.sparse_linear %a, %b coef <w : tensor<1x30xf64>> offset 0
           intercept <b : tensor<1xf64>>
           : (tensor<?x10xf64, "csr">, tensor<?x20xf64, "csr">) -> tensor<?x1xf64>

Nested hstacks are flattened, so one ``feature.sum`` adds all parts. The intercept goes to
the first part that stays a ``feature.linear`` (a ``weight_lookup`` has none; when every
part is a one-hot, the first keeps a ``feature.linear`` for the intercept).
``check_finite`` stays on each part that can hold NaN or infinity (every part but
one-hot columns). Results equal the unfused ones up to the order of float additions. The
hstack and one-hot ops are ``Pure`` and the walker's dead-code elimination erases them once
unused.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, UnitAttr, i64
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from willump_mlir.dialects.feature import (
    LinearOp,
    OneHotOp,
    SparseLinearOp,
    SumOp,
    WeightLookupOp,
)
from willump_mlir.dialects.pipeline import BlobAttr, HstackOp, batch_width, is_sparse

CHECK_FINITE = "check_finite"


def _flatten(value: SSAValue, offset: int) -> list[tuple[SSAValue, int]]:
    """The leaves of a tree of ``pipeline.hstack`` with their first column in ``value``."""
    if not isinstance(owner := value.owner, HstackOp):
        return [(value, offset)]
    leaves: list[tuple[SSAValue, int]] = []
    for part in owner.inputs:
        leaves.extend(_flatten(part, offset))
        offset += batch_width(part.type)
    return leaves


def _is_onehot(value: SSAValue) -> bool:
    """A one-hot a weight lookup replaces: a column per code (no infrequent group)."""
    return isinstance(value.owner, OneHotOp) and value.owner.infrequent is None


def _linear(
    input: SSAValue,
    coef: BlobAttr,
    offset: int,
    intercept: BlobAttr | None,
    result_type: Attribute,
    check_finite: bool,
) -> LinearOp:
    op = LinearOp(input, coef, offset, intercept, result_type)
    if check_finite:
        op.attributes[CHECK_FINITE] = UnitAttr()
    return op


def _weight_lookup(
    onehot: OneHotOp, coef: BlobAttr, offset: int, result_type: Attribute
) -> WeightLookupOp:
    """``feature.weight_lookup`` of the one-hot's codes, typed like the linear it replaces
    (``tensor<?xf64>`` or ``tensor<?xKxf64>``)."""
    return WeightLookupOp.create(
        operands=[onehot.codes],
        properties={
            "coef": coef,
            "offset": IntegerAttr(offset, i64),
            "categories": onehot.categories,
            "drop": onehot.drop,
        },
        result_types=[result_type],
    )


class LinearOverHstack(RewritePattern):
    """``feature.linear (pipeline.hstack %a, %b)`` ==
    ``feature.sum (feature.linear %a offset o), (feature.linear %b offset o + width(%a))``.
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: LinearOp, rewriter: PatternRewriter) -> None:
        if not isinstance(op.input.owner, HstackOp):
            return
        leaves = _flatten(op.input, op.offset.value.data)
        if all(is_sparse(value.type) for value, _ in leaves):
            return  # one feature.sparse_linear keeps scipy's order of additions
        # The intercept rides on the first part that will not become a weight lookup.
        carrier = next((i for i, (v, _) in enumerate(leaves) if not _is_onehot(v)), 0)
        check_finite = CHECK_FINITE in op.attributes
        parts: list[Operation] = [
            _linear(
                value,
                op.coef,
                offset,
                op.intercept if i == carrier else None,
                op.result.type,
                check_finite and not _is_onehot(value),
            )
            for i, (value, offset) in enumerate(leaves)
        ]
        if len(parts) == 1:
            rewriter.replace(op, parts)
            return
        # Insert the parts apart, so that only the sum takes over the linear's name.
        rewriter.insert(parts)
        rewriter.replace(op, SumOp([part.results[0] for part in parts]))


class LinearOverOneHot(RewritePattern):
    """``feature.linear (feature.onehot %c categories n drop d) offset o`` without an
    intercept == ``feature.weight_lookup %c offset o categories n drop d`` (not of a one-hot
    whose infrequent categories share a column)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: LinearOp, rewriter: PatternRewriter) -> None:
        onehot = op.input.owner
        if not _is_onehot(op.input) or op.intercept is not None:
            return
        assert isinstance(onehot, OneHotOp)
        rewriter.replace(op, _weight_lookup(onehot, op.coef, op.offset.value.data, op.result.type))


class LinearOverTerms(RewritePattern):
    """``feature.linear`` over sparse rows (or an hstack of them) == ``feature.sparse_linear``
    of the sparse parts, which dots each row's terms where they are computed."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: LinearOp, rewriter: PatternRewriter) -> None:
        if not is_sparse(op.input.type):
            return
        leaves = _flatten(op.input, 0)
        if not all(is_sparse(value.type) for value, _ in leaves):
            return  # a dense part: LinearOverHstack splits the parts first
        rewriter.replace(
            op,
            SparseLinearOp(
                [value for value, _ in leaves],
                op.coef,
                op.offset.value.data,
                op.intercept,
                op.result.type,
            ),
        )


@dataclass(frozen=True)
class FuseFeaturesPass(ModulePass):
    """Split linear models over concatenations and read one-hot weights by code."""

    name = "fuse-features"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([LinearOverTerms(), LinearOverHstack(), LinearOverOneHot()])
        ).rewrite_module(op)
