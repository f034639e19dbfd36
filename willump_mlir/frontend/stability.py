"""Where a native value's pandas dtype could differ on a later batch, and show.

Native code computes each value in one element type, chosen on the example. pandas chooses
some result dtypes per batch:

* a lookup of a table of ints (``.map(dict)``, ``.reindex``, a left ``merge``) is int64
  where every key of the batch is found and float64 (NaN) where one is not; a
  ``get_dummies`` column is bool where its value occurs and the fill's int64 where it does
  not (``StringVocab.unstable``: such IR values, and a join's gathered values with a
  column position);
* a ``.dt`` field of dates with NaT on the example is float64 (NaN), int32 on a batch
  without NaT (``DateLowering.attribute``);
* arithmetic follows the dtypes of the columns it reads: ``df["a"] * 2`` is int64 for an
  int64 column, float32 for a float32 one, where native code read the example's float64.

A value computed from these is shown by pandas where it reaches Python code or the
function's result (a ``pipeline.python_call`` operand, ``func.return``), unless an op on
the way fixes its dtype: a model or transformer (float64 or its labels), a comparison
(bool), arithmetic beside a float64 operand (``df["flag"].map({"yes": 1}) * df["x"]`` is
float64 whether the lookup is int64 or float64), ``to_numpy(dtype=float)``, a join (pandas
computes a merged frame that leaves native code), a Python call (its result dtype is
checked at run time). ``check_results`` walks back from those uses after tracing: an
unstable lookup there is ``Unsupported`` (the statement runs in Python, where pandas
computes it), and the numeric columns of data arguments read there are returned, so that
the runtime runs the original function on a batch whose column has another dtype than the
example's (``ArgumentSpec.dtypes``). So is a str column that a native ``fillna(str)``,
lookup (``.map``, ``replace``) or ``+`` reads: pandas refuses a ``category`` batch there or
gives a category (``category_columns``), which a model would read otherwise (LightGBM's
categorical features). So is a float64 column that native arithmetic computes on where
numpy would compute in int64 on a batch of integers (``integer_arithmetic``: ``a * a``
wraps modulo 2^64, ``a + b + c`` is exact beyond 2^53), whatever fixes the result's dtype
later.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects import func
from xdsl.dialects.builtin import TensorType, f64
from xdsl.ir import Block, BlockArgument, Operation, SSAValue

from willump_mlir.dialects import feature
from willump_mlir.dialects.pipeline import (
    COMPARISONS,
    FLOAT_FUNCTIONS,
    INTEGER_UNARY_FUNCTIONS,
    BinaryOp,
    CastOp,
    PredictOp,
    PythonCallOp,
    ReduceOp,
    StrConcatOp,
    StrFillOp,
    ToArrayOp,
    TransformOp,
    UnaryOp,
)

from .spec import ArgumentSpec, Unsupported

if TYPE_CHECKING:
    from .tracer import Tracer

#: ops whose result dtype does not depend on their operands' dtypes
_FIXED = (PredictOp, TransformOp, PythonCallOp, feature.JoinOp)

#: (data argument position, column name; None for a 2-D array argument)
ArgumentColumn = tuple[int, str | None]


def _fixes_dtype(op: Operation) -> bool:
    return isinstance(op, _FIXED) or (
        isinstance(op, BinaryOp) and op.function.data in COMPARISONS
    )


@dataclass
class _Walk:
    """Walks back from values that reach Python code or the result."""

    unstable: dict[Hashable, str]  # and what each is
    fixed: set[SSAValue]  # values whose dtype the code fixes (``to_numpy(dtype=float)``)
    floating: set[Hashable]  # a join's gathered values and position of a float column
    examples: dict[SSAValue, object]  # the data arguments' examples
    read: set[ArgumentColumn] = field(default_factory=set)
    found: list[str] = field(default_factory=list)  # the unstable values reached, what they are
    seen: set[SSAValue] = field(default_factory=set)
    # per arithmetic op: the argument columns its operands read if it is float64 beside an
    # f64 batch, else None; shared with the walks it starts (each op's operands walked once)
    float_arithmetic: dict[Operation, set[ArgumentColumn] | None] = field(default_factory=dict)

    def floats(self, source: SSAValue, column: str | int) -> bool:
        """Whether pandas' column ``column`` of ``source`` is float (the example's dtype of an
        argument column, which the runtime checks where it shows)."""
        if isinstance(column, int):
            return (source, column) in self.floating
        example = self.examples.get(source)
        return isinstance(example, pd.DataFrame) and example[column].dtype.kind == "f"

    def __call__(self, value: SSAValue) -> bool:
        """Add to ``read`` the f64 argument columns ``value`` is computed from; whether it is
        computed from an ``unstable`` value (both through ops that do not fix the dtype)."""
        found = False
        stack = [value]
        while stack:
            current = stack.pop()
            if current in self.seen:
                continue
            self.seen.add(current)
            if current in self.unstable:
                found = True
                self.found.append(self.unstable[current])
            if isinstance(current, BlockArgument) and isinstance(current.type, TensorType):
                self.read.add((current.index, None))
            op = current.owner
            if not isinstance(op, Operation) or _fixes_dtype(op) or current in self.fixed:
                continue
            if self._float_arithmetic(op):
                continue
            if not isinstance(op, ToArrayOp):
                stack.extend(op.operands)
                continue
            f64_read = op.result.type.get_element_type() == f64  # i64, i1: read exactly
            columns = [feature.resolve_column(op.frame, name.data) for name in op.columns.data]
            # beside a float column, pandas' matrix is float64 whatever the others' dtypes
            floating = f64_read and any(self.floats(*c) for c in columns)
            for source, column in columns:
                if isinstance(column, int):  # a join's gathered values
                    if (source, column) in self.unstable and not floating:
                        found = True
                        self.found.append(self.unstable[(source, column)])
                elif not isinstance(source, BlockArgument):
                    stack.append(source)
                elif f64_read:
                    self.read.add((source.index, column))
        return found

    def _float_arithmetic(self, op: Operation) -> bool:
        """Whether ``op`` is arithmetic beside an f64 batch computed from no unstable value,
        so float64 in pandas on every batch native code runs (not a constant: ``x * 2`` is
        an f64 constant beside an f64 ``x``, an int in Python): numpy's result is then
        float64 of the same values whether the other operand is int64, bool or float64 (an
        unstable value's ints are exact in float64, or rounded as numpy rounds them). The
        argument columns its operands read are read all the same."""
        if not isinstance(op, BinaryOp) or op.function.data in COMPARISONS \
                or not _f64_batch(op.results[0]):  # fmt: skip
            return False
        if op not in self.float_arithmetic:
            walks = [_Walk(self.unstable, self.fixed, self.floating, self.examples,
                           float_arithmetic=self.float_arithmetic)
                     for _ in op.operands]  # fmt: skip
            found = [walk(operand) for walk, operand in zip(walks, op.operands, strict=True)]
            pairs = zip(op.operands, found, strict=True)
            beside_f64 = not all(unstable or not _f64_batch(operand) for operand, unstable in pairs)
            reads = set().union(*(walk.read for walk in walks))
            self.float_arithmetic[op] = reads if beside_f64 else None
        read = self.float_arithmetic[op]
        if read is None:
            return False
        self.read |= read
        return True


def _f64_batch(value: SSAValue) -> bool:
    return isinstance(value.type, TensorType) and value.type.get_element_type() == f64


def batch_dependent(tracer: Tracer, value: SSAValue) -> str | None:
    """What ``value`` is computed from (through ops that do not fix its dtype) whose pandas
    dtype depends on the batch (a ``.dt`` field of dates with NaT on the example: float64,
    int32 on a batch without), None if nothing: nullable arithmetic beside it is ``Int64``
    or ``Float64`` by the batch."""
    walk = _Walk(tracer.vocab.unstable, tracer.vocab.fixed, tracer.lookups.floating,
                 tracer.examples)  # fmt: skip
    return walk.found[0] if walk(value) else None


def check_results(
    block: Block, unstable: dict[Hashable, str], fixed: set[SSAValue], floating: set[Hashable],
    examples: dict[SSAValue, object],
) -> set[ArgumentColumn]:  # fmt: skip
    """The f64 argument columns whose dtype can show in Python code or the result;
    ``Unsupported`` if a value whose pandas dtype depends on the batch can (``fixed``: values
    of a dtype the code fixes; ``floating``: a join's float columns; ``examples``: the data
    arguments')."""
    walk = _Walk(unstable, fixed, floating, examples)
    for op in block.ops:
        if not isinstance(op, PythonCallOp | func.ReturnOp):
            continue
        for operand in op.operands:
            if operand not in walk.seen and walk(operand):
                raise Unsupported(
                    f"{walk.found[0]}, a value whose pandas dtype depends on the batch, "
                    "reaches Python code or the result: pandas computes it there"
                )
    return walk.read


def category_columns(block: Block, strict: Iterable[Operation]) -> set[ArgumentColumn]:
    """The str argument columns read by ops in ``block`` whose pandas counterpart refuses a
    category column or gives another dtype: the ``feature.encode_strings`` ops ``strict``
    (a native ``fillna(str)`` read as codes, or a lookup), ``str_fill`` and
    concatenations."""
    kept = set(strict)
    found: set[ArgumentColumn] = set()
    for op in block.ops:
        if isinstance(op, feature.EncodeStringsOp) and op in kept:
            read = [(op.frame, op.column.data)]
        elif isinstance(op, StrConcatOp):
            read = [(v, v.type.columns[0][0]) for v in op.inputs]  # type: ignore[attr-defined]
        elif isinstance(op, StrFillOp):
            read = [(op.input, op.input.type.columns[0][0])]  # type: ignore[attr-defined]
        else:
            continue
        for frame, name in read:
            source, column = feature.resolve_column(frame, name)
            if isinstance(source, BlockArgument) and isinstance(column, str):
                found.add((source.index, column))
    return found


def record_dtypes(tracer: Tracer, specs: list[ArgumentSpec], values: list[object]) -> None:
    """Set the ``dtypes`` of the traced function's data arguments (``values``: the example's
    arguments): the example's dtype of each column whose dtype can show; ``Unsupported`` if a
    value whose pandas dtype depends on the batch can show (``check_results``)."""
    data = [s for s in specs if s.kind != "bound"]
    examples = [v for s, v in zip(specs, values, strict=True) if s.kind != "bound"]
    block = tracer.block
    vocab = tracer.vocab
    shown = check_results(block, vocab.unstable, vocab.fixed, tracer.lookups.floating,
                          tracer.examples)  # fmt: skip
    shown |= category_columns(block, vocab.strict)
    shown |= tracer.nullable.computed  # pd.NA arithmetic: a float64 NaN is no NA
    shown |= tracer.dtyped  # the columns select_dtypes chooses from
    for position, column in integer_arithmetic(block, tracer.lookups.floating, tracer.examples):
        if getattr(_example_dtype(examples[position], column), "kind", "") == "f":
            shown.add((position, column))  # (numpy converts an int example to float too)
    for position, column in sorted(shown, key=str):
        dtype = _example_dtype(examples[position], column)
        if dtype is not None:  # (a list of str has none)
            data[position].dtypes = (data[position].dtypes or {}) | {column or "": str(dtype)}
    for position, column in sorted(_float_reads(block), key=str):
        dtype = _example_dtype(examples[position], column)
        bools = {column or "": dtype == np.bool_}
        data[position].bools = (data[position].bools or {}) | bools


#: numpy's integer arithmetic that differs from float64's on integers below 2^53: exact
#: beyond 2^53 (``a * b``, chained sums, ``sum``), wrapping modulo 2^64 (``a * a``), 0 for
#: an array's zero divisor (``a // 0``, ``a % 0``, ``np.fmod(a, 0)``); pandas' ``mean`` of
#: ints sums them as float64 in numpy's 8,192-value buffers, not pairwise over the column
_INTEGER_ARITHMETIC = {
    BinaryOp: ("add", "sub", "mul", "power", "floor_divide", "remainder", "fmod"),
    UnaryOp: ("square",),
    ReduceOp: ("sum", "mean"),
}
#: reductions that pandas computes on ints converted to float64 first
_FLOAT_REDUCTIONS = ("var", "std", "median")


def _computes_in_integers(op: Operation) -> bool:
    """Whether ``op`` is native float64 arithmetic that numpy computes in int64 on integer
    operands (``_INTEGER_ARITHMETIC``)."""
    if not isinstance(op, BinaryOp | UnaryOp | ReduceOp):
        return False
    typ = op.result.type
    element = typ.get_element_type() if isinstance(typ, TensorType) else typ
    return op.function.data in _INTEGER_ARITHMETIC[type(op)] and element == f64


def _gives_float(op: Operation) -> bool:
    """Whether numpy's result of ``op`` is float64 (or a cast's dtype) whatever the dtype of
    its operands: an integer batch is converted exactly (below 2^53), as native code reads
    it."""
    if isinstance(op, BinaryOp):
        return op.function.data in FLOAT_FUNCTIONS + COMPARISONS
    if isinstance(op, UnaryOp):
        return op.function.data not in INTEGER_UNARY_FUNCTIONS
    if isinstance(op, ReduceOp):
        return op.function.data in _FLOAT_REDUCTIONS
    return isinstance(op, CastOp)


def integer_arithmetic(
    block: Block, floating: set[Hashable], examples: dict[SSAValue, object]
) -> set[ArgumentColumn]:
    """The f64 argument columns that native float64 arithmetic in ``block`` computes on
    (through ops that keep integers integers): a batch of integers there where the
    example's were floats runs the original, where numpy computes in int64
    (``_INTEGER_ARITHMETIC``). Columns that only a model or a float function reads
    (scikit-learn converts to float64, ``np.log`` too) stay native."""
    fixed = {op.results[0] for op in block.ops if _gives_float(op)}
    walk = _Walk({}, fixed, floating, examples)
    for op in block.ops:
        if _computes_in_integers(op):
            for operand in op.operands:
                walk(operand)
    return walk.read


def _example_dtype(example: object, column: str | None) -> object:
    """The dtype of ``column`` of a frame ``example``, else of ``example`` itself."""
    if isinstance(example, pd.DataFrame) and column is not None:
        return example[column].dtype
    return getattr(example, "dtype", None)


def _float_reads(block: Block) -> set[ArgumentColumn]:
    """The argument columns and arrays native code in ``block`` reads as float64."""
    found: set[ArgumentColumn] = {
        (a.index, None) for a in block.args if isinstance(a.type, TensorType) and a.uses
    }
    for op in block.ops:
        if isinstance(op, ToArrayOp) and op.result.type.get_element_type() == f64:
            for name in op.columns.data:
                source, column = feature.resolve_column(op.frame, name.data)
                if isinstance(source, BlockArgument) and isinstance(column, str):
                    found.add((source.index, column))
    return found
