"""infer-feature-groups: find the independent feature groups that feed the model.

A feature group is one independent subgraph from the function's inputs to the model's input:
one per vectorizer, join, Python op or block of input columns read directly. The pass finds
the function's model (the one ``pipeline.predict`` whose result reaches ``func.return``;
calls of one model with several methods on one input count as one, the first carries the
groups),
traces every column of its input back to the op that produced it (``column_flow``) and
records the groups on the model op, each with its column spans (``[start, stop)`` pairs):

```mlir
%x = pipeline.hstack %w, %c : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> ...
%p = pipeline.predict "LogisticRegression" "predict_proba" %x params {...}
       {cascade.groups = [{name = "TfidfVectorizer(word)", spans = array<i64: 0, 4>},
                          {name = "TfidfVectorizer(char_wb)", spans = array<i64: 4, 12>}]}
```

Every op that only one group needs gets ``cascade.group = <index>``; ops several groups
share (a text decoding, a key read) get none. First, ops that read named frame columns are
made to read them from the frame that introduced them, so that a join on a chain of joins
no longer depends on the ones before it. A function with no single model, or whose model
input has one group, gets ``cascade.groups_refused = "<reason>"`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    i64,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass

from willump_mlir.dialects.pipeline import PredictOp, ReduceOp
from willump_mlir.passes.column_flow import (
    STRUCTURAL,
    Origin,
    column_origins,
    read_through_joins,
    slice_of,
)

GROUPS = "cascade.groups"
GROUP = "cascade.group"
REFUSED = "cascade.groups_refused"


def twins(model: PredictOp) -> list[PredictOp]:
    """The calls of ``model``'s estimator (same parameters) on ``model``'s input, in program
    order, ``model`` among them: ``predict`` and ``predict_proba`` of one model, say."""
    block = model.parent_block()
    assert block is not None
    return [
        op for op in block.ops
        if isinstance(op, PredictOp) and op.input is model.input
        and op.estimator == model.estimator and op.params == model.params
    ]  # fmt: skip


def model_op(function: FuncOp) -> PredictOp | str:
    """The ``pipeline.predict`` whose result reaches the return (the first of its
    ``twins``: one model called with several methods counts as one), or why there is none."""
    returns = [op for op in function.walk() if isinstance(op, ReturnOp)]
    needed = slice_of([v for r in returns for v in r.operands])
    models = [op for op in function.walk() if isinstance(op, PredictOp) and op in needed]
    if not models or any(m not in twins(models[0]) for m in models):
        return f"the result comes from {len(models)} model calls, not one"
    return models[0]


def _spans(columns: list[int]) -> list[int]:
    spans: list[int] = []
    for column in columns:
        if spans and spans[-1] == column:
            spans[-1] = column + 1
        else:
            spans += [column, column + 1]
    return spans


def _names(origins: list[Origin]) -> list[str]:
    labels = [o.label() for o in origins]
    return [
        label if labels.count(label) == 1 else f"{label} #{labels[:i].count(label) + 1}"
        for i, label in enumerate(labels)
    ]


def annotate(function: FuncOp) -> None:
    reductions = [op for op in function.walk() if isinstance(op, ReduceOp)]
    if reductions:
        function.attributes[REFUSED] = StringAttr(
            f"a batch statistic (pandas {reductions[0].function.data}) depends on every row of "
            "the batch, and a cascade computes features on some rows only"
        )
        return
    model = model_op(function)
    if isinstance(model, str):
        function.attributes[REFUSED] = StringAttr(model)
        return
    read_through_joins(list(function.walk()))
    origins = column_origins(model.input)
    groups = list(dict.fromkeys(origins))
    if len(groups) < 2:
        function.attributes[REFUSED] = StringAttr(
            f"the model's input has one feature group ({groups[0].label()}): nothing to skip"
        )
        return
    owners: dict[Operation, set[int]] = {}
    for index, group in enumerate(groups):
        for op in slice_of(group.roots()):
            if not isinstance(op, STRUCTURAL):
                owners.setdefault(op, set()).add(index)
    for op, indices in owners.items():
        if len(indices) == 1:
            op.attributes[GROUP] = IntegerAttr(next(iter(indices)), i64)
    entries = [
        DictionaryAttr(
            {
                "name": StringAttr(name),
                "spans": DenseArrayBase.from_list(
                    i64, _spans([c for c, o in enumerate(origins) if o == group])
                ),
            }
        )
        for name, group in zip(_names(groups), groups, strict=True)
    ]
    model.attributes[GROUPS] = ArrayAttr(entries)


@dataclass(frozen=True)
class InferFeatureGroupsPass(ModulePass):
    """Annotate each function's model op with its feature groups (``cascade.groups``)."""

    name = "infer-feature-groups"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if isinstance(function, FuncOp) and not function.is_declaration:
                annotate(function)
