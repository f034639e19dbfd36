"""insert-cascade: answer confident rows with a cheap model on the cheap feature groups.

It reads the decision the optimizer wrote on the model op next to the groups that
``infer-feature-groups`` found: which groups are cheap, the cheap model (a private
``func.func`` holding its ``pipeline.predict``), the confidence metric and threshold.

```mlir
%x = pipeline.hstack %w, %c : ...
%p = pipeline.predict "LogisticRegression" "predict_proba" %x params {...}
       {cascade.groups = [...], cascade.plan = {cheap = array<i64: 0>, model = @approx,
        metric = "top_probability", threshold = 9.0e-01 : f64}}
%y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
func.return %y : tensor<?xf64>
```
becomes (the full computation is untouched and still runs on every row)
```mlir
%q = cascade.approx_predict @approx(%w) : (tensor<?x4xf64, "csr">) -> tensor<?x2xf64>
%settled = cascade.confidence_mask top_probability(%q) >= 9.0e-01 : tensor<?x2xf64>
%ya = pipeline.take_column %q [1] : tensor<?x2xf64> -> tensor<?xf64>
%r = cascade.select_rows %settled, %ya, %y : tensor<?xf64>
func.return %r : tensor<?xf64>
```

A plan without ``metric`` and ``threshold`` (top-K only: a regressor has no confidence)
makes the function compute the cheap result alone, the candidate scorer of a top-K query:
the cheap model's ``pipeline.predict`` is inlined and the full model's ops go dead, but for
those that check their input (``ChecksInput``) and what they read: the original refuses a
bad value there on every row, and so does the scorer.

The cheap model's input keeps the cheap groups' columns (``column_flow.ColumnNarrower``);
the ops after the model are copied onto the cheap model's result. When the model's method
is not ``predict_proba``, the cheap estimator is also called with that method, so that the
function returns the same kind of result on every row; so it is for each other call of the
model on the same input (``infer_feature_groups.twins``: ``predict`` and ``predict_proba``
returned as a pair). The result may be a frame or a value packed of batches (a tuple), whose
parts that do not read the model are the same ops on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    FloatAttr,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import SymbolTable

from willump_mlir.dialects.cascade import (
    ApproxPredictOp,
    ConfidenceMaskOp,
    ConfidenceMetric,
    SelectRowsOp,
)
from willump_mlir.dialects.pipeline import PredictOp
from willump_mlir.passes.column_flow import ColumnNarrower, erase_dead_ops
from willump_mlir.passes.infer_feature_groups import GROUPS, twins

PLAN = "cascade.plan"


def group_columns(model: PredictOp, groups: list[int]) -> list[int]:
    """The model-input columns of the feature groups ``groups``, increasing."""
    entries = model.attributes[GROUPS]
    assert isinstance(entries, ArrayAttr)
    columns: list[int] = []
    for index in groups:
        entry = entries.data[index]
        assert isinstance(entry, DictionaryAttr)
        spans = entry.data["spans"]
        assert isinstance(spans, DenseArrayBase)
        values = list(spans.get_values())
        for start, stop in zip(values[::2], values[1::2], strict=True):
            columns += range(int(start), int(stop))
    return sorted(columns)


def cheap_predict(module: ModuleOp, model: PredictOp, symbol: SymbolRefAttr) -> PredictOp:
    """The ``pipeline.predict`` inside the cheap model's function ``symbol``."""
    function = SymbolTable.lookup_symbol(module, symbol)
    if not isinstance(function, FuncOp):
        raise ValueError(f"{model.name}: cascade.plan model {symbol} is not a func.func")
    ops = list(function.body.block.ops)
    if (
        len(ops) != 2
        or not isinstance(predict := ops[0], PredictOp)
        or predict.input is not function.args[0]
        or list(ops[1].operands) != [predict.result]
    ):
        raise ValueError(
            f"cheap model {symbol} must be one pipeline.predict on its argument, returned"
        )
    return predict


def tail_after(models: list[PredictOp], ret: ReturnOp) -> list[Operation]:
    """The ops between ``models`` (in program order) and ``ret`` that use their results,
    in program order."""
    reached = {r for m in models for r in m.results}
    tail: list[Operation] = []
    op = models[0].next_op
    while op is not None and op is not ret:
        if any(o in reached for o in op.operands):
            tail.append(op)
            reached.update(op.results)
        op = op.next_op
    return tail


def insert(module: ModuleOp, function: FuncOp, model: PredictOp) -> None:
    plan = model.attributes.pop(PLAN)
    assert isinstance(plan, DictionaryAttr)
    cheap = plan.data["cheap"]
    symbol = plan.data["model"]
    metric = plan.data.get("metric")
    threshold = plan.data.get("threshold")
    assert isinstance(cheap, DenseArrayBase) and isinstance(symbol, SymbolRefAttr)
    ret = function.body.block.last_op
    if not isinstance(ret, ReturnOp) or len(ret.operands) != 1:
        raise ValueError(f"@{function.sym_name.data} must return one value to be cascaded")
    inner = cheap_predict(module, model, symbol)
    features = ColumnNarrower(ret).narrow(
        model.input, group_columns(model, [int(g) for g in cheap.get_values()])
    )
    if features.type != inner.input.type:
        raise ValueError(
            f"cheap model {symbol} reads {inner.input.type}, the cheap groups give "
            f"{features.type}"
        )

    def before_return(op: Operation) -> Operation:
        Rewriter.insert_op(op, InsertPoint.before(ret))
        return op

    def cheap_call(full: PredictOp, probabilities: SSAValue | None) -> SSAValue:
        """The cheap model's result as ``full`` (one of the model's calls) gives it: its
        class ``probabilities`` if ``full`` is a ``predict_proba`` of their type, else a
        call with ``full``'s method."""
        if probabilities is not None and full.method.data == "predict_proba" \
                and full.result.type == probabilities.type:  # fmt: skip
            return probabilities
        call = PredictOp(inner.estimator.data, full.method.data, features,
                         dict(inner.params.data), full.result.type)  # fmt: skip
        return before_return(call).results[0]

    def cheap_result(results: dict[SSAValue, SSAValue]) -> SSAValue:
        """The function's result computed from the cheap ``results`` (by the model's
        calls' results) by copies of the tail."""
        mapping = dict(results)
        for op in tail_after(models, ret):
            copy = before_return(op.clone(value_mapper=dict(mapping)))
            mapping.update(zip(op.results, copy.results, strict=True))
        return mapping[ret.operands[0]]

    models = twins(model)
    if threshold is None:  # the cheap scorer of a top-K query
        scorer = before_return(inner.clone(value_mapper={inner.input: features})).results[0]
        ret.operands = [cheap_result(
            {m.result: scorer if m is model else cheap_call(m, None) for m in models}
        )]  # fmt: skip
        erase_dead_ops(function.body.block, keep_checks=True)  # the full model's ops
        return
    assert isinstance(metric, StringAttr) and isinstance(threshold, FloatAttr)
    probabilities = before_return(ApproxPredictOp(symbol, features, inner.result.type)).results[0]
    results = {m.result: cheap_call(m, probabilities) for m in models}
    settled = before_return(
        ConfidenceMaskOp(probabilities, threshold, ConfidenceMetric(metric.data))
    ).results[0]
    full = ret.operands[0]
    choose = before_return(SelectRowsOp(settled, cheap_result(results), full))
    ret.operands = [choose.results[0]]


@dataclass(frozen=True)
class InsertCascadePass(ModulePass):
    """Rewrite every model op carrying a ``cascade.plan`` into a cascade."""

    name = "insert-cascade"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in list(op.ops):
            if not isinstance(function, FuncOp) or function.is_declaration:
                continue
            for model in list(function.walk()):
                if isinstance(model, PredictOp) and PLAN in model.attributes:
                    insert(op, function, model)
