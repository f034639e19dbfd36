"""The ``feature`` dialect: row-wise featurization and model primitives.

``lower-pipeline-to-feature`` rewrites each estimator call of the ``pipeline`` dialect into
these ops. Every op computes each row from the same row of its operands, which is what lets
``lower-feature-to-scf`` emit one loop over rows with no intermediate matrices. Fitted
parameters are ``#pipeline.blob`` references; the frame access and elementwise ops of the
``pipeline`` dialect are used at this level unchanged.

```mlir
%f = feature.impute %x fill <fill_1 : tensor<2xf64>>
       : tensor<?x2xf64> -> tensor<?x2xf64>
%s = feature.standardize %f sub <mean_2 : tensor<2xf64>>
       div <scale_3 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
%d = feature.linear %s coef <coef_4 : tensor<1x2xf64>> offset 0
       intercept <b_5 : tensor<1xf64>> : tensor<?x2xf64> -> tensor<?x1xf64>
%p = feature.sigmoid %d : tensor<?x1xf64> -> tensor<?x1xf64>
```
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    Signedness,
    StringAttr,
    TensorType,
    UnitAttr,
    f32,
    f64,
    i32,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import (
    Attribute,
    Dialect,
    ParametrizedAttribute,
    SpacedOpaqueSyntaxAttribute,
    SSAValue,
    TypeAttribute,
)
from xdsl.irdl import (
    IRDLOperation,
    attr_def,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_attr_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from willump_mlir.abi import (
    FNV_OFFSET,
    FNV_PRIME,
    GOLDEN,
    MISSING_ANY,
    MISSING_NAN,
    MISSING_NONE,
    UFUNC_LOOPS,
)
from willump_mlir.dialects.pipeline import (
    BlobAttr,
    ChecksInput,
    FrameType,
    SelectColumnsOp,
    StrType,
    batch_of,
    batch_width,
    is_sparse,
    sparse_batch_of,
    vector_of,
    verify_batch,
)


def _element(typ: Attribute) -> Attribute:
    assert isinstance(typ, TensorType)
    return typ.get_element_type()


def _check_blob(blob: BlobAttr, size: int, what: str) -> None:
    if blob.size != size:
        raise VerifyException(
            f"{what} blob {blob.symbol.data!r} has {blob.size} values, not {size}"
        )


def _check_same_batch(op: IRDLOperation, input: SSAValue, result: SSAValue) -> int:
    width = batch_width(verify_batch(input.type, "input"))
    if result.type != input.type:
        raise VerifyException(f"{op.name}: result type must equal the input type {input.type}")
    if _element(input.type) != f64:
        raise VerifyException(f"{op.name}: input must hold f64 values")
    return width


def _int(value: int) -> IntegerAttr:
    return IntegerAttr(value, i64)


# region Choices
# Each prints as a bare word in an op's syntax (``on_unknown error``; a quoted string parses
# too), ``#feature<on_unknown error>`` in generic form.


class UnknownPolicy(StrEnum):
    """What an encoding does with a category it was not fitted on."""

    IGNORE = "ignore"  # code -1
    ERROR = "error"  # the runtime raises scikit-learn's error


@irdl_attr_definition
class UnknownPolicyAttr(EnumAttribute[UnknownPolicy], SpacedOpaqueSyntaxAttribute):
    name = "feature.on_unknown"


class MissingRowPolicy(StrEnum):
    """What ``gather_rows`` does with a key the table does not have."""

    FILL = "fill"  # ``fill`` in every column, as a left join
    PYTHON = "python"  # the row runs in Python (``.loc`` raises ``KeyError`` there)


@irdl_attr_definition
class MissingRowPolicyAttr(EnumAttribute[MissingRowPolicy], SpacedOpaqueSyntaxAttribute):
    name = "feature.on_missing"


class Analyzer(StrEnum):
    """How a vectorizer cuts a document into terms (scikit-learn's ``analyzer``)."""

    WORD = "word"
    CHAR = "char"
    CHAR_WB = "char_wb"


@irdl_attr_definition
class AnalyzerAttr(EnumAttribute[Analyzer], SpacedOpaqueSyntaxAttribute):
    name = "feature.analyzer"


class StripAccents(StrEnum):
    """A vectorizer's ``strip_accents`` (``none`` for None)."""

    NONE = "none"
    ASCII = "ascii"
    UNICODE = "unicode"


@irdl_attr_definition
class StripAccentsAttr(EnumAttribute[StripAccents], SpacedOpaqueSyntaxAttribute):
    name = "feature.strip"


class Norm(StrEnum):
    """The row normalisation of term weights (``none`` for None)."""

    L1 = "l1"
    L2 = "l2"
    NONE = "none"


@irdl_attr_definition
class NormAttr(EnumAttribute[Norm], SpacedOpaqueSyntaxAttribute):
    name = "feature.norm"


class RowNorm(StrEnum):
    """The norm ``feature.normalize`` divides a row by (``Normalizer(norm=...)``)."""

    L1 = "l1"
    L2 = "l2"
    MAX = "max"


@irdl_attr_definition
class RowNormAttr(EnumAttribute[RowNorm], SpacedOpaqueSyntaxAttribute):
    name = "feature.row_norm"


# endregion
# region Column transformers


@irdl_op_definition
class ImputeOp(IRDLOperation):
    """Replace NaN in column ``j`` by ``fill[j]`` (``SimpleImputer``); infinity is an error.

    ``{finite}`` says every fill is finite (the frontend knows the values), so the result is
    infinite only where the input was: a later infinity test of it is the input's again.

    ```mlir
    %y = feature.impute %x fill <fill_1 : tensor<3xf64>>
           : tensor<?x3xf64> -> tensor<?x3xf64>
    %z = feature.impute %x fill <fill_2 : tensor<3xf64>> {finite}
           : tensor<?x3xf64> -> tensor<?x3xf64>
    ```
    """

    name = "feature.impute"
    input = operand_def(TensorType)
    fill = prop_def(BlobAttr)
    finite = opt_attr_def(UnitAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = "$input `fill` $fill attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, fill: BlobAttr, finite: bool = False):
        super().__init__(operands=[input], properties={"fill": fill}, result_types=[input.type],
                         attributes={"finite": UnitAttr()} if finite else {})  # fmt: skip

    def verify_(self) -> None:
        _check_blob(self.fill, _check_same_batch(self, self.input, self.result), "fill")


@irdl_op_definition
class StandardizeOp(IRDLOperation):
    """``(x[j] - sub[j]) / div[j]``, either part optional (Standard/Robust/MaxAbs scalers).

    NaN passes through; infinity is an error, as in scikit-learn.

    ```mlir
    %y = feature.standardize %x sub <mean_1 : tensor<3xf64>>
           div <scale_2 : tensor<3xf64>>
           : tensor<?x3xf64> -> tensor<?x3xf64>
    ```
    """

    name = "feature.standardize"
    input = operand_def(TensorType)
    sub = opt_prop_def(BlobAttr)
    div = opt_prop_def(BlobAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$input (`sub` $sub^)? (`div` $div^)? attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(self, input: SSAValue, sub: BlobAttr | None, div: BlobAttr | None):
        properties: dict[str, Attribute] = {}
        if sub is not None:
            properties["sub"] = sub
        if div is not None:
            properties["div"] = div
        super().__init__(operands=[input], properties=properties, result_types=[input.type])

    def verify_(self) -> None:
        width = _check_same_batch(self, self.input, self.result)
        for name, blob in (("sub", self.sub), ("div", self.div)):
            if blob is not None:
                _check_blob(blob, width, name)


@irdl_op_definition
class MulAddOp(IRDLOperation):
    """``x[j] * mul[j] + add[j]``, then optionally clipped to ``[low, high]`` (MinMaxScaler).

    NaN passes through; infinity is an error, as in scikit-learn.

    ```mlir
    %y = feature.mul_add %x mul <s_1 : tensor<2xf64>>
           add <m_2 : tensor<2xf64>> clip <r_3 : tensor<2xf64>>
           : tensor<?x2xf64> -> tensor<?x2xf64>
    ```
    ``clip`` holds ``[low, high]``.
    """

    name = "feature.mul_add"
    input = operand_def(TensorType)
    mul = prop_def(BlobAttr)
    add = prop_def(BlobAttr)
    clip = opt_prop_def(BlobAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$input `mul` $mul `add` $add (`clip` $clip^)? attr-dict `:` "
        "type($input) `->` type($result)"
    )

    def __init__(self, input: SSAValue, mul: BlobAttr, add: BlobAttr, clip: BlobAttr | None):
        properties: dict[str, Attribute] = {"mul": mul, "add": add}
        if clip is not None:
            properties["clip"] = clip
        super().__init__(operands=[input], properties=properties, result_types=[input.type])

    def verify_(self) -> None:
        width = _check_same_batch(self, self.input, self.result)
        _check_blob(self.mul, width, "mul")
        _check_blob(self.add, width, "add")
        if self.clip is not None:
            _check_blob(self.clip, 2, "clip")


@irdl_op_definition
class NormalizeOp(IRDLOperation):
    """Each row divided by its ``l1``, ``l2`` or ``max`` norm (``Normalizer``); a norm
    below ``10 * eps`` divides by 1 (scikit-learn's ``_handle_zeros_in_scale``). NaN or
    infinity is an error, as in scikit-learn.

    ```mlir
    %y = feature.normalize %x norm l2 : tensor<?x3xf64> -> tensor<?x3xf64>
    ```
    """

    name = "feature.normalize"
    input = operand_def(TensorType)
    norm = prop_def(RowNormAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = "$input `norm` $norm attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, norm: str | RowNorm):
        properties = {"norm": RowNormAttr(RowNorm(norm))}
        super().__init__(operands=[input], properties=properties, result_types=[input.type])

    def verify_(self) -> None:
        _check_same_batch(self, self.input, self.result)


@irdl_op_definition
class PolynomialOp(IRDLOperation):
    """The products of the input columns raised to each row of ``powers`` (a ``K x N``
    blob: ``PolynomialFeatures.powers_``), one output column per row; all zeros give 1.
    As scikit-learn's dense ``transform``, a product is folded from its last factor: the
    term ``x0 * x1 * x2`` is ``(x2 * x1) * x0``. NaN or infinity is an error.

    ```mlir
    %p = feature.polynomial %x powers <powers_1 : tensor<6x2xi64>>
           : tensor<?x2xf64> -> tensor<?x6xf64>
    ```
    """

    name = "feature.polynomial"
    input = operand_def(TensorType)
    powers = prop_def(BlobAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = "$input `powers` $powers attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, powers: BlobAttr):
        result = batch_of(powers.shape[0])
        super().__init__(operands=[input], properties={"powers": powers}, result_types=[result])

    def verify_(self) -> None:
        width = batch_width(verify_batch(self.input.type, "input"))
        if _element(self.input.type) != f64:
            raise VerifyException("input must hold f64 values")
        if self.powers.type.get_element_type() != i64 or len(self.powers.shape) != 2:
            raise VerifyException("powers must be a 2-D blob of i64")
        terms, columns = self.powers.shape
        if columns != width:
            raise VerifyException(f"powers has {columns} columns, the input {width}")
        if self.result.type != batch_of(terms):
            raise VerifyException(f"result must be {batch_of(terms)}")


# endregion
# region Categorical encoding


def _check_encoding(op: EncodeStringsOp | EncodeNumbersOp, categories: int) -> None:
    if not -1 <= op.missing.value.data < categories:
        raise VerifyException(f"missing code {op.missing.value.data} is not -1 or a category")
    if op.result.type != batch_of(1, i64):
        raise VerifyException(f"result must be {batch_of(1, i64)}")


def fnv1a64(data: bytes) -> int:
    """The 64-bit FNV-1a hash of ``data``: the hash string tables are built and probed with."""
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def string_table(strings: Sequence[bytes | None]) -> tuple[np.ndarray, int]:
    """An open-addressing table of the strings' indices (``None`` entries left out).

    Slot ``(fnv1a64(s) + p) mod size`` for the first free ``p``; empty slots hold -1. Returns
    the table (a power of two, at least twice the entries) and the longest probe sequence.
    """
    size = 8
    while size < 2 * len(strings):
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    probes = 1
    for index, value in enumerate(strings):
        if value is None:
            continue
        slot = fnv1a64(value) % size
        step = 0
        while table[(slot + step) % size] >= 0:
            step += 1
        table[(slot + step) % size] = index
        probes = max(probes, step + 1)
    return table, probes


@irdl_op_definition
class EncodeStringsOp(IRDLOperation):
    """Category code of a string column: its index among the categories, -1 if unknown.

    Categories are UTF-8 ``bytes`` cut at ``offsets``; ``table`` maps their FNV-1a hashes to
    indices (open addressing, at most ``probes`` slots per lookup; see ``string_table``).
    Like scikit-learn, None and NaN are different values: the ones named by ``marker``
    (``1`` None, ``2`` NaN, the default, ``3`` either, as ``isna`` tests) get code
    ``missing`` (-1 when no missing value was a fitted category), the other one is unknown.
    With ``filled`` (a fill of missing values before the encoder: ``fillna``, SimpleImputer),
    the missing values named by ``filled_marker`` get code ``filled`` instead (-1: the fill
    is no category). With ``nan_refused`` (a ``SimpleImputer(missing_values=None)`` fill,
    which refuses NaN) a NaN value hands its row back to Python. With ``on_unknown error``
    an unknown value stops the batch with an error naming the row.

    ```mlir
    %c = feature.encode_strings %df "city" bytes <b_1 : tensor<9xui8>>
           offsets <o_2 : tensor<3xi64>> table <t_3 : tensor<8xi64>> probes 1
           missing -1 on_unknown ignore
           : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xi64>
    %f = feature.encode_strings %df "city" bytes <b_1 : tensor<9xui8>>
           offsets <o_2 : tensor<3xi64>> table <t_3 : tensor<8xi64>> probes 1
           missing 2 marker 1 filled 0 filled_marker 2 on_unknown ignore
           : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xi64>
    %n = feature.encode_strings %df "city" bytes <b_1 : tensor<9xui8>>
           offsets <o_2 : tensor<3xi64>> table <t_3 : tensor<8xi64>> probes 1
           missing -1 filled 0 filled_marker 1 nan_refused on_unknown ignore
           : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xi64>
    ```
    """

    name = "feature.encode_strings"
    frame = operand_def(FrameType)
    column = prop_def(StringAttr)
    bytes = prop_def(BlobAttr)
    offsets = prop_def(BlobAttr)
    table = prop_def(BlobAttr)
    probes = prop_def(IntegerAttr[I64])
    missing = prop_def(IntegerAttr[I64])
    missing_marker = opt_prop_def(IntegerAttr[I64])
    filled = opt_prop_def(IntegerAttr[I64])
    filled_marker = opt_prop_def(IntegerAttr[I64])
    nan_refused = opt_prop_def(UnitAttr)
    on_unknown = prop_def(UnknownPolicyAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$frame $column `bytes` $bytes `offsets` $offsets `table` $table `probes` $probes "
        "`missing` $missing (`marker` $missing_marker^)? (`filled` $filled^)? "
        "(`filled_marker` $filled_marker^)? (`nan_refused` $nan_refused^)? "
        "`on_unknown` $on_unknown attr-dict "
        "`:` type($frame) `->` type($result)"
    )

    def __init__(
        self,
        frame: SSAValue,
        column: str,
        bytes: BlobAttr,
        offsets: BlobAttr,
        table: BlobAttr,
        probes: int,
        missing: int,
        on_unknown: str | UnknownPolicy,
        missing_marker: int = MISSING_NAN,
        filled: tuple[int, int] | None = None,
        nan_refused: bool = False,
    ):
        properties: dict[str, Attribute] = {
            "column": StringAttr(column),
            "bytes": bytes,
            "offsets": offsets,
            "table": table,
            "probes": _int(probes),
            "missing": _int(missing),
            "on_unknown": UnknownPolicyAttr(UnknownPolicy(on_unknown)),
        }
        if missing_marker != MISSING_NAN:
            properties["missing_marker"] = _int(missing_marker)
        if filled is not None:  # (code, marker)
            properties["filled"], properties["filled_marker"] = _int(filled[0]), _int(filled[1])
        if nan_refused:
            properties["nan_refused"] = UnitAttr()
        super().__init__(operands=[frame], properties=properties, result_types=[batch_of(1, i64)])

    @property
    def categories(self) -> int:
        return self.offsets.size - 1

    @property
    def marker(self) -> int:
        """Which missing value the ``missing`` category is: ``MISSING_NONE`` or ``MISSING_NAN``."""
        return MISSING_NAN if self.missing_marker is None else self.missing_marker.value.data

    def verify_(self) -> None:
        assert isinstance(self.frame.type, FrameType)
        try:
            dtype = self.frame.type.dtype_of(self.column.data)
        except KeyError:
            raise VerifyException(f"frame has no column {self.column.data!r}") from None
        if not isinstance(dtype, StrType):
            raise VerifyException(f"column {self.column.data!r} does not hold strings")
        if self.offsets.size < 2:
            raise VerifyException("offsets must hold at least two values: one category or more")
        size = self.table.size
        if size < 1 or size & (size - 1):
            raise VerifyException(f"table size {size} is not a power of two")
        if self.marker not in (MISSING_NONE, MISSING_NAN, MISSING_ANY):
            raise VerifyException(
                f"marker must be 1 (None), 2 (NaN) or 3 (either), got {self.marker}"
            )
        if (self.filled is None) != (self.filled_marker is None):
            raise VerifyException("filled and filled_marker go together")
        markers = (MISSING_NONE, MISSING_NAN, MISSING_ANY)
        if self.filled_marker is not None and self.filled_marker.value.data not in markers:
            raise VerifyException("filled_marker must be 1 (None), 2 (NaN) or 3 (either)")
        if self.nan_refused is not None and (
            self.filled_marker is None or self.filled_marker.value.data != MISSING_NONE
        ):
            raise VerifyException("nan_refused goes with a fill of None (filled_marker 1)")
        if self.filled is not None and not -1 <= self.filled.value.data < self.categories:
            raise VerifyException(f"filled must be -1 or a category index, got {self.filled}")
        if not 1 <= self.probes.value.data <= size:
            raise VerifyException(f"probes must be in [1, {size}], got {self.probes.value.data}")
        _check_encoding(self, self.categories)

    def checks_input(self) -> bool:
        """``ChecksInput``: an unknown value stops the batch only ``on_unknown error``, and
        ``nan_refused`` hands a NaN's row to Python (the encoding of ``.map`` refuses nothing)."""
        return self.on_unknown.data == UnknownPolicy.ERROR or self.nan_refused is not None


@irdl_op_definition
class EncodeNumbersOp(IRDLOperation):
    """Category code of numeric column ``index`` of a batch; a NaN category matches NaN.

    ```mlir
    %c = feature.encode_numbers %x [0] categories <c_1 : tensor<3xf64>>
           missing -1 on_unknown error : tensor<?x2xf64> -> tensor<?x1xi64>
    ```
    """

    name = "feature.encode_numbers"
    input = operand_def(TensorType)
    index = prop_def(IntegerAttr[I64])
    categories = prop_def(BlobAttr)
    missing = prop_def(IntegerAttr[I64])
    on_unknown = prop_def(UnknownPolicyAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$input `[` $index `]` `categories` $categories `missing` $missing "
        "`on_unknown` $on_unknown attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(
        self,
        input: SSAValue,
        index: int,
        categories: BlobAttr,
        missing: int,
        on_unknown: str | UnknownPolicy,
    ):
        super().__init__(
            operands=[input],
            properties={
                "index": _int(index),
                "categories": categories,
                "missing": _int(missing),
                "on_unknown": UnknownPolicyAttr(UnknownPolicy(on_unknown)),
            },
            result_types=[batch_of(1, i64)],
        )

    def verify_(self) -> None:
        width = batch_width(verify_batch(self.input.type, "input"))
        if not 0 <= self.index.value.data < width:
            raise VerifyException(f"column {self.index.value.data} is out of range")
        _check_encoding(self, self.categories.size)


@irdl_op_definition
class DiscretizeOp(IRDLOperation):
    """The bin of numeric column ``index`` of a batch (``KBinsDiscretizer``): the number of
    inner ``edges`` (all but the first and last) at or below the value, which is
    scikit-learn's ``np.searchsorted(edges[1:-1], x, side="right")`` of increasing edges.
    NaN or infinity is an error.

    ```mlir
    %b = feature.discretize %x [1] edges <edges_1 : tensor<5xf64>>
           : tensor<?x2xf64> -> tensor<?x1xi64>
    ```
    """

    name = "feature.discretize"
    input = operand_def(TensorType)
    index = prop_def(IntegerAttr[I64])
    edges = prop_def(BlobAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$input `[` $index `]` `edges` $edges attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(self, input: SSAValue, index: int, edges: BlobAttr):
        super().__init__(
            operands=[input],
            properties={"index": _int(index), "edges": edges},
            result_types=[batch_of(1, i64)],
        )

    def verify_(self) -> None:
        width = batch_width(verify_batch(self.input.type, "input"))
        if _element(self.input.type) != f64:
            raise VerifyException("input must hold f64 values")
        if not 0 <= self.index.value.data < width:
            raise VerifyException(f"column {self.index.value.data} is out of range")
        if self.edges.type.get_element_type() != f64 or len(self.edges.shape) != 1 \
                or self.edges.size < 2:  # fmt: skip
            raise VerifyException("edges must be a 1-D blob of at least 2 f64 values")
        if self.result.type != batch_of(1, i64):
            raise VerifyException(f"result must be {batch_of(1, i64)}")

    @property
    def bins(self) -> int:
        """The number of bins: codes are 0 to ``bins - 1``."""
        return self.edges.size - 1


@irdl_op_definition
class OneHotOp(IRDLOperation):
    """One-hot columns of category codes: a column per category, category ``drop`` left
    out. With ``infrequent`` (``OneHotEncoder(min_frequency=..., max_categories=...)``) the
    codes listed share one last column, after the others in order (``drop`` is then -1);
    with ``unknown_infrequent`` (``handle_unknown="infrequent_if_exist"``) an unknown
    category's row is hot there too.

    A negative code (unknown category) gives a row of zeros otherwise.

    ```mlir
    %o = feature.onehot %c categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
    %i = feature.onehot %c categories 4 drop -1 infrequent [0 : i64, 2 : i64]
           unknown_infrequent : tensor<?x1xi64> -> tensor<?x3xf64>
    ```
    """

    name = "feature.onehot"
    codes = operand_def(TensorType)
    categories = prop_def(IntegerAttr[I64])
    drop = prop_def(IntegerAttr[I64])
    infrequent = opt_prop_def(ArrayAttr[IntegerAttr[I64]])
    unknown_infrequent = opt_prop_def(UnitAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = (
        "$codes `categories` $categories `drop` $drop (`infrequent` $infrequent^)? "
        "(`unknown_infrequent` $unknown_infrequent^)? attr-dict `:` type($codes) `->` "
        "type($result)"
    )

    def __init__(self, codes: SSAValue, categories: int, drop: int,
                 infrequent: Sequence[int] = (), unknown_infrequent: bool = False):  # fmt: skip
        properties: dict[str, Attribute] = {"categories": _int(categories), "drop": _int(drop)}
        if infrequent:
            properties["infrequent"] = ArrayAttr([_int(c) for c in infrequent])
        if unknown_infrequent:
            properties["unknown_infrequent"] = UnitAttr()
        width = self.width_of(categories, drop, infrequent)
        super().__init__(operands=[codes], properties=properties, result_types=[batch_of(width)])

    @staticmethod
    def width_of(categories: int, drop: int, infrequent: Sequence[int]) -> int:
        """The number of columns: a category's each, but ``drop``'s; ``infrequent`` share one."""
        return categories - (drop >= 0) - max(len(infrequent) - 1, 0)

    def groups(self) -> list[list[int]]:
        """The codes of each output column, in order (the infrequent ones last)."""
        infrequent = [c.value.data for c in self.infrequent.data] if self.infrequent else []
        drop = self.drop.value.data
        kept = [[k] for k in range(self.categories.value.data) if k != drop and k not in infrequent]
        return kept + ([infrequent] if infrequent else [])

    def verify_(self) -> None:
        if self.codes.type != batch_of(1, i64):
            raise VerifyException(f"codes must be {batch_of(1, i64)}")
        categories, drop = self.categories.value.data, self.drop.value.data
        if not -1 <= drop < categories:
            raise VerifyException(f"drop {drop} is not -1 or a category")
        infrequent = [c.value.data for c in self.infrequent.data] if self.infrequent else []
        if infrequent and (drop >= 0 or sorted(set(infrequent)) != infrequent
                           or not 0 <= infrequent[0] <= infrequent[-1] < categories):  # fmt: skip
            raise VerifyException("infrequent must be increasing categories, without drop")
        if self.unknown_infrequent is not None and not infrequent:
            raise VerifyException("unknown_infrequent needs infrequent categories")
        width = self.width_of(categories, drop, infrequent)
        if self.result.type != batch_of(width):
            raise VerifyException(f"result must be {batch_of(width)}")


@irdl_op_definition
class OrdinalOp(IRDLOperation):
    """Category codes as f64 (``OrdinalEncoder``): an unknown code gives ``unknown_value``,
    the ``missing`` code gives ``missing_value``.

    ```mlir
    %o = feature.ordinal %c missing 2 {unknown_value = -1.0 : f64,
           missing_value = 0x7FF8000000000000 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
    ```
    """

    name = "feature.ordinal"
    codes = operand_def(TensorType)
    missing = prop_def(IntegerAttr[I64])
    unknown_value = attr_def(FloatAttr)
    missing_value = attr_def(FloatAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$codes `missing` $missing attr-dict `:` type($codes) `->` type($result)"

    def __init__(self, codes: SSAValue, missing: int, unknown_value: float, missing_value: float):
        super().__init__(
            operands=[codes],
            properties={"missing": _int(missing)},
            attributes={
                "unknown_value": FloatAttr(unknown_value, f64),
                "missing_value": FloatAttr(missing_value, f64),
            },
            result_types=[batch_of(1)],
        )

    def verify_(self) -> None:
        if self.codes.type != batch_of(1, i64):
            raise VerifyException(f"codes must be {batch_of(1, i64)}")
        if self.result.type != batch_of(1):
            raise VerifyException(f"result must be {batch_of(1)}")


# endregion
# region Lookups


def number_table(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """An open-addressing table of the indices of numeric ``keys`` (f64 or i64, no NaN).

    A key's slot is ``(bits * GOLDEN) >> (64 - log2(size))`` for its 64 bits (an f64 key
    ``-0.0`` is hashed as ``0.0``, which it equals), then the next free one. Empty slots hold
    -1. Returns the table (a power of two, at least twice the keys) and the longest probe
    sequence, as ``string_table``.
    """
    size = 8
    while size < 2 * len(keys):
        size *= 2
    shift = np.uint64(64 - size.bit_length() + 1)
    data = keys + 0.0 if keys.dtype == np.float64 else keys  # -0.0 + 0.0 is 0.0
    bits = np.ascontiguousarray(data).view(np.uint64)
    with np.errstate(over="ignore"):
        slots = (bits * np.uint64(GOLDEN)) >> shift
    table = [-1] * size
    probes = 1
    for index, slot in enumerate(slots.tolist()):
        step = 0
        while table[(slot + step) % size] >= 0:
            step += 1
        table[(slot + step) % size] = index
        probes = max(probes, step + 1)
    return np.array(table, dtype=np.int64), probes


@irdl_op_definition
class LookupKeysOp(IRDLOperation):
    """Row of a table whose key equals column ``index`` of a batch, -1 if there is none.

    ``keys`` holds the table's distinct numeric keys (f64, or i64 for an i64 batch) and
    ``table`` their indices by hash (see ``number_table``; at most ``probes`` slots per
    lookup). Keys compare as numbers (``-0.0 == 0.0``); a NaN key matches row ``nan_row``
    (-1: none), as pandas matches NaN with NaN in a join.

    ```mlir
    %r = feature.lookup_keys %x [0] keys <k_1 : tensor<3xf64>>
           table <t_2 : tensor<8xi64>> probes 1 nan_row -1 : tensor<?x2xf64> -> tensor<?x1xi64>
    ```
    """

    name = "feature.lookup_keys"
    input = operand_def(TensorType)
    index = prop_def(IntegerAttr[I64])
    keys = prop_def(BlobAttr)
    table = prop_def(BlobAttr)
    probes = prop_def(IntegerAttr[I64])
    nan_row = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = (
        "$input `[` $index `]` `keys` $keys `table` $table `probes` $probes `nan_row` $nan_row "
        "attr-dict `:` type($input) `->` type($result)"
    )

    def __init__(
        self,
        input: SSAValue,
        index: int,
        keys: BlobAttr,
        table: BlobAttr,
        probes: int,
        nan_row: int = -1,
    ):
        super().__init__(
            operands=[input],
            properties={
                "index": _int(index),
                "keys": keys,
                "table": table,
                "probes": _int(probes),
                "nan_row": _int(nan_row),
            },
            result_types=[batch_of(1, i64)],
        )

    def verify_(self) -> None:
        typ = verify_batch(self.input.type, "input")
        if not 0 <= self.index.value.data < batch_width(typ):
            raise VerifyException(f"column {self.index.value.data} is out of range")
        element = _element(typ)
        if element not in (f64, i64):
            raise VerifyException("input must hold f64 or i64 keys")
        _check_blob_element(self.keys, element, "keys")
        _check_blob_element(self.table, i64, "table")
        size = self.table.size
        if size < 1 or size & (size - 1):
            raise VerifyException(f"table size {size} is not a power of two")
        if not 1 <= self.probes.value.data <= size:
            raise VerifyException(f"probes must be in [1, {size}], got {self.probes.value.data}")
        if not -1 <= self.nan_row.value.data < self.keys.size:
            raise VerifyException(f"nan_row {self.nan_row.value.data} is not -1 or a key")
        if self.nan_row.value.data >= 0 and element != f64:
            raise VerifyException("only f64 keys have a NaN row")
        if self.result.type != batch_of(1, i64):
            raise VerifyException(f"result must be {batch_of(1, i64)}")


@irdl_op_definition
class PackCodesOp(IRDLOperation):
    """One code for a tuple of codes: ``sum(code[i] * prod(radix[i+1:]))``, -1 if any code
    is negative. Each ``code[i]`` is below ``radix[i]``: a key of several columns, each
    encoded alone, becomes one key for ``feature.lookup_keys``.

    ```mlir
    %k = feature.pack_codes %a, %b radix [3 : i64, 4 : i64]
           : (tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?x1xi64>
    ```
    """

    name = "feature.pack_codes"
    codes = var_operand_def(TensorType)
    radix = prop_def(ArrayAttr[IntegerAttr[I64]])
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$codes `radix` $radix attr-dict `:` `(` type($codes) `)` `->` type($result)"

    def __init__(self, codes: Sequence[SSAValue], radix: Sequence[int]):
        super().__init__(
            operands=[codes],
            properties={"radix": ArrayAttr([_int(r) for r in radix])},
            result_types=[batch_of(1, i64)],
        )

    def verify_(self) -> None:
        radix = [r.value.data for r in self.radix.data]
        if len(radix) != len(self.codes) or len(radix) < 2:
            raise VerifyException("radix needs one entry per code, and two codes or more")
        product = 1
        for r in radix:
            product *= r
        if any(r < 1 for r in radix) or product >= 1 << 62:
            raise VerifyException(f"radix {radix} must be positive with a product below 2^62")
        for value in [*self.codes, self.result]:
            if value.type != batch_of(1, i64):
                raise VerifyException(f"codes and result must be {batch_of(1, i64)}")


@irdl_op_definition
class GatherRowsOp(IRDLOperation):
    """Row ``code`` of a table's f64 ``values``: a join's columns. A negative code (no such
    key) gives ``fill`` in every column (NaN, as a left join); with ``on_missing python``
    its row runs in Python instead (``.loc`` raises ``KeyError`` there, as pandas does).

    ```mlir
    %v = feature.gather_rows %r values <v_1 : tensor<3x2xf64>> fill 0x7FF8000000000000
           on_missing fill : tensor<?x1xi64> -> tensor<?x2xf64>
    ```
    """

    name = "feature.gather_rows"
    codes = operand_def(TensorType)
    values = prop_def(BlobAttr)
    fill = prop_def(FloatAttr)
    on_missing = prop_def(MissingRowPolicyAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$codes `values` $values `fill` $fill `on_missing` $on_missing attr-dict "
        "`:` type($codes) `->` type($result)"
    )

    def __init__(
        self,
        codes: SSAValue,
        values: BlobAttr,
        fill: float = float("nan"),
        on_missing: str | MissingRowPolicy = MissingRowPolicy.FILL,
    ):
        super().__init__(
            operands=[codes],
            properties={
                "values": values,
                "fill": FloatAttr(fill, f64),
                "on_missing": MissingRowPolicyAttr(MissingRowPolicy(on_missing)),
            },
            result_types=[batch_of(values.shape[1])],
        )

    def verify_(self) -> None:
        if self.codes.type != batch_of(1, i64):
            raise VerifyException(f"codes must be {batch_of(1, i64)}")
        _check_blob_element(self.values, f64, "values")
        if len(self.values.shape) != 2:
            raise VerifyException("values must be a rows x columns table")
        if self.result.type != batch_of(self.values.shape[1]):
            raise VerifyException(f"result must be {batch_of(self.values.shape[1])}")

    def checks_input(self) -> bool:
        """``ChecksInput``: only ``on_missing python`` hands a row to Python."""
        return self.on_missing.data == MissingRowPolicy.PYTHON


@irdl_op_definition
class JoinOp(IRDLOperation):
    """A left join's frame: the columns of ``left`` (renamed as the result type says, e.g.
    with pandas' ``_x`` suffix), then the f64 columns of ``values`` (``feature.gather_rows``).

    ```mlir
    %j = feature.join %df, %v : !pipeline.frame<"user" : f64>, tensor<?x2xf64>
           -> !pipeline.frame<"user" : f64, "mean" : f64, "n" : f64>
    ```
    """

    name = "feature.join"
    left = operand_def(FrameType)
    values = operand_def(TensorType)
    result = result_def(FrameType)
    traits = traits_def(Pure())
    assembly_format = (
        "$left `,` $values attr-dict `:` type($left) `,` type($values) `->` type($result)"
    )

    def __init__(self, left: SSAValue, values: SSAValue, result: FrameType):
        super().__init__(operands=[left, values], result_types=[result])

    def verify_(self) -> None:
        assert isinstance(self.left.type, FrameType) and isinstance(self.result.type, FrameType)
        width = batch_width(verify_batch(self.values.type, "values"))
        left = [t for _, t in self.left.type.columns]
        expected = left + [f64] * width
        if [t for _, t in self.result.type.columns] != expected:
            raise VerifyException(
                f"result columns must be the {len(left)} of left then {width} f64 columns"
            )


def frame_source(value: SSAValue) -> SSAValue:
    """The frame a selection of columns reads from (``value`` itself if not a selection)."""
    while isinstance(value.owner, SelectColumnsOp):
        value = value.owner.frame
    return value


def resolve_column(value: SSAValue, name: str) -> tuple[SSAValue, str] | tuple[SSAValue, int]:
    """Where column ``name`` of frame ``value`` comes from: ``(frame, column)`` of a frame
    that is not a join, or ``(values, position)`` of a join's gathered values."""
    value = frame_source(value)
    while isinstance(join := value.owner, JoinOp):
        assert isinstance(join.result.type, FrameType) and isinstance(join.left.type, FrameType)
        names = [n for n, _ in join.result.type.columns]
        position = names.index(name)
        left = join.left.type.columns
        if position >= len(left):
            return join.values, position - len(left)
        value, name = frame_source(join.left), left[position][0]
    return value, name


# endregion
# region Linear models


def _check_coef(coef: BlobAttr, offset: int, width: int) -> int:
    """Check that columns [offset, offset + width) exist in ``coef`` and return its rows."""
    if len(coef.shape) != 2:
        raise VerifyException("coef must be a 2-D blob [outputs, features]")
    outputs, features = coef.shape
    if offset < 0 or offset + width > features:
        raise VerifyException(
            f"coef columns [{offset}, {offset + width}) are out of range for {features} features"
        )
    return outputs


def _check_outputs(result: SSAValue, outputs: int) -> None:
    valid = [batch_of(outputs)] + ([vector_of(f64)] if outputs == 1 else [])
    if result.type not in valid:
        raise VerifyException(f"result must be {batch_of(outputs)}")


@irdl_op_definition
class LinearOp(IRDLOperation):
    """``x · coef[:, offset:offset+W]ᵀ (+ intercept)``: a linear model's decision values.

    With ``check_finite``, a NaN or infinite input stops the batch with scikit-learn's error.

    ```mlir
    %d = feature.linear %x coef <w_1 : tensor<2x5xf64>> offset 0
           intercept <b_2 : tensor<2xf64>> {check_finite}
           : tensor<?x5xf64> -> tensor<?x2xf64>
    ```
    """

    name = "feature.linear"
    input = operand_def(TensorType)
    coef = prop_def(BlobAttr)
    offset = prop_def(IntegerAttr[I64])
    intercept = opt_prop_def(BlobAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$input `coef` $coef `offset` $offset (`intercept` $intercept^)? attr-dict `:` "
        "type($input) `->` type($result)"
    )

    def __init__(
        self,
        input: SSAValue,
        coef: BlobAttr,
        offset: int,
        intercept: BlobAttr | None,
        result_type: Attribute | None = None,
    ):
        properties: dict[str, Attribute] = {"coef": coef, "offset": _int(offset)}
        if intercept is not None:
            properties["intercept"] = intercept
        super().__init__(
            operands=[input],
            properties=properties,
            result_types=[result_type or batch_of(coef.shape[0])],
        )

    def verify_(self) -> None:
        width = batch_width(verify_batch(self.input.type, "input"))
        outputs = _check_coef(self.coef, self.offset.value.data, width)
        if self.intercept is not None:
            _check_blob(self.intercept, outputs, "intercept")
        _check_outputs(self.result, outputs)

    def checks_input(self) -> bool:
        """``ChecksInput``: only a ``check_finite`` linear model refuses values."""
        return "check_finite" in self.attributes


@irdl_op_definition
class WeightLookupOp(IRDLOperation):
    """``coef[:, offset + code]`` (0 for a negative code): a linear model applied to one-hot
    columns without building them. ``fuse-features`` introduces it.

    ```mlir
    %d = feature.weight_lookup %c coef <w_1 : tensor<1x9xf64>> offset 4
           categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x1xf64>
    ```
    """

    name = "feature.weight_lookup"
    codes = operand_def(TensorType)
    coef = prop_def(BlobAttr)
    offset = prop_def(IntegerAttr[I64])
    categories = prop_def(IntegerAttr[I64])
    drop = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = (
        "$codes `coef` $coef `offset` $offset `categories` $categories `drop` $drop attr-dict "
        "`:` type($codes) `->` type($result)"
    )

    def __init__(self, codes: SSAValue, coef: BlobAttr, offset: int, categories: int, drop: int):
        super().__init__(
            operands=[codes],
            properties={
                "coef": coef,
                "offset": _int(offset),
                "categories": _int(categories),
                "drop": _int(drop),
            },
            result_types=[batch_of(coef.shape[0])],
        )

    def verify_(self) -> None:
        if self.codes.type != batch_of(1, i64):
            raise VerifyException(f"codes must be {batch_of(1, i64)}")
        width = self.categories.value.data - (self.drop.value.data >= 0)
        _check_outputs(self.result, _check_coef(self.coef, self.offset.value.data, width))


@irdl_op_definition
class SumOp(IRDLOperation):
    """Elementwise sum of batches of equal type: the partial dot products of a fused model.

    ```mlir
    %d = feature.sum %a, %b : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>
    ```
    """

    name = "feature.sum"
    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$inputs attr-dict `:` `(` type($inputs) `)` `->` type($result)"

    def __init__(self, inputs: Sequence[SSAValue]):
        super().__init__(operands=[inputs], result_types=[inputs[0].type])

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("sum needs at least one input")
        for value in self.inputs:
            if value.type != self.result.type:
                raise VerifyException("all inputs must have the result type")


# endregion
# region Text


@irdl_attr_definition
class TextType(ParametrizedAttribute, TypeAttribute):
    """A document per row after decoding, lowercasing and accent stripping: ``!feature.text``.

    In native code it is the row's code points, each with its character class.
    """

    name = "feature.text"


TERM_ELEMENTS = (f64, f32, i64)


def _check_blob_element(blob: BlobAttr, element: Attribute, what: str) -> None:
    if blob.type.get_element_type() != element:
        raise VerifyException(f"{what} blob {blob.symbol.data!r} must hold {element} values")


def _check_choice(value: StringAttr, choices: tuple[str, ...], what: str) -> None:
    if value.data not in choices:
        raise VerifyException(f"{what} must be one of {', '.join(choices)}, got {value.data!r}")


def _check_terms(typ: Attribute, what: str) -> int:
    """Check that ``typ`` is a sparse batch of term values and return its width."""
    if not is_sparse(typ) or _element(typ) not in TERM_ELEMENTS:
        raise VerifyException(f'{what} must be a sparse batch tensor<?xWxT, "csr">, got {typ}')
    return batch_width(typ)


def _check_term_table(
    codepoints: BlobAttr, offsets: BlobAttr, table: BlobAttr, probes: IntegerAttr, what: str
) -> int:
    """Check a term hash table (``text_tables.term_table``) and return its number of terms."""
    _check_blob_element(codepoints, i32, f"{what} code point")
    _check_blob_element(offsets, i64, f"{what} offsets")
    _check_blob_element(table, i64, f"{what} table")
    if offsets.size < 1:
        raise VerifyException(f"{what} offsets must hold at least one value")
    slots = table.size // 2
    if table.size % 2 or slots < 1 or slots & (slots - 1):
        raise VerifyException(f"{what} table must hold (hash, index) pairs in 2^k slots")
    if slots < offsets.size:
        raise VerifyException(f"{what} table must have more slots than terms")
    if not 1 <= probes.value.data <= slots:
        raise VerifyException(f"{what} probes must be in [1, {slots}], got {probes.value.data}")
    return offsets.size - 1


def _check_ngram(low: IntegerAttr, high: IntegerAttr) -> None:
    if not 1 <= low.value.data <= high.value.data:
        raise VerifyException(
            f"ngram range must satisfy 1 <= low <= high, got {low.value.data} to {high.value.data}"
        )


@irdl_op_definition
class DecodeTextOp(IRDLOperation):
    """Decode a string column and preprocess it as scikit-learn's vectorizers do.

    ``map`` is a two-level table (``text_tables.char_map``) giving each code point what
    ``lowercase`` and ``strip`` turn it into: one code point, a sequence, or "this row runs
    in Python" (capital sigma's lowercase depends on its context); ``classes`` marks word and
    space characters as Python's ``re`` and ``str.isspace`` define them. ``expansion`` bounds
    the code points one UTF-8 byte can become.

    ```mlir
    %t = feature.decode_text %f "text" lowercase 1 strip unicode
           map <i : tensor<4352xi32>>, <b : tensor<512xi32>>, <s : tensor<9xi32>>
           classes <c : tensor<1114112xui8>> expansion 1
           : !pipeline.frame<"text" : !pipeline.str> -> !feature.text
    ```
    """

    name = "feature.decode_text"
    frame = operand_def(FrameType)
    column = prop_def(StringAttr)
    lowercase = prop_def(IntegerAttr[I64])
    strip = prop_def(StripAccentsAttr)
    char_index = prop_def(BlobAttr)
    char_blocks = prop_def(BlobAttr)
    char_sequences = prop_def(BlobAttr)
    char_classes = prop_def(BlobAttr)
    expansion = prop_def(IntegerAttr[I64])
    result = result_def(TextType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$frame $column `lowercase` $lowercase `strip` $strip "
        "`map` $char_index `,` $char_blocks `,` $char_sequences `classes` $char_classes "
        "`expansion` $expansion attr-dict `:` type($frame) `->` type($result)"
    )

    def __init__(
        self,
        frame: SSAValue,
        column: str,
        lowercase: bool,
        strip: str | StripAccents,
        char_map: tuple[BlobAttr, BlobAttr, BlobAttr],
        char_classes: BlobAttr,
        expansion: int,
    ):
        index, blocks, sequences = char_map
        super().__init__(
            operands=[frame],
            properties={
                "column": StringAttr(column),
                "lowercase": _int(int(lowercase)),
                "strip": StripAccentsAttr(StripAccents(strip)),
                "char_index": index,
                "char_blocks": blocks,
                "char_sequences": sequences,
                "char_classes": char_classes,
                "expansion": _int(expansion),
            },
            result_types=[TextType()],
        )

    def verify_(self) -> None:
        assert isinstance(self.frame.type, FrameType)
        self.frame.type.verify_columns([self.column.data])
        if not isinstance(self.frame.type.dtype_of(self.column.data), StrType):
            raise VerifyException(f"column {self.column.data!r} does not hold strings")
        for blob in (self.char_index, self.char_blocks, self.char_sequences):
            _check_blob_element(blob, i32, "map")
        if self.char_index.size != 0x1100:
            raise VerifyException("map index must have 4352 entries (one per 256 code points)")
        if self.char_blocks.size % 256:
            raise VerifyException("map blocks must hold whole blocks of 256 entries")
        if self.lowercase.value.data not in (0, 1):
            raise VerifyException(f"lowercase must be 0 or 1, got {self.lowercase.value.data}")
        _check_blob_element(self.char_classes, IntegerType(8, Signedness.UNSIGNED), "classes")
        if self.char_classes.size != 0x110000:
            raise VerifyException("classes must have one entry per code point (1114112)")
        if self.expansion.value.data < 1:
            raise VerifyException("expansion must be at least 1")


class _TermsOp(IRDLOperation):
    """Base of ``count_terms`` and ``hash_terms``: how a row of text is cut into terms
    (``analyzer``, the n-gram range, an optional stop word table), and a sparse result."""

    text = operand_def(TextType)
    analyzer = prop_def(AnalyzerAttr)
    ngram_min = prop_def(IntegerAttr[I64])
    ngram_max = prop_def(IntegerAttr[I64])
    stop_codepoints = opt_prop_def(BlobAttr)
    stop_offsets = opt_prop_def(BlobAttr)
    stop_table = opt_prop_def(BlobAttr)
    stop_probes = opt_prop_def(IntegerAttr[I64])
    binary = opt_attr_def(UnitAttr)
    #: ``{short_tokens}``: a word of one character is a token too (``token_pattern``
    #: ``\b\w+\b``; the default ``\b\w\w+\b`` needs two)
    short_tokens = opt_attr_def(UnitAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    @staticmethod
    def analysis_properties(
        analyzer: str | Analyzer,
        ngram: tuple[int, int],
        stop_words: tuple[BlobAttr, BlobAttr, BlobAttr, int] | None,
    ) -> dict[str, Attribute]:
        """The shared properties: how a row is cut into terms."""
        properties: dict[str, Attribute] = {
            "analyzer": AnalyzerAttr(Analyzer(analyzer)),
            "ngram_min": _int(ngram[0]),
            "ngram_max": _int(ngram[1]),
        }
        if stop_words is not None:
            stop_codepoints, stop_offsets, stop_table, stop_probes = stop_words
            properties |= {
                "stop_codepoints": stop_codepoints,
                "stop_offsets": stop_offsets,
                "stop_table": stop_table,
                "stop_probes": _int(stop_probes),
            }
        return properties

    def verify_terms(self) -> None:
        """Check the op's own properties and its result's columns."""
        raise NotImplementedError

    def verify_(self) -> None:
        _check_ngram(self.ngram_min, self.ngram_max)
        self.verify_terms()
        # The stop word table is all four properties or none; it needs the word analyzer.
        parts = (self.stop_codepoints, self.stop_offsets, self.stop_table, self.stop_probes)
        if all(p is None for p in parts):
            return
        if any(p is None for p in parts):
            raise VerifyException("stop words need stop_codepoints, stop_offsets, stop_table "
                                  "and stop_probes together")  # fmt: skip
        if self.analyzer.data != Analyzer.WORD:
            raise VerifyException("stop words apply to the word analyzer only")
        _check_term_table(*parts, "stop")  # type: ignore[arg-type]


@irdl_op_definition
class CountTermsOp(_TermsOp):
    """Count the vocabulary's n-grams in each row (CountVectorizer's ``transform``).

    ``analyzer`` is ``word`` (tokens of ``\\b\\w\\w+\\b``, minus ``stop`` words, joined by one
    space), ``char`` (characters, runs of white space as one space) or ``char_wb``
    (characters of each white-space separated word, padded with one space each side).
    The vocabulary is a term hash table (``text_tables.term_table``: the terms' code points,
    their offsets, and (``term_key``, term index) slots); with ``binary`` every count is 1.

    ```mlir
    %c = feature.count_terms %t char_wb ngram 2 to 4
           vocab <v : tensor<40xi32>>, <o : tensor<11xi64>>, <h : tensor<64xi64>>
           probes 2 {binary} : !feature.text -> tensor<?x10xf64, "csr">
    ```
    """

    name = "feature.count_terms"
    vocab_codepoints = prop_def(BlobAttr)
    vocab_offsets = prop_def(BlobAttr)
    vocab_table = prop_def(BlobAttr)
    probes = prop_def(IntegerAttr[I64])
    assembly_format = (
        "$text $analyzer `ngram` $ngram_min `to` $ngram_max "
        "`vocab` $vocab_codepoints `,` $vocab_offsets `,` $vocab_table `probes` $probes "
        "(`stop` $stop_codepoints^ `,` $stop_offsets `,` $stop_table `probes` $stop_probes)? "
        "attr-dict `:` type($text) `->` type($result)"
    )

    def __init__(
        self,
        text: SSAValue,
        analyzer: str | Analyzer,
        ngram: tuple[int, int],
        vocabulary: tuple[BlobAttr, BlobAttr, BlobAttr, int],
        stop_words: tuple[BlobAttr, BlobAttr, BlobAttr, int] | None,
        binary: bool,
        element: Attribute,
    ):
        vocab_codepoints, vocab_offsets, vocab_table, probes = vocabulary
        properties = self.analysis_properties(analyzer, ngram, stop_words) | {
            "vocab_codepoints": vocab_codepoints,
            "vocab_offsets": vocab_offsets,
            "vocab_table": vocab_table,
            "probes": _int(probes),
        }
        super().__init__(
            operands=[text],
            properties=properties,
            attributes={"binary": UnitAttr()} if binary else {},
            result_types=[sparse_batch_of(vocab_offsets.size - 1, element)],
        )

    @property
    def terms(self) -> int:
        return self.vocab_offsets.size - 1

    def verify_terms(self) -> None:
        terms = _check_term_table(
            self.vocab_codepoints, self.vocab_offsets, self.vocab_table, self.probes, "vocab"
        )
        if _check_terms(self.result.type, "result") != terms:
            raise VerifyException(f"result must have one column per term ({terms})")


@irdl_op_definition
class HashTermsOp(_TermsOp):
    """Hash each row's n-grams into ``features`` columns (HashingVectorizer's counts).

    The column of a term is ``|murmurhash3_32(utf8, seed 0)| mod features``; with
    ``alternate_sign`` a negative hash counts -1. Columns whose counts cancel to zero keep an
    explicit 0, as after scipy's ``sum_duplicates``; with ``binary`` every stored value is 1.

    ```mlir
    %h = feature.hash_terms %t word ngram 1 to 2 features 1048576 {alternate_sign}
           : !feature.text -> tensor<?x1048576xf64, "csr">
    ```
    """

    name = "feature.hash_terms"
    features = prop_def(IntegerAttr[I64])
    alternate_sign = opt_attr_def(UnitAttr)
    assembly_format = (
        "$text $analyzer `ngram` $ngram_min `to` $ngram_max `features` $features "
        "(`stop` $stop_codepoints^ `,` $stop_offsets `,` $stop_table `probes` $stop_probes)? "
        "attr-dict `:` type($text) `->` type($result)"
    )

    def __init__(
        self,
        text: SSAValue,
        analyzer: str | Analyzer,
        ngram: tuple[int, int],
        features: int,
        stop_words: tuple[BlobAttr, BlobAttr, BlobAttr, int] | None,
        alternate_sign: bool,
        binary: bool,
        element: Attribute,
    ):
        properties = self.analysis_properties(analyzer, ngram, stop_words)
        properties["features"] = _int(features)
        flags = {"alternate_sign": alternate_sign, "binary": binary}
        super().__init__(
            operands=[text],
            properties=properties,
            attributes={name: UnitAttr() for name, on in flags.items() if on},
            result_types=[sparse_batch_of(features, element)],
        )

    def verify_terms(self) -> None:
        features = self.features.value.data
        if not 1 <= features <= 2**31 - 1:
            raise VerifyException(f"features must be in [1, 2^31 - 1], got {features}")
        if _check_terms(self.result.type, "result") != features:
            raise VerifyException(f"result must have {features} columns")


@irdl_op_definition
class WeightTermsOp(IRDLOperation):
    """TF-IDF weighting and row normalisation of term counts (TfidfTransformer, and the
    ``norm`` of HashingVectorizer): ``tf = 1 + log(tf)`` with ``sublinear_tf``, times ``idf``
    if given, then each row divided by its ``l1`` or ``l2`` norm, summed in column order.

    ```mlir
    %w = feature.weight_terms %c idf <idf : tensor<10xf64>> norm l2 {sublinear_tf}
           : tensor<?x10xf64, "csr"> -> tensor<?x10xf64, "csr">
    ```
    """

    name = "feature.weight_terms"
    input = operand_def(TensorType)
    idf = opt_prop_def(BlobAttr)
    log_table = opt_prop_def(BlobAttr)
    norm = prop_def(NormAttr)
    sublinear_tf = opt_attr_def(UnitAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = (
        "$input (`idf` $idf^)? (`log` $log_table^)? `norm` $norm attr-dict `:` type($input) "
        "`->` type($result)"
    )

    def __init__(
        self,
        input: SSAValue,
        idf: BlobAttr | None,
        norm: str | Norm,
        sublinear_tf: bool,
        element: Attribute,
        log_table: BlobAttr | None = None,
    ):
        properties: dict[str, Attribute] = {"norm": NormAttr(Norm(norm))}
        if idf is not None:
            properties["idf"] = idf
        if log_table is not None:
            properties["log_table"] = log_table
        super().__init__(
            operands=[input],
            properties=properties,
            attributes={"sublinear_tf": UnitAttr()} if sublinear_tf else {},
            result_types=[sparse_batch_of(batch_width(input.type), element)],
        )

    def verify_(self) -> None:
        width = _check_terms(self.input.type, "input")
        if _check_terms(self.result.type, "result") != width:
            raise VerifyException(f"result must have the input's {width} columns")
        element = _element(self.result.type)
        if element not in (f64, f32):
            raise VerifyException("result must hold f64 or f32 values")
        if self.idf is not None:
            _check_blob(self.idf, width, "idf")
            _check_blob_element(self.idf, element, "idf")
        if self.log_table is not None:
            if element != f32 or self.sublinear_tf is None:
                raise VerifyException("a log table is for float32 results with sublinear_tf")
            _check_blob_element(self.log_table, f32, "log table")


@irdl_op_definition
class SparseLinearOp(IRDLOperation):
    """A linear model's decision values over sparse rows, side by side as by ``hstack``:
    ``[x_1 … x_k] · coef[:, offset:offset+W]ᵀ (+ intercept)``, accumulated in column order
    as scipy does. No
    sparse matrix is built: each part's row is consumed where it is computed.

    With ``log``, float32 counts take ``log`` from a table of numpy's own float32 results
    (which are not correctly rounded); a row with a count past the table runs in Python.

    ```mlir
    %d = feature.sparse_linear %a, %b coef <w : tensor<1x30xf64>> offset 0
           intercept <b : tensor<1xf64>>
           : (tensor<?x10xf64, "csr">, tensor<?x20xf64, "csr">) -> tensor<?x1xf64>
    ```
    """

    name = "feature.sparse_linear"
    inputs = var_operand_def(TensorType)
    coef = prop_def(BlobAttr)
    offset = prop_def(IntegerAttr[I64])
    intercept = opt_prop_def(BlobAttr)
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$inputs `coef` $coef `offset` $offset (`intercept` $intercept^)? attr-dict "
        "`:` `(` type($inputs) `)` `->` type($result)"
    )

    def __init__(
        self,
        inputs: Sequence[SSAValue],
        coef: BlobAttr,
        offset: int,
        intercept: BlobAttr | None,
        result_type: Attribute | None = None,
    ):
        properties: dict[str, Attribute] = {"coef": coef, "offset": _int(offset)}
        if intercept is not None:
            properties["intercept"] = intercept
        super().__init__(
            operands=[inputs],
            properties=properties,
            result_types=[result_type or batch_of(coef.shape[0])],
        )

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("sparse_linear needs at least one input")
        width = sum(_check_terms(v.type, "input") for v in self.inputs)
        outputs = _check_coef(self.coef, self.offset.value.data, width)
        if self.intercept is not None:
            _check_blob(self.intercept, outputs, "intercept")
        _check_outputs(self.result, outputs)


# endregion
# region Trees

TREE_COMPARES = ("le", "lt")
TREE_PRECISIONS = ("f64", "f32")
TREE_CHECKS = ("none", "nan_or_infinite", "infinite")
TREE_LAYOUTS = ("nodes", "branches")
TREE_TOP_LEVELS = 8  # at most this many complete top levels (``top``)
#: Node flags (the routing rules ``willump_mlir.frontend.trees`` defines).
MISSING_LEFT = 1  # a missing value goes to the left child
CATEGORICAL = 2  # the split tests membership of trunc(x) in a bitset: members go left
ZERO_IS_MISSING = 4  # numeric split: |x| <= ZERO_THRESHOLD counts as missing (LightGBM)
OUT_OF_RANGE_IS_MISSING = 16  # categorical: a value outside the bitset goes the missing way
TRUNCATE_CATEGORY = 32  # categorical: range-check trunc(x), not x (-0.5 is category 0)
INTEGER_CATEGORY = 64  # categorical: a value that is not an integer is out of range (sklearn HGB)
TREE_FLAGS = (
    MISSING_LEFT | CATEGORICAL | ZERO_IS_MISSING | OUT_OF_RANGE_IS_MISSING | TRUNCATE_CATEGORY
    | INTEGER_CATEGORY
)  # fmt: skip
ZERO_THRESHOLD = float(np.float32(1e-35))  # LightGBM's kZeroThreshold, a float


@irdl_op_definition
class TreeEnsembleOp(IRDLOperation):
    """The raw outputs of a tree ensemble (``frontend.trees.TreeEnsemble.params``): each row
    walks every tree from ``roots[t]`` (a child ``c >= 0`` is internal node ``c``, ``c < 0``
    leaf ``~c``) and adds the leaf's values to outputs ``tree_outputs[t]...``, from ``base``;
    then divides by ``divisor`` if given. ``nodes`` holds (feature, flags, left, right) per
    internal node; ``node_flags`` is the OR of all flags. With ``input "f32"`` inputs are
    rounded to float32 before comparing; with ``sum "f32"`` the sum is in float32. ``check``
    rejects NaN or infinity (after the rounding) as scikit-learn does, in every column or in
    the ``columns`` listed. ``layout "branches"`` makes each tree generated code
    (``passes.tree_branches``); without it the kernel walks the node arrays. ``top N`` says
    the node arrays lay out the top ``N`` levels of every tree as a complete binary tree
    (``passes.choose_tree_layout``: the children of node ``roots[t] + i`` are
    ``roots[t] + 2i + 1`` and ``+ 2i + 2``), which the kernel walks by index arithmetic; with
    ``layout "branches"`` too, blocks of rows read in place walk the node arrays and rows
    computed one at a time call the branches.

    ```mlir
    %r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>>
           leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>>
           tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le"
           input "f32" sum "f64" flags 1 divisor 2.000000e+00 : f64 check "nan_or_infinite"
           columns [0 : i64, 3 : i64] layout "branches" : tensor<?x5xf64> -> tensor<?x1xf64>
    ```
    """

    name = "feature.tree_ensemble"
    input = operand_def(TensorType)
    nodes = prop_def(BlobAttr)
    thresholds = prop_def(BlobAttr)
    leaves = prop_def(BlobAttr)
    roots = prop_def(BlobAttr)
    tree_outputs = prop_def(BlobAttr)
    base = prop_def(BlobAttr)
    category_ranges = opt_prop_def(BlobAttr)
    category_bits = opt_prop_def(BlobAttr)
    compare = prop_def(StringAttr)
    input_precision = prop_def(StringAttr)
    sum_precision = prop_def(StringAttr)
    node_flags = prop_def(IntegerAttr[I64])
    divisor = opt_prop_def(FloatAttr)
    check = prop_def(StringAttr)
    check_columns = opt_prop_def(ArrayAttr[IntegerAttr[I64]])
    layout = opt_prop_def(StringAttr)
    top_levels = opt_prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    traits = traits_def(ChecksInput())
    assembly_format = (
        "$input `nodes` $nodes `thresholds` $thresholds `leaves` $leaves `roots` $roots "
        "`tree_outputs` $tree_outputs `base` $base "
        "(`categories` $category_ranges^ `,` $category_bits)? `compare` $compare "
        "`input` $input_precision `sum` $sum_precision `flags` $node_flags "
        "(`divisor` $divisor^)? `check` $check (`columns` $check_columns^)? "
        "(`layout` $layout^)? (`top` $top_levels^)? attr-dict "
        "`:` type($input) `->` type($result)"
    )

    def __init__(
        self,
        input: SSAValue,
        blobs: dict[str, BlobAttr],
        compare: str,
        precisions: tuple[str, str],
        node_flags: int,
        divisor: float | None,
        check: tuple[str, list[int] | None],
        result_type: Attribute,
        layout: str = "nodes",
        top_levels: int = 0,
    ):
        properties: dict[str, Attribute] = dict(blobs) | {
            "compare": StringAttr(compare),
            "input_precision": StringAttr(precisions[0]),
            "sum_precision": StringAttr(precisions[1]),
            "node_flags": _int(node_flags),
            "check": StringAttr(check[0]),
        }
        if divisor is not None:
            properties["divisor"] = FloatAttr(divisor, f64)
        if check[1] is not None:
            properties["check_columns"] = ArrayAttr([_int(c) for c in check[1]])
        if layout != "nodes":
            properties["layout"] = StringAttr(layout)
        if top_levels:
            properties["top_levels"] = _int(top_levels)
        super().__init__(operands=[input], properties=properties, result_types=[result_type])

    @property
    def outputs(self) -> int:
        return self.base.size

    def checked_columns(self, features: int) -> list[int]:
        """The columns ``check`` applies to (the node features are blob data: the frontend
        checks them against the input width when it builds the blobs)."""
        if self.check_columns is None:
            return list(range(features))
        return [c.value.data for c in self.check_columns.data]

    @property
    def width(self) -> int:
        return self.leaves.shape[1]

    @property
    def branches(self) -> bool:
        """Whether the trees become generated branches (``layout "branches"``)."""
        return self.layout is not None and self.layout.data == "branches"

    def verify_(self) -> None:
        features = batch_width(verify_batch(self.input.type, "input"))
        for column in self.checked_columns(features):
            if not 0 <= column < features:
                raise VerifyException(f"checked column {column} is out of range")
        if _element(self.input.type) != f64:
            raise VerifyException("input must hold f64 values")
        for blob, element, rank, what in (
            (self.nodes, i32, 2, "nodes"),
            (self.thresholds, f64, 1, "thresholds"),
            (self.leaves, f64, 2, "leaves"),
            (self.roots, i32, 1, "roots"),
            (self.tree_outputs, i32, 1, "tree_outputs"),
            (self.base, f64, 1, "base"),
        ):
            _check_blob_element(blob, element, what)
            if len(blob.shape) != rank:
                raise VerifyException(f"{what} blob must have rank {rank}")
        internal = self.nodes.shape[0]
        if self.nodes.shape[1] != 4:
            raise VerifyException("nodes must hold (feature, flags, left, right) per node")
        _check_blob(self.thresholds, internal, "thresholds")
        _check_blob(self.tree_outputs, self.roots.size, "tree_outputs")
        if self.width > self.outputs or self.width < 1:
            raise VerifyException(f"leaves must have 1 to {self.outputs} values each")
        _check_choice(self.compare, TREE_COMPARES, "compare")
        _check_choice(self.input_precision, TREE_PRECISIONS, "input precision")
        _check_choice(self.sum_precision, TREE_PRECISIONS, "sum precision")
        _check_choice(self.check, TREE_CHECKS, "check")
        flags = self.node_flags.value.data
        if flags & ~TREE_FLAGS:
            raise VerifyException(f"flags {flags} has unknown bits")
        categorical = flags & CATEGORICAL != 0
        if categorical != (self.category_ranges is not None):
            raise VerifyException("categories are given exactly when a node is categorical")
        if self.layout is not None:
            _check_choice(self.layout, TREE_LAYOUTS, "layout")
        if self.top_levels is not None:
            levels = self.top_levels.value.data
            if not 1 <= levels <= TREE_TOP_LEVELS:
                raise VerifyException(f"top must be 1 to {TREE_TOP_LEVELS} levels")
            if internal < self.roots.size * ((1 << levels) - 1):
                raise VerifyException(f"top {levels} needs {(1 << levels) - 1} nodes per tree")
        if self.category_ranges is not None and self.category_bits is not None:
            _check_blob_element(self.category_ranges, i32, "category_ranges")
            _check_blob_element(self.category_bits, i32, "category_bits")
            _check_blob(self.category_ranges, 2 * internal, "category_ranges")
            if self.category_bits.size < 1:
                raise VerifyException("category_bits must hold at least one word")
        element = f32 if self.sum_precision.data == "f32" else f64
        valid = [batch_of(self.outputs, element)]
        if self.outputs == 1:
            valid.append(vector_of(element))
        if self.result.type not in valid:
            raise VerifyException(f"result must be {valid[0]}")


# endregion
# region Model outputs


class _RowMapOp(IRDLOperation):
    """Base of the ops that map each row of f64 values (or of ``elements()``) to a new row."""

    input = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[input], result_types=[result_type or input.type])

    def expected_result(self) -> Attribute:
        return self.input.type

    def elements(self) -> tuple[Attribute, ...]:
        """The element types the op computes in."""
        return (f64,)

    def verify_(self) -> None:
        verify_batch(self.input.type, "input")
        if _element(self.input.type) not in self.elements():
            names = " or ".join(str(e) for e in self.elements())
            raise VerifyException(f"{self.name}: input must hold {names} values")
        if self.result.type != self.expected_result():
            raise VerifyException(f"{self.name}: result must be {self.expected_result()}")

    def checks_input(self) -> bool:
        """``ChecksInput``: an ensemble with ``check "none"`` refuses nothing."""
        return self.check.data != "none"


@irdl_op_definition
class SigmoidOp(_RowMapOp):
    """The logistic function ``1 / (1 + exp(-x))``, elementwise; on f32 values as XGBoost
    computes it in float: ``1.0f / (expf(min(-x, 88.7f)) + 1.0f)``.

    ```mlir
    %p = feature.sigmoid %d : tensor<?x1xf64> -> tensor<?x1xf64>
    %q = feature.sigmoid %e : tensor<?x1xf32> -> tensor<?x1xf32>
    ```
    """

    name = "feature.sigmoid"

    def elements(self) -> tuple[Attribute, ...]:
        return (f64, f32)


@irdl_op_definition
class SoftmaxOp(_RowMapOp):
    """Row-wise softmax, computed as scikit-learn does (max subtracted first, numpy's ``exp``
    loop); ``libm``: with the C library's ``exp``, as LightGBM's C++ computes it; on f32
    values as XGBoost does: float ``expf(x - max)``, summed in double, divided by the float
    sum.

    ```mlir
    %p = feature.softmax %d : tensor<?x3xf64> -> tensor<?x3xf64>
    %l = feature.softmax %d {libm} : tensor<?x3xf64> -> tensor<?x3xf64>
    %q = feature.softmax %e : tensor<?x3xf32> -> tensor<?x3xf32>
    ```
    """

    name = "feature.softmax"

    def elements(self) -> tuple[Attribute, ...]:
        return (f64, f32)

    def verify_(self) -> None:
        super().verify_()
        if self.attributes.get("libm", UnitAttr()) != UnitAttr():
            raise VerifyException(f"{self.name}: libm must be a unit attribute")


@irdl_op_definition
class NormalizeRowsOp(_RowMapOp):
    """Divide each row by its sum (one-vs-rest probabilities).

    ```mlir
    %p = feature.normalize_rows %s : tensor<?x3xf64> -> tensor<?x3xf64>
    ```
    """

    name = "feature.normalize_rows"


@irdl_op_definition
class ModifiedHuberProbaOp(_RowMapOp):
    """``(clip(x, -1, 1) + 1) / 2`` elementwise: the probability of a class under
    ``SGDClassifier(loss="modified_huber")``, from its decision value.

    ```mlir
    %h = feature.modified_huber_proba %d : tensor<?x3xf64> -> tensor<?x3xf64>
    ```
    """

    name = "feature.modified_huber_proba"


@irdl_op_definition
class BinaryProbaOp(_RowMapOp):
    """``[1 - p, p]`` from the positive-class probability ``p`` (f64 or f32).

    ```mlir
    %pp = feature.binary_proba %p : tensor<?x1xf64> -> tensor<?x2xf64>
    ```
    """

    name = "feature.binary_proba"

    def __init__(self, input: SSAValue):
        super().__init__(input, batch_of(2, _element(input.type)))

    def elements(self) -> tuple[Attribute, ...]:
        return (f64, f32)

    def expected_result(self) -> Attribute:
        return batch_of(2, _element(self.input.type))

    def verify_(self) -> None:
        super().verify_()
        if batch_width(self.input.type) != 1:
            raise VerifyException("input must have one value per row")


@irdl_op_definition
class ArgmaxOp(_RowMapOp):
    """Index of the largest value per row (the first one on ties, as numpy); with one value
    per row, ``1`` if it is positive else ``0``, as a binary classifier's ``predict``, or,
    with ``{nonnegative}``, ``1`` if it is at least zero (GradientBoostingClassifier). The
    values are f64 or f32. With ``{margin}``, a row whose largest value is within the margin
    of another (one value: of zero) runs in Python: values summed in another order than the
    original's (a linear model's ``X @ coef_.T`` through BLAS) may round to the other label.

    ```mlir
    %k = feature.argmax %d : tensor<?x3xf64> -> tensor<?xi64>
    %b = feature.argmax %r {nonnegative} : tensor<?x1xf64> -> tensor<?xi64>
    %m = feature.argmax %d {margin = 1.000000e-06 : f64} : tensor<?x3xf64> -> tensor<?xi64>
    ```
    """

    name = "feature.argmax"
    nonnegative = opt_attr_def(UnitAttr)
    margin = opt_attr_def(FloatAttr)

    def __init__(self, input: SSAValue, nonnegative: bool = False, margin: float | None = None):
        super().__init__(input, vector_of(i64))
        if nonnegative:
            self.nonnegative = UnitAttr()
        if margin is not None:
            self.margin = FloatAttr(margin, f64)

    def verify_(self) -> None:
        super().verify_()
        if self.nonnegative is not None and batch_width(self.input.type) != 1:
            raise VerifyException("feature.argmax: {nonnegative} needs one value per row")

    def elements(self) -> tuple[Attribute, ...]:
        return (f64, f32)

    def expected_result(self) -> Attribute:
        return vector_of(i64)


# endregion

# region Kernel hints


@irdl_op_definition
class PrefetchOp(IRDLOperation):
    """A hint from a lowered row kernel: element ``index`` of ``ref`` is read soon, so its
    cache line is fetched now without waiting for it (``llvm.prefetch``, read, into every
    cache level). No result and no effect on any value; an op with effects, so it is kept.

    ```mlir
    feature.prefetch %slots[%at] : memref<?xi64>
    ```
    """

    name = "feature.prefetch"
    ref = operand_def(MemRefType)
    index = operand_def(IndexType)
    assembly_format = "$ref `[` $index `]` attr-dict `:` type($ref)"

    def __init__(self, ref: SSAValue, index: SSAValue):
        super().__init__(operands=[ref, index])


@irdl_op_definition
class UfuncOp(IRDLOperation):
    """numpy's own inner loop of ufunc ``function`` (one of ``abi.UFUNC_LOOPS``) on one
    element of each operand (as many as the ufunc takes, all of the result's type, f64 or
    f32): bit for bit what ``np.<function>`` gives on an array of them in the process that
    runs the code, which binds the loop at load time (``runtime.ufunc_loops``); numpy's SIMD
    routines differ from the C library's in the last bit. With ``scalar_rhs`` the loop reads
    the second operand with stride 0, as numpy reads a scalar broadcast over an array (its
    ``power`` loop then squares for an exponent 2.0).

    ```mlir
    %y = feature.ufunc "log1p"(%x) : (f64) -> f64
    %p = feature.ufunc "power"(%x, %e) scalar_rhs : (f64, f64) -> f64
    ```
    """

    name = "feature.ufunc"
    function = prop_def(StringAttr)
    inputs = var_operand_def()
    scalar_rhs = opt_prop_def(UnitAttr)
    result = result_def()
    traits = traits_def(Pure())
    assembly_format = (
        "$function `(` $inputs `)` (`scalar_rhs` $scalar_rhs^)? attr-dict `:` "
        "functional-type($inputs, $result)"
    )

    def __init__(self, function: str, inputs: Sequence[SSAValue], scalar_rhs: bool = False):
        super().__init__(
            operands=[inputs],
            properties={"function": StringAttr(function)}
            | ({"scalar_rhs": UnitAttr()} if scalar_rhs else {}),
            result_types=[inputs[0].type],
        )

    def verify_(self) -> None:
        function = self.function.data
        if function not in UFUNC_LOOPS:
            raise VerifyException(f"{function!r} is not a ufunc with a numpy loop: expected "
                                  f"one of {', '.join(UFUNC_LOOPS)}")  # fmt: skip
        arity = getattr(np, function).nin
        if len(self.inputs) != arity:
            raise VerifyException(f"{function} takes {arity} operand(s), got {len(self.inputs)}")
        if self.result.type not in (f64, f32):
            raise VerifyException(f"the result must be f64 or f32, got {self.result.type}")
        if any(value.type != self.result.type for value in self.inputs):
            raise VerifyException("every operand must have the result's type")
        if self.scalar_rhs is not None and arity != 2:
            raise VerifyException("scalar_rhs needs two operands")


@irdl_op_definition
class UfuncLoopOp(IRDLOperation):
    """numpy's own inner loop of ufunc ``function`` (as ``feature.ufunc``) over ``count``
    consecutive elements of ``input`` from ``start``, into ``output`` from its first element;
    a two-operand ufunc's second operand is the elements of ``second`` from its first, or
    with ``scalar`` its first element, read with stride 0 as numpy reads a broadcast scalar.
    What a row kernel computes a chunk of rows with before the rows read it (numpy's SIMD
    loop at its own speed, where one element per call stalls on the stack).

    ```mlir
    feature.ufunc_loop "log1p" %x[%i] into %chunk count %m : memref<?xf64>, memref<256xf64>
    feature.ufunc_loop "power" %x[%i] with %e : memref<1xf64> scalar into %chunk count %m
        : memref<?xf64>, memref<256xf64>
    feature.ufunc_loop "arctan2" %a[%c0] with %b : memref<256xf64> into %chunk count %m
        : memref<256xf64>, memref<256xf64>
    ```
    """

    name = "feature.ufunc_loop"
    function = prop_def(StringAttr)
    input = operand_def(MemRefType)
    start = operand_def(IndexType)
    second = opt_operand_def(MemRefType)
    output = operand_def(MemRefType)
    count = operand_def(IndexType)
    scalar = opt_prop_def(UnitAttr)
    assembly_format = (
        "$function $input `[` $start `]` (`with` $second^ `:` type($second))? "
        "(`scalar` $scalar^)? `into` $output `count` $count attr-dict `:` type($input) `,` "
        "type($output)"
    )

    def __init__(self, function: str, input: SSAValue, start: SSAValue, output: SSAValue,
                 count: SSAValue, second: SSAValue | None = None,
                 scalar: bool = False):  # fmt: skip
        super().__init__(
            operands=[input, start, [second] if second else [], output, count],
            properties={"function": StringAttr(function)}
            | ({"scalar": UnitAttr()} if scalar else {}),
        )

    def verify_(self) -> None:
        function = self.function.data
        if function not in UFUNC_LOOPS:
            raise VerifyException(f"{function!r} is not a ufunc with a numpy loop")
        arity = 1 + (self.second is not None)
        if getattr(np, function).nin != arity:
            raise VerifyException(f"{function} takes {getattr(np, function).nin} operand(s), "
                                  f"got {arity}")  # fmt: skip
        if self.scalar is not None and self.second is None:
            raise VerifyException("scalar needs a second operand")
        element = self.input.type.get_element_type()  # type: ignore[attr-defined]
        if element not in (f64, f32):
            raise VerifyException(f"the input must hold f64 or f32 values, got {element}")
        for buffer in (self.output, self.second):
            if buffer is not None and buffer.type.get_element_type() != element:  # type: ignore[attr-defined]
                raise VerifyException("every buffer must hold the input's element type")


# endregion

Feature = Dialect(
    "feature",
    [
        # Column transformers
        ImputeOp,
        StandardizeOp,
        MulAddOp,
        NormalizeOp,
        PolynomialOp,
        # Categorical encoding
        EncodeStringsOp,
        EncodeNumbersOp,
        DiscretizeOp,
        OneHotOp,
        OrdinalOp,
        # Lookups
        LookupKeysOp,
        PackCodesOp,
        GatherRowsOp,
        JoinOp,
        # Linear models
        LinearOp,
        WeightLookupOp,
        SumOp,
        # Model outputs
        SigmoidOp,
        SoftmaxOp,
        NormalizeRowsOp,
        ModifiedHuberProbaOp,
        BinaryProbaOp,
        ArgmaxOp,
        # Text
        DecodeTextOp,
        CountTermsOp,
        HashTermsOp,
        WeightTermsOp,
        SparseLinearOp,
        # Trees
        TreeEnsembleOp,
        # Kernel hints
        PrefetchOp,
        # numpy's own loops
        UfuncOp,
        UfuncLoopOp,
    ],
    [
        TextType,
        UnknownPolicyAttr,
        MissingRowPolicyAttr,
        AnalyzerAttr,
        StripAccentsAttr,
        NormAttr,
        RowNormAttr,
    ],
)
