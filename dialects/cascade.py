"""The ``cascade`` dialect: statistically-aware execution of an inference pipeline.

A cascade answers the rows a cheap model is confident about and sends only the
remaining rows through the expensive feature groups and the full model; a top-K query
lets a cheap model pick the candidate rows that the full model then ranks.

IR conventions shared with the other willump-mlir dialects: a batch of rows is a
builtin tensor whose leading dimension is dynamic.  Feature matrices are
``tensor<?xNxf64>``, per-row scores ``tensor<?xf64>`` (binary: probability of the
positive class) or ``tensor<?xKxf64>`` (K class probabilities), masks
``tensor<?xi1>`` and row indices ``tensor<?xi64>``.  Models are referenced by
symbol: ``@cheap`` names a ``func.func`` of the enclosing module that maps a
feature batch to scores.

A cascade in this dialect reads:

```mlir
%p = cascade.approx_predict @cheap(%x_cheap) : (tensor<?x4xf64>) -> tensor<?x2xf64>
%settled = cascade.confidence_mask top_probability(%p) >= 9.000000e-01 : tensor<?x2xf64>
%rest, %rows = cascade.compact %x drop %settled : tensor<?x8xf64>
%full = cascade.lazy_branch(%r = %rest) : (tensor<?x8xf64>) -> tensor<?x2xf64> {
  %q = func.call @full(%r) : (tensor<?x8xf64>) -> tensor<?x2xf64>
  cascade.yield %q : tensor<?x2xf64>
}
%y = cascade.merge %full into %p at %rows : tensor<?x2xf64>
```
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    Float64Type,
    FloatAttr,
    FunctionType,
    SymbolRefAttr,
    TensorType,
    f64,
    i1,
    i64,
)
from xdsl.dialects.func import FuncOp
from xdsl.dialects.utils import EnumAttribute, parse_assignment, print_assignment
from xdsl.ir import (
    Attribute,
    Block,
    Dialect,
    Operation,
    Region,
    SpacedOpaqueSyntaxAttribute,
    SSAValue,
)
from xdsl.irdl import (
    EqAttrConstraint,
    IRDLOperation,
    VarConstraint,
    base,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    IsTerminator,
    Pure,
    RecursiveMemoryEffect,
    ReturnLike,
    SymbolTable,
    SymbolUserOpInterface,
)
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from willump_mlir.dialects.pipeline import FrameType, ObjectType

MASK_TYPE = TensorType(i1, [DYNAMIC_INDEX])
"""A per-row boolean mask, ``tensor<?xi1>``."""

INDEX_TYPE = TensorType(i64, [DYNAMIC_INDEX])
"""A list of row indices, ``tensor<?xi64>``."""

SCORE_TYPE = TensorType(f64, [DYNAMIC_INDEX])
"""One score per row, ``tensor<?xf64>``."""


def _batch_type(value_type: Attribute, what: str) -> TensorType[Attribute] | FrameType:
    """``value_type`` as a batch: a frame, or a tensor of rank >= 1 with a dynamic leading
    dimension."""
    if isinstance(value_type, FrameType):
        return value_type
    if (
        not isinstance(value_type, TensorType)
        or value_type.get_num_dims() == 0
        or value_type.get_shape()[0] != DYNAMIC_INDEX
    ):
        raise VerifyException(
            f"{what} must be a frame or a batch tensor<?x...> with a dynamic leading "
            f"dimension, got {value_type}"
        )
    return value_type


RESULT_CONSTRAINT = base(TensorType) | base(FrameType) | base(ObjectType)
"""What a cascade selects and merges: a batch tensor, a frame (its rows) or a Python value
packed of batches (a tuple, list or dict: each part's rows)."""


def _result_type(value_type: Attribute, what: str) -> Attribute:
    """``value_type`` as a cascade's result: ``!pipeline.object`` or a batch."""
    return value_type if isinstance(value_type, ObjectType) else _batch_type(value_type, what)


def _num_classes(value_type: Attribute, what: str) -> int:
    """Number of classes of a probability batch: ``tensor<?xf64>`` (binary) or
    ``tensor<?xKxf64>`` with a static ``K >= 2``."""
    batch = _batch_type(value_type, what)
    if isinstance(batch, FrameType):
        raise VerifyException(f"{what} must be a tensor of probabilities, got {value_type}")
    shape = batch.get_shape()
    if batch.element_type != f64 or len(shape) > 2:
        raise VerifyException(f"{what} must be tensor<?xf64> or tensor<?xKxf64>, got {value_type}")
    if len(shape) == 1:
        return 2
    if shape[1] == DYNAMIC_INDEX or shape[1] < 2:
        raise VerifyException(
            f"{what} must have a static number of classes K >= 2, got {value_type}"
        )
    return shape[1]


def _types(types: Sequence[Attribute]) -> str:
    """A type list as it reads in a function type, e.g. ``(tensor<?xf64>, i64)``."""
    return "(" + ", ".join(str(t) for t in types) + ")"


def _has_symbol_table_ancestor(op: Operation) -> bool:
    parent = op.parent_op()
    while parent is not None and not parent.has_trait(SymbolTable):
        parent = parent.parent_op()
    return parent is not None


# region Attributes


class ConfidenceMetric(StrEnum):
    """How a row's class probabilities are turned into a confidence."""

    TOP_PROBABILITY = "top_probability"
    """The largest class probability (``max(p, 1 - p)`` for a binary score)."""

    MARGIN = "margin"
    """The largest minus the second-largest class probability (``|2p - 1|`` binary)."""


@irdl_attr_definition
class ConfidenceMetricAttr(EnumAttribute[ConfidenceMetric], SpacedOpaqueSyntaxAttribute):
    """A confidence metric, ``#cascade<metric top_probability>`` in generic form."""

    name = "cascade.metric"


# endregion

# region Cheap model


class ModelSymbolUser(SymbolUserOpInterface):
    """Checks that an op's ``model`` symbol is a ``func.func`` of matching type."""

    def verify(self, op: Operation) -> None:
        assert isinstance(op, ApproxPredictOp)
        if not _has_symbol_table_ancestor(op):
            return  # a detached op: symbol uses are checked once it is in a module
        model = SymbolTable.lookup_symbol(op, op.model)
        if not isinstance(model, FuncOp):
            raise VerifyException(f"'{op.model}' does not reference a func.func")
        expected = FunctionType.from_lists([op.features.type], [op.probabilities.type])
        if model.function_type != expected:
            raise VerifyException(
                f"model '{op.model}' has type {model.function_type}, expected {expected}"
            )


@irdl_op_definition
class ApproxPredictOp(IRDLOperation):
    """Run the cheap (approximate) model on the cheap feature groups of a batch.

    `model` names a `func.func` of the enclosing module whose type is exactly
    `(features) -> probabilities`.  The result holds one probability per row (binary)
    or one row of K class probabilities.

    ```mlir
    %p = cascade.approx_predict @cheap(%x) : (tensor<?x4xf64>) -> tensor<?x2xf64>
    ```
    """

    name = "cascade.approx_predict"

    model = prop_def(SymbolRefAttr)
    features = operand_def(TensorType)
    probabilities = result_def(TensorType)

    # Not Pure: like func.call, a model call may reach opaque Python ops.
    traits = traits_def(ModelSymbolUser())

    assembly_format = (
        "$model `(` $features `)` attr-dict `:` functional-type($features, $probabilities)"
    )

    def __init__(
        self,
        model: str | SymbolRefAttr,
        features: SSAValue | Operation,
        result_type: Attribute,
    ) -> None:
        if isinstance(model, str):
            model = SymbolRefAttr(model)
        super().__init__(
            operands=[features],
            properties={"model": model},
            result_types=[result_type],
        )

    def verify_(self) -> None:
        _batch_type(self.features.type, "features")
        _num_classes(self.probabilities.type, "result")


@irdl_op_definition
class ConfidenceMaskOp(IRDLOperation):
    """Mark the rows whose approximate prediction is confident enough to be final.

    Row `i` is settled when `metric(probabilities[i]) >= threshold`.  The metric is
    `top_probability` (the largest class probability, `max(p, 1 - p)` for a binary
    score, so the threshold lies in `[1/K, 1]`, `[0.5, 1]` when binary) or `margin`
    (largest minus second-largest probability, threshold in `[0, 1]`).

    ```mlir
    %settled = cascade.confidence_mask top_probability(%p) >= 9.000000e-01 : tensor<?xf64>
    %settled3 = cascade.confidence_mask margin(%q) >= 2.500000e-01 : tensor<?x3xf64>
    ```
    """

    name = "cascade.confidence_mask"

    metric = prop_def(ConfidenceMetricAttr)
    threshold = prop_def(FloatAttr[Float64Type])
    probabilities = operand_def(TensorType)
    settled = result_def(EqAttrConstraint(MASK_TYPE))

    traits = traits_def(Pure())

    def __init__(
        self,
        probabilities: SSAValue | Operation,
        threshold: float | FloatAttr[Float64Type],
        metric: ConfidenceMetric = ConfidenceMetric.TOP_PROBABILITY,
    ) -> None:
        if not isinstance(threshold, FloatAttr):
            threshold = FloatAttr(threshold, f64)
        super().__init__(
            operands=[probabilities],
            properties={"metric": ConfidenceMetricAttr(metric), "threshold": threshold},
            result_types=[MASK_TYPE],
        )

    def verify_(self) -> None:
        num_classes = _num_classes(self.probabilities.type, "probabilities")
        threshold = self.threshold.value.data
        if self.metric.data == ConfidenceMetric.TOP_PROBABILITY:
            low = 1.0 / num_classes
        else:
            low = 0.0
        if not low <= threshold <= 1.0:
            raise VerifyException(
                f"{self.metric.data} threshold must lie in [{low:g}, 1] for "
                f"{num_classes} classes, got {threshold:g}"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.metric.data}(")
        printer.print_operand(self.probabilities)
        printer.print_string(") >= ")
        printer.print_float(self.threshold.value.data, f64)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.probabilities.type)

    @classmethod
    def parse(cls, parser: Parser) -> ConfidenceMaskOp:
        metric = parser.parse_str_enum(ConfidenceMetric)
        parser.parse_punctuation("(")
        unresolved = parser.parse_unresolved_operand()
        parser.parse_punctuation(")")
        parser.parse_punctuation(">")  # `>=` lexes as two tokens
        parser.parse_punctuation("=")
        threshold = parser.parse_float()
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        probabilities = parser.resolve_operand(unresolved, parser.parse_type())
        op = cls(probabilities, threshold, metric)
        op.attributes.update(attributes)
        return op


# endregion

# region Row selection


@irdl_op_definition
class CompactOp(IRDLOperation):
    """Keep the unsettled rows of a batch, in order, with their original row indices.

    `rest` holds the rows `i` of `input` where `settled[i]` is false; `rows[j]` is the
    index in `input` of `rest[j]`.  `input` is any batch (a tensor or a frame), and `rest`
    has its type.

    ```mlir
    %rest, %rows = cascade.compact %x drop %settled : tensor<?x8xf64>
    %texts, %rows2 = cascade.compact %df drop %settled : !pipeline.frame<"text" : !pipeline.str>
    ```
    """

    name = "cascade.compact"

    T: ClassVar = VarConstraint("T", base(TensorType) | base(FrameType))

    input = operand_def(T)
    settled = operand_def(EqAttrConstraint(MASK_TYPE))
    rest = result_def(T)
    rows = result_def(EqAttrConstraint(INDEX_TYPE))

    traits = traits_def(Pure())

    assembly_format = "$input `drop` $settled attr-dict `:` type($input)"

    def __init__(self, input: SSAValue | Operation, settled: SSAValue | Operation) -> None:
        super().__init__(
            operands=[input, settled],
            result_types=[SSAValue.get(input).type, INDEX_TYPE],
        )

    def verify_(self) -> None:
        _batch_type(self.input.type, "input")


@irdl_op_definition
class SelectRowsOp(IRDLOperation):
    """Take each row from the approximate result where it is settled, else from the full one.

    Both results are computed for every row: this is the cascade before `schedule-lazy`
    makes the full result lazy (`cascade.compact`, `cascade.lazy_branch`, `cascade.merge`).
    A result is a batch tensor, a frame, or a `!pipeline.object` packed of batches (a
    tuple, list or dict): its rows are those of each part.

    ```mlir
    %y = cascade.select_rows %settled, %approx, %full : tensor<?xf64>
    %t = cascade.select_rows %settled, %approx_pair, %full_pair : !pipeline.object
    ```
    """

    name = "cascade.select_rows"

    T: ClassVar = VarConstraint("T", RESULT_CONSTRAINT)

    settled = operand_def(EqAttrConstraint(MASK_TYPE))
    approx = operand_def(T)
    full = operand_def(T)
    result = result_def(T)

    traits = traits_def(Pure())

    assembly_format = "$settled `,` $approx `,` $full attr-dict `:` type($result)"

    def __init__(
        self,
        settled: SSAValue | Operation,
        approx: SSAValue | Operation,
        full: SSAValue | Operation,
    ) -> None:
        super().__init__(
            operands=[settled, approx, full], result_types=[SSAValue.get(approx).type]
        )

    def verify_(self) -> None:
        _result_type(self.result.type, "result")


@irdl_op_definition
class MergeOp(IRDLOperation):
    """Write the full model's results for the compacted rows back into the batch.

    The result is `approx` with row `rows[j]` replaced by `full[j]` for every `j`: the
    settled rows keep their approximate result and row order is that of `approx` (a frame's
    or a packed value's rows: those of each part, as in `cascade.select_rows`).

    ```mlir
    %y = cascade.merge %full into %p at %rows : tensor<?x2xf64>
    ```
    """

    name = "cascade.merge"

    T: ClassVar = VarConstraint("T", RESULT_CONSTRAINT)

    full = operand_def(T)
    approx = operand_def(T)
    rows = operand_def(EqAttrConstraint(INDEX_TYPE))
    result = result_def(T)

    traits = traits_def(Pure())

    assembly_format = "$full `into` $approx `at` $rows attr-dict `:` type($result)"

    def __init__(
        self,
        full: SSAValue | Operation,
        approx: SSAValue | Operation,
        rows: SSAValue | Operation,
    ) -> None:
        super().__init__(operands=[full, approx, rows], result_types=[SSAValue.get(approx).type])

    def verify_(self) -> None:
        _result_type(self.result.type, "result")


# endregion

# region Lazy expensive branch


@irdl_op_definition
class LazyBranchOp(IRDLOperation):
    """Compute the expensive feature groups and the full model on the compacted rows.

    The body runs once, on the rows a `cascade.compact` kept: its block arguments are
    bound to the operands, and its `cascade.yield` gives the results, one row per
    compacted row.  Lowering may skip the body entirely when no row is left.

    ```mlir
    %full = cascade.lazy_branch(%r = %rest) : (tensor<?x8xf64>) -> tensor<?x2xf64> {
      %q = func.call @full(%r) : (tensor<?x8xf64>) -> tensor<?x2xf64>
      cascade.yield %q : tensor<?x2xf64>
    }
    ```
    """

    name = "cascade.lazy_branch"

    inputs = var_operand_def(base(TensorType) | base(FrameType))
    outputs = var_result_def(RESULT_CONSTRAINT)
    body = region_def("single_block")

    traits = traits_def(RecursiveMemoryEffect())

    def __init__(
        self,
        inputs: Sequence[SSAValue | Operation],
        result_types: Sequence[Attribute],
        body: Region | Block,
    ) -> None:
        if isinstance(body, Block):
            body = Region(body)
        super().__init__(operands=[inputs], result_types=[result_types], regions=[body])

    @staticmethod
    def build(
        inputs: Sequence[SSAValue | Operation], result_types: Sequence[Attribute]
    ) -> LazyBranchOp:
        """A branch whose body block has one argument per input and no ops yet."""
        block = Block(arg_types=[SSAValue.get(value).type for value in inputs])
        return LazyBranchOp(inputs, result_types, block)

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("expects at least one compacted input")
        if not self.outputs:
            raise VerifyException("expects at least one result")
        for index, value in enumerate(self.inputs):
            _batch_type(value.type, f"input #{index}")
        for index, value in enumerate(self.outputs):
            _result_type(value.type, f"result #{index}")
        block = self.body.block
        input_types = self.inputs.types
        if block.arg_types != input_types:
            raise VerifyException(
                f"body arguments {_types(block.arg_types)} must match the inputs "
                f"{_types(input_types)}"
            )
        terminator = block.last_op
        if not isinstance(terminator, YieldOp):
            raise VerifyException("body must end with a cascade.yield")
        if terminator.values.types != self.outputs.types:
            raise VerifyException(
                f"cascade.yield types {_types(terminator.values.types)} must match "
                f"the results {_types(self.outputs.types)}"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string("(")
        printer.print_list(
            zip(self.body.block.args, self.inputs, strict=True),
            lambda pair: print_assignment(printer, *pair),
        )
        printer.print_string(") : ")
        printer.print_attribute(FunctionType.from_lists(self.inputs.types, self.outputs.types))
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> LazyBranchOp:
        pos = parser.pos
        assignments = parser.parse_comma_separated_list(
            Parser.Delimiter.PAREN, lambda: parse_assignment(parser)
        )
        parser.parse_punctuation(":")
        function_type = parser.parse_function_type()
        if len(function_type.inputs) != len(assignments):
            parser.raise_error(
                f"expected {len(assignments)} input types, got {len(function_type.inputs)}",
                pos,
                parser.pos,
            )
        operands: list[UnresolvedOperand] = [operand for _, operand in assignments]
        inputs = parser.resolve_operands(operands, function_type.inputs.data, pos)
        arguments = [
            argument.resolve(arg_type)
            for (argument, _), arg_type in zip(assignments, function_type.inputs, strict=True)
        ]
        body = parser.parse_region(arguments)
        attributes = parser.parse_optional_attr_dict()
        op = cls(inputs, function_type.outputs.data, body)
        op.attributes.update(attributes)
        return op


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Terminate a `cascade.lazy_branch` body, giving its results.

    ```mlir
    cascade.yield %q : tensor<?x2xf64>
    ```
    """

    name = "cascade.yield"

    values = var_operand_def()

    traits = traits_def(Pure(), IsTerminator(), ReturnLike(), HasParent(LazyBranchOp))

    assembly_format = "attr-dict ($values^ `:` type($values))?"

    def __init__(self, *values: SSAValue | Operation) -> None:
        super().__init__(operands=[values])


# endregion

# region Top-K


@irdl_op_definition
class TopKCandidatesOp(IRDLOperation):
    """Pick the candidate rows of a top-K query from the cheap model's scores.

    The result holds the indices of the `min(n, ceil(k * oversample))` rows with the
    highest `scores`, highest first (ties by lower index); `oversample >= 1` defaults
    to 1.  `k` is an operand because K is chosen at call time.

    ```mlir
    %candidates = cascade.topk_candidates %scores, %k : tensor<?xf64>
    %wider = cascade.topk_candidates %scores, %k oversample 2.500000e+00 : tensor<?xf64>
    ```
    """

    name = "cascade.topk_candidates"

    oversample = opt_prop_def(FloatAttr[Float64Type])
    scores = operand_def(EqAttrConstraint(SCORE_TYPE))
    k = operand_def(EqAttrConstraint(i64))
    candidates = result_def(EqAttrConstraint(INDEX_TYPE))

    traits = traits_def(Pure())

    def __init__(
        self,
        scores: SSAValue | Operation,
        k: SSAValue | Operation,
        oversample: float | FloatAttr[Float64Type] | None = None,
    ) -> None:
        if oversample is not None and not isinstance(oversample, FloatAttr):
            oversample = FloatAttr(oversample, f64)
        super().__init__(
            operands=[scores, k],
            properties={"oversample": oversample},
            result_types=[INDEX_TYPE],
        )

    def verify_(self) -> None:
        if self.oversample is None:
            return
        oversample = self.oversample.value.data
        if not (math.isfinite(oversample) and oversample >= 1.0):
            raise VerifyException(f"oversample must be a finite number >= 1, got {oversample:g}")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.scores)
        printer.print_string(", ")
        printer.print_operand(self.k)
        if self.oversample is not None:
            printer.print_string(" oversample ")
            printer.print_float(self.oversample.value.data, f64)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.scores.type)

    @classmethod
    def parse(cls, parser: Parser) -> TopKCandidatesOp:
        scores = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        k = parser.parse_unresolved_operand()
        oversample = parser.parse_float() if parser.parse_optional_keyword("oversample") else None
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        scores_type = parser.parse_type()
        op = cls(
            parser.resolve_operand(scores, scores_type), parser.resolve_operand(k, i64), oversample
        )
        op.attributes.update(attributes)
        return op


# endregion


Cascade = Dialect(
    "cascade",
    [
        # Cheap model
        ApproxPredictOp,
        ConfidenceMaskOp,
        # Row selection
        CompactOp,
        SelectRowsOp,
        MergeOp,
        # Lazy expensive branch
        LazyBranchOp,
        YieldOp,
        # Top-K
        TopKCandidatesOp,
    ],
    [ConfidenceMetricAttr],
)
