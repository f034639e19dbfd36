"""lower-feature-to-scf: turn a function of row-wise ops into native row-loop kernels.

Every ``feature`` op and every array op of the ``pipeline`` dialect computes a row of its
result from the same row of its operands, so a whole function becomes one ``scf.for`` over
rows in which each value is a handful of scalars: no intermediate matrix exists.
``pipeline.python_call`` ops cannot run natively; they split the function into stages. Stage
``k`` holds the native ops that depend on the results of ``k`` Python calls, and becomes
the kernel ``@<fn>_stage<k>``. Values that cross a stage boundary (a Python call's operands,
its results, the function's results) travel through buffers.

A kernel has the signature ``(n: index, err: memref<?xi64>, outputs..., inputs...)``.
Inputs are the columns of frames (f64 values, or a string column's UTF-8 ``bytes``,
``offsets`` and ``missing`` flags) and row-major matrices; blobs become external
``memref.global`` symbols. Run-time errors (NaN into a model, an unknown category) are
recorded in ``err`` as ``[kind, row, column]``, first error wins.

```mlir
func.func @score_stage0(%n: index, %err: memref<?xi64>, %out: memref<?xf64>,
                        %x: memref<?xf64>) attributes {willump.kernel} {
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %x[%i] : memref<?xf64>
    ...
    memref.store %p, %out[%i] : memref<?xf64>
  }
  func.return
}
```
The module gets a ``willump.schedule`` attribute: the kernels and Python calls in the order
the runtime runs them, and the values the function returns.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, builtin, func, math, memref, scf
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    ArrayAttr,
    DictionaryAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    StringAttr,
    TensorType,
    UnitAttr,
    f32,
    f64,
    i1,
    i8,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from willump_mlir.abi import (
    FNV_OFFSET,
    FNV_PRIME,
    MISSING_NAN,
    ROW_HANDOFFS,
    UFUNC_LOOPS,
    ErrorKind,
    signed64,
)
from willump_mlir.blobs import BlobStore, blob_store
from willump_mlir.dialects import feature, pipeline
from willump_mlir.dialects.feature import resolve_column
from willump_mlir.dialects.pipeline import BlobAttr, FrameType, batch_width, is_sparse
from willump_mlir.passes.date_kernels import DateEmitter
from willump_mlir.passes.kernel_builder import KernelBuilder, constant_op
from willump_mlir.passes.lookup_kernels import LookupEmitter
from willump_mlir.passes.number_kernels import NumberEmitter
from willump_mlir.passes.reduce_kernels import ReduceEmitter
from willump_mlir.passes.string_kernels import StringEmitter, StrRow
from willump_mlir.passes.text_kernels import TermsRow, TextEmitter, TextRow, WordTokens
from willump_mlir.passes.tree_kernels import TreeEmitter, runs_on_stored_rows
from willump_mlir.passes.ufunc_kernels import ChunkRead, UfuncEmitter

index = IndexType()

#: XGBoost's sigmoid clamps its exponent to the float ``88.7f`` (this double).
XGBOOST_EXP_LIMIT = 88.69999694824219
#: A batch with a row whose terms in a dense linear model may add up to this much (its
#: largest ``|x|`` times the largest ``Σ|coef| + |intercept|`` of an output) runs the
#: original function. Below it no order of the additions overflows (each partial sum of any
#: order, FMA or not, is at most that, up to rounding; the parts ``fuse-features`` splits a
#: model into add up to a few times that), so the kernel's sum and BLAS's agree up to
#: rounding; near the float64 range, one order overflows to inf (or inf - inf = NaN) where
#: the other does not.
LINEAR_MAGNITUDE_LIMIT = 2.0**1000



def _reads_any_precision(op: pipeline.ToArrayOp) -> bool:
    """Whether every user of ``op``'s matrix computes as if it were float64 whatever the
    columns' dtypes: linear models (``X @ coef.T`` with float64 coefficients) and trees that
    compare in float32. The runtime checks the dtypes of other matrices (scikit-learn's
    scalers keep float32)."""
    return all(
        isinstance(use.operation, feature.LinearOp)
        or (
            isinstance(use.operation, feature.TreeEnsembleOp)
            and use.operation.input_precision.data == "f32"
        )
        for use in op.result.uses
    )


def memref_of(element: Attribute, size: int = DYNAMIC_INDEX) -> MemRefType:
    return MemRefType(element, [size])


def dtype_name(element: Attribute) -> str:
    return {f64: "f64", f32: "f32", i64: "i64", i1: "i1"}[element]


@dataclass
class FrameRow:
    """A frame inside a kernel: the frame whose columns are loaded on demand for the row
    (a selection of columns reads from the frame it was selected from)."""

    value: SSAValue


@dataclass
class KernelState:
    """The kernel being built: its entry block, loop body and on-demand inputs."""

    name: str
    entry: Block
    body: Block
    loop: Operation
    row: SSAValue
    #: the values the kernel writes out for later steps
    stored: frozenset[SSAValue] = frozenset()
    inputs: list[DictionaryAttr] = field(default_factory=list)
    column_groups: list[DictionaryAttr] = field(default_factory=list)
    input_args: dict[tuple[SSAValue, str, str, Attribute], SSAValue] = field(default_factory=dict)
    #: the position in ``inputs`` of each input buffer's entry
    input_entries: dict[SSAValue, int] = field(default_factory=dict)
    constants: dict[tuple[Attribute, str], SSAValue] = field(default_factory=dict)
    globals: dict[str, SSAValue] = field(default_factory=dict)
    #: i1 per row: hand the row back to Python, with the reason (an ``abi.ROW_HANDOFFS`` key)
    handed_back: list[tuple[SSAValue, str]] = field(default_factory=list)


#: scikit-learn's ``_handle_zeros_in_scale``: a norm below ``10 * eps`` (float64) is 1.
TINY_NORM = 10 * 2.0**-52


class KernelEmitter(
    LookupEmitter, TextEmitter, TreeEmitter, DateEmitter, ReduceEmitter, StringEmitter,
    NumberEmitter, UfuncEmitter, KernelBuilder,
):  # fmt: skip
    """Emits the scalar code of one stage's ops into a row loop."""

    def __init__(
        self, lowering: FunctionLowering, state: KernelState, ops: Sequence[Operation] = ()
    ):
        super().__init__(state.body)
        self.lowering = lowering
        self.state = state
        self.ops = ops  # the ops of the row loop, in order
        self.rows: dict[SSAValue, list[SSAValue] | FrameRow | TextRow | TermsRow | StrRow] = {}
        #: ops an earlier op lowered with its own (``lower`` passes them by)
        self.lowered_early: set[Operation] = set()
        #: char_wb ``count_terms`` ops whose word loop lists a word op's tokens
        self.word_tokens: dict[Operation, WordTokens] = {}
        #: values rows read from a chunk numpy's loop filled (``ufunc_kernels``)
        self.chunk_reads: dict[SSAValue, ChunkRead] = {}
        #: (block, value) pairs already tested for infinity in that block: a value recorded
        #: there is finite or NaN in every row whose results the runtime keeps
        self.not_infinite: set[tuple[Block, SSAValue]] = set()

    # region Building blocks

    def constant(self, value: float | int, typ: Attribute) -> SSAValue:
        """A constant of the kernel, defined once, before its row loop."""
        key = (typ, repr(value))  # repr keeps -0.0 and NaN apart from 0.0
        if key not in self.state.constants:
            op = self.builder.insert(constant_op(value, typ), InsertPoint.before(self.state.loop))
            self.state.constants[key] = op.result
        return self.state.constants[key]

    def blob(self, blob: BlobAttr) -> SSAValue:
        symbol = blob.symbol.data
        if symbol not in self.state.globals:
            element = blob.type.get_element_type()
            element = (
                i8 if isinstance(element, IntegerType) and element.width.data == 8 else element
            )
            self.lowering.declare_global(symbol, memref_of(element, blob.size))
            op = memref.GetGlobalOp(symbol, memref_of(element, blob.size))
            self.builder.insert(op, InsertPoint.before(self.state.loop))
            self.state.globals[symbol] = op.memref
        return self.state.globals[symbol]

    def blob_value(self, blob: BlobAttr, position: SSAValue | int) -> SSAValue:
        return self.load(self.blob(blob), position)

    def input(
        self, source: SSAValue, column: str, part: str, element: Attribute, text: bool = False
    ) -> SSAValue:
        """The kernel argument holding ``part`` of ``column`` of ``source`` (a ``text`` column
        keeps lone surrogates, whose rows run in Python, where other string columns refuse
        them)."""
        if column:  # a column a join passes on is read from the frame it comes from
            source, column = resolve_column(source, column)  # type: ignore[assignment]
        key = (source, column, part, element)
        if key not in self.state.input_args:
            arg = self.state.entry.insert_arg(memref_of(element), len(self.state.entry.args))
            entry: dict[str, Attribute] = {
                "value": StringAttr(self.lowering.value_name(source)),
                "part": StringAttr(part),
                "dtype": StringAttr(dtype_name(element) if element != i8 else "i8"),
            }
            if text:
                entry["text"] = IntegerAttr(1, i64)
            if column:
                entry["column"] = StringAttr(column)
            else:
                width = 1 if part == "scalar" else batch_width(source.type)
                entry["width"] = IntegerAttr(width, i64)
            self.state.input_entries[arg] = len(self.state.inputs)
            self.state.inputs.append(DictionaryAttr(entry))
            self.state.input_args[key] = arg
        return self.state.input_args[key]

    def row_offset(self, width: int) -> SSAValue:
        if width == 1:
            return self.state.row
        return self.emit(arith.MuliOp(self.state.row, self.constant(width, index)))

    def at(self, base: SSAValue, j: int) -> SSAValue:
        return base if j == 0 else self.emit(arith.AddiOp(base, self.constant(j, index)))

    def report_error(self, failed: SSAValue, kind: ErrorKind, column: int) -> None:
        """Record ``[kind, row, column]`` in ``err`` if ``failed`` and no error is recorded."""
        err = self.state.entry.args[1]
        first = self.cmpi("eq", self.load(err, 0), self.constant(0, i64))
        store = self.emit(arith.AndIOp(failed, first))
        row = self.emit(arith.IndexCastOp(self.state.row, i64))
        record = (self.constant(int(kind), i64), row, self.constant(column, i64))

        def write() -> None:
            for slot, value in enumerate(record):
                self.emit(memref.StoreOp.get(value, err, [self.constant(slot, index)]))

        self.if_then(store, write)

    # endregion
    # region Row values

    def row_of(self, value: SSAValue) -> list[SSAValue]:
        if value not in self.rows and isinstance(value.owner, pipeline.ConstantOp):
            self.rows[value] = self.pipeline_constant(value.owner)  # defined in another stage
        if value not in self.rows:
            self.rows[value] = self.load_input_row(value)
        row = self.rows[value]
        assert isinstance(row, list), f"{value.type} is not a batch"
        return row

    def frame_of(self, value: SSAValue) -> FrameRow:
        if value not in self.rows:
            assert isinstance(value.type, FrameType)
            self.rows[value] = FrameRow(value)
        row = self.rows[value]
        assert isinstance(row, FrameRow)
        return row

    def load_input_row(self, value: SSAValue) -> list[SSAValue]:
        """A batch computed outside this kernel: a row-major buffer argument; a scalar
        (a batch reduction) is a one-value ``scalar`` argument, the same for every row."""
        if value.type in (f64, i64) and is_scalar_op(value.owner):
            return [self.load(self.input(value, "", "scalar", value.type), 0)]
        if not isinstance(value.type, TensorType):  # a scalar defined elsewhere
            raise NotImplementedError(f"cannot pass {value.type} into a kernel")
        width = batch_width(value.type)
        element = value.type.get_element_type()
        ref = self.input(value, "", "values", i8 if element == i1 else element)
        base = self.row_offset(width)
        loaded = [self.load(ref, self.at(base, j)) for j in range(width)]
        if element == i1:
            loaded = [self.emit(arith.TruncIOp(v, i1)) for v in loaded]
        return loaded

    def column(self, frame: FrameRow, name: str, element: Attribute = f64) -> SSAValue:
        """The value of numeric column ``name`` in the current row, as ``element`` (f64 for
        any numeric column; i64 or i1 the runtime reads from int64 or bool columns only)."""
        joined = self.joined_column(frame, name)
        if joined is not None:
            if element != f64:
                raise NotImplementedError(f"a joined column read as {element}")
            return joined
        ref = self.input(frame.value, name, "values", i8 if element == i1 else element)
        value = self.load(ref, self.state.row)
        return self.emit(arith.TruncIOp(value, i1)) if element == i1 else value

    def broadcast(self, values: list[SSAValue], width: int) -> list[SSAValue]:
        return values * width if len(values) == 1 and width != 1 else values

    # endregion
    # region Ops

    def lower(self, op: Operation) -> None:
        if op in self.lowered_early:
            return
        handler = self.HANDLERS.get(type(op))
        if handler is None:
            raise NotImplementedError(f"lower-feature-to-scf cannot lower {op.name}")
        result = handler(self, op)
        if result is not None:
            self.rows[op.results[0]] = result

    def to_array(self, op: pipeline.ToArrayOp) -> list[SSAValue]:
        """The columns as one matrix; the runtime checks their common dtype, which decides
        the precision scikit-learn computes in."""
        frame = self.frame_of(op.frame)
        element = op.result.type.get_element_type()
        if element == f64 and not _reads_any_precision(op):
            group = self.column_group(frame, op.columns)
            if group is not None:
                self.state.column_groups.append(group)
        return [self.column(frame, c.data, element) for c in op.columns.data]

    def select_columns(self, op: pipeline.SelectColumnsOp) -> FrameRow:
        return FrameRow(self.frame_of(op.frame).value)

    def hstack(self, op: pipeline.HstackOp) -> list[SSAValue] | TermsRow:
        if is_sparse(op.result.type):  # dense parts: their nonzero entries (csr_matrix)
            return self.hstack_terms([
                self.terms_of(part) if is_sparse(part.type) else self.dense_terms(part)
                for part in op.inputs
            ])  # fmt: skip
        return [v for part in op.inputs for v in self.row_of(part)]

    def take_column(self, op: pipeline.TakeColumnOp) -> list[SSAValue]:
        return [self.row_of(op.input)[op.index.data]]

    def pipeline_constant(self, op: pipeline.ConstantOp) -> list[SSAValue]:
        return [self.constant(op.value.value.data, op.value.type)]

    def pipeline_broadcast(self, op: pipeline.BroadcastOp) -> list[SSAValue]:
        """The scalar in every value of the row (its rows operand is not read)."""
        return self.row_of(op.value) * batch_width(op.result.type)

    UNARY: dict[str, Callable[[KernelEmitter, SSAValue], SSAValue]] = {
        "sqrt": lambda e, x: e.emit(math.SqrtOp(x)),
        "abs": lambda e, x: e.emit(math.AbsFOp(x)),
        "negative": lambda e, x: e.emit(arith.NegfOp(x)),
        "floor": lambda e, x: e.emit(math.FloorOp(x)),
        "ceil": lambda e, x: e.emit(math.CeilOp(x)),
        "trunc": lambda e, x: e.emit(math.TruncOp(x)),
        "rint": lambda e, x: e.emit(math.RoundEvenOp(x)),  # round half to even, as rint
        "fabs": lambda e, x: e.emit(math.AbsFOp(x)),
        "square": lambda e, x: e.emit(arith.MulfOp(x, x)),
        "sign": lambda e, x: e.select(  # numpy's: 0.0 for -0.0 too, NaN for NaN
            e.cmpf("ogt", x, e.constant(0.0, f64)),
            e.constant(1.0, f64),
            e.select(
                e.cmpf("olt", x, e.constant(0.0, f64)),
                e.constant(-1.0, f64),
                e.select(e.cmpf("oeq", x, e.constant(0.0, f64)), e.constant(0.0, f64), x),
            ),
        ),
    }

    INTEGER_UNARY: dict[str, Callable[[KernelEmitter, SSAValue], SSAValue]] = {
        "abs": lambda e, x: e.select(
            e.cmpi("slt", x, e.constant(0, i64)), e.emit(arith.SubiOp(e.constant(0, i64), x)), x
        ),
        "negative": lambda e, x: e.emit(arith.SubiOp(e.constant(0, i64), x)),
        "floor": lambda e, x: x,
        "ceil": lambda e, x: x,
        "trunc": lambda e, x: x,
        "square": lambda e, x: e.emit(arith.MuliOp(x, x)),
        "sign": lambda e, x: e.select(
            e.cmpi("sgt", x, e.constant(0, i64)),
            e.constant(1, i64),
            e.select(e.cmpi("slt", x, e.constant(0, i64)), e.constant(-1, i64), x),
        ),
    }  # numpy's integer ufuncs: they wrap (np.abs(-2**63) is -2**63)

    def unary(self, op: pipeline.UnaryOp) -> list[SSAValue]:
        element = op.result.type.get_element_type()
        if element == i64:
            function = self.INTEGER_UNARY[op.function.data]
            return [function(self, x) for x in self.row_of(op.input)]
        name = op.function.data
        values = self.row_of(op.input)
        if "check_finite" in op.attributes and op.input.type.get_element_type() in (f32, f64):
            self.check_finite(op, values)
        if name == "exp" and "libm" in op.attributes:  # as C code computes it
            return [self.emit(math.ExpOp(self.convert(x, element))) for x in values]
        if name in UFUNC_LOOPS:  # numpy's own loop: its SIMD routines' bits, not libm's
            return [self.ufunc_of_row(name, op.input, k, self.convert(x, element))
                    for k, x in enumerate(values)]  # fmt: skip
        function = self.UNARY[name]  # f32: pipeline.FLOAT32_UNARY, in float32
        return [function(self, self.convert(x, element)) for x in values]

    BINARY: dict[str, Callable[[SSAValue, SSAValue], Operation]] = {
        "add": arith.AddfOp,
        "sub": arith.SubfOp,
        "mul": arith.MulfOp,
        "div": arith.DivfOp,
    }
    # numpy comparisons are False on NaN, except ``!=`` which is True.
    COMPARISONS = {"lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge", "eq": "oeq", "ne": "une"}

    INTEGER_BINARY: dict[str, Callable[[SSAValue, SSAValue], Operation]] = {
        "add": arith.AddiOp,
        "sub": arith.SubiOp,
        "mul": arith.MuliOp,
        "maximum": arith.MaxSIOp,
        "minimum": arith.MinSIOp,
    }  # numpy's int64 arithmetic wraps on overflow, as these do
    INTEGER_COMPARISONS = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge", "eq": "eq",
                           "ne": "ne"}  # fmt: skip

    def convert(self, value: SSAValue, element: Attribute) -> SSAValue:
        """numpy's conversion of a scalar to ``element`` where it promotes (True is 1 or
        1.0; an i64 becomes the nearest f64); a value of ``element`` is returned as is."""
        if value.type == element:
            return value
        if value.type == i1:
            value = self.emit(arith.ExtUIOp(value, i64))
        if element in (f64, f32) and value.type == i64:
            return self.emit(arith.SIToFPOp(value, element))
        if element == f64 and value.type == f32:  # exact
            return self.emit(arith.ExtFOp(value, f64))
        assert value.type == element, f"cannot promote {value.type} to {element}"
        return value

    def binary(self, op: pipeline.BinaryOp) -> list[SSAValue]:
        width = batch_width(op.result.type) if isinstance(op.result.type, TensorType) else 1
        lhs = self.broadcast(self.row_of(op.lhs), width)
        rhs = self.broadcast(self.row_of(op.rhs), width)
        name = op.function.data
        # Integers (and booleans) compare exactly as i64; with a float, as the common float
        # (numpy): f32 values with f32 or bool ones in float32, else in float64.
        element = pipeline.promoted_element({lhs[0].type, rhs[0].type})
        if element == i64 and name in pipeline.FLOAT_FUNCTIONS:
            element = f64
        lhs = [self.convert(v, element) for v in lhs]
        rhs = [self.convert(v, element) for v in rhs]
        pairs = zip(lhs, rhs, strict=True)
        if name in self.COMPARISONS:
            if element == i64:
                return [self.cmpi(self.INTEGER_COMPARISONS[name], a, b) for a, b in pairs]
            return [self.cmpf(self.COMPARISONS[name], a, b) for a, b in pairs]
        if name == "power" and pipeline.libm_power(op):  # numpy's scalar math: C's pow
            return [self.emit(math.PowFOp(a, b)) for a, b in pairs]
        if name in UFUNC_LOOPS:  # power, arctan2: numpy's own loop (a scalar: stride 0)
            if not isinstance(op.rhs.type, TensorType):  # a chunk of rows at a time
                return [self.ufunc_of_row(name, op.lhs, k, a, b) for k, (a, b) in enumerate(pairs)]
            if isinstance(op.lhs.type, TensorType) and \
                    batch_width(op.lhs.type) == batch_width(op.rhs.type) == width:  # fmt: skip
                return [self.ufunc_pair_of_row(name, (op.lhs, op.rhs), k, a, b)
                        for k, (a, b) in enumerate(pairs)]  # fmt: skip
            return [self.ufunc(name, [a, b]) for a, b in pairs]
        table = self.INTEGER_BINARY if element == i64 else self.BINARY  # f32: FLOAT32_BINARY
        if name not in table:  # division ufuncs, extrema... (passes.number_kernels)
            return [self.number_binary(op, a, b) for a, b in pairs]
        return [self.emit(table[name](a, b)) for a, b in pairs]

    def where(self, op: pipeline.WhereOp) -> list[SSAValue]:
        width = batch_width(op.result.type)
        element = op.result.type.get_element_type()
        condition, then_row, else_row = (self.broadcast(self.row_of(v), width) for v in op.operands)
        return [
            self.select(c, self.convert(a, element), self.convert(b, element))
            for c, a, b in zip(condition, then_row, else_row, strict=True)
        ]

    def wrap_int(self, op: pipeline.WrapIntOp) -> list[SSAValue]:
        """Each value truncated to ``bits`` and sign-extended back (``pipeline.wrap_int``)."""
        narrow = IntegerType(op.bits.value.data)
        return [self.emit(arith.ExtSIOp(self.emit(arith.TruncIOp(x, narrow)), i64))
                for x in self.row_of(op.input)]  # fmt: skip

    def cast_elements(self, op: pipeline.CastOp) -> list[SSAValue]:
        """``astype`` as pandas does it (see ``pipeline.cast``)."""
        target = op.result.type.get_element_type()
        row = self.row_of(op.input)
        floats = row[0].type in (f64, f32)
        if target == i1:
            zero = self.constant(0.0 if floats else 0, row[0].type)
            compare = self.cmpf if floats else self.cmpi
            return [compare("une" if floats else "ne", x, zero) for x in row]
        if target == f32 and row[0].type == f64:  # round to nearest, as numpy
            return [self.emit(arith.TruncFOp(x, f32)) for x in row]
        if row[0].type != f64:
            return [self.convert(x, target) for x in row]
        site = self.lowering.error_site(op)
        limit = self.constant(2.0**63, f64)
        values = []
        for x in row:
            magnitude = self.emit(math.AbsFOp(x))
            if op.speculative is None:  # a speculative cast reports NaN and inf below
                non_finite = self.cmpf("uge", magnitude, self.constant(float("inf"), f64))
                self.report_error(non_finite, ErrorKind.CAST_NON_FINITE, site)
            in_range = self.cmpf("olt", magnitude, limit)
            # fptosi of an out-of-range value is undefined: convert 0 there instead
            safe = self.select(in_range, x, self.constant(0.0, f64))
            converted = self.emit(arith.FPToSIOp(safe, i64))
            if op.speculative is not None:  # NaN, inf, a fraction or out of range: not exact
                back = self.emit(arith.SIToFPOp(converted, f64))
                self.report_error(self.cmpf("une", back, x), ErrorKind.NOT_INTEGER, site)
            values.append(self.select(in_range, converted, self.constant(-(2**63), i64)))
        return values

    def check_values(self, op: Operation, values: Sequence[SSAValue], allow_nan: bool) -> None:
        """Record an error for an infinite value (and NaN unless ``allow_nan``) in ``values``.

        One branch per row: the errors are recorded in order (the first value's first)
        only in a row where a test fails. A value tested before in the same block (an
        imputer's input, then its output of finite fills) is not tested for infinity again:
        a row that has one has recorded its error, and the runtime raises it."""
        site = self.lowering.error_site(op)
        infinity = self.constant(float("inf"), f64)
        block = self.builder.insertion_point.block
        failures = []
        for x in values:
            if not allow_nan:
                failures.append((self.cmpf("uno", x, x), ErrorKind.NAN))
            if (block, x) not in self.not_infinite:
                infinite = self.cmpf("oeq", self.emit(math.AbsFOp(x)), infinity)
                failures.append((infinite, ErrorKind.INFINITE))
        self.not_infinite.update((block, x) for x in values)
        if not failures:
            return
        failed = functools.reduce(self.ior, (f for f, _ in failures))

        def record() -> None:
            for failure, kind in failures:
                self.report_error(failure, kind, site)

        self.if_then(failed, record)

    def check_not_infinite(self, op: Operation, values: Sequence[SSAValue]) -> None:
        """scikit-learn's transformers accept NaN but reject infinity in their input."""
        self.check_values(op, values, allow_nan=True)

    def impute(self, op: feature.ImputeOp) -> list[SSAValue]:
        values = self.row_of(op.input)
        self.check_not_infinite(op, values)
        filled = [
            self.select(self.cmpf("uno", x, x), self.blob_value(op.fill, j), x)
            for j, x in enumerate(values)
        ]
        if op.finite is not None:  # infinite only where x was
            block = self.builder.insertion_point.block
            self.not_infinite.update((block, x) for x in filled)
        return filled

    def standardize(self, op: feature.StandardizeOp) -> list[SSAValue]:
        values = []
        self.check_not_infinite(op, self.row_of(op.input))
        for j, x in enumerate(self.row_of(op.input)):
            if op.sub is not None:
                x = self.emit(arith.SubfOp(x, self.blob_value(op.sub, j)))
            if op.div is not None:
                x = self.emit(arith.DivfOp(x, self.blob_value(op.div, j)))
            values.append(x)
        return values

    def mul_add(self, op: feature.MulAddOp) -> list[SSAValue]:
        values = []
        self.check_not_infinite(op, self.row_of(op.input))
        for j, x in enumerate(self.row_of(op.input)):
            x = self.emit(arith.MulfOp(x, self.blob_value(op.mul, j)))
            x = self.add(x, self.blob_value(op.add, j))
            if op.clip is not None:
                x = self.emit(arith.MaximumfOp(x, self.blob_value(op.clip, 0)))
                x = self.emit(arith.MinimumfOp(x, self.blob_value(op.clip, 1)))
            values.append(x)
        return values

    def normalize(self, op: feature.NormalizeOp) -> list[SSAValue]:
        """As scikit-learn's ``normalize``: the norm summed in column order (numpy's
        ``einsum``/``sum`` may round otherwise, within the tolerance), one below
        ``10 * eps`` replaced by 1."""
        x = self.row_of(op.input)
        self.check_finite(op, x)
        if op.norm.data == feature.RowNorm.L2:
            norm = self.emit(math.SqrtOp(self.row_sum([self.emit(arith.MulfOp(v, v)) for v in x])))
        else:
            magnitudes = [self.emit(math.AbsFOp(v)) for v in x]
            norm = magnitudes[0]
            for v in magnitudes[1:]:
                norm = self.add(norm, v) if op.norm.data == feature.RowNorm.L1 else \
                    self.emit(arith.MaximumfOp(norm, v))  # fmt: skip
        tiny = self.cmpf("olt", norm, self.constant(TINY_NORM, f64))
        norm = self.select(tiny, self.constant(1.0, f64), norm)
        return [self.emit(arith.DivfOp(v, norm)) for v in x]

    def polynomial(self, op: feature.PolynomialOp) -> list[SSAValue]:
        """Each row of ``powers`` as the product of its factors in ascending column order,
        folded from the last (scikit-learn multiplies a term of degree ``d - 1`` by the
        column before it); a product shared by several terms is computed once."""
        x = self.row_of(op.input)
        self.check_finite(op, x)
        products: dict[tuple[int, ...], SSAValue] = {}

        def product(factors: tuple[int, ...]) -> SSAValue:
            if len(factors) == 1:
                return x[factors[0]]
            if factors not in products:
                rest = product(factors[1:])
                products[factors] = self.emit(arith.MulfOp(rest, x[factors[0]]))
            return products[factors]

        one = self.constant(1.0, f64)
        return [
            product(tuple(j for j, power in enumerate(row) for _ in range(power))) if any(row)
            else one
            for row in self.lowering.blobs.array(op.powers).tolist()
        ]  # fmt: skip

    def discretize(self, op: feature.DiscretizeOp) -> list[SSAValue]:
        """The number of inner edges at or below the value (edges are few: one compare
        each, no branch)."""
        x = self.row_of(op.input)[op.index.value.data]
        self.check_finite(op, [x])
        code = self.constant(0, i64)
        for k in range(1, op.bins):
            reached = self.cmpf("oge", x, self.blob_value(op.edges, k))
            code = self.iadd(code, self.emit(arith.ExtUIOp(reached, i64)))
        return [code]

    def check_unknown(self, op: Operation, code: SSAValue) -> None:
        if op.on_unknown.data != "error":  # type: ignore[attr-defined]
            return
        unknown = self.cmpi("slt", code, self.constant(0, i64))
        if isinstance(op, feature.EncodeStringsOp):
            site = self.lowering.error_site(
                op,
                value=self.lowering.value_name(self.frame_of(op.frame).value),
                column=op.column.data,
            )
        else:
            assert isinstance(op, feature.EncodeNumbersOp)
            source = op.input.owner
            if isinstance(source, pipeline.ToArrayOp):  # name the frame column, not a temporary
                column = source.columns.data[op.index.value.data].data
                details = {"value": self.lowering.value_name(source.frame), "column": column}
            else:
                details = {
                    "value": self.lowering.value_name(op.input),
                    "index": op.index.value.data,
                }
            site = self.lowering.error_site(op, **details)
        self.report_error(unknown, ErrorKind.UNKNOWN_CATEGORY, site)

    def bytes_equal(
        self, a: SSAValue, a_start: SSAValue, b: SSAValue, b_start: SSAValue, length: SSAValue
    ) -> SSAValue:
        """Whether ``length`` bytes of ``a`` from ``a_start`` equal those of ``b`` (i64s): a
        scalar loop that stops at the first difference (keys are short: a vectorised
        compare costs more than it saves)."""

        def same(values: list[SSAValue]) -> SSAValue:
            (j,) = values
            inside = self.cmpi("slt", j, length)

            def equal() -> list[SSAValue]:
                x = self.load(a, self.to_index(self.iadd(a_start, j)))
                y = self.load(b, self.to_index(self.iadd(b_start, j)))
                return [self.cmpi("eq", x, y)]

            return self.if_else(inside, equal, lambda: [inside])[0]

        (compared,) = self.while_loop(
            [self.constant(0, i64)], same, lambda values: [self.iadd(values[0], 1)]
        )
        return self.cmpi("eq", compared, length)

    def encode_strings(self, op: feature.EncodeStringsOp) -> list[SSAValue]:
        """Hash the row's UTF-8 bytes (FNV-1a), probe the table, compare the candidates.

        Probing stops at the key, at an empty slot (open addressing without deletions: a
        key in the table comes before any empty slot of its sequence) or after ``probes``
        slots (the longest sequence the table holds), so a row costs one or two slots."""
        text = self.string_row(op.frame, op.column.data)  # a str column, or a transform's
        data = text.data
        start = self.cast(text.start, i64)
        length = self.cast(self.isub(text.end, text.start), i64)
        categories = self.blob(op.bytes)
        category_offsets = self.blob(op.offsets)
        table = self.blob(op.table)

        def hash_step(j: SSAValue, h: SSAValue) -> SSAValue:
            position = self.iadd(start, self.emit(arith.IndexCastOp(j, i64)))
            byte = self.emit(arith.ExtUIOp(self.load(data, self.to_index(position)), i64))
            mixed = self.emit(arith.XOrIOp(h, byte))
            return self.emit(arith.MuliOp(mixed, self.constant(FNV_PRIME, i64)))

        offset_basis = self.constant(signed64(FNV_OFFSET), i64)
        h = self.loop(self.to_index(length), offset_basis, hash_step)
        mask = self.constant(op.table.size - 1, i64)
        searching = self.constant(-2, i64)
        last = self.constant(op.probes.value.data - 1, i64)

        def probe_step(values: list[SSAValue]) -> list[SSAValue]:
            p = values[0]
            entry = self.load(table, self.to_index(self.iand(self.iadd(h, p), mask)))
            occupied = self.cmpi("sge", entry, self.constant(0, i64))

            def compare() -> list[SSAValue]:
                slot = self.to_index(entry)
                category_start = self.load(category_offsets, slot)
                after = self.emit(arith.AddiOp(slot, self.constant(1, index)))
                category_length = self.isub(self.load(category_offsets, after), category_start)

                def same_bytes() -> list[SSAValue]:
                    return [self.bytes_equal(data, start, categories, category_start, length)]

                same_length = self.cmpi("eq", category_length, length)
                return self.if_else(same_length, same_bytes, lambda: [same_length])

            found = self.if_else(occupied, compare, lambda: [occupied])[0]
            more = self.emit(arith.AndIOp(occupied, self.cmpi("slt", p, last)))
            code = self.select(found, entry, self.select(more, searching, self.constant(-1, i64)))
            return [self.iadd(p, 1), code]

        _, code = self.while_loop(
            [self.constant(0, i64), searching],
            lambda values: self.cmpi("eq", values[1], searching),
            probe_step,
        )
        flag = text.missing
        is_missing = self.cmpi("ne", flag, self.constant(0, i8))
        marked = self.emit(arith.AndIOp(flag, self.constant(op.marker, i8)))
        is_fitted = self.cmpi("ne", marked, self.constant(0, i8))
        code = self.select(is_missing, self.constant(-1, i64), code)
        code = self.select(is_fitted, self.constant(op.missing.value.data, i64), code)
        if op.filled is not None and op.filled_marker is not None:  # a fill before the encoder
            marked = self.emit(arith.AndIOp(flag, self.constant(op.filled_marker.value.data, i8)))
            filled = self.cmpi("ne", marked, self.constant(0, i8))
            code = self.select(filled, self.constant(op.filled.value.data, i64), code)
        if op.nan_refused is not None:  # SimpleImputer(missing_values=None) raises for NaN
            nan = self.emit(arith.AndIOp(flag, self.constant(MISSING_NAN, i8)))
            self.hand_back(self.cmpi("ne", nan, self.constant(0, i8)), "imputer-nan")
        self.check_unknown(op, code)
        return [code]

    def encode_numbers(self, op: feature.EncodeNumbersOp) -> list[SSAValue]:
        x = self.row_of(op.input)[op.index.value.data]
        self.check_not_infinite(op, [x])
        x_is_nan = self.cmpf("uno", x, x)
        code = self.constant(-1, i64)
        # Categories are few: compare against each, the first match wins (they are unique).
        for k in reversed(range(op.categories.size)):
            category = self.blob_value(op.categories, k)
            match = self.emit(
                arith.OrIOp(
                    self.cmpf("oeq", x, category),
                    self.emit(arith.AndIOp(x_is_nan, self.cmpf("uno", category, category))),
                )
            )
            code = self.select(match, self.constant(k, i64), code)
        self.check_unknown(op, code)
        return [code]

    def onehot(self, op: feature.OneHotOp) -> list[SSAValue]:
        """A column is 1.0 where the code is one of its group's (an infrequent column's
        also where it is negative, an unknown category, with ``unknown_infrequent``)."""
        (code,) = self.row_of(op.codes)
        one, zero = self.constant(1.0, f64), self.constant(0.0, f64)
        groups = op.groups()
        columns = []
        for j, group in enumerate(groups):
            hot = [self.cmpi("eq", code, self.constant(k, i64)) for k in group]
            if op.unknown_infrequent is not None and j == len(groups) - 1:
                hot.append(self.cmpi("slt", code, self.constant(0, i64)))
            for more in hot[1:]:
                hot[0] = self.emit(arith.OrIOp(hot[0], more))
            columns.append(self.select(hot[0], one, zero))
        return columns

    def ordinal(self, op: feature.OrdinalOp) -> list[SSAValue]:
        (code,) = self.row_of(op.codes)
        value = self.emit(arith.SIToFPOp(code, f64))
        unknown = self.cmpi("slt", code, self.constant(0, i64))
        value = self.select(unknown, self.constant(op.unknown_value.value.data, f64), value)
        if op.missing.value.data >= 0:
            missing = self.cmpi("eq", code, self.constant(op.missing.value.data, i64))
            value = self.select(missing, self.constant(op.missing_value.value.data, f64), value)
        return [value]

    def check_finite(self, op: Operation, values: Sequence[SSAValue]) -> None:
        """scikit-learn's models reject NaN and infinity in their input."""
        self.check_values(op, values, allow_nan=False)

    def linear(self, op: feature.LinearOp) -> list[SSAValue]:
        x = self.row_of(op.input)
        if "check_finite" in op.attributes:
            self.check_finite(op, x)
        self.hand_back_large(op, x)
        outputs, features = op.coef.shape
        offset = op.offset.value.data
        decision = []
        for k in range(outputs):
            acc = self.constant(0.0, f64)
            for j, value in enumerate(x):
                weight = self.blob_value(op.coef, k * features + offset + j)
                acc = self.add(acc, self.emit(arith.MulfOp(value, weight)))
            if op.intercept is not None:
                acc = self.add(acc, self.blob_value(op.intercept, k))
            decision.append(acc)
        return decision

    def hand_back_large(self, op: feature.LinearOp, x: list[SSAValue]) -> None:
        """Record ``ErrorKind.LINEAR_MAGNITUDE`` (the runtime runs the original on the
        batch) where ``max |x|`` reaches ``LINEAR_MAGNITUDE_LIMIT / max_k (Σ_j |coef[k, j]|
        + |intercept[k]|)`` (a constant; NaN too)."""
        coef = self.lowering.blobs.array(op.coef).reshape(op.coef.shape)
        offset = op.offset.value.data
        weights = np.abs(coef[:, offset : offset + len(x)]).sum(axis=1)
        if op.intercept is not None:
            weights = weights + np.abs(self.lowering.blobs.array(op.intercept))
        largest = float(weights.max(initial=0.0))
        if not x or largest == 0.0:
            return  # the row's values multiply zeros only
        limit = self.constant(LINEAR_MAGNITUDE_LIMIT / largest, f64)  # 0.0 if inf
        large = [self.cmpf("uge", self.emit(math.AbsFOp(v)), limit) for v in x]
        self.report_error(functools.reduce(self.ior, large), ErrorKind.LINEAR_MAGNITUDE,
                          self.lowering.error_site(op))  # fmt: skip

    def weight_lookup(self, op: feature.WeightLookupOp) -> list[SSAValue]:
        (code,) = self.row_of(op.codes)
        outputs, features = op.coef.shape
        drop = op.drop.value.data
        known = self.cmpi("sge", code, self.constant(0, i64))
        column = code
        if drop >= 0:
            known = self.emit(arith.AndIOp(known, self.cmpi("ne", code, self.constant(drop, i64))))
            after_drop = self.cmpi("sgt", code, self.constant(drop, i64))
            shifted = self.emit(arith.SubiOp(code, self.constant(1, i64)))
            column = self.select(after_drop, shifted, code)
        safe = self.select(known, column, self.constant(0, i64))
        position = self.emit(arith.IndexCastOp(safe, index))
        zero = self.constant(0.0, f64)
        values = []
        for k in range(outputs):
            base = self.constant(k * features + op.offset.value.data, index)
            weight = self.load(self.blob(op.coef), self.emit(arith.AddiOp(base, position)))
            values.append(self.select(known, weight, zero))
        return values

    def sum(self, op: feature.SumOp) -> list[SSAValue]:
        rows = [self.row_of(v) for v in op.inputs]
        total = rows[0]
        for row in rows[1:]:
            total = [self.add(a, b) for a, b in zip(total, row, strict=True)]
        return total

    def float_constant(self, value: float, element: Attribute) -> SSAValue:
        """A constant of ``element`` (f64 or f32, where ``value`` must be exact)."""
        return self.f32_constant(value) if element == f32 else self.constant(value, f64)

    def sigmoid(self, op: feature.SigmoidOp) -> list[SSAValue]:
        """``1 / (1 + exp(-x))``; in f32 XGBoost's ``common::Sigmoid``, which clamps the
        exponent: ``1.0f / (expf(min(-x, 88.7f)) + 1.0f + 1e-16f)`` (the ``1e-16f`` never
        changes a sum >= 1, so it is left out)."""
        element = op.input.type.get_element_type()
        one = self.float_constant(1.0, element)
        values = []
        for x in self.row_of(op.input):
            exponent = self.emit(arith.NegfOp(x))
            if element == f32:  # std::min(-x, 88.7f): NaN stays NaN
                limit = self.f32_constant(XGBOOST_EXP_LIMIT)
                exponent = self.select(self.cmpf("olt", limit, exponent), limit, exponent)
            e = self.emit(math.ExpOp(exponent))
            values.append(self.emit(arith.DivfOp(one, self.add(one, e))))
        return values

    def binary_proba(self, op: feature.BinaryProbaOp) -> list[SSAValue]:
        (p,) = self.row_of(op.input)
        one = self.float_constant(1.0, op.input.type.get_element_type())
        return [self.emit(arith.SubfOp(one, p)), p]

    def softmax(self, op: feature.SoftmaxOp) -> list[SSAValue]:
        """Max subtracted first; ``exp`` numpy's loop, as scikit-learn's ``softmax`` calls
        ``np.exp`` (``libm``: the C library's, as LightGBM's ``Common::Softmax``); in f32 as
        XGBoost's ``common::Softmax``: ``expf`` in float, the sum in double (from 0), each
        value divided by the sum rounded to float."""
        x = self.row_of(op.input)
        top = x[0]
        for v in x[1:]:
            top = self.emit(arith.MaximumfOp(top, v))
        shifted = [self.emit(arith.SubfOp(v, top)) for v in x]
        f32_values = op.input.type.get_element_type() == f32
        if f32_values or "libm" in op.attributes:
            exps = [self.emit(math.ExpOp(v)) for v in shifted]
        else:  # numpy's SIMD exp differs from the C library's in the last bit
            exps = [self.ufunc("exp", [v]) for v in shifted]
        if f32_values:
            wide = self.row_sum([self.emit(arith.ExtFOp(v, f64)) for v in exps])
            total = self.emit(arith.TruncFOp(wide, f32))
        else:
            total = self.row_sum(exps)  # at least exp(0) = 1: never zero
        return [self.emit(arith.DivfOp(v, total)) for v in exps]

    def row_sum(self, values: list[SSAValue]) -> SSAValue:
        total = values[0]
        for v in values[1:]:
            total = self.add(total, v)
        return total

    def normalize_rows(self, op: feature.NormalizeRowsOp) -> list[SSAValue]:
        """As scikit-learn's one-vs-rest normalisation: a row of zeros becomes uniform."""
        values = self.row_of(op.input)
        total = self.row_sum(values)
        all_zero = self.cmpf("oeq", total, self.constant(0.0, f64))
        total = self.select(all_zero, self.constant(float(len(values)), f64), total)
        one = self.constant(1.0, f64)
        return [self.emit(arith.DivfOp(self.select(all_zero, one, v), total)) for v in values]

    def modified_huber_proba(self, op: feature.ModifiedHuberProbaOp) -> list[SSAValue]:
        """As scikit-learn: ``np.clip(d, -1, 1)``, ``+= 1.0``, ``/= 2.0`` (NaN stays NaN)."""
        one, two = self.constant(1.0, f64), self.constant(2.0, f64)
        minus_one = self.constant(-1.0, f64)
        values = []
        for x in self.row_of(op.input):
            low = self.select(self.cmpf("olt", x, minus_one), minus_one, x)
            clipped = self.select(self.cmpf("ogt", low, one), one, low)
            values.append(self.emit(arith.DivfOp(self.add(clipped, one), two)))
        return values

    def argmax(self, op: feature.ArgmaxOp) -> list[SSAValue]:
        x = self.row_of(op.input)
        element = op.input.type.get_element_type()
        if len(x) == 1:
            zero = self.float_constant(0.0, element)
            positive = self.cmpf("oge" if op.nonnegative else "ogt", x[0], zero)
            if op.margin is not None:  # |x| <= margin: the sign may be rounding's
                margin = self.float_constant(op.margin.value.data, element)
                near = self.cmpf("ole", self.emit(math.AbsFOp(x[0])), margin)
                self.hand_back(near, "linear-tie")
            return [self.emit(arith.ExtUIOp(positive, i64))]
        best, best_index = x[0], self.constant(0, i64)
        for k, v in enumerate(x[1:], start=1):
            # numpy: the first maximum wins; NaN counts as the maximum.
            better = self.emit(
                arith.AndIOp(self.cmpf("ord", best, best), self.cmpf("ugt", v, best))
            )
            best = self.select(better, v, best)
            best_index = self.select(better, self.constant(k, i64), best_index)
        if op.margin is not None:  # another value within the margin of the largest
            margin = self.float_constant(op.margin.value.data, element)
            near = self.constant(0, i1)
            for k, v in enumerate(x):
                close = self.cmpf("ole", self.emit(arith.SubfOp(best, v)), margin)
                other = self.cmpi("ne", best_index, self.constant(k, i64))
                near = self.emit(arith.OrIOp(near, self.emit(arith.AndIOp(close, other))))
            self.hand_back(near, "linear-tie")
        return [best_index]

    HANDLERS: dict[type[Operation], Callable[[KernelEmitter, Operation], object]] = {
        pipeline.ToArrayOp: to_array,
        pipeline.SelectColumnsOp: select_columns,
        pipeline.HstackOp: hstack,
        pipeline.TakeColumnOp: take_column,
        pipeline.ConstantOp: pipeline_constant,
        pipeline.BroadcastOp: pipeline_broadcast,
        pipeline.UnaryOp: unary,
        pipeline.BinaryOp: binary,
        pipeline.WhereOp: where,
        pipeline.WrapIntOp: wrap_int,
        pipeline.CastOp: cast_elements,
        pipeline.DatetimeColumnOp: DateEmitter.datetime_column,
        pipeline.ParseDatetimeOp: DateEmitter.parse_datetime,
        pipeline.MakeDatetimeOp: DateEmitter.make_datetime,
        pipeline.DatetimeSubOp: DateEmitter.datetime_sub,
        pipeline.DatetimeFieldOp: DateEmitter.datetime_field,
        feature.ImputeOp: impute,
        feature.StandardizeOp: standardize,
        feature.MulAddOp: mul_add,
        feature.NormalizeOp: normalize,
        feature.PolynomialOp: polynomial,
        feature.DiscretizeOp: discretize,
        feature.EncodeStringsOp: encode_strings,
        feature.EncodeNumbersOp: encode_numbers,
        feature.OneHotOp: onehot,
        feature.OrdinalOp: ordinal,
        feature.LookupKeysOp: LookupEmitter.lookup_keys,
        feature.PackCodesOp: LookupEmitter.pack_codes,
        feature.GatherRowsOp: LookupEmitter.gather_rows,
        feature.JoinOp: LookupEmitter.join,
        feature.LinearOp: linear,
        feature.WeightLookupOp: weight_lookup,
        feature.SumOp: sum,
        feature.SigmoidOp: sigmoid,
        feature.BinaryProbaOp: binary_proba,
        feature.SoftmaxOp: softmax,
        feature.NormalizeRowsOp: normalize_rows,
        feature.ModifiedHuberProbaOp: modified_huber_proba,
        feature.ArgmaxOp: argmax,
        feature.DecodeTextOp: TextEmitter.decode_text,
        feature.CountTermsOp: TextEmitter.count_terms,
        feature.HashTermsOp: TextEmitter.hash_terms,
        feature.WeightTermsOp: TextEmitter.weight_terms,
        feature.SparseLinearOp: TextEmitter.sparse_linear,
        feature.TreeEnsembleOp: TreeEmitter.tree_ensemble,
        pipeline.CutWidthOp: NumberEmitter.cut_width,
        pipeline.StrCaseOp: StringEmitter.str_case,
        pipeline.StrStripOp: StringEmitter.str_strip,
        pipeline.StrSliceOp: StringEmitter.str_slice,
        pipeline.StrConcatOp: StringEmitter.str_concat,
        pipeline.StrFillOp: StringEmitter.str_fill,
        pipeline.StrReplaceOp: StringEmitter.str_replace,
        pipeline.StrLenOp: StringEmitter.str_len,
        pipeline.StrSplitCountOp: StringEmitter.str_split_count,
        pipeline.StrSplitPieceOp: StringEmitter.str_split_piece,
        pipeline.StrSearchOp: StringEmitter.str_search,
        pipeline.StrMatchOp: StringEmitter.str_match,
        pipeline.StrToIntOp: StringEmitter.str_to_int,
    }  # type: ignore[assignment]

    # endregion

    def store_outputs(self, outputs: Sequence[tuple[SSAValue, Sequence[SSAValue]]]) -> None:
        for value, refs in outputs:
            if isinstance(value.type, FrameType):
                row = self.rows[value]
                assert isinstance(row, StrRow)
                self.store_string(row, *refs)
                continue
            if is_sparse(value.type):
                element = value.type.get_element_type()  # type: ignore[attr-defined]
                self.store_terms(self.terms_of(value), element, *refs)
                continue
            (ref,) = refs
            row = self.row_of(value)
            base = self.row_offset(len(row))
            for j, x in enumerate(row):
                if x.type == i1:
                    x = self.emit(arith.ExtUIOp(x, i8))
                self.emit(memref.StoreOp.get(x, ref, [self.at(base, j)]))

    def hand_back(self, flag: SSAValue, reason: str) -> None:
        """Run the row in Python where ``flag`` (i1) is set, for ``reason`` (a
        ``ROW_HANDOFFS`` key): the original function computes it."""
        assert reason in ROW_HANDOFFS, reason
        self.state.handed_back.append((flag, reason))

    def store_python_rows(self, name: str, position: int) -> DictionaryAttr:
        """An i8 output (argument ``position``, after the other outputs) that flags the rows
        that must run in Python: bit k for the k-th of its ``reasons``."""
        reasons = list(dict.fromkeys(reason for _, reason in self.state.handed_back))
        assert len(reasons) <= 8, reasons  # a byte per row
        flag = None
        for value, reason in self.state.handed_back:
            bit = self.emit(arith.ExtUIOp(value, i8))
            if reasons.index(reason):
                bit = self.shl(bit, reasons.index(reason))
            flag = bit if flag is None else self.ior(flag, bit)
        assert flag is not None
        ref = self.state.entry.insert_arg(memref_of(i8), position)
        self.emit(memref.StoreOp.get(flag, ref, [self.state.row]))
        return DictionaryAttr(
            {
                "value": StringAttr(name),
                "width": IntegerAttr(1, i64),
                "dtype": StringAttr("i8"),
                "shape": ArrayAttr([]),
                "role": StringAttr("python_rows"),
                "reasons": ArrayAttr([StringAttr(r) for r in reasons]),
            }
        )


def is_scalar_op(op: object) -> bool:
    """A batch reduction, or arithmetic of scalars (``a.max() - a.min()``): an op of the
    reduction kernels, computed once per call."""
    return isinstance(op, pipeline.ReduceOp) or (
        isinstance(op, pipeline.BinaryOp) and not isinstance(op.result.type, TensorType)
    )


def kernel_parts(ops: Sequence[Operation], stages: dict[Operation, int]) -> dict[Operation, int]:
    """Which kernel of its stage each of ``ops`` runs in: one after the kernel computing its
    operands when it runs on stored rows (``tree_kernels.runs_on_stored_rows``) or reduces
    them (``pipeline.reduce``, which runs in the part's reduction kernel, before its row
    kernel), else the last of its operands' kernels. The stage's Python calls still run
    after all its kernels."""
    parts: dict[Operation, int] = {}
    for op in ops:
        local = [
            parts[v.owner] for v in op.operands
            if isinstance(v.owner, Operation) and stages.get(v.owner) == stages[op]
        ]  # fmt: skip
        stored = runs_on_stored_rows(op) or isinstance(op, pipeline.ReduceOp)
        parts[op] = max(local, default=0) + (bool(local) and stored)
    return parts


class FunctionLowering:
    """Splits one pipeline function into stages and emits a kernel per stage."""

    def __init__(self, module: builtin.ModuleOp, function: func.FuncOp, blobs: BlobStore):
        self.module = module
        self.function = function
        #: the compilation's blobs: kernels may read them and add tables derived from them
        self.blobs = blobs
        self.names: dict[SSAValue, str] = {}
        self.numbers: dict[Operation, int] = {}
        #: symbols the module keeps: its globals, declarations and kernels (not the pipeline
        #: functions, erased once lowered: a user's function named ``hypot`` is no libm call)
        self.declared: set[str] = {
            op.sym_name.data
            for op in module.ops
            if isinstance(op, memref.GlobalOp)
            or isinstance(op, func.FuncOp)
            and (op.is_declaration or "willump.kernel" in op.attributes)
        }
        self.new_ops: list[Operation] = []
        self.errors: dict[str, Attribute] = {}

    def value_name(self, value: SSAValue) -> str:
        return self.names[value]

    def error_site(self, op: Operation, **details: str | int) -> int:
        """Number ``op`` as the source of run-time errors and describe it for messages."""
        number = self.numbers[op]
        self.errors[str(number)] = DictionaryAttr(
            {"op": StringAttr(op.name)}
            | {
                k: StringAttr(v) if isinstance(v, str) else IntegerAttr(v, i64)
                for k, v in details.items()
            }
        )
        return number

    def declare_global(self, symbol: str, typ: MemRefType) -> None:
        if symbol not in self.declared:
            self.declared.add(symbol)
            self.new_ops.append(
                memref.GlobalOp.get(StringAttr(symbol), typ, UnitAttr(), StringAttr("public"))
            )

    def declare_function(self, function: func.FuncOp) -> None:
        """Add the declaration ``function`` to the module, once per symbol."""
        if function.sym_name.data not in self.declared:
            self.declared.add(function.sym_name.data)
            self.new_ops.append(function)

    def run(self) -> tuple[list[Operation], DictionaryAttr]:
        body = self.function.body.block
        ops = list(body.ops)
        returned = ops[-1]
        assert isinstance(returned, func.ReturnOp)
        for i, arg in enumerate(body.args):
            self.names[arg] = f"arg{i}"
        counter = 0
        for number, op in enumerate(ops[:-1]):
            self.numbers[op] = number
            for result in op.results:
                self.names[result] = f"v{counter}"
                counter += 1
        op_stage = pipeline.python_call_stages(ops[:-1])
        op_part = kernel_parts(ops[:-1], op_stage)

        last_stage = max(op_stage.values(), default=0)
        steps: list[Attribute] = []
        kernels: list[Operation] = []
        for stage in range(last_stage + 1):
            parts = max((op_part[op] for op in ops[:-1] if op_stage[op] == stage), default=0)
            for part in range(parts + 1):
                here = [op for op in ops[:-1] if op_stage[op] == stage and op_part[op] == part]
                name = f"{self.function.sym_name.data}_stage{stage}"
                reductions = [op for op in here if is_scalar_op(op)]
                if reductions:
                    kernel = self.build_reduction_kernel(f"{name}_{part}_reduce", reductions)
                    kernels.append(kernel)
                    steps.append(DictionaryAttr({"kernel": kernel.sym_name}))
                native = [
                    op for op in here
                    if not isinstance(op, pipeline.PythonCallOp) and not is_scalar_op(op)
                ]  # fmt: skip
                needed, views = self.crossing_values(native, returned)
                if needed or any(pipeline.checks_input(op) for op in native):
                    kernel = self.build_kernel(name + (f"_{part}" if part else ""), native, needed)
                    kernels.append(kernel)
                    steps.append(DictionaryAttr({"kernel": kernel.sym_name}))
                steps.extend(self.view_step(view) for view in views)
            for op in ops[:-1]:
                if op_stage[op] == stage and isinstance(op, pipeline.PythonCallOp):
                    steps.append(
                        DictionaryAttr(
                            {
                                "python": op.callee,
                                "args": ArrayAttr([StringAttr(self.names[v]) for v in op.args]),
                                "results": ArrayAttr([StringAttr(self.names[v]) for v in op.res]),
                            }
                        )
                    )
        schedule = DictionaryAttr(
            {
                "steps": ArrayAttr(steps),
                "returns": ArrayAttr([StringAttr(self.names[v]) for v in returned.operands]),
                "errors": DictionaryAttr(self.errors),
                "constants": DictionaryAttr(
                    {
                        self.names[op.result]: op.value
                        for op in ops
                        if isinstance(op, pipeline.ConstantOp)
                    }
                ),
            }
        )
        return self.new_ops + kernels, schedule

    def crossing_values(
        self, native: list[Operation], returned: func.ReturnOp
    ) -> tuple[list[SSAValue], list[pipeline.SelectColumnsOp]]:
        """What ``native`` computes that is needed outside its kernel.

        Batches become kernel outputs. Frames selected from frames become ``select`` steps
        the runtime performs with pandas (a column selection copies nothing worth
        compiling); constants are rebuilt wherever they are used.
        """
        inside = set(native)
        needed: list[SSAValue] = []
        views: list[pipeline.SelectColumnsOp] = []
        for op in native:
            if isinstance(op, pipeline.ConstantOp):
                continue
            for result in op.results:
                users = {use.operation for use in result.uses}
                if result not in returned.operands and all(user in inside for user in users):
                    continue
                if isinstance(op, pipeline.SelectColumnsOp):
                    views.append(op)
                elif isinstance(result.type, TensorType) or isinstance(op, pipeline.STRING_OPS):
                    needed.append(result)
                else:
                    raise NotImplementedError(
                        f"{op.name} produces {result.type}, which cannot leave native code"
                    )
        # A selection from a selection needs its source too, computed first.
        ordered: list[pipeline.SelectColumnsOp] = []
        for view in views:
            chain = [view]
            while isinstance(source := chain[-1].frame.owner, pipeline.SelectColumnsOp):
                chain.append(source)
            ordered.extend(v for v in reversed(chain) if v not in ordered)
        return needed, ordered

    def view_step(self, op: pipeline.SelectColumnsOp) -> DictionaryAttr:
        return DictionaryAttr(
            {
                "select": StringAttr(self.names[op.result]),
                "source": StringAttr(self.names[op.frame]),
                "columns": op.columns,
            }
        )

    def build_reduction_kernel(self, name: str, ops: list[Operation]) -> func.FuncOp:
        """The kernel that runs ``ops`` (reductions and arithmetic of their scalars) once
        over all ``n`` rows (no row loop: the runtime never splits it), each storing its
        value as a one-value ``scalar`` output."""
        entry = Block(arg_types=[index, memref_of(i64)])
        zero = arith.ConstantOp(IntegerAttr(0, index))
        done = func.ReturnOp()
        entry.add_ops([zero, done])
        state = KernelState(name, entry, Block(), done, zero.result)
        state.constants[(index, "0")] = zero.result
        emitter = KernelEmitter(self, state)
        specs = []
        refs = [entry.insert_arg(memref_of(op.results[0].type), 2 + k) for k, op in enumerate(ops)]
        for op, ref in zip(ops, refs, strict=True):
            result = op.results[0]
            if isinstance(op, pipeline.ReduceOp):
                emitter.rows[result] = [emitter.reduce(op)]
            else:
                emitter.lower(op)
            emitter.emit(memref.StoreOp.get(emitter.row_of(result)[0], ref, [zero.result]))
            kind = op.function.data if isinstance(op, pipeline.ReduceOp) else "arithmetic"
            specs.append(DictionaryAttr({
                "value": StringAttr(self.names[result]), "width": IntegerAttr(1, i64),
                "dtype": StringAttr(dtype_name(result.type)), "shape": ArrayAttr([]),
                "scalar": StringAttr(kind),
            }))  # fmt: skip
        Rewriter.inline_block(state.body, InsertPoint.before(done))
        return _kernel_function(name, entry, state, specs)

    def string_output(self, value: SSAValue) -> DictionaryAttr:
        """The output spec of a transformed str column: the runtime gives it the index and
        the dtype (pandas' ``str`` or object) of the column it is first made of (``like``)."""
        source = value
        while isinstance(source.owner, (*pipeline.STRING_OPS, pipeline.SelectColumnsOp)):
            source = source.owner.operands[0]
        origin, column = resolve_column(source, pipeline.string_column(value.type, "output"))
        spec = {
            "value": StringAttr(self.names[value]),
            "width": IntegerAttr(1, i64),
            "dtype": StringAttr("i8"),
            "shape": ArrayAttr([]),
            "string": StringAttr(pipeline.string_column(value.type, "output")),
            "like": StringAttr(self.names[origin]),
            "like_column": StringAttr(str(column)),
        }  # fmt: skip
        sources = _dtype_sources(value)
        if sources is not None:
            spec["dtype_from"] = ArrayAttr([
                ArrayAttr([StringAttr(self.names[frame]), StringAttr(str(name))])
                for frame, name in (resolve_column(v, v.type.columns[0][0]) for v in sources)  # type: ignore[attr-defined]
            ])  # fmt: skip
        return DictionaryAttr(spec)

    def build_kernel(
        self, name: str, native: list[Operation], outputs: list[SSAValue]
    ) -> func.FuncOp:
        entry = Block(arg_types=[index, memref_of(i64)])
        output_args = []
        output_specs = []
        for value in outputs:
            if isinstance(value.type, FrameType):  # a str column: offsets, missing, bytes
                output_specs.append(self.string_output(value))
                types = [memref_of(i64), memref_of(i8), memref_of(i8), memref_of(i64)]
                output_args.append((value, [entry.insert_arg(t, len(entry.args)) for t in types]))
                continue
            assert isinstance(value.type, TensorType)
            element = value.type.get_element_type()
            spec: dict[str, Attribute] = {
                "value": StringAttr(self.names[value]),
                "width": IntegerAttr(batch_width(value.type), i64),
                "dtype": StringAttr(dtype_name(element)),
                "shape": ArrayAttr([IntegerAttr(d, i64) for d in value.type.get_shape()[1:]]),
            }
            if is_sparse(value.type):
                # CSR: indptr, indices, data, and the capacity of indices/data.
                types = [memref_of(i64), memref_of(i32), memref_of(element), memref_of(i64)]
                spec["sparse"] = IntegerAttr(1, i64)
            else:
                types = [memref_of(i8 if element == i1 else element)]
            args = [entry.insert_arg(t, len(entry.args)) for t in types]
            output_args.append((value, args))
            output_specs.append(DictionaryAttr(spec))
        body = Block(arg_types=[index])
        zero = arith.ConstantOp(IntegerAttr(0, index))
        one = arith.ConstantOp(IntegerAttr(1, index))
        entry.add_ops([zero, one])
        loop = scf.ForOp(zero.result, entry.args[0], one.result, [], body)
        entry.add_ops([loop, func.ReturnOp()])
        state = KernelState(name, entry, body, loop, body.args[0], frozenset(outputs))
        state.constants[(index, "0")] = zero.result
        state.constants[(index, "1")] = one.result
        emitter = KernelEmitter(self, state, native)
        for op in native:
            emitter.lower(op)
        emitter.store_outputs(output_args)
        if state.handed_back:
            position = 2 + sum(len(refs) for _, refs in output_args)
            output_specs.append(emitter.store_python_rows(f"{name}.python_rows", position))
        body.add_op(scf.YieldOp())
        return _kernel_function(name, entry, state, output_specs)


def _dtype_sources(value: SSAValue) -> list[SSAValue] | None:
    """The str columns, in order, whose dtype decides that of a transformed str column made
    of several (a concatenation) or of split pieces: pandas gives its ``str`` dtype if one
    of them is (the first one's: object + str is str), object if none is, and a split
    piece is object whatever its column's dtype. None for a column made of one column
    through transforms that keep its dtype (``like`` is that column)."""
    found: list[SSAValue] = []
    several = False
    todo = [value]
    while todo:
        value = todo.pop()
        owner = value.owner
        if isinstance(owner, pipeline.StrSplitPieceOp):
            several = True  # object pieces: no dtype of its column
        elif isinstance(owner, pipeline.STRING_OPS):
            several |= len(owner.operands) > 1
            todo.extend(reversed(owner.operands))
        else:
            found.append(value)
    return found if several else None


def _kernel_function(
    name: str, entry: Block, state: KernelState, outputs: list[DictionaryAttr]
) -> func.FuncOp:
    """The kernel ``name`` of body ``entry``, with the attributes the runtime reads: its
    inputs, ``outputs`` and column groups."""
    kernel = func.FuncOp(name, ([a.type for a in entry.args], []), Region(entry))
    kernel.attributes["willump.kernel"] = UnitAttr()
    kernel.attributes["willump.inputs"] = ArrayAttr(state.inputs)
    kernel.attributes["willump.outputs"] = ArrayAttr(outputs)
    kernel.attributes["willump.column_groups"] = ArrayAttr(state.column_groups)
    return kernel


@dataclass(frozen=True)
class LowerFeatureToScfPass(ModulePass):
    """Lower every pipeline function of the module into row-loop kernels and a schedule."""

    name = "lower-feature-to-scf"

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        schedules: dict[str, Attribute] = {}
        for function in list(op.ops):
            if not isinstance(function, func.FuncOp) or "willump.kernel" in function.attributes:
                continue
            if function.is_declaration:
                continue
            new_ops, schedule = FunctionLowering(op, function, blob_store(ctx)).run()
            schedules[function.sym_name.data] = schedule
            for new_op in new_ops:
                op.body.block.insert_op_before(new_op, function)
            function.detach()
            function.erase()
        if schedules:
            op.attributes["willump.schedule"] = DictionaryAttr(schedules)
