"""Estimator method calls: composite estimators expanded, leaves lowered via ``params``."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from xdsl.dialects.builtin import TensorType, f64, i64

from willump_mlir.dialects.pipeline import (
    UNARY_FUNCTIONS,
    FrameType,
    HstackOp,
    PredictOp,
    SelectColumnsOp,
    TakeColumnOp,
    ToArrayOp,
    TransformOp,
    UnaryOp,
    batch_of,
    vector_of,
)

from . import params
from .spec import Unsupported
from .types import is_f64_batch, type_of
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

ESTIMATOR_METHODS = ("transform", "predict", "predict_proba", "decision_function")

#: numpy ufuncs that ``pipeline.unary`` computes, by the op's function name.
UNARY_UFUNCS: dict[object, str] = {getattr(np, name): name for name in UNARY_FUNCTIONS}
UNARY_UFUNCS[np.absolute] = "abs"


def is_estimator(value: object) -> bool:
    """True for a scikit-learn style fitted object (has ``fit`` and ``get_params``)."""
    return hasattr(value, "fit") and hasattr(value, "get_params") and not isinstance(value, type)


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
        text = [n for n, t in typ.columns if t != f64]
        if text:
            raise Unsupported(f"column {text[0]!r} is not numeric")
        op = self.tracer.emit(ToArrayOp(frame, columns))  # a selection left unused is DCE'd
        value = x.value.to_numpy(dtype=np.float64) if isinstance(x.value, pd.DataFrame) else x.value
        return Val(value, op.result)

    def _kinds(self, x: Val) -> list[str]:
        typ = x.ssa.type if x.ssa is not None else None
        if isinstance(typ, FrameType):
            return ["f64" if t == f64 else "str" for _, t in typ.columns]
        if typ is not None and is_f64_batch(typ) and typ.get_num_dims() == 2:
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
        mark = self.tracer.mark()
        try:
            if x.ssa is None:
                raise Unsupported("the input is not a batch of rows")
            if isinstance(est, Pipeline):
                return self._pipeline(est, method, x, label)
            if isinstance(est, ColumnTransformer) and method == "transform":
                return self._column_transformer(est, x, label)
            if isinstance(est, FunctionTransformer) and method == "transform":
                return self._function_transformer(est, x)
            return self._leaf(est, method, x)
        except Unsupported as error:
            self.tracer.rollback(mark)
            return self._python(est, method, x, label, error.reason)

    def _pipeline(self, pipe: Pipeline, method: str, x: Val, label: str) -> Val:
        container = params.output_config(pipe)
        if container is not None:
            raise Unsupported(f"Pipeline.set_output(transform={container!r}) is not supported")
        steps = params.pipeline_steps(pipe)
        if method != "transform" and (not steps or steps[-1][0] != pipe.steps[-1][0]):
            raise Unsupported(f"Pipeline ending in passthrough has no {method}")
        head = steps if method == "transform" else steps[:-1]
        for name, step in head:
            x = self.call(step, "transform", x, f"{label}[{name!r}]")
        if method != "transform":
            name, step = steps[-1]
            x = self.call(step, method, x, f"{label}[{name!r}]")
        return x

    def _select(self, x: Val, columns: list, scalar: bool) -> Val:
        """The columns a ColumnTransformer part sees."""
        if scalar:
            raise Unsupported("a single-name column selection passes a 1-D column")
        if isinstance(x.ssa.type, FrameType):
            op = self.tracer.emit(SelectColumnsOp(x.ssa, columns))
            return Val(x.value[columns], op.result)
        if not is_f64_batch(x.ssa.type):
            raise Unsupported(f"input of type {x.ssa.type} is not a frame or a numeric batch")
        takes = [self.tracer.emit(TakeColumnOp(x.ssa, int(c))).result for c in columns]
        op = self.tracer.emit(HstackOp(takes))
        return Val(np.asarray(x.value)[:, columns], op.result)

    def _column_transformer(self, ct: ColumnTransformer, x: Val, label: str) -> Val:
        container = params.output_config(ct)
        if container is not None:
            raise Unsupported(f"ColumnTransformer.set_output(transform={container!r})")
        names = [n for n, _ in x.ssa.type.columns] if isinstance(x.ssa.type, FrameType) else None
        value = ct.transform(x.value)
        parts = []
        for name, trans, columns, scalar in params.column_transformer_parts(ct, names):
            selected = self._select(x, columns, scalar)
            if isinstance(trans, str) and trans == "passthrough":
                part = self.as_array(selected)
            else:
                part = self.call(trans, "transform", selected, f"{label}.named_transformers_"
                                 f"[{name!r}]")  # fmt: skip
            if part.ssa is not None and isinstance(part.ssa.type, FrameType):
                part = self.as_array(part)
            if part.ssa is None or not is_f64_batch(part.ssa.type):
                raise Unsupported(f"part {name!r} does not produce a numeric batch")
            parts.append(part.ssa)
        if not parts:
            raise Unsupported("ColumnTransformer selects no columns")
        op = self.tracer.emit(HstackOp(parts))
        if op.result.type != type_of(value):
            raise Unsupported(f"ColumnTransformer output {type_of(value)} != {op.result.type}")
        return Val(value, op.result)

    def _function_transformer(self, ft: FunctionTransformer, x: Val) -> Val:
        value = ft.transform(x.value)
        if ft.func is None:
            if ft.validate or isinstance(x.ssa.type, TensorType):
                return Val(value, self.as_array(x).ssa)
            return Val(value, x.ssa)
        function = UNARY_UFUNCS.get(ft.func)
        if function is None or ft.kw_args:
            name = getattr(ft.func, "__name__", repr(ft.func))
            raise Unsupported(f"FunctionTransformer(func={name}) is not supported natively")
        op = self.tracer.emit(UnaryOp(function, self.as_array(x).ssa))
        if op.result.type != type_of(value):
            raise Unsupported(f"FunctionTransformer output {type_of(value)} != {op.result.type}")
        return Val(value, op.result)

    def _leaf(self, est: object, method: str, x: Val) -> Val:
        kinds = self._kinds(x)
        lowered = params.lower_estimator(est, method, kinds, self.tracer.blobs)
        if not isinstance(est, params.FRAME_INPUT):
            x = self.as_array(x)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "X does not have valid feature names")
            value = getattr(est, method)(x.value)
            scores = est.decision_function(x.value) if lowered.class_indices else None
        if lowered.op == "transform":
            typ = type_of(value)
            if not is_f64_batch(typ) or typ.get_num_dims() != 2:
                raise Unsupported(f"{type(est).__name__} output is not a numeric batch")
            op = self.tracer.emit(TransformOp(lowered.estimator, x.ssa, lowered.params, typ))
            return Val(value, op.result)
        if lowered.class_indices:
            scores = np.asarray(scores)
            indices = (scores > 0).astype(np.int64) if scores.ndim == 1 else scores.argmax(1)
            op = self.tracer.emit(
                PredictOp(lowered.estimator, method, x.ssa, lowered.params, vector_of(i64))
            )
            return self._labels(est, Val(indices, op.result), value)
        typ = type_of(value)
        if typ not in (vector_of(), batch_of(typ.get_shape()[-1]) if is_f64_batch(typ) else None):
            raise Unsupported(f"{type(est).__name__}.{method} output {typ} is not compiled")
        op = self.tracer.emit(PredictOp(lowered.estimator, method, x.ssa, lowered.params, typ))
        return Val(value, op.result)

    def _labels(self, est: object, indices: Val, expected: object) -> Val:
        """Class indices -> labels: ``classes_.take(indices)`` in Python."""
        classes = params.class_labels(est)

        def labels(index: np.ndarray) -> np.ndarray:
            return classes.take(index)

        result = self.tracer.python_op(
            "classes_take", labels, [indices],
            "class labels are looked up in classes_ with numpy.take",
            f"{type(est).__name__}.classes_.take(indices)",
        )  # fmt: skip
        if not np.array_equal(np.asarray(result.value), np.asarray(expected)):
            raise Unsupported(f"{type(est).__name__}.predict is not argmax of its decision")
        return result
