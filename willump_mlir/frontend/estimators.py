"""Estimator method calls: composite estimators expanded, leaves lowered via ``params``."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from xdsl.dialects.builtin import TensorType, UnitAttr, f32, f64, i64
from xdsl.ir import SSAValue

from willump_mlir.dialects.pipeline import (
    UNARY_FUNCTIONS,
    CastOp,
    FrameType,
    HstackOp,
    PredictOp,
    SelectColumnsOp,
    StrType,
    TakeColumnOp,
    ToArrayOp,
    TransformOp,
    UnaryOp,
    batch_of,
    is_sparse,
    vector_of,
)

from . import boosters, params
from .spec import Unsupported
from .types import (
    dense_type_of,
    is_f64_batch,
    is_text,
    refuse_python_columns,
    represents,
    type_of,
)
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

ESTIMATOR_METHODS = ("transform", "predict", "predict_proba", "decision_function",
                     "inplace_predict")  # fmt: skip

#: numpy ufuncs that ``pipeline.unary`` computes, by the op's function name.
UNARY_UFUNCS: dict[object, str] = {getattr(np, name): name for name in UNARY_FUNCTIONS}
UNARY_UFUNCS[np.absolute] = "abs"


def is_estimator(value: object) -> bool:
    """True for a scikit-learn style fitted object (has ``fit`` and ``get_params``) or a
    LightGBM/XGBoost ``Booster``."""
    if isinstance(value, type):
        return False
    return (hasattr(value, "fit") and hasattr(value, "get_params")) or bool(boosters.methods(value))


def is_batch(typ: object) -> bool:
    """A dense ``tensor`` of f64 or a sparse batch: what a model or a union reads."""
    return is_f64_batch(typ) or is_sparse(typ)  # type: ignore[arg-type]


def hstack_op(inputs: list[SSAValue], value: object, what: str) -> HstackOp:
    """``pipeline.hstack`` of ``inputs`` standing for ``value``.

    The result is sparse when an input is sparse and ``value`` is a CSR matrix, dense when
    ``value`` is dense (a ColumnTransformer's fitted dense output). Dense inputs give a dense
    batch, which may stand for a sparse matrix (see ``represents``).
    """
    sparse = any(is_sparse(v.type) for v in inputs) and sp.issparse(value)
    if sparse and value.format != "csr":  # type: ignore[attr-defined]
        raise Unsupported(f"{what} gives a {value.format.upper()} matrix, not CSR")  # type: ignore
    op = HstackOp(inputs, sparse)
    if not represents(op.result.type, value):
        raise Unsupported(f"{what} output {type_of(value)} != {op.result.type}")
    return op


def narrow_floats(value: object) -> bool:
    """Whether ``value`` (a frame or a dense array) holds floats narrower than float64 as its
    common dtype, which scikit-learn keeps (``marshal.check_precision``: the original runs)."""
    if isinstance(value, pd.DataFrame):
        dtypes = [d for d in value.dtypes if isinstance(d, np.dtype)]
    else:
        dtypes = [value.dtype] if isinstance(value, np.ndarray) else []
    common = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    return common.kind == "f" and common.itemsize < 8


def _computes_in_float64(est: object, lowered: params.Lowered) -> bool:
    """Whether ``est`` computes on float32 input as on its float64 conversion: a linear
    model with float64 coefficients or a tree ensemble comparing in float32 (what
    ``lower-feature-to-scf`` skips the run-time precision check for)."""
    if lowered.op != "predict":
        return False
    if params.linear_role(est) is not None:  # X @ coef_.T upcasts float32 X to float64 coef_
        return getattr(est, "coef_", np.zeros(0)).dtype == np.float64
    precision = lowered.params.get("input_precision")
    return precision is not None and getattr(precision, "data", None) == "f32"


class EstimatorLowering:
    """Emits the ops of ``estimator.method(X)`` into a tracer's block."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    # region Helpers

    def as_array(self, x: Val) -> Val:
        """``x`` as a numeric ``tensor``: a frame goes through ``pipeline.to_array``."""
        typ = x.ssa.type if x.ssa is not None else None
        if isinstance(typ, TensorType):
            return x
        if not isinstance(typ, FrameType):
            raise Unsupported(f"input of type {typ} is not a numeric batch")
        frame, columns = x.ssa, [n for n, _ in typ.columns]
        owner = x.ssa.owner
        if isinstance(owner, SelectColumnsOp):
            frame = owner.frame
        refuse_python_columns(typ, x.value)
        text = [n for n, t in typ.columns if t != f64]
        if text:
            raise Unsupported(f"column {text[0]!r} is not numeric")
        op = self.tracer.emit(ToArrayOp(frame, columns))  # a selection left unused is DCE'd
        value = x.value
        if isinstance(value, pd.DataFrame):  # float32 columns stay float32, as pandas gives
            value = value.to_numpy(dtype=np.float32 if narrow_floats(value) else np.float64)
        return Val(value, op.result)

    def _kinds(self, x: Val) -> list[str]:
        typ = x.ssa.type if x.ssa is not None else None
        if isinstance(typ, FrameType):
            refuse_python_columns(typ, x.value)
            return ["f64" if t == f64 else "str" if isinstance(t, StrType) else "datetime"
                    for _, t in typ.columns]  # fmt: skip
        if is_sparse(typ):
            return [params.sparse_kind(typ.get_element_type())] * typ.get_shape()[1]
        if typ is not None and is_f64_batch(typ) and typ.get_num_dims() == 2:
            if isinstance(x.value, pd.DataFrame):  # category columns given as the model's codes
                return ["category" if isinstance(d, pd.CategoricalDtype) else "f64"
                        for d in x.value.dtypes]  # fmt: skip
            return ["f64"] * typ.get_shape()[1]
        raise Unsupported(f"input of type {typ} is not a frame or a numeric batch")

    def _python(self, est: object, method: str, x: Val, label: str, reason: str) -> Val:
        """``est.method(x)`` as a Python op."""
        bound = getattr(est, method)

        def run(data: object) -> object:
            return bound(data)

        return self.tracer.python_op(
            f"{type(est).__name__}_{method}", run, [x], reason, f"{label}.{method}(X)"
        )

    # endregion

    def call(self, est: object, method: str, x: Val, label: str) -> Val:
        """Emit ``est.method(x)``; what cannot be compiled becomes a Python op."""
        mark, given = self.tracer.mark(), x
        try:
            if x.narrow is not None:  # narrow integers, converted as scikit-learn does
                x = self.tracer.narrow.as_floats(est, method, x)
            if x.assembled:
                return self._assembled(est, method, x, label)
            if x.ssa is None:
                raise Unsupported("the input is not a batch of rows")
            if isinstance(est, Pipeline):
                return self._pipeline(est, method, x, label)
            if isinstance(est, ColumnTransformer) and method == "transform":
                return self._column_transformer(est, x, label)
            if isinstance(est, FeatureUnion) and method == "transform":
                return self._feature_union(est, x, label)
            if isinstance(est, FunctionTransformer) and method == "transform":
                return self._function_transformer(est, x)
            return self._leaf(est, method, x)
        except Unsupported as error:
            self.tracer.rollback(mark)
            if given.ssa is None:  # an assembled frame, a narrow array: the caller builds it
                raise
            return self._python(est, method, given, label, error.reason)

    def _assembled(self, est: object, method: str, x: Val, label: str) -> Val:
        """``est.method(x)`` of an assembled frame ``x`` (``frontend.frames``), which is
        never built: a Pipeline passes it on, a ColumnTransformer selects its columns, an
        encoder reads str columns filled or not, anything else the frame as one value."""
        frames = self.tracer.frames
        if isinstance(est, Pipeline):
            return self._pipeline(est, method, x, label)
        if isinstance(est, ColumnTransformer) and method == "transform":
            return self._column_transformer(est, x, label)
        try:
            resolved = frames.resolved(x)
        except Unsupported:
            if method != "transform":
                raise
            return frames.encoded(x, est)
        return self.call(est, method, resolved, label)

    def _pipeline(self, pipe: Pipeline, method: str, x: Val, label: str) -> Val:
        container = params.output_config(pipe)
        if container is not None:
            raise Unsupported(f"Pipeline.set_output(transform={container!r}) is not supported")
        steps = params.pipeline_steps(pipe)
        if method != "transform" and (not steps or steps[-1][0] != pipe.steps[-1][0]):
            raise Unsupported(f"Pipeline ending in passthrough has no {method}")
        head = steps if method == "transform" else steps[:-1]
        k = 0
        while k < len(head):
            name, step = head[k]
            encoded = self._imputed_encoding(step, head[k + 1][1], x) if k + 1 < len(head) \
                else None  # fmt: skip
            if encoded is not None:
                x, k = encoded, k + 2
                continue
            x = self.call(step, "transform", x, f"{label}[{name!r}]")
            k += 1
        if method != "transform":
            name, step = steps[-1]
            x = self.call(step, method, x, f"{label}[{name!r}]")
        return x

    def _imputed_encoding(self, imputer: object, encoder: object, x: Val) -> Val | None:
        """``encoder.transform(imputer.transform(x))`` of a SimpleImputer of str columns of
        a frame and a OneHotEncoder or OrdinalEncoder, natively: a missing value takes the
        code of the imputer's str (``params.fill_codes``); None if not such a pair or not
        compiled."""
        if not (isinstance(imputer, SimpleImputer) and isinstance(encoder, params.FRAME_INPUT)
                and isinstance(x.value, pd.DataFrame)):  # fmt: skip
            return None
        if x.assembled:  # an assembled frame, maybe fillna'd
            try:
                return self.tracer.frames.encoded(x, encoder, imputer)
            except Unsupported:
                return None
        if x.ssa is None or not isinstance(x.ssa.type, FrameType):
            return None
        kinds = self._kinds(x)
        if not kinds or any(k != "str" for k in kinds):
            return None
        try:
            fills = params.imputed_strings(imputer, len(kinds))
            imputed = imputer.transform(x.value)
            return self.filled_transform(encoder, x.ssa, imputed, fills, "SimpleImputer")
        except Unsupported:
            return None

    def filled_transform(self, est: object, frame: SSAValue, data: object,
                         fills: list[tuple[str, int] | None], filler: str) -> Val:  # fmt: skip
        """``est.transform(data)``, an encoder's, reading the str columns of ``frame``
        whose missing values ``filler`` filled with a str (``fills``, per column: the str and
        which missing values), natively as codes: no filled column is built."""
        assert isinstance(frame.type, FrameType)
        kinds = ["str"] * len(frame.type.columns)
        lowered = params.lower_estimator(est, "transform", kinds, self.tracer.blobs)
        lowered = params.fill_codes(est, lowered, fills, filler)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "X does not have valid feature names")
            value = est.transform(data)  # type: ignore[attr-defined]
        return self._transform_op(est, lowered, frame, value)

    def _transform_op(self, est: object, lowered: params.Lowered, x: SSAValue,
                      value: object) -> Val:  # fmt: skip
        """The ``pipeline.transform`` op of ``lowered`` on ``x``, standing for ``value``."""
        name = type(est).__name__
        typ = lowered.result or dense_type_of(value)
        if lowered.result is not None and type_of(value) != typ:
            raise Unsupported(f"{name} output is {type_of(value)}, not {typ}")
        if lowered.result is None and (not is_f64_batch(typ) or typ.get_num_dims() != 2):
            raise Unsupported(f"{name} output is not a numeric batch")
        op = self.tracer.emit(TransformOp(lowered.estimator, x, lowered.params, typ))
        self.tracer.models[op] = est
        return Val(value, op.result)

    def _select(self, x: Val, columns: list, scalar: bool, trans: object) -> Val:
        """The columns a ColumnTransformer part sees (``trans`` is the part's transformer)."""
        if x.assembled:  # an assembled frame
            if scalar and not params.reads_text(trans):
                raise Unsupported("a single-name column selection passes a 1-D column")
            return self.tracer.frames.part(x, columns, scalar)
        if isinstance(x.ssa.type, FrameType) and not isinstance(x.value, pd.DataFrame):
            raise Unsupported("a ColumnTransformer reads a table, not a 1-D column of text")
        if scalar:
            # A single name selects a 1-D column, which only text vectorizers read.
            if not isinstance(x.ssa.type, FrameType) or not params.reads_text(trans):
                raise Unsupported("a single-name column selection passes a 1-D column")
            (column,) = columns
            if not isinstance(x.ssa.type.dtype_of(column), StrType):
                raise Unsupported(f"column {column!r} is not text")
            op = self.tracer.emit(SelectColumnsOp(x.ssa, [column]))
            return Val(x.value[column], op.result)
        if isinstance(x.ssa.type, FrameType):
            op = self.tracer.emit(SelectColumnsOp(x.ssa, columns))
            return Val(x.value[columns], op.result)
        if not is_f64_batch(x.ssa.type):
            raise Unsupported(f"input of type {x.ssa.type} is not a frame or a numeric batch")
        takes = [self.tracer.emit(TakeColumnOp(x.ssa, int(c))).result for c in columns]
        op = self.tracer.emit(HstackOp(takes))
        return Val(np.asarray(x.value)[:, columns], op.result)

    def _part(self, part: Val, name: str) -> SSAValue:
        """A union's part as a batch (a frame part through ``pipeline.to_array``)."""
        if part.ssa is not None and isinstance(part.ssa.type, FrameType):
            part = self.as_array(part)
        if part.ssa is None or not is_batch(part.ssa.type):
            narrow = narrow_floats(part.value) if isinstance(part.value, np.ndarray) else False
            raise Unsupported(f"part {name!r} does not produce a numeric batch" + (
                " (it is float32: scikit-learn computes on float32 columns in float32)"
                if narrow else ""))  # fmt: skip
        return part.ssa

    def _column_transformer(self, ct: ColumnTransformer, x: Val, label: str) -> Val:
        container = params.output_config(ct)
        if container is not None:
            raise Unsupported(f"ColumnTransformer.set_output(transform={container!r})")
        names = x.columns if x.ssa is None else \
            [n for n, _ in x.ssa.type.columns] if isinstance(x.ssa.type, FrameType) else None
        value = ct.transform(x.value)
        parts = []
        for name, trans, columns, scalar in params.column_transformer_parts(ct, names):
            selected = self._select(x, columns, scalar, trans)
            if isinstance(trans, str) and trans == "passthrough":
                if selected.ssa is None:
                    selected = self.tracer.frames.resolved(selected)
                part = self.as_array(selected)
            else:
                part = self.call(trans, "transform", selected, f"{label}.named_transformers_"
                                 f"[{name!r}]")  # fmt: skip
            parts.append(self._part(part, name))
        if not parts:
            raise Unsupported("ColumnTransformer selects no columns")
        return Val(value, self.tracer.emit(hstack_op(parts, value, "ColumnTransformer")).result)

    def _feature_union(self, union: FeatureUnion, x: Val, label: str) -> Val:
        container = params.output_config(union)
        if container is not None:
            raise Unsupported(f"FeatureUnion.set_output(transform={container!r})")
        value = union.transform(x.value)
        parts = []
        for name, trans in params.feature_union_parts(union):
            if isinstance(trans, str) and trans == "passthrough":
                part = self.as_array(x)
            else:
                part = self.call(trans, "transform", x,
                                 f"{label}.named_transformers[{name!r}]")  # fmt: skip
            parts.append(self._part(part, name))
        if not parts:
            raise Unsupported("FeatureUnion has no transformers")
        return Val(value, self.tracer.emit(hstack_op(parts, value, "FeatureUnion")).result)

    def _function_transformer(self, ft: FunctionTransformer, x: Val) -> Val:
        value = ft.transform(x.value)
        if ft.func is None:
            if ft.validate:
                raise Unsupported("FunctionTransformer(validate=True) without a func refuses "
                                  "NaN and infinity: not supported natively")  # fmt: skip
            if isinstance(x.ssa.type, TensorType):
                return Val(value, self.as_array(x).ssa)
            return Val(value, x.ssa)
        function = UNARY_UFUNCS.get(ft.func)
        if is_sparse(x.ssa.type):
            raise Unsupported("FunctionTransformer of a sparse matrix is not supported natively")
        if function is None or ft.kw_args:
            name = getattr(ft.func, "__name__", repr(ft.func))
            raise Unsupported(f"FunctionTransformer(func={name}) is not supported natively")
        op = UnaryOp(function, self.as_array(x).ssa)
        if ft.validate:  # scikit-learn's check_array refuses NaN and infinity
            op.attributes["check_finite"] = UnitAttr()
        self.tracer.emit(op)
        if op.result.type != type_of(value):
            raise Unsupported(f"FunctionTransformer output {type_of(value)} != {op.result.type}")
        return Val(value, op.result)

    def _leaf(self, est: object, method: str, x: Val) -> Val:
        name = type(est).__name__
        typ = x.ssa.type  # type: ignore[union-attr]
        if isinstance(x.ssa.owner, HstackOp) and isinstance(typ, TensorType) \
                and typ.get_element_type() == f32 and not is_sparse(typ):  # fmt: skip
            # a frame of float32 columns (frames.matrix), read exactly as f64 where ``est``
            # computes as on its float64 conversion (``narrow_floats`` below)
            x = Val(x.value, self.tracer.emit(CastOp(x.ssa, f64)).result)  # type: ignore[arg-type]
        kinds = self._kinds(x)
        text = isinstance(est, params.TEXT_INPUT)
        if text and not is_text(x.value):
            raise Unsupported(f"{name} reads one document per item: only a list, 1-D array or "
                              "Series of str is compiled")  # fmt: skip
        if not text and isinstance(x.ssa.type, FrameType) and not isinstance(x.value, pd.DataFrame):
            raise Unsupported(f"{name} reads a table, not a 1-D column of text")
        lowered = params.lower_estimator(est, method, kinds, self.tracer.blobs)
        if not isinstance(est, params.FRAME_INPUT) and not text:
            x = self.as_array(x)
        if narrow_floats(x.value) and not _computes_in_float64(est, lowered):
            raise Unsupported(f"{name} computes in float32 on float32 input (OpenBLAS, whose "
                              "sums depend on the strides of the array numpy gets); the "
                              "compiled code reads float64")  # fmt: skip
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "X does not have valid feature names")
            data = x.value
            value = getattr(est, method)(data)
            scores = None
            if lowered.class_indices:  # a class index is the argmax of these
                decide = getattr(est, "decision_function", None) or est.predict_proba
                scores = decide(data)
        if lowered.op == "transform":
            return self._transform_op(est, lowered, x.ssa, value)
        if lowered.class_indices:
            scores = np.asarray(scores)
            indices = (scores > 0).astype(np.int64) if scores.ndim == 1 else scores.argmax(1)
            op = self.tracer.emit(
                PredictOp(lowered.estimator, method, x.ssa, lowered.params, vector_of(i64))
            )
            self.tracer.models[op] = est
            return self._labels(est, Val(indices, op.result), value)
        typ = type_of(value)
        element = typ.get_element_type() if isinstance(typ, TensorType) else None
        if element not in (f64, f32) or typ not in (
            vector_of(element), batch_of(typ.get_shape()[-1], element)
        ):  # fmt: skip
            raise Unsupported(f"{name}.{method} output {typ} is not compiled")
        method = lowered.method or method
        if lowered.column is None:
            op = self.tracer.emit(PredictOp(lowered.estimator, method, x.ssa, lowered.params, typ))
            self.tracer.models[op] = est
            return Val(value, op.result)
        op = self.tracer.emit(
            PredictOp(lowered.estimator, method, x.ssa, lowered.params, lowered.result)
        )
        self.tracer.models[op] = est
        take = self.tracer.emit(TakeColumnOp(op.result, lowered.column))
        if take.result.type != typ:
            raise Unsupported(f"{name}.{method} output {typ} != {take.result.type}")
        return Val(value, take.result)

    def _labels(self, est: object, indices: Val, expected: object) -> Val:
        """Class indices -> labels: ``classes_.take(indices)`` in Python."""
        result = self.take(params.class_labels(est), indices,
                           f"{type(est).__name__}.classes_.take(indices)")  # fmt: skip
        if not np.array_equal(np.asarray(result.value), np.asarray(expected)):
            raise Unsupported(f"{type(est).__name__}.predict is not argmax of its decision")
        return result

    def take(self, classes: np.ndarray, indices: Val, source: str) -> Val:
        """``classes.take(indices)`` of native int64 indices, in Python around the native
        code (class labels: ``predict``, ``model.classes_[p.argmax(1)]``)."""

        def labels(index: np.ndarray) -> np.ndarray:
            return classes.take(index)

        return self.tracer.python_op(
            "classes_take", labels, [indices],
            "class labels are looked up in classes_ with numpy.take", source, wraps=True,
        )  # fmt: skip
