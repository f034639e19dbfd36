"""The ``pipeline`` dialect: a Python inference function at the level of estimator calls.

The frontend builds this level from the function's AST. Values are batches of rows: a
DataFrame is a ``!pipeline.frame``, a feature matrix a ``tensor<?xNxf64>``, a per-row result
a ``tensor<?xf64>`` (or ``tensor<?xi64>`` of class indices). Fitted parameters are not in
the text: they are named blobs, ``#pipeline.blob<coef_1a2b : tensor<1x4xf64>>``, in the
compilation's blob store (``willump_mlir.blobs``), bound to the machine code at JIT time.

```mlir
func.func @score(%df: !pipeline.frame<"age" : f64, "city" : !pipeline.str>) -> tensor<?xf64> {
  %num = pipeline.to_array %df ["age"] : !pipeline.frame<...> -> tensor<?x1xf64>
  %s = pipeline.transform "StandardScaler" %num params {mean = ..., scale = ...}
      : tensor<?x1xf64> -> tensor<?x1xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %s params {...}
      : tensor<?x1xf64> -> tensor<?x2xf64>
  %p1 = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %p1 : tensor<?xf64>
}
```
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence, Set

from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    I64,
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    IntAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
    f32,
    f64,
    i1,
    i64,
)
from xdsl.ir import (
    Attribute,
    Dialect,
    Operation,
    ParametrizedAttribute,
    SSAValue,
    TypeAttribute,
)
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.traits import EffectInstance, MemoryEffect, MemoryEffectKind, Pure
from xdsl.utils.exceptions import VerifyException

from willump_mlir.abi import UFUNC_LOOPS

# region Types and attributes

#: Units of a native datetime: an i64 count since 1970-01-01 (numpy's ``datetime64[unit]``,
#: NaT is -2**63), by pandas' name, with how many make a second.
DATETIME_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
#: The ticks of NaT, in every unit.
NAT = -(2**63)


def _verify_unit(unit: StringAttr) -> None:
    if unit.data not in DATETIME_UNITS:
        raise VerifyException(f"unknown datetime unit {unit.data!r}; expected one of "
                              f"{', '.join(DATETIME_UNITS)}")  # fmt: skip


@irdl_attr_definition
class StrType(ParametrizedAttribute, TypeAttribute):
    """A string value (a Python ``str``; UTF-8 bytes in native code): ``!pipeline.str``."""

    name = "pipeline.str"


@irdl_attr_definition
class DatetimeType(ParametrizedAttribute, TypeAttribute):
    """A timezone-naive datetime64 column of ``unit`` (s, ms, us or ns) ticks:
    ``!pipeline.datetime<"us">``."""

    name = "pipeline.datetime"
    unit: StringAttr

    def __init__(self, unit: str):
        super().__init__(StringAttr(unit))

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            return (StringAttr(parser.parse_str_literal()),)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string_literal(self.unit.data)

    def verify(self) -> None:
        _verify_unit(self.unit)


@irdl_attr_definition
class ObjectType(ParametrizedAttribute, TypeAttribute):
    """Any other Python value; only ``pipeline.python_call`` produces or consumes it.

    ```mlir
    !pipeline.object
    ```
    """

    name = "pipeline.object"


@irdl_attr_definition
class FrameType(ParametrizedAttribute, TypeAttribute):
    """A batch of rows with named, typed columns (a pandas DataFrame). A column of
    ``!pipeline.object`` (a dtype native code does not read: category, timedelta, a time
    zone, Decimal objects...) is part of the frame but only Python code reads it.

    ```mlir
    !pipeline.frame<"age" : f64, "city" : !pipeline.str, "kind" : !pipeline.object>
    ```
    """

    name = "pipeline.frame"
    names: ArrayAttr[StringAttr]
    dtypes: ArrayAttr[Attribute]

    def __init__(self, columns: Sequence[tuple[str, Attribute]]):
        super().__init__(
            ArrayAttr([StringAttr(n) for n, _ in columns]), ArrayAttr([t for _, t in columns])
        )

    @property
    def columns(self) -> list[tuple[str, Attribute]]:
        return [(n.data, t) for n, t in zip(self.names.data, self.dtypes.data, strict=True)]

    def dtype_of(self, column: str) -> Attribute:
        for name, dtype in self.columns:
            if name == column:
                return dtype
        raise KeyError(column)

    def verify_columns(self, columns: Sequence[str], dtype: Attribute | None = None) -> None:
        """Check that ``columns`` exist in this frame (and, if given, have ``dtype``)."""
        for column in columns:
            try:
                found = self.dtype_of(column)
            except KeyError:
                raise VerifyException(f"frame has no column {column!r}") from None
            if dtype is not None and found != dtype:
                kind = "numeric" if dtype == f64 else f"of type {dtype}"
                raise VerifyException(f"column {column!r} is not {kind}")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        def parse_column() -> tuple[str, Attribute]:
            name = parser.parse_str_literal()
            parser.parse_punctuation(":")
            return name, parser.parse_type()

        columns = parser.parse_comma_separated_list(parser.Delimiter.ANGLE, parse_column)
        return (
            ArrayAttr([StringAttr(n) for n, _ in columns]),
            ArrayAttr([t for _, t in columns]),
        )

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            for i, (name, dtype) in enumerate(self.columns):
                if i:
                    printer.print_string(", ")
                printer.print_string_literal(name)
                printer.print_string(" : ")
                printer.print_attribute(dtype)

    def verify(self) -> None:
        names = [n.data for n in self.names.data]
        if len(set(names)) != len(names):
            raise VerifyException(f"frame has duplicate column names: {names}")
        if len(names) != len(self.dtypes.data):
            raise VerifyException("frame needs one dtype per column")
        for name, dtype in self.columns:
            if dtype != f64 and not isinstance(dtype, StrType | DatetimeType | ObjectType):
                raise VerifyException(
                    f"column {name!r} has dtype {dtype}; expected f64, !pipeline.str, "
                    "!pipeline.datetime or !pipeline.object"
                )


@irdl_attr_definition
class BlobAttr(ParametrizedAttribute):
    """A constant array of the compilation's blob store (``willump_mlir.blobs``), named by a
    content-addressed symbol that prints as a dialect resource handle.

    ```mlir
    #pipeline.blob<coef_1a2b3c4d5e6f7a8b : tensor<1x21xf64>>
    ```
    """

    name = "pipeline.blob"
    symbol: StringAttr
    type: TensorType

    def __init__(self, symbol: str, type: TensorType):
        super().__init__(StringAttr(symbol), type)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.type.get_shape()

    @property
    def size(self) -> int:
        size = 1
        for dim in self.shape:
            size *= dim
        return size

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        parser.ctx.get_optional_dialect("pipeline")  # loaded: its resources hold the blobs
        with parser.in_angle_brackets():
            symbol = parser.parse_identifier(" (a blob symbol)")
            parser.parse_punctuation(":")
            typ = parser.parse_type()
        return (StringAttr(symbol), typ)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_resource_handle("pipeline", self.symbol.data)
            printer.print_string(" : ")
            printer.print_attribute(self.type)

    def verify(self) -> None:
        if any(d < 0 for d in self.type.get_shape()):
            raise VerifyException("a blob has a static shape")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.symbol.data):
            raise VerifyException(f"blob symbol {self.symbol.data!r} is not an identifier")


def batch_of(width: int, element: Attribute = f64) -> TensorType:
    """``tensor<?xWxT>``: a batch of rows of ``width`` values."""
    return TensorType(element, [DYNAMIC_INDEX, width])


#: The encoding of a sparse batch: rows stored as CSR (a scipy ``csr_matrix`` in Python).
CSR = StringAttr("csr")


def sparse_batch_of(width: int, element: Attribute = f64) -> TensorType:
    """``tensor<?xWxT, "csr">``: a batch of sparse rows of ``width`` values (CSR)."""
    return TensorType(element, [DYNAMIC_INDEX, width], CSR)


def is_sparse(typ: Attribute) -> bool:
    """True for a sparse batch ``tensor<?xWxT, "csr">``."""
    return isinstance(typ, TensorType) and typ.encoding == CSR


def vector_of(element: Attribute = f64) -> TensorType:
    """``tensor<?xT>``: one value per row."""
    return TensorType(element, [DYNAMIC_INDEX])


def batch_width(typ: Attribute) -> int:
    """The number of values per row of a batch type (1 for ``tensor<?xT>``)."""
    if isinstance(typ, TensorType):
        shape = typ.get_shape()
        if shape and shape[0] == DYNAMIC_INDEX and all(d >= 0 for d in shape[1:]):
            return shape[1] if len(shape) == 2 else 1
    if isinstance(typ, FrameType):
        return len(typ.names.data)
    raise VerifyException(f"{typ} is not a batch of rows")


def verify_batch(typ: Attribute, what: str) -> TensorType:
    """Check that ``typ`` is ``tensor<?xT>`` or ``tensor<?xWxT>`` and return it."""
    if (
        not isinstance(typ, TensorType)
        or typ.get_num_dims() not in (1, 2)
        or typ.get_shape()[0] != DYNAMIC_INDEX
        or any(d < 0 for d in typ.get_shape()[1:])
    ):
        raise VerifyException(f"{what} must be a batch tensor<?xT> or tensor<?xWxT>, got {typ}")
    return typ


# endregion
# region Traits


class ChecksInput(MemoryEffect):
    """An op whose kernel checks its input where the original refuses some values
    (``astype(int)`` of NaN, an unknown category, NaN into a model, a string pandas cannot
    read), or where pandas gives another dtype than native code computes in (a speculative
    cast or division, which later code may refuse: ``.map(d).astype(int)`` of a missing
    key): it records an error in the kernel's ``err`` buffer, or hands the row or batch to
    the original function. That is its effect, so dead-code elimination keeps it when
    nothing reads its result (``df["k"] = df["a"].astype(int)`` of a column no model
    reads): the original still runs that statement and raises. It is pure otherwise; an op
    whose ``checks_input()`` is false (a cast from bool) has no effect."""

    @classmethod
    def get_effects(cls, op: Operation) -> Set[EffectInstance]:
        checks = getattr(op, "checks_input", None)
        if checks is not None and not checks():
            return frozenset()
        return frozenset({EffectInstance(MemoryEffectKind.WRITE)})


def checks_input(op: Operation) -> bool:
    """Whether ``op`` checks its input at run time (``ChecksInput``): its kernel must run
    even when nothing it computes is needed."""
    return op.has_trait(ChecksInput) and bool(ChecksInput.get_effects(op))


# endregion
# region Frame access


@irdl_op_definition
class ToArrayOp(IRDLOperation):
    """Select numeric columns of a frame as a dense matrix (``df[cols].to_numpy()``).

    The matrix holds f64 values (any numeric column, read exactly), or f32, i64 or i1
    values (the runtime accepts only float32, int64 or bool columns: what pandas computes
    on as such).

    ```mlir
    %x = pipeline.to_array %df ["age", "income"] : !pipeline.frame<...> -> tensor<?x2xf64>
    %n = pipeline.to_array %df ["year"] : !pipeline.frame<...> -> tensor<?x1xi64>
    ```
    """

    name = "pipeline.to_array"
    frame = operand_def(FrameType)
    columns = prop_def(ArrayAttr[StringAttr])
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$frame $columns attr-dict `:` type($frame) `->` type($result)"

    def __init__(self, frame: SSAValue, columns: Sequence[str], element: Attribute = f64):
        super().__init__(
            operands=[frame],
            properties={"columns": ArrayAttr([StringAttr(c) for c in columns])},
            result_types=[batch_of(len(columns), element)],
        )

    def verify_(self) -> None:
        assert isinstance(self.frame.type, FrameType)
        self.frame.type.verify_columns([c.data for c in self.columns.data], f64)
        typ = verify_batch(self.result.type, "result")
        element = typ.get_element_type()
        if element not in NUMERIC_ELEMENTS:
            raise VerifyException(f"result elements must be f64, f32, i64 or i1, got {element}")
        if typ != batch_of(len(self.columns.data), element):
            raise VerifyException(f"result must be {batch_of(len(self.columns.data), element)}")


@irdl_op_definition
class SelectColumnsOp(IRDLOperation):
    """Select columns of a frame as a narrower frame (``df[["a", "b"]]``).

    ```mlir
    %f = pipeline.select_columns %df ["city"]
        : !pipeline.frame<"age" : f64, "city" : !pipeline.str>
        -> !pipeline.frame<"city" : !pipeline.str>
    ```
    """

    name = "pipeline.select_columns"
    frame = operand_def(FrameType)
    columns = prop_def(ArrayAttr[StringAttr])
    result = result_def(FrameType)
    traits = traits_def(Pure())
    assembly_format = "$frame $columns attr-dict `:` type($frame) `->` type($result)"

    def __init__(self, frame: SSAValue, columns: Sequence[str]):
        assert isinstance(frame.type, FrameType)
        typ = FrameType([(c, frame.type.dtype_of(c)) for c in columns])
        super().__init__(
            operands=[frame],
            properties={"columns": ArrayAttr([StringAttr(c) for c in columns])},
            result_types=[typ],
        )

    def verify_(self) -> None:
        assert isinstance(self.frame.type, FrameType)
        assert isinstance(self.result.type, FrameType)
        names = [c.data for c in self.columns.data]
        self.frame.type.verify_columns(names)
        if [n for n, _ in self.result.type.columns] != names:
            raise VerifyException("result columns must be the selected columns, in order")


# endregion
# region Estimator calls


def _estimator_syntax(op: IRDLOperation) -> None:
    if not op.estimator.data:  # type: ignore[attr-defined]
        raise VerifyException("estimator name must not be empty")


@irdl_op_definition
class TransformOp(IRDLOperation):
    """A fitted transformer's ``transform``; its parameters are attributes and blobs.

    ```mlir
    %y = pipeline.transform "StandardScaler" %x params {mean = #pipeline.blob<...>}
        : tensor<?x3xf64> -> tensor<?x3xf64>
    ```
    """

    name = "pipeline.transform"
    estimator = prop_def(StringAttr)
    input = operand_def()
    params = prop_def(DictionaryAttr)
    result = result_def()
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$estimator $input `params` $params attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(
        self, estimator: str, input: SSAValue, params: dict[str, Attribute], result: Attribute
    ):
        super().__init__(
            operands=[input],
            properties={"estimator": StringAttr(estimator), "params": DictionaryAttr(params)},
            result_types=[result],
        )

    def verify_(self) -> None:
        _estimator_syntax(self)
        if not isinstance(self.input.type, FrameType):
            verify_batch(self.input.type, "input")
        verify_batch(self.result.type, "result")


@irdl_op_definition
class PredictOp(IRDLOperation):
    """A fitted model's ``predict``, ``predict_proba`` or ``decision_function``.

    ```mlir
    %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {...}
        : tensor<?x3xf64> -> tensor<?x2xf64>
    ```
    """

    name = "pipeline.predict"
    estimator = prop_def(StringAttr)
    method = prop_def(StringAttr)
    input = operand_def(TensorType)
    params = prop_def(DictionaryAttr)
    result = result_def(TensorType)
    assembly_format = (
        "$estimator $method $input `params` $params attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(
        self,
        estimator: str,
        method: str,
        input: SSAValue,
        params: dict[str, Attribute],
        result: Attribute,
    ):
        super().__init__(
            operands=[input],
            properties={
                "estimator": StringAttr(estimator),
                "method": StringAttr(method),
                "params": DictionaryAttr(params),
            },
            result_types=[result],
        )

    def verify_(self) -> None:
        _estimator_syntax(self)
        if self.method.data not in PREDICT_METHODS:
            raise VerifyException(
                f"method must be one of {', '.join(PREDICT_METHODS)}, got {self.method.data!r}"
            )
        verify_batch(self.input.type, "input")
        verify_batch(self.result.type, "result")


# endregion
# region Array operations


@irdl_op_definition
class HstackOp(IRDLOperation):
    """Concatenate batches column-wise (``np.hstack``, ``np.column_stack``, ``sparse.hstack``).

    The result is sparse when any input is (``scipy.sparse.hstack``, FeatureUnion), unless
    built dense (a ColumnTransformer whose fitted output is dense). A dense result holds
    f64 values, or f32 values of f32 inputs only (a frame of float32 columns).

    ```mlir
    %x = pipeline.hstack %a, %b : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x5xf64>
    %h = pipeline.hstack %c, %d : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x2xf32>
    %s = pipeline.hstack %c, %d : (tensor<?x4xf64, "csr">, tensor<?x3xf64, "csr">)
           -> tensor<?x7xf64, "csr">
    ```
    """

    name = "pipeline.hstack"
    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$inputs attr-dict `:` `(` type($inputs) `)` `->` type($result)"

    def __init__(self, inputs: Sequence[SSAValue], sparse: bool | None = None):
        width = sum(batch_width(v.type) for v in inputs)
        if sparse is None:
            sparse = any(is_sparse(v.type) for v in inputs)
        # scipy.sparse.hstack keeps a common dtype; dense parts are read as f64 values (f32
        # values stay f32 beside f32 values only).
        elements = {v.type.get_element_type() for v in inputs}  # type: ignore[attr-defined]
        element = elements.pop() if (sparse or elements == {f32}) and len(elements) == 1 \
            else f64  # fmt: skip
        result = sparse_batch_of(width, element) if sparse else batch_of(width, element)
        super().__init__(operands=[inputs], result_types=[result])

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("hstack needs at least one input")
        width = sum(batch_width(verify_batch(v.type, "input")) for v in self.inputs)
        result = verify_batch(self.result.type, "result")
        if batch_width(result) != width:
            raise VerifyException(f"result must have {width} columns: the inputs' total width")
        narrow = {v.type.get_element_type() for v in self.inputs} == {f32}  # type: ignore[attr-defined]
        if not is_sparse(result) and result.get_element_type() == f32 and not narrow:
            raise VerifyException("a dense f32 result is of f32 inputs only")


@irdl_op_definition
class TakeColumnOp(IRDLOperation):
    """One column of a batch as a per-row vector (``x[:, j]``).

    ```mlir
    %p1 = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
    ```
    """

    name = "pipeline.take_column"
    input = operand_def(TensorType)
    index = prop_def(IntAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue, index: int):
        assert isinstance(input.type, TensorType)
        super().__init__(
            operands=[input],
            properties={"index": IntAttr(index)},
            result_types=[vector_of(input.type.get_element_type())],
        )

    @classmethod
    def parse(cls, parser: Parser) -> TakeColumnOp:
        unresolved = parser.parse_unresolved_operand()
        index = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_integer)
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        input = parser.resolve_operand(unresolved, parser.parse_type())
        parser.parse_punctuation("->")
        parser.parse_type()
        op = cls(input, index[0])
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.input)
        printer.print_string(f" [{self.index.data}]")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.input.type)
        printer.print_string(" -> ")
        printer.print_attribute(self.result.type)

    def verify_(self) -> None:
        width = batch_width(verify_batch(self.input.type, "input"))
        if not 0 <= self.index.data < width:
            raise VerifyException(f"column {self.index.data} is out of range for width {width}")


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A scalar constant broadcast over rows: a float (f64, or f32: a Python number beside
    float32 values, which numpy rounds to float32) or an integer (i64).

    ```mlir
    %c = pipeline.constant 2.500000e+00 : f64
    %h = pipeline.constant 1.000000e-01 : f32
    %k = pipeline.constant 2010 : i64
    ```
    """

    name = "pipeline.constant"
    value = prop_def(FloatAttr | IntegerAttr)
    result = result_def()
    traits = traits_def(Pure())

    def __init__(self, value: float | int, element: Attribute = f64):
        attr = IntegerAttr(value, i64) if isinstance(value, int) else FloatAttr(value, element)
        super().__init__(properties={"value": attr}, result_types=[attr.type])

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        value = parser.parse_attribute()  # a FloatAttr; NaN and inf print as hex
        if isinstance(value, IntegerAttr) and value.type == i64:
            op = cls(value.value.data)
        elif isinstance(value, FloatAttr) and value.type in (f64, f32):
            op = cls(value.value.data, value.type)
        else:
            parser.raise_error(f"expected an f64, f32 or i64 literal such as 2.5 : f64, got "
                               f"{value}")  # fmt: skip
        op.attributes.update(parser.parse_optional_attr_dict())
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.value)
        printer.print_op_attributes(self.attributes)

    def verify_(self) -> None:
        if self.value.type not in (f64, f32, i64):
            raise VerifyException(f"the value must be an f64, f32 or i64, got {self.value.type}")
        if self.value.type != self.result.type:
            raise VerifyException("result type must be the type of the value")


def broadcast_type(value: Attribute, rows: Attribute) -> TensorType:
    """A ``pipeline.broadcast`` result: ``rows``' shape (a column for a frame) holding
    ``value``'s type."""
    if isinstance(rows, FrameType):
        return vector_of(value)
    return TensorType(value, verify_batch(rows, "rows").get_shape())


@irdl_op_definition
class BroadcastOp(IRDLOperation):
    """A scalar (a constant, or a batch reduction) in every entry of a batch of the shape
    of ``rows``, or once per row of a frame: ``df["bias"] = 1.0``, ``df["m"] =
    df["x"].mean()``. ``rows`` only gives the rows (and, for a value handed to Python, the
    index they carry); its values are not read.

    ```mlir
    %b = pipeline.broadcast %c over %df : f64 over !pipeline.frame<"age" : f64>
           -> tensor<?xf64>
    %z = pipeline.broadcast %k over %mask : i64 over tensor<?x2xi1> -> tensor<?x2xi64>
    ```
    """

    name = "pipeline.broadcast"
    value = operand_def()
    rows = operand_def()
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = (
        "$value `over` $rows attr-dict `:` type($value) `over` type($rows) `->` type($result)"
    )

    def __init__(self, value: SSAValue, rows: SSAValue):
        result = broadcast_type(value.type, rows.type)
        super().__init__(operands=[value, rows], result_types=[result])

    def verify_(self) -> None:
        if self.value.type not in (f64, f32, i64):
            raise VerifyException(f"value must be an f64, f32 or i64 scalar, got "
                                  f"{self.value.type}")  # fmt: skip
        if is_sparse(self.rows.type):
            raise VerifyException("rows must be a dense batch or a frame")
        expected = broadcast_type(self.value.type, self.rows.type)
        if self.result.type != expected:
            raise VerifyException(f"result must be {expected}")


UNARY_FUNCTIONS = (
    "log1p", "log", "exp", "expm1", "sqrt", "abs", "negative", "floor", "ceil", "tanh",
    "square", "sign", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "arcsinh", "arccosh", "arctanh", "log2", "log10", "exp2", "cbrt", "trunc", "rint", "fabs",
)  # fmt: skip
#: Unary functions that keep integers integers (numpy: ``np.abs(int64) -> int64``).
INTEGER_UNARY_FUNCTIONS = ("abs", "negative", "floor", "ceil", "square", "sign", "trunc")
PREDICT_METHODS = ("predict", "predict_proba", "decision_function")
#: scikit-learn's linear classifiers: ``decision_function`` is ``X @ coef_.T + intercept_``
#: (one column: raveled), ``predict`` its argmax (one column: ``> 0``).
LINEAR_CLASSIFIERS = (
    "LogisticRegression", "LogisticRegressionCV", "LinearSVC", "SGDClassifier", "Perceptron",
    "PassiveAggressiveClassifier", "RidgeClassifier", "RidgeClassifierCV",
)  # fmt: skip
#: The ``proba`` values of a linear classifier (``lower-pipeline-to-feature``).
LINEAR_PROBAS = ("none", "binary_sigmoid", "softmax", "ovr_sigmoid", "modified_huber")
#: scikit-learn's linear regressors: ``predict`` is ``X @ coef_.T + intercept_``.
LINEAR_REGRESSORS = (
    "LinearRegression", "Ridge", "RidgeCV", "Lasso", "LassoCV", "ElasticNet", "ElasticNetCV",
    "MultiTaskLasso", "MultiTaskLassoCV", "MultiTaskElasticNet", "MultiTaskElasticNetCV",
    "Lars", "LarsCV", "LassoLars", "LassoLarsCV", "LassoLarsIC", "OrthogonalMatchingPursuit",
    "OrthogonalMatchingPursuitCV", "BayesianRidge", "ARDRegression", "HuberRegressor",
    "QuantileRegressor", "TheilSenRegressor", "LinearSVR", "SGDRegressor",
    "PassiveAggressiveRegressor",
)  # fmt: skip
BINARY_FUNCTIONS = ("add", "sub", "mul", "div", "maximum", "minimum", "power", "floor_divide",
                    "remainder", "fmod", "fmax", "fmin", "arctan2", "copysign",
                    "hypot")  # fmt: skip
#: Binary functions whose result is f64 whatever the operands (numpy's for ints).
FLOAT_FUNCTIONS = ("div", "arctan2", "copysign", "hypot")
#: Integer functions with a divisor (numpy gives 0 for a zero divisor; pandas float64).
DIVISIONS = ("floor_divide", "remainder")
COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")
#: Element types of elementwise values: float64, float32, int64 and bool, as numpy computes
#: on them.
NUMERIC_ELEMENTS = (f64, f32, i64, i1)
#: Functions of f32 values computed in float32: those IEEE rounds exactly, and numpy's float32
#: ``log``, ``exp``, ``power``... (``abi.UFUNC_LOOPS``), its own approximations, which native
#: code computes with numpy's own loop (``feature.ufunc``).
FLOAT32_UNARY = ("abs", "fabs", "negative", "floor", "ceil", "trunc", "rint", "square", "sqrt",
                 *(f for f in UFUNC_LOOPS if f in UNARY_FUNCTIONS))  # fmt: skip
FLOAT32_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum",
                  *(f for f in UFUNC_LOOPS if f in BINARY_FUNCTIONS))  # fmt: skip


def ufunc_loop_functions(ops: Iterable[Operation]) -> list[str]:
    """The ufuncs among ``ops`` (unary and binary) that kernels compute with numpy's own
    loop (``abi.UFUNC_LOOPS``, ``feature.ufunc``), sorted."""
    return sorted({
        "exp" if isinstance(op, PredictOp) else op.function.data for op in ops
        if isinstance(op, UnaryOp) and op.function.data in UFUNC_LOOPS
        and "libm" not in op.attributes
        or isinstance(op, BinaryOp) and op.function.data in UFUNC_LOOPS and not libm_power(op)
        or isinstance(op, PredictOp) and numpy_softmax(op)
    })  # fmt: skip


def numpy_softmax(op: PredictOp) -> bool:
    """Whether ``op`` computes scikit-learn's softmax (``np.exp``, numpy's loop; XGBoost's
    sums in f32, and its softmax is ``expf``): its probabilities, or its classes from them."""
    params = op.params.data
    return (
        params.get("proba") == StringAttr("softmax")
        and params.get("sum_precision") != StringAttr("f32")
        and (op.method.data == "predict_proba" or params.get("decision") == StringAttr("proba"))
    )


def libm_power(op: BinaryOp) -> bool:
    """Whether ``op`` is a ``power`` numpy computes with its scalar arithmetic (the C
    library's ``pow``): ``scalar_math``, or of two scalars."""
    return op.function.data == "power" and (
        op.scalar_math is not None or not isinstance(op.result.type, TensorType)
    )


def _element(typ: Attribute, what: str) -> Attribute:
    """The element of a batch or scalar operand, which must be f64, f32, i64 or i1."""
    element = typ.get_element_type() if isinstance(typ, TensorType) else typ
    if element not in NUMERIC_ELEMENTS:
        raise VerifyException(f"{what} must hold f64, f32, i64 or i1 values, got {typ}")
    return element


def unary_element(function: str, input: Attribute) -> Attribute:
    """numpy's result element of a unary ufunc: an integer input stays i64 for
    :data:`INTEGER_UNARY_FUNCTIONS` and becomes f64 for the others; f32 stays f32 for
    :data:`FLOAT32_UNARY` (others are not supported); bool is not taken (numpy gives
    float16 for ``np.log(bool)`` and refuses ``-bool``)."""
    element = _element(input, "input")
    if element == i1:
        raise VerifyException("a unary function of booleans is not supported")
    if element == f32 and function not in FLOAT32_UNARY:
        raise VerifyException(f"{function!r} of f32 values is not supported")
    if element == i64 and function not in INTEGER_UNARY_FUNCTIONS:
        return f64
    return element


def promoted_element(elements: set[Attribute]) -> Attribute:
    """numpy's common element of batches (a scalar operand is a Python number, which takes
    the batch's kind when it can): f64 beside any f64; f32 with f32 or i1, f64 with i64
    (float32 holds no int64 exactly); i64 for integers and booleans."""
    if f64 in elements or elements >= {f32, i64}:
        return f64
    return f32 if f32 in elements else i64


def binary_element(function: str, lhs: Attribute, rhs: Attribute) -> Attribute:
    """numpy's result element of a binary ufunc on f64/f32/i64/i1 operands (see
    :func:`promoted_element`).

    Comparisons give i1; true division, ``arctan2``, ``copysign`` and ``hypot`` give f64
    (f32 for the division of f32 values); otherwise the operands' common element,
    integers (i64, or i64 with i1) giving i64, wrapping on overflow as numpy does.
    Arithmetic on two booleans (logical in numpy), integer powers (which raise for
    negative exponents) and f32 functions other than :data:`FLOAT32_BINARY` are not
    supported.
    """
    elements = {_element(lhs, "lhs"), _element(rhs, "rhs")}
    element = promoted_element(elements)
    if element == f32 and function not in FLOAT32_BINARY + COMPARISONS:
        raise VerifyException(f"{function!r} of f32 values is not supported")
    if function in COMPARISONS:
        return i1
    if function in FLOAT_FUNCTIONS and element != f32:
        return f64
    if elements == {i1}:
        raise VerifyException(f"{function!r} of two boolean operands is not supported")
    if function == "power" and element == i64:
        raise VerifyException("an integer power is not supported")
    return element


def where_element(then_value: Attribute, else_value: Attribute) -> Attribute:
    """numpy's common element of ``np.where``'s branches."""
    elements = {_element(then_value, "then value"), _element(else_value, "else value")}
    if len(elements) == 1:
        return elements.pop()
    return promoted_element(elements)


@irdl_op_definition
class UnaryOp(IRDLOperation):
    """A numpy ufunc applied elementwise (see :func:`unary_element` for integers).
    ``check_finite`` refuses NaN and infinity in a float input first, as
    ``FunctionTransformer(validate=True)`` does. ``libm`` computes the function as C code
    does (the C library's, not numpy's loop): a LightGBM or XGBoost regressor's exp link.

    ```mlir
    %y = pipeline.unary "log1p" %x : tensor<?x3xf64> -> tensor<?x3xf64>
    %n = pipeline.unary "abs" %k : tensor<?xi64> -> tensor<?xi64>
    %v = pipeline.unary "sqrt" %x {check_finite} : tensor<?x3xf64> -> tensor<?x3xf64>
    %p = pipeline.unary "exp" %raw {libm} : tensor<?xf64> -> tensor<?xf64>
    ```
    """

    name = "pipeline.unary"
    function = prop_def(StringAttr)
    input = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = "$function $input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, function: str, input: SSAValue):
        assert isinstance(input.type, TensorType)
        element = unary_element(function, input.type)
        super().__init__(
            operands=[input], properties={"function": StringAttr(function)},
            result_types=[TensorType(element, input.type.get_shape())],
        )  # fmt: skip

    def verify_(self) -> None:
        if self.function.data not in UNARY_FUNCTIONS:
            raise VerifyException(
                f"unknown unary function {self.function.data!r}; "
                f"expected one of {', '.join(UNARY_FUNCTIONS)}"
            )
        typ = verify_batch(self.input.type, "input")
        expected = TensorType(unary_element(self.function.data, typ), typ.get_shape())
        if self.result.type != expected:
            raise VerifyException(f"result must be {expected}")
        if "libm" in self.attributes and self.function.data != "exp":
            raise VerifyException("libm is an exp's")

    def checks_input(self) -> bool:
        """``ChecksInput``: only a ``check_finite`` unary op refuses values."""
        return "check_finite" in self.attributes


def _broadcast_type(lhs: Attribute, rhs: Attribute, element: Attribute) -> TensorType:
    """The numpy broadcast of two batches (or a batch and a scalar)."""
    shapes = [t.get_shape() for t in (lhs, rhs) if isinstance(t, TensorType)]
    if not shapes:
        raise VerifyException("at least one operand must be a batch")
    widths = {s[1] if len(s) == 2 else None for s in shapes}
    wide = [s for s in shapes if len(s) == 2 and s[1] != 1]
    shape = wide[0] if wide else max(shapes, key=len)
    if len(widths - {1}) > 1:
        described = ", ".join(str(t) for t in (lhs, rhs))
        raise VerifyException(f"operands {described} do not broadcast")
    return TensorType(element, shape)


def _binary_type(lhs: Attribute, rhs: Attribute, element: Attribute) -> Attribute:
    """A binary op's result: the broadcast of its operands, or a scalar of two scalars."""
    if not isinstance(lhs, TensorType) and not isinstance(rhs, TensorType):
        return element
    return _broadcast_type(lhs, rhs, element)


@irdl_op_definition
class BinaryOp(IRDLOperation):
    """Elementwise arithmetic with numpy broadcasting and type promotion (``+ - * / // %``,
    ``np.maximum``, ``np.fmax``, ``np.fmod``, comparisons; see :func:`binary_element`). Two
    scalars (batch reductions, ``a.max() - a.min()``) give a scalar, as numpy's scalars do.

    ``floor_divide`` and ``remainder`` are numpy's (Python's signs: the remainder takes
    the divisor's sign; floats as ``npy_divmod``, ``x // 0.0`` is ``x / 0.0``, ``x % 0.0``
    NaN; integers give 0 for a zero divisor, ``-2**63 // -1`` is ``-2**63``). ``fmod`` is
    C's (the dividend's sign); ``fmax``/``fmin`` ignore a NaN operand, ``maximum``/
    ``minimum`` propagate it.

    ``speculative`` (an integer ``floor_divide``/``remainder`` only) stands for pandas'
    result, which is int64 unless a divisor is 0, then float64 with inf/NaN there: a zero
    divisor is a run-time signal to run the original function instead, not an error.

    ``power`` of arrays is numpy's own loop (``feature.ufunc``); ``scalar_math`` (a ``power``
    only), and a ``power`` of two scalars (``a.max() ** b.min()``), is numpy's scalar
    arithmetic, as a row function of ``frame.apply(f, axis=1)`` computes: the C library's
    ``pow``.

    ```mlir
    %z = pipeline.binary "add" %x, %c : (tensor<?x3xf64>, f64) -> tensor<?x3xf64>
    %d = pipeline.binary "sub" %year, %k : (tensor<?xi64>, i64) -> tensor<?xi64>
    %m = pipeline.binary "ge" %year, %k : (tensor<?xi64>, i64) -> tensor<?xi1>
    %r = pipeline.binary "sub" %max, %min : (f64, f64) -> f64
    %q = pipeline.binary "floor_divide" %k, %j speculative : (tensor<?xi64>, tensor<?xi64>)
           -> tensor<?xi64>
    ```
    """

    name = "pipeline.binary"
    function = prop_def(StringAttr)
    lhs = operand_def()
    rhs = operand_def()
    result = result_def()
    speculative = opt_prop_def(UnitAttr)
    scalar_math = opt_prop_def(UnitAttr)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$function $lhs `,` $rhs (`speculative` $speculative^)? (`scalar_math` $scalar_math^)? "
        "attr-dict `:` `(` type($lhs) `,` type($rhs) `)` `->` type($result)"
    )

    def __init__(self, function: str, lhs: SSAValue, rhs: SSAValue, speculative: bool = False,
                 scalar_math: bool = False):  # fmt: skip
        element = binary_element(function, lhs.type, rhs.type)
        properties: dict[str, Attribute] = {"function": StringAttr(function)}
        if speculative:
            properties["speculative"] = UnitAttr()
        if scalar_math:
            properties["scalar_math"] = UnitAttr()
        super().__init__(
            operands=[lhs, rhs],
            properties=properties,
            result_types=[_binary_type(lhs.type, rhs.type, element)],
        )

    def verify_(self) -> None:
        if self.function.data not in BINARY_FUNCTIONS + COMPARISONS:
            raise VerifyException(f"unknown binary function {self.function.data!r}")
        element = binary_element(self.function.data, self.lhs.type, self.rhs.type)
        expected = _binary_type(self.lhs.type, self.rhs.type, element)
        if self.result.type != expected:
            raise VerifyException(f"result must be {expected}")
        if self.speculative is not None and (
            self.function.data not in DIVISIONS or element != i64
        ):
            raise VerifyException("a speculative binary is an integer floor_divide or remainder")
        if self.scalar_math is not None and self.function.data != "power":
            raise VerifyException("scalar_math is a power's")

    def checks_input(self) -> bool:
        """``ChecksInput``: a speculative division runs the original at a zero divisor, whose
        later code may refuse pandas' floats there (``(a // b).astype(int)``)."""
        return self.speculative is not None


@irdl_op_definition
class WhereOp(IRDLOperation):
    """``np.where(cond, a, b)``, elementwise with broadcasting; the result element is the
    branches' common one (see :func:`where_element`).

    ```mlir
    %z = pipeline.where %c, %x, %y : (tensor<?x1xi1>, tensor<?x1xf64>, f64) -> tensor<?x1xf64>
    ```
    """

    name = "pipeline.where"
    condition = operand_def(TensorType)
    then_value = operand_def()
    else_value = operand_def()
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = (
        "$condition `,` $then_value `,` $else_value attr-dict `:` `(` type($condition) `,` "
        "type($then_value) `,` type($else_value) `)` `->` type($result)"
    )

    def __init__(self, condition: SSAValue, then_value: SSAValue, else_value: SSAValue):
        element = where_element(then_value.type, else_value.type)
        values = _broadcast_type(then_value.type, else_value.type, element)
        shape = _broadcast_type(condition.type, values, element)
        super().__init__(operands=[condition, then_value, else_value], result_types=[shape])

    def verify_(self) -> None:
        assert isinstance(self.condition.type, TensorType)
        if self.condition.type.get_element_type() != i1:
            raise VerifyException("condition must be a batch of i1")
        element = where_element(self.then_value.type, self.else_value.type)
        values = _broadcast_type(self.then_value.type, self.else_value.type, element)
        if self.result.type != _broadcast_type(self.condition.type, values, element):
            raise VerifyException("result type does not match the broadcast of the operands")


@irdl_op_definition
class CutWidthOp(IRDLOperation):
    """``pd.cut(x, bins, labels=False)`` into ``bins`` equal-width bins whose edges pandas
    takes from the batch's ``low`` and ``high`` (its ``min()`` and ``max()``): numpy's
    ``linspace(low, high, bins + 1)`` with the first edge moved down (``right``; else the
    last up) by 0.1% of the range (an int range subtracted in int64, as numpy's scalars
    do), or, where ``low == high``, of ``low - 0.001 * |low|`` to ``high + 0.001 * |high|``
    (0.001 for zero). The code of each value (the edge ``searchsorted`` finds, minus 1;
    with ``include_lowest`` the first edge is in bin 0) is f64, NaN outside the edges and
    for NaN. Where pandas refuses the edges (an infinite or no value, bins not increasing,
    numpy's step of zero), the batch runs the original function.

    ```mlir
    %c = pipeline.cut_width %x, %lo, %hi bins 4 right : (tensor<?xf64>, f64, f64) -> tensor<?xf64>
    %k = pipeline.cut_width %n, %a, %b bins 3 include_lowest
           : (tensor<?xi64>, i64, i64) -> tensor<?xf64>
    ```
    """

    name = "pipeline.cut_width"
    input = operand_def(TensorType)
    low = operand_def()
    high = operand_def()
    bins = prop_def(IntegerAttr[I64])
    right = opt_prop_def(UnitAttr)
    include_lowest = opt_prop_def(UnitAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$input `,` $low `,` $high `bins` $bins (`right` $right^)? "
        "(`include_lowest` $include_lowest^)? attr-dict `:` `(` type($input) `,` type($low) "
        "`,` type($high) `)` `->` type($result)"
    )

    def __init__(self, input: SSAValue, low: SSAValue, high: SSAValue, bins: int, right: bool,
                 include_lowest: bool):  # fmt: skip
        properties: dict[str, Attribute] = {"bins": IntegerAttr(bins, i64)}
        if right:
            properties["right"] = UnitAttr()
        if include_lowest:
            properties["include_lowest"] = UnitAttr()
        super().__init__(operands=[input, low, high], properties=properties,
                         result_types=[vector_of(f64)])  # fmt: skip

    def verify_(self) -> None:
        typ = verify_batch(self.input.type, "input")
        element = typ.get_element_type()
        if typ.get_num_dims() != 1 or element not in (f64, i64):
            raise VerifyException("input must be tensor<?xf64> or tensor<?xi64>")
        if self.low.type != element or self.high.type != element:
            raise VerifyException(f"low and high must be {element}, the input's element")
        if self.bins.value.data < 1:
            raise VerifyException("bins must be at least 1")
        if self.result.type != vector_of(f64):
            raise VerifyException("result must be tensor<?xf64>")


#: The widths ``pipeline.wrap_int`` wraps to (numpy's int8, int16 and int32 arithmetic).
WRAP_BITS = (8, 16, 32)


@irdl_op_definition
class WrapIntOp(IRDLOperation):
    """i64 values wrapped to signed ``bits``-bit integers, as numpy's arithmetic on int32
    (int16, int8) values wraps: ``x`` modulo ``2**bits`` in ``[-2**(bits-1), 2**(bits-1))``.
    ``+ - *`` of such values computed in i64 then wrapped give numpy's narrow result, since
    wrapping commutes with them (``dt.year * 12 + dt.month`` is int32 in pandas).

    ```mlir
    %w = pipeline.wrap_int %x bits 32 : tensor<?xi64> -> tensor<?xi64>
    ```
    """

    name = "pipeline.wrap_int"
    input = operand_def(TensorType)
    bits = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$input `bits` $bits attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, bits: int):
        super().__init__(operands=[input], properties={"bits": IntegerAttr(bits, i64)},
                         result_types=[input.type])  # fmt: skip

    def verify_(self) -> None:
        typ = verify_batch(self.input.type, "input")
        if typ.get_element_type() != i64:
            raise VerifyException("input must be a batch of i64")
        if self.result.type != typ:
            raise VerifyException("result must have the input's type")
        if self.bits.value.data not in WRAP_BITS:
            raise VerifyException(f"bits must be one of {', '.join(map(str, WRAP_BITS))}")


@irdl_op_definition
class CastOp(IRDLOperation):
    """Convert the elements of a batch between f64, f32, i64 and i1 (``Series.astype``).

    As pandas converts: i1 -> i64/f64/f32 gives 0 or 1; i64 -> f64/f32 and f64 -> f32
    round to nearest (i64 -> f64 exact below 2**53); f32 -> f64 is exact; f64/f32/i64 -> i1
    is ``x != 0`` (NaN is True); f32 -> i64 is not supported; f64 -> i64 truncates toward
    zero, a NaN or infinite value is a run-time error (pandas' ``IntCastingNaNError``) and
    a value out of the i64 range gives -2**63, as numpy does.

    ``speculative`` (f64 -> i64 only) stands for a value pandas gives as int64 only when
    every value is an integer (``s.map({"a": 1})`` is int64 unless a key is missing, then
    float64 with NaN): a value that is not an exact integer is a run-time signal to run the
    original function instead, not an error.

    ```mlir
    %n = pipeline.cast %mask : tensor<?xi1> -> tensor<?xi64>
    %k = pipeline.cast %mapped speculative : tensor<?xf64> -> tensor<?xi64>
    ```
    """

    name = "pipeline.cast"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    speculative = opt_prop_def(UnitAttr)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$input (`speculative` $speculative^)? attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(self, input: SSAValue, element: Attribute, speculative: bool = False):
        assert isinstance(input.type, TensorType)
        super().__init__(
            operands=[input],
            result_types=[TensorType(element, input.type.get_shape())],
            properties={"speculative": UnitAttr()} if speculative else {},
        )

    def verify_(self) -> None:
        source = verify_batch(self.input.type, "input")
        target = verify_batch(self.result.type, "result")
        if source.get_shape() != target.get_shape():
            raise VerifyException("result must have the input's shape")
        if _element(source, "input") == _element(target, "result"):
            raise VerifyException("a cast must change the element type")
        if source.get_element_type() == f32 and target.get_element_type() == i64:
            raise VerifyException("a cast from f32 to i64 is not supported")
        if self.speculative is not None and (
            source.get_element_type() != f64 or target.get_element_type() != i64
        ):
            raise VerifyException("a speculative cast is from f64 to i64")

    def checks_input(self) -> bool:
        """``ChecksInput``: f64 to i64 refuses NaN and infinity (a speculative cast runs the
        original there, whose later code may refuse the floats: ``.map(d).astype(int)``)."""
        source = self.input.type.get_element_type()  # type: ignore[attr-defined]
        target = self.result.type.get_element_type()  # type: ignore[attr-defined]
        return (source, target) == (f64, i64)


REDUCTIONS = ("sum", "mean", "min", "max", "var", "std", "count", "median")


def reduce_element(function: str, input: Attribute) -> Attribute:
    """pandas' result of a reduction of a column of ``input`` elements: ``mean``, ``var``,
    ``std`` and ``median`` are float64, ``count`` int64; ``sum`` keeps float64 and sums integers and
    booleans in int64; ``min``/``max`` keep float64 and int64 (a boolean's is a bool)."""
    element = _element(input, "input")
    if element == f32:  # pandas reduces float32 in float32 (numpy's pairwise sums)
        raise VerifyException(f"{function} of f32 values is not supported")
    if function in ("mean", "var", "std", "median"):
        return f64
    if function == "count":
        return i64
    if function == "sum":
        return f64 if element == f64 else i64
    if element == i1:
        raise VerifyException(f"{function} of booleans is not supported")
    return element


@irdl_op_definition
class ReduceOp(IRDLOperation):
    """A pandas reduction of a column over the whole batch (``s.mean()``), a scalar that
    row ops use as an operand: NaN is skipped; ``mean``, ``var``, ``std`` (ddof) and
    ``min``/``max`` of no value are NaN, ``sum`` of none is 0; sums are numpy's pairwise
    sums of the values with NaN as 0, as pandas computes them (see :func:`reduce_element`
    for the result's type). Every row of the batch goes into it, so the rows that use it
    run after a pass over all of them.

    ```mlir
    %m = pipeline.reduce "mean" %x : tensor<?xf64> -> f64
    %s = pipeline.reduce "std" %x ddof 1 : i64 : tensor<?xi64> -> f64
    ```
    """

    name = "pipeline.reduce"
    function = prop_def(StringAttr)
    input = operand_def(TensorType)
    ddof = opt_prop_def(IntegerAttr)
    result = result_def()
    traits = traits_def(Pure())
    assembly_format = (
        "$function $input (`ddof` $ddof^)? attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(self, function: str, input: SSAValue, ddof: int | None = None):
        assert isinstance(input.type, TensorType)
        properties: dict[str, Attribute] = {"function": StringAttr(function)}
        if ddof is not None:
            properties["ddof"] = IntegerAttr(ddof, i64)
        super().__init__(
            operands=[input], properties=properties,
            result_types=[reduce_element(function, input.type)],
        )  # fmt: skip

    def verify_(self) -> None:
        if self.function.data not in REDUCTIONS:
            raise VerifyException(f"unknown reduction {self.function.data!r}; expected one "
                                  f"of {', '.join(REDUCTIONS)}")  # fmt: skip
        typ = verify_batch(self.input.type, "input")
        if typ.get_num_dims() != 1:
            raise VerifyException("a reduction's input is one column, tensor<?xT>")
        if (self.ddof is not None) != (self.function.data in ("var", "std")):
            raise VerifyException("ddof is given for var and std, and only for them")
        if self.ddof is not None and self.ddof.value.data < 0:
            raise VerifyException("ddof must be at least 0")
        if self.result.type != reduce_element(self.function.data, typ):
            raise VerifyException(f"result must be {reduce_element(self.function.data, typ)}")


# endregion
# region Dates

#: The directives of ``pipeline.parse_datetime`` formats, with the bytes each one reads.
DATE_DIRECTIVES = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "b": 3, "z": 1}
#: The parts of ``pipeline.make_datetime``, in order (a prefix of at least three).
DATE_PARTS = ("year", "month", "day", "hour", "minute", "second")
#: ``Series.dt`` fields natively; pandas gives them as int32 (float64 with NaN for NaT).
DATETIME_FIELDS = (
    "year", "month", "day", "hour", "minute", "second", "dayofweek", "dayofyear", "quarter",
    "days_in_month",
)  # fmt: skip
#: ``Series.dt`` fields of a timedelta: whole days (rounded down; pandas gives int64) and
#: the seconds after them (int32).
TIMEDELTA_FIELDS = ("days", "seconds")
#: Boolean ``Series.dt`` fields (False for NaT).
DATETIME_FLAGS = (
    "is_month_start", "is_month_end", "is_quarter_start", "is_quarter_end", "is_year_start",
    "is_year_end", "is_leap_year",
)  # fmt: skip


def format_fields(format: str) -> list[tuple[str, str]]:
    """A ``parse_datetime`` format as (kind, text) pieces: ``("%", "Y")`` for a directive,
    ``("", "-")`` for a literal byte; ``ValueError`` for anything else."""
    pieces: list[tuple[str, str]] = []
    i = 0
    while i < len(format):
        if format[i] == "%":
            directive = format[i + 1 : i + 2]
            if directive not in DATE_DIRECTIVES:
                raise ValueError(f"directive %{directive} is not compiled")
            pieces.append(("%", directive))
            i += 2
        else:
            if not (format[i].isascii() and format[i].isprintable()) or format[i].isdigit():
                raise ValueError(f"literal {format[i]!r} is not compiled")
            pieces.append(("", format[i]))
            i += 1
    directives = [t for k, t in pieces if k == "%"]
    if "Y" not in directives or len(set(directives)) != len(directives):
        raise ValueError("a format needs %Y and each directive at most once")
    if "d" in directives and not ({"m", "b"} & set(directives)):
        raise ValueError("a day needs a month")
    return pieces


@irdl_op_definition
class DatetimeColumnOp(IRDLOperation):
    """The ticks of a datetime column of a frame (``df["when"]``, NaT is -2**63).

    ```mlir
    %t = pipeline.datetime_column %df "when"
        : !pipeline.frame<"when" : !pipeline.datetime<"ns">> -> tensor<?xi64>
    ```
    """

    name = "pipeline.datetime_column"
    frame = operand_def(FrameType)
    column = prop_def(StringAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$frame $column attr-dict `:` type($frame) `->` type($result)"

    def __init__(self, frame: SSAValue, column: str):
        super().__init__(operands=[frame], properties={"column": StringAttr(column)},
                         result_types=[vector_of(i64)])  # fmt: skip

    def verify_(self) -> None:
        assert isinstance(self.frame.type, FrameType)
        self.frame.type.verify_columns([self.column.data])
        if not isinstance(self.frame.type.dtype_of(self.column.data), DatetimeType):
            raise VerifyException(f"column {self.column.data!r} is not a datetime")
        if self.result.type != vector_of(i64):
            raise VerifyException("result must be tensor<?xi64>")


@irdl_op_definition
class ParseDatetimeOp(IRDLOperation):
    """``pd.to_datetime`` of a string column in one fixed-width ``format`` (strptime
    directives ``%Y`` 4 digits, ``%m %d %H %M %S`` 2 digits, ``%b`` an English month
    abbreviation in any case, ``%z`` only as ``Z``, UTC, and literal bytes). The result
    counts ``unit`` ticks since 1970-01-01 (UTC). A missing string is NaT; a string that
    does not match exactly, or an invalid date, stops the batch with a signal to run the
    original function (pandas may read it otherwise, or raise).

    ```mlir
    %t = pipeline.parse_datetime %f "when" "%Y-%m-%d %H:%M:%S" unit "us"
        : !pipeline.frame<"when" : !pipeline.str> -> tensor<?xi64>
    ```
    """

    name = "pipeline.parse_datetime"
    frame = operand_def(FrameType)
    column = prop_def(StringAttr)
    format = prop_def(StringAttr)
    unit = prop_def(StringAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$frame $column $format `unit` $unit attr-dict `:` type($frame) `->` type($result)"
    )

    def __init__(self, frame: SSAValue, column: str, format: str, unit: str):
        super().__init__(
            operands=[frame],
            properties={"column": StringAttr(column), "format": StringAttr(format),
                        "unit": StringAttr(unit)},
            result_types=[vector_of(i64)],
        )  # fmt: skip

    def verify_(self) -> None:
        assert isinstance(self.frame.type, FrameType)
        self.frame.type.verify_columns([self.column.data], StrType())
        _verify_unit(self.unit)
        try:
            format_fields(self.format.data)
        except ValueError as error:
            raise VerifyException(f"format {self.format.data!r}: {error}") from None
        if self.result.type != vector_of(i64):
            raise VerifyException("result must be tensor<?xi64>")


@irdl_op_definition
class MakeDatetimeOp(IRDLOperation):
    """``pd.to_datetime`` of a frame of year, month, day (and hour, minute, second)
    columns, in that order. A row with NaN is NaT; a fraction or an invalid date stops the
    batch with a signal to run the original function (which raises, or coerces).

    ```mlir
    %t = pipeline.make_datetime %ymd unit "us" : tensor<?x3xf64> -> tensor<?xi64>
    ```
    """

    name = "pipeline.make_datetime"
    input = operand_def(TensorType)
    unit = prop_def(StringAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = "$input `unit` $unit attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, unit: str):
        super().__init__(
            operands=[input], properties={"unit": StringAttr(unit)}, result_types=[vector_of(i64)]
        )

    def verify_(self) -> None:
        typ = verify_batch(self.input.type, "input")
        if typ.get_element_type() != f64 or not 3 <= batch_width(typ) <= len(DATE_PARTS):
            raise VerifyException(f"input must be tensor<?xWxf64> with 3 <= W <= "
                                  f"{len(DATE_PARTS)}: {', '.join(DATE_PARTS)}")  # fmt: skip
        _verify_unit(self.unit)
        if self.result.type != vector_of(i64):
            raise VerifyException("result must be tensor<?xi64>")


@irdl_op_definition
class DatetimeSubOp(IRDLOperation):
    """The timedelta ``lhs - rhs`` of datetimes of one unit (a scalar operand: a constant
    date), in ticks; or a datetime (timedelta) ``lhs`` shifted by a constant timedelta
    ``-rhs`` (``dates + pd.Timedelta(days=3)`` subtracts ``-3`` days). NaT if either is
    NaT. An overflow, or a result of NaT's ticks, which pandas refuses, stops the batch
    with a signal to run the original function.

    ```mlir
    %d = pipeline.datetime_sub %t, %t0 : (tensor<?xi64>, i64) -> tensor<?xi64>
    %e = pipeline.datetime_sub %t0, %t : (i64, tensor<?xi64>) -> tensor<?xi64>
    ```
    """

    name = "pipeline.datetime_sub"
    lhs = operand_def()
    rhs = operand_def()
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$lhs `,` $rhs attr-dict `:` `(` type($lhs) `,` type($rhs) `)` `->` type($result)"
    )

    def __init__(self, lhs: SSAValue, rhs: SSAValue):
        super().__init__(operands=[lhs, rhs], result_types=[vector_of(i64)])

    def verify_(self) -> None:
        types = (self.lhs.type, self.rhs.type)
        if not set(types) <= {vector_of(i64), i64} or vector_of(i64) not in types:
            raise VerifyException("operands must be tensor<?xi64> (or one an i64 scalar)")
        if self.result.type != vector_of(i64):
            raise VerifyException("result must be tensor<?xi64>")


@irdl_op_definition
class DatetimeFieldOp(IRDLOperation):
    """A calendar field of a datetime (``Series.dt.<field>``), NaN for NaT
    (``dayofweek``: Monday is 0); a flag (``is_month_end``, ...) is i1, False for NaT;
    ``days`` and ``seconds`` are those of a timedelta (``pipeline.datetime_sub``).

    ```mlir
    %h = pipeline.datetime_field "hour" %t unit "us" : tensor<?xi64> -> tensor<?xf64>
    %e = pipeline.datetime_field "is_month_end" %t unit "us" : tensor<?xi64> -> tensor<?xi1>
    ```
    """

    name = "pipeline.datetime_field"
    field = prop_def(StringAttr)
    input = operand_def(TensorType)
    unit = prop_def(StringAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = (
        "$field $input `unit` $unit attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(self, field: str, input: SSAValue, unit: str):
        super().__init__(
            operands=[input], properties={"field": StringAttr(field), "unit": StringAttr(unit)},
            result_types=[vector_of(i1 if field in DATETIME_FLAGS else f64)],
        )  # fmt: skip

    def verify_(self) -> None:
        field = self.field.data
        if field not in DATETIME_FIELDS + DATETIME_FLAGS + TIMEDELTA_FIELDS:
            raise VerifyException(f"unknown datetime field {field!r}")
        if self.input.type != vector_of(i64):
            raise VerifyException("input must be tensor<?xi64>")
        _verify_unit(self.unit)
        expected = vector_of(i1 if field in DATETIME_FLAGS else f64)
        if self.result.type != expected:
            raise VerifyException(f"result must be {expected}")


# endregion
# region Strings

#: ``str.strip`` variants of ``pipeline.str_strip``.
STRIP_SIDES = ("both", "left", "right")
#: ``str`` predicates of ``pipeline.str_match`` (a literal pattern).
STR_PREDICATES = ("contains", "startswith", "endswith")
#: What ``pipeline.str_match`` gives a missing value: False, True, or the row runs in Python.
STR_MISSING = ("false", "true", "python")
#: ``str`` searches of ``pipeline.str_search`` (a literal, non-empty pattern).
STR_SEARCHES = ("count", "find", "rfind")
CASES = ("lower", "upper")


def text_attr(text: str) -> StringAttr:
    """``text`` as an ASCII ``StringAttr``, other code points as Python escapes (xDSL prints
    non-ASCII text as UTF-8 byte escapes that it does not parse back)."""
    return StringAttr(text.encode("unicode_escape").decode("ascii"))


def attr_text(attr: StringAttr) -> str:
    """The text a :func:`text_attr` holds."""
    return attr.data.encode("ascii").decode("unicode_escape")


def string_column(typ: Attribute, what: str) -> str:
    """The name of the only column of a one-column frame of strings (else a VerifyException)."""
    if not isinstance(typ, FrameType) or len(typ.names.data) != 1 \
            or not isinstance(typ.dtypes.data[0], StrType):  # fmt: skip
        raise VerifyException(f"{what} must be a one-column frame of !pipeline.str, got {typ}")
    return typ.names.data[0].data


def _verify_sep(sep: StringAttr | None) -> None:
    """A split's separator: none (white space) or one ASCII character."""
    if sep is not None and not (len(sep.data) == 1 and sep.data.isascii()):
        raise VerifyException("sep must be one ASCII character")


def _same_strings(op: IRDLOperation) -> None:
    string_column(op.input.type, "input")  # type: ignore[attr-defined]
    string_column(op.result.type, "result")  # type: ignore[attr-defined]


@irdl_op_definition
class StrCaseOp(IRDLOperation):
    """``s.str.lower()`` / ``s.str.upper()``: each code point through a two-level table
    (``text_tables.char_map``) of what Python's full case mapping makes of it: one code point,
    a sequence (``'ß'.upper() == 'SS'``), or "this row runs in Python" (capital sigma's
    lowercase depends on its neighbours). ``expansion`` bounds the UTF-8 bytes one input
    byte becomes. A missing value stays missing.

    ```mlir
    %l = pipeline.str_case "lower" %s map <i : tensor<4352xi32>>, <b : tensor<512xi32>>,
           <q : tensor<9xi32>> expansion 8
           : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
    ```
    """

    name = "pipeline.str_case"
    case = prop_def(StringAttr)
    input = operand_def(FrameType)
    char_index = prop_def(BlobAttr)
    char_blocks = prop_def(BlobAttr)
    char_sequences = prop_def(BlobAttr)
    expansion = prop_def(IntegerAttr[I64])
    result = result_def(FrameType)
    traits = traits_def(Pure())
    assembly_format = (
        "$case $input `map` $char_index `,` $char_blocks `,` $char_sequences "
        "`expansion` $expansion attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(self, case: str, input: SSAValue, char_map: Sequence[BlobAttr], expansion: int):
        index, blocks, sequences = char_map
        super().__init__(
            operands=[input],
            properties={
                "case": StringAttr(case), "char_index": index, "char_blocks": blocks,
                "char_sequences": sequences, "expansion": IntegerAttr(expansion, i64),
            },
            result_types=[input.type],
        )  # fmt: skip

    def verify_(self) -> None:
        _same_strings(self)
        if self.case.data not in CASES:
            raise VerifyException(f"case must be one of {', '.join(CASES)}, got {self.case.data!r}")
        if self.char_index.size != 0x1100:
            raise VerifyException("map index must have 4352 entries (one per 256 code points)")
        if self.expansion.value.data < 1:
            raise VerifyException("expansion must be at least 1")


@irdl_op_definition
class StrStripOp(IRDLOperation):
    """``s.str.strip()`` (``lstrip``, ``rstrip``): drop leading and/or trailing code points
    that are whitespace as ``str.isspace`` defines it, or (with ``chars``) any of those
    (a :func:`text_attr`).

    ```mlir
    %t = pipeline.str_strip "both" %s : !pipeline.frame<"c" : !pipeline.str>
           -> !pipeline.frame<"c" : !pipeline.str>
    %u = pipeline.str_strip "left" %s chars "x-" : !pipeline.frame<"c" : !pipeline.str>
           -> !pipeline.frame<"c" : !pipeline.str>
    ```
    """

    name = "pipeline.str_strip"
    side = prop_def(StringAttr)
    input = operand_def(FrameType)
    chars = opt_prop_def(StringAttr)
    result = result_def(FrameType)
    traits = traits_def(Pure())
    assembly_format = (
        "$side $input (`chars` $chars^)? attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(self, side: str, input: SSAValue, chars: str | None = None):
        properties: dict[str, Attribute] = {"side": StringAttr(side)}
        if chars is not None:
            properties["chars"] = text_attr(chars)
        super().__init__(operands=[input], properties=properties, result_types=[input.type])

    def verify_(self) -> None:
        _same_strings(self)
        if self.side.data not in STRIP_SIDES:
            raise VerifyException(f"side must be one of {', '.join(STRIP_SIDES)}")


@irdl_op_definition
class StrSliceOp(IRDLOperation):
    """``s.str[start:stop]`` in code points (Python's slice rules, negative bounds count from
    the end); with ``single``, ``s.str[start]``: one code point, missing where the string is
    too short. A missing value stays missing.

    ```mlir
    %h = pipeline.str_slice %s [0 : 3] : !pipeline.frame<"c" : !pipeline.str>
           -> !pipeline.frame<"c" : !pipeline.str>
    %f = pipeline.str_slice %s [-1] : !pipeline.frame<"c" : !pipeline.str>
           -> !pipeline.frame<"c" : !pipeline.str>
    ```
    """

    name = "pipeline.str_slice"
    input = operand_def(FrameType)
    start = opt_prop_def(IntegerAttr[I64])
    stop = opt_prop_def(IntegerAttr[I64])
    single = opt_prop_def(UnitAttr)
    result = result_def(FrameType)
    traits = traits_def(Pure())

    def __init__(self, input: SSAValue, start: int | None, stop: int | None, single: bool):
        properties: dict[str, Attribute] = {}
        for key, bound in (("start", start), ("stop", stop)):
            if bound is not None:
                properties[key] = IntegerAttr(bound, i64)
        if single:
            properties["single"] = UnitAttr()
        super().__init__(operands=[input], properties=properties, result_types=[input.type])

    @classmethod
    def parse(cls, parser: Parser) -> StrSliceOp:
        unresolved = parser.parse_unresolved_operand()
        parser.parse_punctuation("[")
        start = parser.parse_optional_integer(allow_negative=True)
        single = parser.parse_optional_punctuation(":") is None
        stop = None if single else parser.parse_optional_integer(allow_negative=True)
        parser.parse_punctuation("]")
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        input = parser.resolve_operand(unresolved, parser.parse_type())
        parser.parse_punctuation("->")
        parser.parse_type()
        op = cls(input, start, stop, single)
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        start = "" if self.start is None else str(self.start.value.data)
        stop = "" if self.stop is None else str(self.stop.value.data)
        printer.print_string(" ")
        printer.print_operand(self.input)
        printer.print_string(f" [{start}]" if self.single else f" [{start} : {stop}]")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.input.type)
        printer.print_string(" -> ")
        printer.print_attribute(self.result.type)

    def verify_(self) -> None:
        _same_strings(self)
        if self.single is not None and (self.start is None or self.stop is not None):
            raise VerifyException("a single code point has a start and no stop")


@irdl_op_definition
class StrConcatOp(IRDLOperation):
    """String concatenation (``s1 + " " + s2``, ``"x" + s``): ``pieces[0] + inputs[0] +
    pieces[1] + ... + inputs[-1] + pieces[-1]``, row by row; missing if any input is. The
    pieces are :func:`text_attr` s.

    ```mlir
    %n = pipeline.str_concat %a, %b pieces ["", " ", ""]
           : (!pipeline.frame<"a" : !pipeline.str>, !pipeline.frame<"b" : !pipeline.str>)
           -> !pipeline.frame<"a" : !pipeline.str>
    ```
    """

    name = "pipeline.str_concat"
    inputs = var_operand_def(FrameType)
    pieces = prop_def(ArrayAttr[StringAttr])
    result = result_def(FrameType)
    traits = traits_def(Pure())
    assembly_format = (
        "$inputs `pieces` $pieces attr-dict `:` `(` type($inputs) `)` `->` type($result)"
    )

    def __init__(self, inputs: Sequence[SSAValue], pieces: Sequence[str]):
        super().__init__(
            operands=[inputs],
            properties={"pieces": ArrayAttr([text_attr(p) for p in pieces])},
            result_types=[inputs[0].type],
        )

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("str_concat needs at least one input")
        for value in self.inputs:
            string_column(value.type, "input")
        string_column(self.result.type, "result")
        if len(self.pieces.data) != len(self.inputs) + 1:
            raise VerifyException("str_concat needs one more piece than inputs")


@irdl_op_definition
class StrFillOp(IRDLOperation):
    """``s.fillna("text")`` of a str column: a missing value (None, NaN, pd.NA) becomes
    ``value`` (a :func:`text_attr`); a present one stays. The result has no missing value.

    ```mlir
    %f = pipeline.str_fill %s "n/a" : !pipeline.frame<"c" : !pipeline.str>
           -> !pipeline.frame<"c" : !pipeline.str>
    ```
    """

    name = "pipeline.str_fill"
    input = operand_def(FrameType)
    value = prop_def(StringAttr)
    result = result_def(FrameType)
    traits = traits_def(Pure())
    assembly_format = "$input $value attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, value: str):
        super().__init__(operands=[input], properties={"value": text_attr(value)},
                         result_types=[input.type])  # fmt: skip

    def verify_(self) -> None:
        _same_strings(self)


@irdl_op_definition
class StrReplaceOp(IRDLOperation):
    """``s.str.replace(pattern, replacement, regex=False)``: every non-overlapping occurrence
    of the non-empty literal ``pattern``, scanned from the left, replaced by
    ``replacement`` (both :func:`text_attr`, compared as UTF-8 bytes). A missing value stays
    missing.

    ```mlir
    %r = pipeline.str_replace %s "-" "" : !pipeline.frame<"c" : !pipeline.str>
           -> !pipeline.frame<"c" : !pipeline.str>
    ```
    """

    name = "pipeline.str_replace"
    input = operand_def(FrameType)
    pattern = prop_def(StringAttr)
    replacement = prop_def(StringAttr)
    result = result_def(FrameType)
    traits = traits_def(Pure())
    assembly_format = "$input $pattern $replacement attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, pattern: str, replacement: str):
        properties = {"pattern": text_attr(pattern), "replacement": text_attr(replacement)}
        super().__init__(operands=[input], properties=properties, result_types=[input.type])

    def verify_(self) -> None:
        _same_strings(self)
        if not attr_text(self.pattern):
            raise VerifyException("the pattern must not be empty")


class _StrToVectorOp(IRDLOperation):
    """Base of the ops that give one number per row of a str column (``element()``)."""

    input = operand_def(FrameType)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue):
        super().__init__(operands=[input], result_types=[vector_of(self.element())])

    def element(self) -> Attribute:
        """The element type of the result."""
        return f64

    def verify_(self) -> None:
        string_column(self.input.type, "input")
        if self.result.type != vector_of(self.element()):
            raise VerifyException(f"result must be {vector_of(self.element())}")


@irdl_op_definition
class StrLenOp(_StrToVectorOp):
    """``s.str.len()``: the number of code points, NaN for a missing value.

    ```mlir
    %n = pipeline.str_len %s : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
    ```
    """

    name = "pipeline.str_len"


@irdl_op_definition
class StrSplitCountOp(_StrToVectorOp):
    """``s.str.split().str.len()``: the number of pieces of each value split on runs of
    ``str.isspace`` code points (none of a blank value); with ``sep`` (one ASCII byte,
    ``s.str.split(",")``), one more than the times it occurs. NaN for a missing value.

    ```mlir
    %n = pipeline.str_split_count %s : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
    %k = pipeline.str_split_count %s sep "," : !pipeline.frame<"c" : !pipeline.str>
           -> tensor<?xf64>
    ```
    """

    name = "pipeline.str_split_count"
    sep = opt_prop_def(StringAttr)
    assembly_format = "$input (`sep` $sep^)? attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, sep: str | None = None):
        properties = {} if sep is None else {"sep": StringAttr(sep)}
        IRDLOperation.__init__(self, operands=[input], properties=properties,
                               result_types=[vector_of(f64)])  # fmt: skip

    def verify_(self) -> None:
        super().verify_()
        _verify_sep(self.sep)


@irdl_op_definition
class StrSplitPieceOp(IRDLOperation):
    """``s.str.split().str[k]`` (``.str.get(k)``): piece ``k`` of each value, split as
    :class:`StrSplitCountOp` splits it (a negative ``k`` counts from the last piece);
    missing (NaN) where the value has no piece ``k``. A missing value stays missing.

    ```mlir
    %w = pipeline.str_split_piece %s piece 0 : !pipeline.frame<"c" : !pipeline.str>
           -> !pipeline.frame<"c" : !pipeline.str>
    %l = pipeline.str_split_piece %s piece -1 sep "," : !pipeline.frame<"c" : !pipeline.str>
           -> !pipeline.frame<"c" : !pipeline.str>
    ```
    """

    name = "pipeline.str_split_piece"
    input = operand_def(FrameType)
    piece = prop_def(IntegerAttr[I64])
    sep = opt_prop_def(StringAttr)
    result = result_def(FrameType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$input `piece` $piece (`sep` $sep^)? attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(self, input: SSAValue, piece: int, sep: str | None = None):
        properties: dict[str, Attribute] = {"piece": IntegerAttr(piece, i64)}
        if sep is not None:
            properties["sep"] = StringAttr(sep)
        super().__init__(operands=[input], properties=properties, result_types=[input.type])

    def verify_(self) -> None:
        _same_strings(self)
        _verify_sep(self.sep)


@irdl_op_definition
class StrSearchOp(_StrToVectorOp):
    """``s.str.count(pattern)`` (a pattern without regex metacharacters: its non-overlapping
    occurrences from the left), ``s.str.find(pattern)`` or ``s.str.rfind(pattern)`` (the
    code point where its first or last occurrence starts, -1 for none) of a non-empty
    literal (a :func:`text_attr`, compared as UTF-8 bytes). NaN for a missing value.

    ```mlir
    %n = pipeline.str_search "count" %s "ab" : !pipeline.frame<"c" : !pipeline.str>
           -> tensor<?xf64>
    ```
    """

    name = "pipeline.str_search"
    kind = prop_def(StringAttr)
    pattern = prop_def(StringAttr)
    assembly_format = "$kind $input $pattern attr-dict `:` type($input) `->` type($result)"

    def __init__(self, kind: str, input: SSAValue, pattern: str):
        properties = {"kind": StringAttr(kind), "pattern": text_attr(pattern)}
        IRDLOperation.__init__(self, operands=[input], properties=properties,
                               result_types=[vector_of(f64)])  # fmt: skip

    def verify_(self) -> None:
        super().verify_()
        if self.kind.data not in STR_SEARCHES:
            raise VerifyException(f"kind must be one of {', '.join(STR_SEARCHES)}")
        if not attr_text(self.pattern):
            raise VerifyException("the pattern must not be empty")


@irdl_op_definition
class StrMatchOp(IRDLOperation):
    """``s.str.contains(pattern, regex=False)``, ``startswith`` or ``endswith`` of a literal
    (a :func:`text_attr`, compared as UTF-8 bytes). ``na`` says what a missing value gives:
    ``"false"``,
    ``"true"``, or ``"python"``: the row runs in Python (pandas gives NaN, an object result).
    With ``ignore_case`` (``contains(..., case=False)`` of an ASCII pattern) ASCII letters
    match either case and a row that is not all ASCII runs in Python (Unicode case folding
    lets ``'ſ'`` match ``'s'``).

    ```mlir
    %m = pipeline.str_match "contains" %s "auto" na "false"
           : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi1>
    %i = pipeline.str_match "contains" %s "auto" na "python" ignore_case
           : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi1>
    ```
    """

    name = "pipeline.str_match"
    predicate = prop_def(StringAttr)
    input = operand_def(FrameType)
    pattern = prop_def(StringAttr)
    na = prop_def(StringAttr)
    ignore_case = opt_prop_def(UnitAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = (
        "$predicate $input $pattern `na` $na (`ignore_case` $ignore_case^)? attr-dict `:` "
        "type($input) `->` type($result)"
    )

    def __init__(
        self, predicate: str, input: SSAValue, pattern: str, na: str, ignore_case: bool = False
    ):
        properties: dict[str, Attribute] = {
            "predicate": StringAttr(predicate), "pattern": text_attr(pattern),
            "na": StringAttr(na),
        }  # fmt: skip
        if ignore_case:
            properties["ignore_case"] = UnitAttr()
        super().__init__(operands=[input], properties=properties, result_types=[vector_of(i1)])

    def verify_(self) -> None:
        string_column(self.input.type, "input")
        if self.predicate.data not in STR_PREDICATES:
            raise VerifyException(f"predicate must be one of {', '.join(STR_PREDICATES)}")
        if self.na.data not in STR_MISSING:
            raise VerifyException(f"na must be one of {', '.join(STR_MISSING)}")
        if self.result.type != vector_of(i1):
            raise VerifyException(f"result must be {vector_of(i1)}")
        if self.ignore_case is not None and not attr_text(self.pattern).isascii():
            raise VerifyException("ignore_case needs an ASCII pattern")


@irdl_op_definition
class StrToIntOp(_StrToVectorOp):
    """``s.astype(int)`` of a str column, for values of 1 to 18 ASCII digits (which Python's
    ``int`` and pyarrow's cast read alike); any other value (a sign, spaces, other digits, a
    missing value: pandas raises for some) runs its row in Python.

    ```mlir
    %k = pipeline.str_to_int %s : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi64>
    ```
    """

    name = "pipeline.str_to_int"
    traits = traits_def(ChecksInput())

    def element(self) -> Attribute:
        return i64


STRING_OPS = (StrCaseOp, StrStripOp, StrSliceOp, StrConcatOp, StrFillOp, StrReplaceOp,
              StrSplitPieceOp)  # fmt: skip


# endregion
# region Opaque Python


@irdl_op_definition
class PythonCallOp(IRDLOperation):
    """Code the compiler does not understand: it runs in Python, in order, at run time.

    ``callee`` names the Python object in the compiled pipeline's environment; ``reason``
    says why it was not compiled (``explain()`` shows it).

    ```mlir
    %y = pipeline.python_call "my_udf"(%x) reason "unknown function" source "f.py:12"
        : (tensor<?x3xf64>) -> tensor<?x3xf64>
    ```
    """

    name = "pipeline.python_call"
    callee = prop_def(StringAttr)
    reason = prop_def(StringAttr)
    source = opt_prop_def(StringAttr)
    args = var_operand_def()
    res = var_result_def()

    assembly_format = (
        "$callee `(` $args `)` `reason` $reason (`source` $source^)? attr-dict `:` "
        "functional-type($args, $res)"
    )

    def __init__(
        self,
        callee: str,
        args: Sequence[SSAValue],
        result_types: Sequence[Attribute],
        reason: str,
        source: str | None = None,
    ):
        properties: dict[str, Attribute] = {
            "callee": StringAttr(callee),
            "reason": StringAttr(reason),
        }
        if source is not None:
            properties["source"] = StringAttr(source)
        super().__init__(operands=[args], properties=properties, result_types=[result_types])


def python_call_stages(ops: Iterable[Operation]) -> dict[Operation, int]:
    """How many ``pipeline.python_call``s each of ``ops`` (a block, in order) follows: the
    stage ``lower-feature-to-scf`` runs it in. Block arguments are stage 0."""
    stage_of: dict[SSAValue, int] = {}
    stages: dict[Operation, int] = {}
    for op in ops:
        stage = max((stage_of.get(v, 0) for v in op.operands), default=0)
        stages[op] = stage
        for result in op.results:
            stage_of[result] = stage + isinstance(op, PythonCallOp)
    return stages


# endregion

Pipeline = Dialect(
    "pipeline",
    [
        # Frame access
        ToArrayOp,
        SelectColumnsOp,
        # Estimator calls
        TransformOp,
        PredictOp,
        # Array operations
        HstackOp,
        TakeColumnOp,
        ConstantOp,
        BroadcastOp,
        UnaryOp,
        BinaryOp,
        WhereOp,
        CutWidthOp,
        WrapIntOp,
        CastOp,
        # Dates
        DatetimeColumnOp,
        ParseDatetimeOp,
        MakeDatetimeOp,
        DatetimeSubOp,
        DatetimeFieldOp,
        ReduceOp,
        # Strings
        StrCaseOp,
        StrStripOp,
        StrSliceOp,
        StrConcatOp,
        StrFillOp,
        StrReplaceOp,
        StrLenOp,
        StrSplitCountOp,
        StrSplitPieceOp,
        StrSearchOp,
        StrMatchOp,
        StrToIntOp,
        # Opaque Python
        PythonCallOp,
    ],
    [StrType, DatetimeType, ObjectType, FrameType, BlobAttr],
)
