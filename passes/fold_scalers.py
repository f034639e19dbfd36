"""fold-scalers: a monotone column scaler folded into the thresholds of the tree model it
feeds, exactly.

```mlir
%s = pipeline.transform "StandardScaler" %x params {mean = #pipeline.blob<m_… : tensor<2xf64>>,
       scale = #pipeline.blob<s_… : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%p = pipeline.predict "LGBMRegressor" "predict" %s params {thresholds = #pipeline.blob<t_…>,
       compare = "le", input_precision = "f64", check = "none", ...} : ...
  ~>
%p = pipeline.predict "LGBMRegressor" "predict" %x params {thresholds = #pipeline.blob<t_…'>,
       compare = "le", input_precision = "f64", check = "infinite", ...}
       {folded = "StandardScaler"} : ...
```

A tree after a scaler compares ``p(g(x))`` with a threshold ``t``, where ``g`` is the
scaler's float64 arithmetic on one column (:func:`scaler_map`: the semantics of the
``feature.standardize`` / ``feature.mul_add`` it lowers to, which is scikit-learn's
``transform`` bit for bit) and ``p`` the model's input rounding (float32 or none). Both are
non-decreasing in ``x`` (IEEE rounding is monotone), so the rows that go left,
``{x : p(g(x)) <= t}`` (or ``< t``), are exactly ``{x : x <= x*}`` for the largest float64
``x*`` in that set. The pass finds ``x*`` for every split by bisection over the ordered
float64 bit patterns, evaluating ``g`` on the candidates, and stores the folded thresholds
as a new blob; the model then reads raw ``x`` in float64 and routes every finite value as
the scaler and the model would. Scalers refuse infinities, so the folded model refuses them
too (``check = "infinite"``); NaN stays NaN through a scaler and keeps its missing-value
routing. The folded op is marked ``folded`` (the scaler's name), and is not folded again.

A scaler is kept (:func:`kept_reason` says why, and ``explain()`` repeats it) when:

* the model checks its own input (``check`` other than ``"none"``: scikit-learn's trees
  other than HistGradientBoosting without categories refuse values that are only infinite
  once scaled and rounded to float32, which no check on the raw value can tell);
* a split's routing is not a threshold on ``g(x)``: categorical splits (``trunc(g(x))``)
  and zero-as-missing (an interval of ``x``);
* a column is decreasing (its largest finite value goes left, its smallest right);
* the pass runs as ``fold-scalers{enabled=false}`` (``wm.compile(..., fold_scalers=False)``).

Thresholds that are NaN (the padding of laid-out node arrays, which sends every value
right) stay NaN. The scaler itself is erased when nothing else reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, StringAttr, TensorType
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter

from willump_mlir.blobs import BlobStore, blob_store
from willump_mlir.dialects.feature import CATEGORICAL, ZERO_IS_MISSING
from willump_mlir.dialects.pipeline import BlobAttr, PredictOp, TransformOp, batch_width
from willump_mlir.passes.lower_pipeline_to_feature import PREDICTORS, lower_tree_ensemble

FOLDED = "folded"
"""The attribute naming the scaler folded into a ``pipeline.predict``."""

Map = Callable[[np.ndarray], np.ndarray]

_SIGN = np.int64(-0x8000000000000000)
_UNFOLDABLE = CATEGORICAL | ZERO_IS_MISSING
_STANDARDIZE = {  # scaler -> the params it subtracts and divides by (each optional)
    "StandardScaler": ("mean", "scale"),
    "RobustScaler": ("center", "scale"),
    "MaxAbsScaler": ("", "scale"),
}


# region Scaler semantics


def _blob(op: TransformOp, store: BlobStore, key: str) -> np.ndarray | None:
    attr = op.params.data.get(key)
    return store.array(attr) if isinstance(attr, BlobAttr) else None


def scaler_map(op: TransformOp, store: BlobStore) -> Map | None:
    """The float64 map ``[rows, F] -> [rows, F]`` of a scaler's ``pipeline.transform``, or
    ``None`` for any other transform. This is the arithmetic of the ``feature.standardize``
    (``(x - sub) / div``) and ``feature.mul_add`` (``x * mul + add``, then clipped) the
    scaler lowers to, which is scikit-learn's ``transform`` bit for bit."""
    name = op.estimator.data
    if name in _STANDARDIZE:
        sub, div = (_blob(op, store, key) for key in _STANDARDIZE[name])

        def standardize(x: np.ndarray) -> np.ndarray:
            if sub is not None:
                x = x - sub
            return x if div is None else x / div

        return standardize
    if name == "MinMaxScaler":
        mul, add = _blob(op, store, "scale"), _blob(op, store, "min")
        clip = op.params.data.get("clip")
        bounds = _blob(op, store, "clip_range")
        if mul is None or add is None:
            return None
        if isinstance(clip, IntegerAttr) and clip.value.data == 1 and bounds is None:
            return None  # not lowerable either: the lowering reports it
        clipped = isinstance(clip, IntegerAttr) and clip.value.data == 1

        def mul_add(x: np.ndarray) -> np.ndarray:
            y = x * mul + add
            return np.clip(y, bounds[0], bounds[1]) if clipped else y

        return mul_add
    return None


# endregion
# region Folding


def _key(x: np.ndarray) -> np.ndarray:
    """float64 -> int64 keys in the same order (-0.0 and 0.0 share key 0)."""
    bits = np.asarray(x, dtype=np.float64).view(np.int64)
    return np.where(bits >= 0, bits, _SIGN - bits)


def _value(key: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_key`."""
    return np.where(key >= 0, key, _SIGN - key).view(np.float64)


@dataclass
class Splits:
    """The numeric splits of an ensemble (``nodes``' features, ``thresholds``) laid out
    column by column, so that one call of the scaler's map evaluates a candidate raw value
    for every split."""

    transform: Map
    features: int  # F: the width of the rows the map reads
    columns: np.ndarray  # int64[S]: the column of each split
    thresholds: np.ndarray  # float64[S]
    compare: str  # "le" or "lt"
    float32: bool  # the model rounds its input to float32
    rows: np.ndarray = field(init=False)  # int64[S]: each split's row of the grid
    grid: np.ndarray = field(init=False)  # float64[max splits of a column, F]

    def __post_init__(self) -> None:
        order = np.argsort(self.columns, kind="stable")
        counts = np.bincount(self.columns, minlength=self.features)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        self.rows = np.empty(len(self.columns), dtype=np.int64)
        self.rows[order] = np.arange(len(self.columns)) - np.repeat(starts, counts)
        self.grid = np.zeros((max(int(counts.max(initial=0)), 1), self.features))

    def goes_left(self, keys: np.ndarray) -> np.ndarray:
        """Whether the raw value of each key goes left at its split."""
        self.grid[self.rows, self.columns] = _value(keys)
        with np.errstate(all="ignore"):
            scaled = np.asarray(self.transform(self.grid), dtype=np.float64)
            scaled = scaled[self.rows, self.columns]
            if self.float32:
                scaled = scaled.astype(np.float32).astype(np.float64)
            if self.compare == "le":
                return scaled <= self.thresholds
            return scaled < self.thresholds

    def decreasing(self) -> bool:
        """Whether some split's column decreases: its largest finite value goes left and its
        smallest right."""
        largest = np.finfo(np.float64).max
        high = self.goes_left(_key(np.full(len(self.columns), largest)))
        return bool(np.any(~self.goes_left(_key(np.full(len(self.columns), -largest))) & high))

    def folded(self) -> np.ndarray:
        """The raw thresholds that route every finite value as the scaled ones do."""
        # Scalers refuse infinities, so only finite values are searched: -inf stands for
        # "goes left" and +inf for "goes right" without being evaluated.
        low = np.full(len(self.columns), _key(np.array(-np.inf))[()], dtype=np.int64)
        high = np.full(len(self.columns), _key(np.array(np.inf))[()], dtype=np.int64)
        while np.any(high - 1 > low):  # invariant: low goes left, high goes right
            middle = (low >> 1) + (high >> 1) + (low & high & 1)
            left = self.goes_left(middle)
            low = np.where(left, middle, low)
            high = np.where(left, high, middle)
        # x <= value(low) for "le"; x < value(low + 1) for "lt": the same rows.
        return _value(low if self.compare == "le" else high)


def _text(model: PredictOp, key: str, default: str) -> str:
    attr = model.params.data.get(key)
    return attr.data if isinstance(attr, StringAttr) else default


def scaler_before(model: PredictOp) -> TransformOp | None:
    """The scaler whose output the tree model ``model`` reads, if it is one not yet folded
    (what the pass tries to fold)."""
    scaler = model.input.owner
    if (
        FOLDED in model.attributes
        or PREDICTORS.get(model.estimator.data) is not lower_tree_ensemble
        or not isinstance(scaler, TransformOp)
        or scaler.estimator.data not in (*_STANDARDIZE, "MinMaxScaler")
    ):
        return None
    return scaler


def plan_fold(scaler: TransformOp, model: PredictOp, store: BlobStore) -> Splits | str:
    """The splits to fold ``scaler`` into, or why it is kept (see the module docstring), as
    a phrase: "a split is categorical or zero-as-missing"."""
    if _text(model, "check", "none") != "none":
        return (
            "the model checks its input: it refuses values that are only infinite once "
            "scaled (and rounded to float32), which a threshold on the raw value cannot tell"
        )
    transform = scaler_map(scaler, store)
    if transform is None or scaler.input.type != scaler.result.type:
        return "its parameters or its input are not a scaler's"
    nodes = model.params.data.get("nodes")
    thresholds = model.params.data.get("thresholds")
    if not isinstance(nodes, BlobAttr) or not isinstance(thresholds, BlobAttr):
        return "the model has no node arrays"
    node_array, threshold_array = store.array(nodes), store.array(thresholds)
    split = ~np.isnan(threshold_array)
    if np.any(node_array[split, 1] & _UNFOLDABLE):
        return "a split is categorical or zero-as-missing"
    features = batch_width(scaler.result.type)
    columns = node_array[split, 0].astype(np.int64)
    if np.any((columns < 0) | (columns >= features)):
        return "a split reads a column the rows do not have"
    splits = Splits(
        transform, features, columns, threshold_array[split], _text(model, "compare", "le"),
        _text(model, "input_precision", "f64") == "f32",
    )  # fmt: skip
    if splits.decreasing():
        return "it decreases a column"
    return splits


def kept_reason(model: PredictOp, store: BlobStore, enabled: bool = True) -> str | None:
    """Why the scaler before ``model`` (:func:`scaler_before`) stays; ``None`` when it folds."""
    scaler = scaler_before(model)
    if scaler is None:
        return None
    if not enabled:
        return "fold-scalers{enabled=false} (wm.compile(..., fold_scalers=False))"
    plan = plan_fold(scaler, model, store)
    return plan if isinstance(plan, str) else None


def fold(model: PredictOp, store: BlobStore) -> PredictOp | None:
    """Fold the scaler before ``model`` into it (see the module docstring): the folded
    ``pipeline.predict``, which replaces ``model``, or ``None`` when the scaler is kept."""
    scaler = scaler_before(model)
    if scaler is None:
        return None
    splits = plan_fold(scaler, model, store)
    if isinstance(splits, str):
        return None
    blob = model.params.data["thresholds"]
    assert isinstance(blob, BlobAttr)
    thresholds = store.array(blob).copy()
    thresholds[~np.isnan(thresholds)] = splits.folded()
    params = dict(model.params.data) | {
        "thresholds": store.replacement(blob, thresholds),
        "input_precision": StringAttr("f64"),
        "check": StringAttr("infinite"),
    }
    params.pop("check_columns", None)
    assert isinstance(model.result.type, TensorType)
    folded = PredictOp(
        model.estimator.data, model.method.data, scaler.input, params, model.result.type
    )
    folded.attributes |= model.attributes | {FOLDED: StringAttr(scaler.estimator.data)}
    Rewriter.replace_op(model, folded)
    if not scaler.result.uses:
        Rewriter.erase_op(scaler)
    return folded


# endregion


@dataclass(frozen=True)
class FoldScalersPass(ModulePass):
    """Fold every scaler ``pipeline.transform`` that feeds a tree model's
    ``pipeline.predict`` into its thresholds where that is exact (see the module docstring).
    ``enabled=false`` keeps every scaler."""

    name = "fold-scalers"

    enabled: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not self.enabled:
            return
        store = blob_store(ctx)
        for model in [o for o in op.walk() if isinstance(o, PredictOp)]:
            fold(model, store)

