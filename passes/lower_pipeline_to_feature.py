"""lower-pipeline-to-feature: estimator calls of the ``pipeline`` dialect to ``feature`` ops.

Each ``pipeline.transform`` and ``pipeline.predict`` is rewritten through a table
{estimator name: lowering function}; its fitted parameters come from the op's ``params``
dictionary (blobs are ``#pipeline.blob``, integers ``IntegerAttr``, floats ``FloatAttr``,
strings ``StringAttr``). Frame access (``to_array``, ``select_columns``), ``hstack``,
``take_column``, ``constant``, ``unary``, ``binary``, ``where`` and ``python_call`` are
already at the feature level and stay as they are::

    %s = pipeline.transform "StandardScaler" %x params {
           mean = #pipeline.blob<m : tensor<2xf64>>, scale = #pipeline.blob<s : tensor<2xf64>>}
           : tensor<?x2xf64> -> tensor<?x2xf64>
    %p = pipeline.predict "LogisticRegression" "predict_proba" %s params {
           coef = #pipeline.blob<w : tensor<1x2xf64>>,
           intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "binary_sigmoid"}
           : tensor<?x2xf64> -> tensor<?x2xf64>
  ~>
    %s = feature.standardize %x sub <m : tensor<2xf64>> div <s : tensor<2xf64>>
           : tensor<?x2xf64> -> tensor<?x2xf64>
    %d = feature.linear %s coef <w : tensor<1x2xf64>> offset 0 intercept <b : tensor<1xf64>>
           {check_finite} : tensor<?x2xf64> -> tensor<?x1xf64>
    %e = feature.sigmoid %d : tensor<?x1xf64> -> tensor<?x1xf64>
    %p = feature.binary_proba %e : tensor<?x1xf64> -> tensor<?x2xf64>

Parameter schema per estimator (``?`` marks an optional key):

* ``SimpleImputer`` {fill, finite?, indicator?} (``indicator``: the columns whose missing
  flags follow the imputed ones, ``add_indicator=True``); ``StandardScaler`` {mean?,
  scale?}; ``RobustScaler`` {center?, scale?}; ``MaxAbsScaler`` {scale}; ``Normalizer``
  {norm: "l1"|"l2"|"max"}; ``PolynomialFeatures`` {powers} (``powers_``, a
  ``tensor<KxNxi64>`` blob).
* ``MinMaxScaler`` {scale, min, clip: 0/1, clip_range?}. A pass cannot create blob data
  (blobs live outside the IR), so when ``clip`` is 1 the frontend also emits
  ``clip_range``, a ``tensor<2xf64>`` blob holding ``feature_range`` ``[low, high]``, and
  the pass uses it as ``feature.mul_add``'s ``clip``. ``clip`` 1 without ``clip_range``
  is an error.
* ``OneHotEncoder`` {handle_unknown: "ignore"|"error"|"infrequent_if_exist", columns}
  (a column's infrequent?: the codes that share its last one-hot column);
  ``OrdinalEncoder`` {handle_unknown: "error"|"use_encoded_value", unknown_value?,
  encoded_missing_value?, columns}. ``columns`` holds one dictionary per input column:
  {kind: "f64", categories} or {kind: "str", bytes, offsets}, plus missing? and drop?
  (both -1 when absent); a missing string category keeps an empty slot in ``offsets``. An
  OrdinalEncoder column may also carry its own ``encoded_missing_value`` (for a ``None``
  category, which scikit-learn encodes as its index).
* ``TargetEncoder`` {target_mean, columns}: ``columns`` as an encoder's, each with its
  ``encodings`` (a ``tensor<1xNxf64>`` blob, one per category).
* ``KBinsDiscretizer`` {encode: "ordinal"|"onehot"|"onehot-dense", columns}: one
  dictionary {edges} per input column (its ``bin_edges_``, increasing).
* The linear classifiers of :data:`LINEAR_CLASSIFIERS` (``LogisticRegression``,
  ``LinearSVC``, ``SGDClassifier``, ``RidgeClassifier``, ``Perceptron``, ...) {coef,
  intercept?, proba: "none"|"binary_sigmoid"|"softmax"|"ovr_sigmoid"|"modified_huber"}:
  methods ``decision_function``, ``predict_proba`` (unless "none"), ``predict``.
  As in scikit-learn 1.9.1, a binary model (one row of ``coef``) uses
  ``[1 - sigmoid(d), sigmoid(d)]`` for its probabilities, or ``[1 - h, h]`` with
  ``h = (clip(d, -1, 1) + 1) / 2`` for "modified_huber" (with K classes: the ``h`` of
  each, normalized per row, a row of zeros uniform).
* The linear regressors of :data:`LINEAR_REGRESSORS` (``LinearRegression``, ``Ridge``,
  ``Lasso``, ``ElasticNet``, ``SGDRegressor``, ``LinearSVR``, ...) {coef, intercept?}:
  method ``predict``.
* Tree models (``DecisionTree*``, ``RandomForest*``, ``ExtraTrees*``, ``GradientBoosting*``,
  ``HistGradientBoosting*``, and the LightGBM/XGBoost names) share one library-neutral
  schema: the ensemble's {nodes, thresholds, leaves, roots, tree_outputs, base,
  category_ranges?, category_bits?, compare, input_precision, sum_precision, node_flags,
  divisor?} (``frontend.trees.TreeEnsemble.params``), check?: "none"|"nan_or_infinite"|
  "infinite" with check_columns? (the columns it applies to, default all), then either
  ``link``: "identity"|"exp"|"c_exp" (a regressor: ``predict``; "exp" is numpy's, "c_exp" the
  C library's), or ``proba``: "none" (the raw
  outputs are probabilities)|"binary_sigmoid" (``[1 - sigmoid, sigmoid]`` of one logit)|
  "softmax" (numpy's ``exp``, as scikit-learn)|"c_softmax" (the C library's ``exp``, as
  LightGBM's C++) and ``decision``: "raw" (``predict`` is the argmax of the raw outputs; binary:
  raw > 0)|"raw_nonnegative" (binary: raw >= 0, GradientBoostingClassifier)|"proba" (the
  argmax of the probabilities). A classifier has ``predict``, ``predict_proba``, and
  ``decision_function`` unless ``proba`` is "none".

An estimator, method or parameter outside this schema raises
:class:`PipelineLoweringError`, which names the estimator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    UnitAttr,
    f32,
    f64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import PassFailedException, VerifyException

from willump_mlir.abi import MISSING_NAN
from willump_mlir.dialects.feature import (
    TREE_CHECKS,
    TREE_COMPARES,
    TREE_LAYOUTS,
    TREE_PRECISIONS,
    ArgmaxOp,
    BinaryProbaOp,
    CountTermsOp,
    DecodeTextOp,
    DiscretizeOp,
    EncodeNumbersOp,
    EncodeStringsOp,
    HashTermsOp,
    ImputeOp,
    LinearOp,
    ModifiedHuberProbaOp,
    MulAddOp,
    NormalizeOp,
    NormalizeRowsOp,
    OneHotOp,
    OrdinalOp,
    PolynomialOp,
    SigmoidOp,
    SoftmaxOp,
    StandardizeOp,
    TreeEnsembleOp,
    WeightLookupOp,
    WeightTermsOp,
)
from willump_mlir.dialects.pipeline import (
    LINEAR_CLASSIFIERS,
    LINEAR_PROBAS,
    LINEAR_REGRESSORS,
    BinaryOp,
    BlobAttr,
    CastOp,
    ConstantOp,
    FrameType,
    HstackOp,
    PredictOp,
    StrType,
    TakeColumnOp,
    ToArrayOp,
    TransformOp,
    UnaryOp,
    WhereOp,
    batch_of,
    batch_width,
    vector_of,
)

_OpT = TypeVar("_OpT", bound=Operation)
_TermsOpT = TypeVar("_TermsOpT", CountTermsOp, HashTermsOp)


class PipelineLoweringError(PassFailedException):
    """An estimator call the pass cannot lower; the message names the estimator."""


# region Lowering context

_REQUIRED = object()
_KIND_NAMES: dict[type[Attribute], str] = {
    BlobAttr: "a #pipeline.blob",
    IntegerAttr: "an integer",
    FloatAttr: "a float",
    StringAttr: "a string",
    ArrayAttr: "an array",
}


@dataclass
class Lowering:
    """The estimator call being lowered: its parameters and the rewriter that builds ops."""

    op: TransformOp | PredictOp
    params: DictionaryAttr
    rewriter: PatternRewriter

    @property
    def estimator(self) -> str:
        return self.op.estimator.data

    @property
    def input(self) -> SSAValue:
        return self.op.input

    def error(self, message: str) -> PipelineLoweringError:
        return PipelineLoweringError(f"{self.op.name} {self.estimator!r}: {message}")

    def insert(self, op: _OpT) -> _OpT:
        """Insert ``op`` before the estimator call and verify it."""
        self.rewriter.insert(op)
        try:
            op.verify()
        except VerifyException as e:
            raise self.error(f"lowers to an invalid {op.name}: {e}") from e
        return op

    def with_params(self, params: DictionaryAttr) -> Lowering:
        """The same call, reading parameters from ``params`` (one column of an encoder)."""
        return Lowering(self.op, params, self.rewriter)

    # Parameters

    def _get(self, key: str, kind: type[Attribute], default: object) -> Attribute | None:
        attr = self.params.data.get(key)
        if attr is None:
            if default is _REQUIRED:
                raise self.error(f"missing parameter {key!r}")
            return None
        if not isinstance(attr, kind):
            raise self.error(f"parameter {key!r} must be {_KIND_NAMES[kind]}, got {attr}")
        return attr

    def blob(self, key: str) -> BlobAttr:
        attr = self._get(key, BlobAttr, _REQUIRED)
        assert isinstance(attr, BlobAttr)
        return attr

    def optional_blob(self, key: str) -> BlobAttr | None:
        attr = self._get(key, BlobAttr, None)
        assert attr is None or isinstance(attr, BlobAttr)
        return attr

    def int_param(self, key: str, default: int | object = _REQUIRED) -> int:
        attr = self._get(key, IntegerAttr, default)
        if attr is None:
            assert isinstance(default, int)
            return default
        assert isinstance(attr, IntegerAttr)
        return attr.value.data

    def float_param(self, key: str, default: float | object = _REQUIRED) -> float:
        attr = self._get(key, FloatAttr, default)
        if attr is None:
            assert isinstance(default, float)
            return default
        assert isinstance(attr, FloatAttr)
        return attr.value.data

    def str_param(self, key: str, choices: tuple[str, ...]) -> str:
        attr = self._get(key, StringAttr, _REQUIRED)
        assert isinstance(attr, StringAttr)
        if attr.data not in choices:
            raise self.error(
                f"parameter {key!r} must be one of {', '.join(choices)}, got {attr.data!r}"
            )
        return attr.data

    def int_list(self, key: str) -> list[int] | None:
        """An optional array of integers (None when absent)."""
        attr = self._get(key, ArrayAttr, None)
        if attr is None:
            return None
        assert isinstance(attr, ArrayAttr)
        if not all(isinstance(c, IntegerAttr) for c in attr.data):
            raise self.error(f"parameter {key!r} must be an array of integers")
        return [c.value.data for c in attr.data]  # type: ignore[attr-defined]

    def columns(self) -> list[DictionaryAttr]:
        attr = self._get("columns", ArrayAttr, _REQUIRED)
        assert isinstance(attr, ArrayAttr)
        if not attr.data or not all(isinstance(c, DictionaryAttr) for c in attr.data):
            raise self.error("parameter 'columns' must be a non-empty array of dictionaries")
        return list(attr.data)  # type: ignore[arg-type]


def _numeric_input(lw: Lowering) -> SSAValue:
    """The input as a matrix: a frame of numeric columns goes through ``pipeline.to_array``.

    ```mlir
    %x = pipeline.to_array %df ["a", "b"] : !pipeline.frame<"a" : f64, "b" : f64> -> tensor<?x2xf64>
    ```
    """
    typ = lw.input.type
    if isinstance(typ, FrameType):
        return lw.insert(ToArrayOp(lw.input, [name for name, _ in typ.columns])).result
    return lw.input


def _concat(lw: Lowering, parts: list[SSAValue]) -> SSAValue:
    """``pipeline.hstack`` of the parts; a single part is returned as it is."""
    if len(parts) == 1:
        return parts[0]
    return lw.insert(HstackOp(parts)).result


# endregion
# region Column transformers


def lower_simple_imputer(lw: Lowering) -> SSAValue:
    """``SimpleImputer`` {fill, finite?, indicator?} -> ``feature.impute %x fill <...>
    {finite}?``; with ``indicator`` (``add_indicator=True``: the columns missing in fit),
    each of those input columns' ``x != x`` as 0.0 or 1.0 after it (``MissingIndicator``)::

        %j = pipeline.take_column %x [2] : tensor<?x3xf64> -> tensor<?xf64>
        %n = pipeline.binary "ne" %j, %j : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xi1>
        %f = pipeline.cast %n : tensor<?xi1> -> tensor<?xf64>
        %r = pipeline.hstack %i, %f : (tensor<?x3xf64>, tensor<?xf64>) -> tensor<?x4xf64>
    """
    x = _numeric_input(lw)
    finite = bool(lw.int_param("finite", 0))
    parts = [lw.insert(ImputeOp(x, lw.blob("fill"), finite)).result]
    for j in lw.int_list("indicator") or []:
        column = lw.insert(TakeColumnOp(x, j)).result
        missing = lw.insert(BinaryOp("ne", column, column)).result
        parts.append(lw.insert(CastOp(missing, f64)).result)
    return _concat(lw, parts)


def _standardize(lw: Lowering, sub: BlobAttr | None, div: BlobAttr | None) -> SSAValue:
    x = _numeric_input(lw)
    if sub is None and div is None:
        return x
    return lw.insert(StandardizeOp(x, sub, div)).result


def lower_standard_scaler(lw: Lowering) -> SSAValue:
    """``StandardScaler`` {mean?, scale?} -> ``feature.standardize %x sub mean div scale``.

    With neither key (``with_mean=False, with_std=False``) the input passes through.
    """
    return _standardize(lw, lw.optional_blob("mean"), lw.optional_blob("scale"))


def lower_robust_scaler(lw: Lowering) -> SSAValue:
    """``RobustScaler`` {center?, scale?} -> ``feature.standardize %x sub center div scale``."""
    return _standardize(lw, lw.optional_blob("center"), lw.optional_blob("scale"))


def lower_max_abs_scaler(lw: Lowering) -> SSAValue:
    """``MaxAbsScaler`` {scale} -> ``feature.standardize %x div scale``."""
    return _standardize(lw, None, lw.blob("scale"))


def lower_normalizer(lw: Lowering) -> SSAValue:
    """``Normalizer`` {norm: "l1"|"l2"|"max"} -> ``feature.normalize %x norm l2``."""
    norm = lw.str_param("norm", ("l1", "l2", "max"))
    return lw.insert(NormalizeOp(_numeric_input(lw), norm)).result


def lower_polynomial_features(lw: Lowering) -> SSAValue:
    """``PolynomialFeatures`` {powers} -> ``feature.polynomial %x powers <...>``."""
    return lw.insert(PolynomialOp(_numeric_input(lw), lw.blob("powers"))).result


def lower_min_max_scaler(lw: Lowering) -> SSAValue:
    """``MinMaxScaler`` {scale, min, clip, clip_range?} -> ``feature.mul_add``.

    ```mlir
    %y = feature.mul_add %x mul <scale : tensor<2xf64>> add <min : tensor<2xf64>>
           clip <clip_range : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
    ```
    ``clip`` is set only when the ``clip`` parameter is 1; the range blob must then be
    given as ``clip_range`` (the pass cannot create blob data).
    """
    clip: BlobAttr | None = None
    if lw.int_param("clip", 0) == 1:
        clip = lw.optional_blob("clip_range")
        if clip is None:
            raise lw.error("clip=1 needs parameter 'clip_range', a tensor<2xf64> blob [low, high]")
    x = _numeric_input(lw)
    return lw.insert(MulAddOp(x, lw.blob("scale"), lw.blob("min"), clip)).result


# endregion
# region Categorical encoders


@dataclass(frozen=True)
class EncodedColumn:
    """Category codes of one input column (``tensor<?x1xi64>``) and its category count."""

    codes: SSAValue
    categories: int
    missing: int
    drop: int


def _encode_string_column(
    lw: Lowering, index: int, name: str | None, on_unknown: str
) -> EncodedColumn:
    """``feature.encode_strings %df "name" bytes <...> offsets <...> ...`` (frames only)."""
    if name is None:
        raise lw.error(f"column {index} has kind 'str' but the input is not a frame")
    missing = lw.int_param("missing", -1)
    filled = lw.int_param("filled", -2)  # a fill before the encoder (``params.fill_codes``)
    op = lw.insert(
        EncodeStringsOp(
            lw.input,
            name,
            lw.blob("bytes"),
            lw.blob("offsets"),
            lw.blob("table"),
            lw.int_param("probes"),
            missing,
            on_unknown,
            lw.int_param("missing_marker", MISSING_NAN),
            None if filled == -2 else (filled, lw.int_param("filled_marker")),
            bool(lw.int_param("nan_refused", 0)),
        )
    )
    return EncodedColumn(op.result, op.categories, missing, lw.int_param("drop", -1))


def _encode_number_column(
    lw: Lowering, index: int, name: str | None, on_unknown: str
) -> EncodedColumn:
    """``feature.encode_numbers %x [j] categories <...> ...``; a frame column is first taken
    out with ``pipeline.to_array %df ["name"]``."""
    source, column = lw.input, index
    if name is not None:
        source, column = lw.insert(ToArrayOp(lw.input, [name])).result, 0
    categories = lw.blob("categories")
    missing = lw.int_param("missing", -1)
    op = lw.insert(EncodeNumbersOp(source, column, categories, missing, on_unknown))
    return EncodedColumn(op.result, categories.size, missing, lw.int_param("drop", -1))


_COLUMN_ENCODERS: dict[str, Callable[[Lowering, int, str | None, str], EncodedColumn]] = {
    "str": _encode_string_column,
    "f64": _encode_number_column,
}


def _encode_columns(lw: Lowering, on_unknown: str) -> list[EncodedColumn]:
    """Encode every input column as described by the ``columns`` parameter."""
    columns = lw.columns()
    typ = lw.input.type
    names: list[str | None]
    if isinstance(typ, FrameType):
        names = [name for name, _ in typ.columns]
    elif isinstance(typ, TensorType):
        names = [None] * batch_width(typ)
    else:
        raise lw.error(f"input must be a frame or a batch, got {typ}")
    if len(names) != len(columns):
        raise lw.error(f"'columns' describes {len(columns)} columns, the input has {len(names)}")
    encoded: list[EncodedColumn] = []
    for index, (name, column) in enumerate(zip(names, columns, strict=True)):
        column_lw = lw.with_params(column)
        kind = column_lw.str_param("kind", tuple(_COLUMN_ENCODERS))
        encoded.append(_COLUMN_ENCODERS[kind](column_lw, index, name, on_unknown))
    return encoded


def lower_one_hot_encoder(lw: Lowering) -> SSAValue:
    """``OneHotEncoder`` -> per column an encode op and ``feature.onehot`` (its infrequent
    categories sharing a last column), then hstack.

    ```mlir
    %c = feature.encode_strings %df "city" bytes <...> offsets <...> missing -1
           on_unknown ignore : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xi64>
    %o = feature.onehot %c categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
    ```
    """
    policy = lw.str_param("handle_unknown", ("ignore", "error", "infrequent_if_exist"))
    on_unknown = "error" if policy == "error" else "ignore"
    parts = []
    for column, params in zip(_encode_columns(lw, on_unknown), lw.columns(), strict=True):
        infrequent = lw.with_params(params).int_list("infrequent") or []
        unknown = policy == "infrequent_if_exist" and bool(infrequent)
        op = OneHotOp(column.codes, column.categories, column.drop, infrequent, unknown)
        parts.append(lw.insert(op).result)
    return _concat(lw, parts)


def lower_target_encoder(lw: Lowering) -> SSAValue:
    """``TargetEncoder`` (a binary or continuous target) -> per column an encode op, the
    encoding of its code (``feature.weight_lookup`` of the ``encodings`` row) and
    ``target_mean`` where the category is unknown, then hstack.

    ```mlir
    %e = feature.weight_lookup %c coef <e : tensor<1x3xf64>> offset 0 categories 3 drop -1
           : tensor<?x1xi64> -> tensor<?x1xf64>
    %u = pipeline.binary "lt" %c, %zero : (tensor<?x1xi64>, i64) -> tensor<?x1xi1>
    %t = pipeline.where %u, %mean, %e : (tensor<?x1xi1>, f64, tensor<?x1xf64>)
           -> tensor<?x1xf64>
    ```
    """
    mean = lw.insert(ConstantOp(lw.float_param("target_mean"))).result
    zero = lw.insert(ConstantOp(0)).result
    parts = []
    for column, params in zip(_encode_columns(lw, "ignore"), lw.columns(), strict=True):
        encodings = lw.with_params(params).blob("encodings")
        found = WeightLookupOp(column.codes, encodings, 0, column.categories, -1)
        unknown = lw.insert(BinaryOp("lt", column.codes, zero)).result
        parts.append(lw.insert(WhereOp(unknown, mean, lw.insert(found).result)).result)
    return lw.insert(HstackOp(parts)).result


def lower_ordinal_encoder(lw: Lowering) -> SSAValue:
    """``OrdinalEncoder`` -> per column an encode op and ``feature.ordinal``, then hstack.

    ```mlir
    %c = feature.encode_numbers %x [0] categories <c : tensor<3xf64>> missing 2
           on_unknown ignore : tensor<?x1xf64> -> tensor<?x1xi64>
    %o = feature.ordinal %c missing 2 {unknown_value = -1.0 : f64,
           missing_value = 0x7FF8000000000000 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
    ```
    """
    policy = lw.str_param("handle_unknown", ("error", "use_encoded_value"))
    unknown_value = lw.float_param("unknown_value", math.nan)
    missing_value = lw.float_param("encoded_missing_value", math.nan)
    encoded = _encode_columns(lw, "error" if policy == "error" else "ignore")
    parts: list[SSAValue] = []
    for column, params in zip(encoded, lw.columns(), strict=True):
        # A column may override the missing value: scikit-learn gives a ``None`` category
        # its index, and only a NaN category ``encoded_missing_value``.
        column_missing = lw.with_params(params).float_param("encoded_missing_value", missing_value)
        ordinal = OrdinalOp(column.codes, column.missing, unknown_value, column_missing)
        parts.append(lw.insert(ordinal).result)
    return _concat(lw, parts)


def lower_kbins_discretizer(lw: Lowering) -> SSAValue:
    """``KBinsDiscretizer`` -> per column ``feature.discretize``, then its codes as f64
    (``ordinal``) or one-hot (``onehot``, ``onehot-dense``), then hstack.

    ```mlir
    %b = feature.discretize %x [0] edges <e : tensor<4xf64>> : tensor<?x1xf64> -> tensor<?x1xi64>
    %o = feature.onehot %b categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
    ```
    """
    encode = lw.str_param("encode", ("ordinal", "onehot", "onehot-dense"))
    x = _numeric_input(lw)
    columns = lw.columns()
    if len(columns) != batch_width(x.type):
        raise lw.error(f"'columns' describes {len(columns)} columns, the input has "
                       f"{batch_width(x.type)}")  # fmt: skip
    parts = []
    for index, column in enumerate(columns):
        bins = lw.insert(DiscretizeOp(x, index, lw.with_params(column).blob("edges")))
        coded = CastOp(bins.result, f64) if encode == "ordinal" else \
            OneHotOp(bins.result, bins.bins, -1)  # fmt: skip
        parts.append(lw.insert(coded).result)
    return _concat(lw, parts)


# endregion
# region Text vectorizers


def _text_column(lw: Lowering) -> str:
    typ = lw.input.type
    if not isinstance(typ, FrameType) or len(typ.columns) != 1:
        raise lw.error(f"input must be a frame of one string column, got {typ}")
    ((name, dtype),) = typ.columns
    if not isinstance(dtype, StrType):
        raise lw.error(f"column {name!r} does not hold strings")
    return name


def _decode_text(lw: Lowering) -> SSAValue:
    """The input column decoded and preprocessed (shared by vectorizers with the same
    options after ``share-text-decoding``)."""
    return lw.insert(
        DecodeTextOp(
            lw.input,
            _text_column(lw),
            bool(lw.int_param("lowercase")),
            lw.str_param("strip_accents", ("none", "ascii", "unicode")),
            (lw.blob("char_index"), lw.blob("char_blocks"), lw.blob("char_sequences")),
            lw.blob("char_classes"),
            lw.int_param("max_expansion"),
        )
    ).result


def _term_table(lw: Lowering, prefix: str) -> tuple[BlobAttr, BlobAttr, BlobAttr, int]:
    return (
        lw.blob(f"{prefix}_codepoints"),
        lw.blob(f"{prefix}_offsets"),
        lw.blob(f"{prefix}_table"),
        lw.int_param(f"{prefix}_probes"),
    )


def _analysis(lw: Lowering) -> tuple[str, tuple[int, int], tuple | None]:
    """The analyzer, the n-gram range and the stop word table."""
    analyzer = lw.str_param("analyzer", ("word", "char", "char_wb"))
    ngram = (lw.int_param("ngram_min"), lw.int_param("ngram_max"))
    stop = _term_table(lw, "stop") if "stop_table" in lw.params.data else None
    return analyzer, ngram, stop


def _tokens(lw: Lowering, op: _TermsOpT) -> _TermsOpT:
    """``op`` with ``{short_tokens}`` when the vectorizer's words of one character are
    tokens (``short_tokens = 1``: ``token_pattern=r"\\b\\w+\\b"``)."""
    if lw.int_param("short_tokens", 0):
        op.attributes["short_tokens"] = UnitAttr()
    return op


def _result_element(lw: Lowering) -> Attribute:
    typ = lw.op.result.type
    assert isinstance(typ, TensorType)
    return typ.get_element_type()


def _weights(lw: Lowering, counts: SSAValue) -> SSAValue:
    """TfidfTransformer's weighting of ``counts`` (``idf`` absent when ``use_idf`` is off).

    ```mlir
    %w = feature.weight_terms %c idf <idf : tensor<10xf64>> norm l2
           : tensor<?x10xf64, "csr"> -> tensor<?x10xf64, "csr">
    ```
    """
    return lw.insert(
        WeightTermsOp(
            counts,
            lw.optional_blob("idf"),
            lw.str_param("norm", ("l1", "l2", "none")),
            bool(lw.int_param("sublinear_tf")),
            _result_element(lw),
            lw.optional_blob("log_table"),
        )
    ).result


def _counts(lw: Lowering) -> SSAValue:
    """CountVectorizer's counts of the vocabulary's terms.

    ```mlir
    %t = feature.decode_text %f "text" lowercase 1 strip none map ... : ... -> !feature.text
    %c = feature.count_terms %t word ngram 1 to 2 vocab ... probes 2
           : !feature.text -> tensor<?x10xf64, "csr">
    ```
    """
    analyzer, ngram, stop = _analysis(lw)
    return lw.insert(_tokens(lw, CountTermsOp(
        _decode_text(lw),
        analyzer,
        ngram,
        _term_table(lw, "vocab"),
        stop,
        bool(lw.int_param("binary")),
        _result_element(lw),
    ))).result  # fmt: skip


def lower_count_vectorizer(lw: Lowering) -> SSAValue:
    return _counts(lw)


def lower_tfidf_vectorizer(lw: Lowering) -> SSAValue:
    return _weights(lw, _counts(lw))


def lower_tfidf_transformer(lw: Lowering) -> SSAValue:
    return _weights(lw, lw.input)


def lower_hashing_vectorizer(lw: Lowering) -> SSAValue:
    """HashingVectorizer: hashed counts, then the row norm.

    ```mlir
    %h = feature.hash_terms %t word ngram 1 to 1 features 1048576 {alternate_sign}
           : !feature.text -> tensor<?x1048576xf64, "csr">
    %w = feature.weight_terms %h norm l2
           : tensor<?x1048576xf64, "csr"> -> tensor<?x1048576xf64, "csr">
    ```
    """
    analyzer, ngram, stop = _analysis(lw)
    hashed = lw.insert(
        _tokens(lw, HashTermsOp(
            _decode_text(lw),
            analyzer,
            ngram,
            lw.int_param("n_features"),
            stop,
            bool(lw.int_param("alternate_sign")),
            bool(lw.int_param("binary")),
            _result_element(lw),
        ))  # fmt: skip
    ).result
    norm = lw.str_param("norm", ("l1", "l2", "none"))
    if norm == "none":
        return hashed
    return lw.insert(WeightTermsOp(hashed, None, norm, False, _result_element(lw))).result


# endregion
# region Linear models


def _decision(lw: Lowering, result_type: Attribute | None = None) -> tuple[SSAValue, int]:
    """The decision values ``x · coefᵀ + intercept`` (checking for NaN/inf) and K.

    ```mlir
    %d = feature.linear %x coef <w : tensor<3x4xf64>> offset 0
           intercept <b : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
    ```
    """
    coef = lw.blob("coef")
    if len(coef.shape) != 2:
        raise lw.error(f"'coef' must be a 2-D blob [outputs, features], got {coef.type}")
    outputs = coef.shape[0]
    if result_type is None:
        result_type = batch_of(outputs)
    linear = LinearOp(lw.input, coef, 0, lw.optional_blob("intercept"), result_type)
    linear.attributes["check_finite"] = UnitAttr()
    return lw.insert(linear).result, outputs


def _classifier_decision_function(lw: Lowering) -> SSAValue:
    """``decision_function``: ``tensor<?xf64>`` for a binary model, else ``tensor<?xKxf64>``."""
    outputs = lw.blob("coef").shape[0]
    return _decision(lw, vector_of(f64) if outputs == 1 else None)[0]


#: A linear classifier's row whose decision values are this close to a tie runs in Python:
#: the kernel sums ``x * coef`` in another order than BLAS (and folds scalers into the
#: coefficients), so a decision that is zero up to rounding may take the other label.
LINEAR_TIE_MARGIN = 1e-6


def _classifier_predict(lw: Lowering) -> SSAValue:
    """``predict``: the class index, ``feature.argmax`` of the decision values (for a binary
    model 1 where the decision is positive); near ties run in Python."""
    return lw.insert(ArgmaxOp(_decision(lw)[0], margin=LINEAR_TIE_MARGIN)).result


def _binary_proba(lw: Lowering, decision: SSAValue) -> SSAValue:
    positive = lw.insert(SigmoidOp(decision)).result
    return lw.insert(BinaryProbaOp(positive)).result


def _huber_proba(lw: Lowering, decision: SSAValue) -> SSAValue:
    """``SGDClassifier(loss="modified_huber").predict_proba``: ``[1 - h, h]`` of one
    decision, else each class's ``h`` normalized per row (a row of zeros uniform)."""
    positive = lw.insert(ModifiedHuberProbaOp(decision)).result
    if batch_width(decision.type) == 1:
        return lw.insert(BinaryProbaOp(positive)).result
    return lw.insert(NormalizeRowsOp(positive)).result


def _softmax_proba(lw: Lowering, decision: SSAValue) -> SSAValue:
    return lw.insert(SoftmaxOp(decision)).result


def _c_softmax_proba(lw: Lowering, raw: SSAValue) -> SSAValue:
    """LightGBM's softmax: the C library's ``exp``, as its C++ computes it."""
    softmax = lw.insert(SoftmaxOp(raw))
    softmax.attributes["libm"] = UnitAttr()
    return softmax.result


def _ovr_proba(lw: Lowering, decision: SSAValue) -> SSAValue:
    positive = lw.insert(SigmoidOp(decision)).result
    return lw.insert(NormalizeRowsOp(positive)).result


_MULTICLASS_PROBA: dict[str, Callable[[Lowering, SSAValue], SSAValue]] = {
    "softmax": _softmax_proba,
    "ovr_sigmoid": _ovr_proba,
}


def _classifier_predict_proba(lw: Lowering, probas: tuple[str, ...]) -> SSAValue:
    """``predict_proba`` as scikit-learn computes it.

    A binary model (K == 1) gives ``[1 - sigmoid(d), sigmoid(d)]`` whatever its ``proba``
    (``LogisticRegression.predict_proba`` and ``_predict_proba_lr`` agree there); with
    K > 1 classes, ``softmax`` is the multinomial softmax and ``ovr_sigmoid`` the
    one-vs-rest sigmoids normalized per row.
    """
    proba = lw.str_param("proba", probas)
    if proba == "none":
        raise lw.error("has no predict_proba (parameter proba is 'none')")
    decision, outputs = _decision(lw)
    if proba == "modified_huber":
        return _huber_proba(lw, decision)
    if outputs == 1:
        return _binary_proba(lw, decision)
    if proba not in _MULTICLASS_PROBA:
        raise lw.error(f"proba {proba!r} needs a binary model, but coef has {outputs} rows")
    return _MULTICLASS_PROBA[proba](lw, decision)


@dataclass(frozen=True)
class ClassifierLowering:
    """A linear classifier's three methods; ``probas`` lists its valid ``proba`` values."""

    probas: tuple[str, ...]

    def __call__(self, lw: Lowering) -> SSAValue:
        methods: dict[str, Callable[[Lowering], SSAValue]] = {
            "decision_function": _classifier_decision_function,
            "predict": _classifier_predict,
            "predict_proba": lambda lw: _classifier_predict_proba(lw, self.probas),
        }
        return methods[_method(lw, tuple(methods))](lw)


def lower_linear_regressor(lw: Lowering) -> SSAValue:
    """``predict`` of a linear regressor: ``feature.linear`` typed as the call's result
    (``tensor<?xf64>`` or ``tensor<?xKxf64>``)."""
    _method(lw, ("predict",))
    return _decision(lw, lw.op.result.type)[0]


def _method(lw: Lowering, methods: tuple[str, ...]) -> str:
    assert isinstance(lw.op, PredictOp)
    method = lw.op.method.data
    if method not in methods:
        raise lw.error(f"method {method!r} is not supported; expected one of {', '.join(methods)}")
    return method


# endregion
# region Tree models

_TREE_BLOBS = ("nodes", "thresholds", "leaves", "roots", "tree_outputs", "base")


def _tree_ensemble(lw: Lowering, result_type: Attribute | None = None) -> SSAValue:
    """The raw outputs: ``feature.tree_ensemble`` of the ensemble's blobs and attributes.

    ```mlir
    %r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> ... compare "le"
           input "f32" sum "f64" flags 0 check "nan_or_infinite"
           : tensor<?x4xf64> -> tensor<?x1xf64>
    ```
    """
    blobs = {key: lw.blob(key) for key in _TREE_BLOBS}
    if "category_ranges" in lw.params.data:
        blobs |= {key: lw.blob(key) for key in ("category_ranges", "category_bits")}
    precisions = (
        lw.str_param("input_precision", TREE_PRECISIONS),
        lw.str_param("sum_precision", TREE_PRECISIONS),
    )
    if result_type is None:
        result_type = batch_of(blobs["base"].size, f32 if precisions[1] == "f32" else f64)
    op = TreeEnsembleOp(
        _numeric_input(lw),
        blobs,
        lw.str_param("compare", TREE_COMPARES),
        precisions,
        lw.int_param("node_flags", 0),
        lw.float_param("divisor") if "divisor" in lw.params.data else None,
        _tree_check(lw),
        result_type,
        lw.str_param("layout", TREE_LAYOUTS) if "layout" in lw.params.data else "nodes",
        lw.int_param("top_levels", 0),
    )
    return lw.insert(op).result


def _tree_check(lw: Lowering) -> tuple[str, list[int] | None]:
    """``check`` (default "none") and the ``check_columns`` it applies to (default all)."""
    check = lw.str_param("check", TREE_CHECKS) if "check" in lw.params.data else "none"
    return check, lw.int_list("check_columns")


def _tree_proba(lw: Lowering, raw: SSAValue, proba: str) -> SSAValue:
    if proba == "binary_sigmoid":
        return _binary_proba(lw, raw)
    if proba == "softmax":
        return _softmax_proba(lw, raw)
    if proba == "c_softmax":
        return _c_softmax_proba(lw, raw)
    return raw


def lower_tree_ensemble(lw: Lowering) -> SSAValue:
    """A tree model's methods over ``feature.tree_ensemble`` (see the module docstring).

    A regressor (``link`` given) has ``predict``: the raw output, through ``exp`` for the
    ``"exp"`` link. A classifier has ``predict_proba`` (``proba``: the raw outputs as they
    are, ``[1 - sigmoid, sigmoid]`` of one logit, or a softmax), ``decision_function`` when
    the raw outputs are not probabilities, and ``predict``: ``feature.argmax`` of the raw
    outputs (``decision "raw"``; binary: ``raw > 0``; ``"raw_nonnegative"``: ``raw >= 0``)
    or of the probabilities (``"proba"``).
    """
    if "link" in lw.params.data:
        _method(lw, ("predict",))
        raw = _tree_ensemble(lw, lw.op.result.type)
        link = lw.str_param("link", ("identity", "exp", "c_exp"))
        if link != "identity":
            exp = lw.insert(UnaryOp("exp", raw))
            if link == "c_exp":  # the C library's exp, as LightGBM's and XGBoost's C++
                exp.attributes["libm"] = UnitAttr()
            return exp.result
        return raw
    proba = lw.str_param("proba", ("none", "binary_sigmoid", "softmax", "c_softmax"))
    decision = lw.str_param("decision", ("raw", "raw_nonnegative", "proba"))
    methods = ("predict", "predict_proba") + (("decision_function",) if proba != "none" else ())
    method = _method(lw, methods)
    if method == "decision_function":
        return _tree_ensemble(lw, lw.op.result.type)
    raw = _tree_ensemble(lw)
    if method == "predict_proba":
        return _tree_proba(lw, raw, proba)
    if decision == "proba":
        raw = _tree_proba(lw, raw, proba)
    return lw.insert(ArgmaxOp(raw, nonnegative=decision == "raw_nonnegative")).result


# endregion
# region Patterns

TRANSFORMS: dict[str, Callable[[Lowering], SSAValue]] = {
    "SimpleImputer": lower_simple_imputer,
    "StandardScaler": lower_standard_scaler,
    "RobustScaler": lower_robust_scaler,
    "MaxAbsScaler": lower_max_abs_scaler,
    "MinMaxScaler": lower_min_max_scaler,
    "Normalizer": lower_normalizer,
    "PolynomialFeatures": lower_polynomial_features,
    "OneHotEncoder": lower_one_hot_encoder,
    "OrdinalEncoder": lower_ordinal_encoder,
    "TargetEncoder": lower_target_encoder,
    "KBinsDiscretizer": lower_kbins_discretizer,
    "CountVectorizer": lower_count_vectorizer,
    "TfidfVectorizer": lower_tfidf_vectorizer,
    "TfidfTransformer": lower_tfidf_transformer,
    "HashingVectorizer": lower_hashing_vectorizer,
}
"""How each transformer's ``transform`` lowers."""

PREDICTORS: dict[str, Callable[[Lowering], SSAValue]] = {
    **dict.fromkeys(LINEAR_CLASSIFIERS, ClassifierLowering(LINEAR_PROBAS)),
    **dict.fromkeys(LINEAR_REGRESSORS, lower_linear_regressor),
    "DecisionTreeClassifier": lower_tree_ensemble,
    "DecisionTreeRegressor": lower_tree_ensemble,
    "RandomForestClassifier": lower_tree_ensemble,
    "RandomForestRegressor": lower_tree_ensemble,
    "ExtraTreesClassifier": lower_tree_ensemble,
    "ExtraTreesRegressor": lower_tree_ensemble,
    "GradientBoostingClassifier": lower_tree_ensemble,
    "GradientBoostingRegressor": lower_tree_ensemble,
    "HistGradientBoostingClassifier": lower_tree_ensemble,
    "HistGradientBoostingRegressor": lower_tree_ensemble,
    "LGBMClassifier": lower_tree_ensemble,
    "LGBMRegressor": lower_tree_ensemble,
    "lightgbm.Booster": lower_tree_ensemble,
    "XGBClassifier": lower_tree_ensemble,
    "XGBRegressor": lower_tree_ensemble,
    "XGBRFClassifier": lower_tree_ensemble,
    "XGBRFRegressor": lower_tree_ensemble,
    "xgboost.Booster": lower_tree_ensemble,
}
"""How each model's ``predict``/``predict_proba``/``decision_function`` lowers."""


def _lower(
    op: TransformOp | PredictOp,
    table: dict[str, Callable[[Lowering], SSAValue]],
    rewriter: PatternRewriter,
) -> None:
    lw = Lowering(op, op.params, rewriter)
    lowering = table.get(lw.estimator)
    if lowering is None:
        raise lw.error(f"unsupported estimator; expected one of {', '.join(table)}")
    value = lowering(lw)
    if value.type != op.result.type:
        raise lw.error(f"lowers to {value.type}, but the call's result is {op.result.type}")
    rewriter.replace(op, [], [value])


class TransformLowering(RewritePattern):
    """``pipeline.transform "Estimator"`` -> its ``feature`` ops (see :data:`TRANSFORMS`)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: TransformOp, rewriter: PatternRewriter) -> None:
        _lower(op, TRANSFORMS, rewriter)


class PredictLowering(RewritePattern):
    """``pipeline.predict "Estimator" "method"`` -> its ``feature`` ops (see
    :data:`PREDICTORS`)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: PredictOp, rewriter: PatternRewriter) -> None:
        _lower(op, PREDICTORS, rewriter)


# endregion


@dataclass(frozen=True)
class LowerPipelineToFeaturePass(ModulePass):
    """Rewrite every estimator call into ``feature`` ops; other ``pipeline`` ops stay."""

    name = "lower-pipeline-to-feature"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([TransformLowering(), PredictLowering()]),
            apply_recursively=False,
        ).rewrite_module(op)
