"""LightGBM and XGBoost models as :class:`~willump_mlir.frontend.trees.TreeEnsemble`.

Both libraries are optional: nothing here imports them; a model is recognised by the
module of its class. Each reader takes a fitted booster's own serialisation
(``Booster.dump_model()`` for LightGBM, ``Booster.save_raw("json")`` for XGBoost) and
reproduces the library's prediction rules:

* LightGBM (4.x) predicts in double: a feature with ``|x| <= kZeroThreshold`` (the float
  ``1e-35f``) is dropped, i.e. read as 0, before any split; a numeric split sends NaN to 0
  unless its missing type is NaN, a missing value (NaN, or zero for missing type Zero) goes
  the default way, else ``x <= threshold`` goes left; a categorical split sends ``int(x)``
  in its bitset left and everything else (NaN, negative, past the bitset) right. Raw scores
  are summed in double from 0, tree by tree (multiclass: tree ``i`` adds to class
  ``i % K``).
* XGBoost (3.x) predicts in float: inputs and thresholds are float32, ``x < threshold``
  goes left, NaN goes the default way, sums are float32 in tree order starting from the
  base margin; a categorical split sends the categories of its set right, everything else
  (negative, past the set, non-integral parts truncated) left.

Supported: ``LGBMClassifier``, ``LGBMRegressor``, ``lightgbm.Booster`` (objectives binary,
multiclass, the identity-link regressions and poisson/gamma/tweedie with the exp link, and
``rf`` averaging) and ``XGBClassifier``, ``XGBRegressor``, ``XGBRFClassifier``,
``XGBRFRegressor``, ``xgboost.Booster`` (binary:logistic, multi:softprob and the
identity-link regressions reg:squarederror, squaredlogerror, absoluteerror,
pseudohubererror, quantileerror). Anything else (another objective,
multi-output trees, a model fitted on pandas categorical columns unless its input holds
them as its codes (``frontend.categories``), XGBoost's ``missing``
other than NaN) raises :class:`~willump_mlir.frontend.spec.Unsupported`.

The ``pipeline.predict`` params are the ensemble's plus ``proba`` ("binary_sigmoid",
"c_softmax": LightGBM's softmax with the C library's exp, "softmax": XGBoost's in float, or
"none"), ``decision`` ("proba": class indices are the argmax of the
probabilities as computed, as both libraries' ``predict`` do) and ``link`` ("identity" or
"c_exp": the C library's exp, which their C++ calls) for regressors::

    %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {
           <ensemble blobs>, proba = "binary_sigmoid", decision = "proba"}
           : tensor<?x4xf64> -> tensor<?x2xf64>
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import StringAttr, f32, f64
from xdsl.ir import Attribute

from willump_mlir.blobs import BlobStore
from willump_mlir.dialects.pipeline import batch_of

from .spec import Unsupported
from .trees import (
    CATEGORICAL,
    MISSING_LEFT,
    TRUNCATE_CATEGORY,
    ZERO_IS_MISSING,
    ZERO_THRESHOLD,
    TreeEnsemble,
)

if TYPE_CHECKING:
    from .params import Lowered


@dataclass
class Model:
    """A booster read into canonical form, with how its outputs become predictions."""

    ensemble: TreeEnsemble
    proba: str  # "binary_sigmoid" | "softmax" | "c_softmax" | "none"
    link: str  # "identity" | "exp" | "logit" (classifiers: raw scores are logits)
    classes: int  # 0 for a regressor


class _Nodes:
    """Flat node arrays built tree by tree, each node before its children."""

    def __init__(self) -> None:
        self.feature: list[int] = []
        self.threshold: list[float] = []
        self.left: list[int] = []
        self.right: list[int] = []
        self.flags: list[int] = []
        self.value: list[float] = []
        self.category_start: list[int] = []
        self.category_words: list[int] = []
        self.category_bits: list[int] = []

    def add(self, feature: int = -1, threshold: float = 0.0, flags: int = 0,
            value: float = 0.0) -> int:  # fmt: skip
        """A new node (children set later); its index."""
        self.feature.append(feature)
        self.threshold.append(threshold)
        self.left.append(-1)
        self.right.append(-1)
        self.flags.append(flags)
        self.value.append(value)
        self.category_start.append(0)
        self.category_words.append(0)
        return len(self.feature) - 1

    def bitset(self, node: int, categories: list[int]) -> None:
        """Make ``node`` test membership of ``categories`` (non-negative ints, maybe none)."""
        words = np.zeros(max(categories, default=0) // 32 + 1, dtype=np.uint64)
        for c in categories:
            words[c // 32] |= np.uint64(1 << (c % 32))
        self.category_start[node] = len(self.category_bits)
        self.category_words[node] = len(words)
        self.category_bits.extend(int(w) for w in words)

    def ensemble(self, features: int, outputs: int, roots: list[int], tree_output: list[int],
                 base: np.ndarray, **rules: object) -> TreeEnsemble:  # fmt: skip
        ens = TreeEnsemble(
            features=features,
            outputs=outputs,
            feature=np.asarray(self.feature, dtype=np.int32),
            threshold=np.asarray(self.threshold, dtype=np.float64),
            left=np.asarray(self.left, dtype=np.int32),
            right=np.asarray(self.right, dtype=np.int32),
            flags=np.asarray(self.flags, dtype=np.uint8),
            value=np.asarray(self.value, dtype=np.float64).reshape(-1, 1),
            roots=np.asarray(roots, dtype=np.int32),
            tree_output=np.asarray(tree_output, dtype=np.int32),
            base=np.asarray(base, dtype=np.float64),
            category_start=np.asarray(self.category_start, dtype=np.int32),
            category_words=np.asarray(self.category_words, dtype=np.int32),
            category_bits=np.asarray(self.category_bits, dtype=np.uint32),
            **rules,  # type: ignore[arg-type]
        )
        ens.check()
        return ens


def library(model: object) -> str | None:
    """``"lightgbm"`` or ``"xgboost"`` for a model of either library, else None."""
    root = type(model).__module__.split(".")[0]
    return root if root in ("lightgbm", "xgboost") else None


# region LightGBM

_LGBM_IDENTITY = ("regression", "regression_l1", "huber", "fair", "quantile", "mape")
_LGBM_EXP = ("poisson", "gamma", "tweedie")


def _lgbm_threshold(threshold: float) -> float:
    """The threshold that gives the same split on values not dropped to zero.

    LightGBM reads ``|x| <= kZeroThreshold`` as 0 before comparing ``x <= t``. For ``t``
    in ``[-kZ, 0)`` that is ``x < -kZ``; for ``t`` in ``[0, kZ)`` it is ``x <= kZ``;
    elsewhere dropping does not change the comparison.
    """
    if -ZERO_THRESHOLD <= threshold < 0:
        return math.nextafter(-ZERO_THRESHOLD, -math.inf)
    if 0 <= threshold < ZERO_THRESHOLD:
        return ZERO_THRESHOLD
    return threshold


def _lgbm_split(nodes: _Nodes, split: dict) -> int:
    """Add one split node of a ``dump_model()`` tree (children set later); its index."""
    missing = split["missing_type"]
    if missing not in ("None", "Zero", "NaN"):
        raise Unsupported(f"LightGBM missing_type {missing!r} is not supported natively")
    if split["decision_type"] == "==":
        node = nodes.add(int(split["split_feature"]), 0.0, CATEGORICAL | TRUNCATE_CATEGORY)
        nodes.bitset(node, [int(c) for c in str(split["threshold"]).split("||")])
        return node
    if split["decision_type"] != "<=":
        raise Unsupported(f"LightGBM decision_type {split['decision_type']!r} is not supported")
    threshold = _lgbm_threshold(split["threshold"])
    # missing type None reads NaN as 0: NaN goes where 0 goes
    left = 0.0 <= threshold if missing == "None" else split["default_left"]
    flags = (MISSING_LEFT if left else 0) | (ZERO_IS_MISSING if missing == "Zero" else 0)
    return nodes.add(int(split["split_feature"]), threshold, flags)


def _lgbm_tree(nodes: _Nodes, root: dict) -> int:
    """Add a ``dump_model()`` tree, node before children (iteratively: trees may be deep);
    its root's index."""
    pending: list[tuple[dict, int, str]] = [(root, -1, "")]  # (node, parent, side)
    first = len(nodes.feature)
    while pending:
        tree, parent, side = pending.pop()
        if "leaf_value" in tree:
            node = nodes.add(value=float(tree["leaf_value"]))
        else:
            node = _lgbm_split(nodes, tree)
            pending += [(tree["right_child"], node, "right"), (tree["left_child"], node, "left")]
        if parent >= 0:
            getattr(nodes, side)[parent] = node
    return first


def _lgbm_objective(objective: str, outputs: int) -> tuple[str, str, int]:
    """(proba, link, classes) of a LightGBM objective string such as "binary sigmoid:1"."""
    name, *options = objective.split()
    settings = dict(o.split(":", 1) for o in options if ":" in o)
    if name == "binary":
        if float(settings.get("sigmoid", "1")) != 1.0:
            raise Unsupported("LightGBM binary objective with sigmoid != 1 is not supported")
        return "binary_sigmoid", "logit", 2
    if name == "multiclass":  # Common::Softmax: the C library's exp
        return "c_softmax", "logit", outputs
    if "sqrt" in options:
        raise Unsupported(f"LightGBM objective {name!r} with reg_sqrt is not supported")
    if name in _LGBM_IDENTITY:
        return "none", "identity", 0
    if name in _LGBM_EXP:
        return "none", "exp", 0
    raise Unsupported(f"LightGBM objective {name!r} is not supported natively")


def _has_linear_leaves(dump: dict) -> bool:
    """Whether a LightGBM dump has linear models in its leaves (``linear_tree`` or its
    aliases: the dump, not the parameters, is what ``predict`` uses)."""
    nodes = [info["tree_structure"] for info in dump["tree_info"]]
    while nodes:
        node = nodes.pop()
        if "left_child" in node:
            nodes += (node["left_child"], node["right_child"])
        elif node.get("leaf_coeff"):
            return True
    return False


def lightgbm_model(booster: object, coded: bool = False) -> Model:
    """A ``lightgbm.Booster`` (as ``predict`` uses it by default: up to ``best_iteration``),
    whose input has its category columns ``coded`` as the booster codes them, if any."""
    dump = booster.dump_model()  # type: ignore[attr-defined]
    if _has_linear_leaves(dump):
        raise Unsupported("LightGBM linear_tree=True (linear models in the leaves) is not "
                          "supported natively")  # fmt: skip
    if dump.get("pandas_categorical") and not coded:
        raise Unsupported("LightGBM model fitted on pandas categorical columns (it maps their "
                          "categories at predict time): not supported natively")  # fmt: skip
    outputs = int(dump["num_tree_per_iteration"])
    proba, link, classes = _lgbm_objective(str(dump.get("objective", "")), outputs)
    nodes = _Nodes()
    roots = [_lgbm_tree(nodes, info["tree_structure"]) for info in dump["tree_info"]]
    if not roots:
        raise Unsupported("LightGBM model has no trees")
    divisor = len(roots) // outputs if dump.get("average_output") else None
    ensemble = nodes.ensemble(
        int(dump["max_feature_idx"]) + 1, outputs, roots,
        [i % outputs for i in range(len(roots))], np.zeros(outputs), divisor=divisor,
    )  # fmt: skip
    return Model(ensemble, proba, link, classes)


# endregion
# region XGBoost

_XGB_OBJECTIVES = {
    "binary:logistic": ("binary_sigmoid", "logit"),
    "multi:softprob": ("softmax", "logit"),
    "reg:squarederror": ("none", "identity"),
    "reg:squaredlogerror": ("none", "identity"),
    "reg:absoluteerror": ("none", "identity"),
    "reg:pseudohubererror": ("none", "identity"),
    "reg:quantileerror": ("none", "identity"),  # one quantile: several are multi-target
}


@cache
def _logf() -> ctypes._CFuncPtr:  # type: ignore[name-defined]
    function = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6").logf
    function.restype = ctypes.c_float
    function.argtypes = [ctypes.c_float]
    return function


def _xgb_logit(p: np.float32) -> np.float32:
    """XGBoost's ``ProbToMargin`` of binary:logistic, in float: ``p`` clamped to
    ``[1e-6f, 1 - 1e-6f]``, then ``-logf(1.0f / p - 1.0f)``."""
    one, eps = np.float32(1.0), np.float32(1e-6)
    p = min(max(p, eps), one - eps)
    return -np.float32(_logf()(float(one / p - one)))


def _xgb_tree(nodes: _Nodes, tree: dict) -> int:
    """Add one tree of XGBoost's JSON model; its root's index."""
    left, right = tree["left_children"], tree["right_children"]
    split = tree["split_indices"]
    conditions = np.asarray(tree["split_conditions"], dtype=np.float64).astype(np.float32)
    default_left = tree["default_left"]
    kinds = tree.get("split_type") or [0] * len(left)
    sets = dict(zip(tree.get("categories_nodes", []), zip(
        tree.get("categories_segments", []), tree.get("categories_sizes", []), strict=True
    ), strict=True))  # fmt: skip
    if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
        raise Unsupported("XGBoost multi-output trees are not supported natively")
    index: dict[int, int] = {}
    order = [0]  # preorder: each node before its children
    while order:
        n = order.pop()
        if left[n] == -1:
            index[n] = nodes.add(value=float(conditions[n]))
            continue
        if kinds[n] == 1:  # categorical: the set's categories go right (swapped below)
            start, size = sets[n]
            members = [int(c) for c in tree["categories"][start : start + size]]
            flags = CATEGORICAL | (0 if default_left[n] else MISSING_LEFT)
            index[n] = nodes.add(int(split[n]), 0.0, flags)
            nodes.bitset(index[n], members)
        else:
            flags = MISSING_LEFT if default_left[n] else 0
            index[n] = nodes.add(int(split[n]), float(conditions[n]), flags)
        order += [right[n], left[n]]
    for n, node in index.items():
        if left[n] != -1:
            a, b = index[left[n]], index[right[n]]
            nodes.left[node], nodes.right[node] = (b, a) if kinds[n] == 1 else (a, b)
    return index[0]


def _xgb_vector(text: str) -> np.ndarray:
    """A float vector as XGBoost stores it in JSON, e.g. ``"[5E-1]"`` or ``"0.5"``."""
    return np.asarray(json.loads(text if text.startswith("[") else f"[{text}]"),
                      dtype=np.float64).astype(np.float32)  # fmt: skip


def xgboost_model(booster: object, missing: float = math.nan) -> Model:
    """An ``xgboost.Booster`` (all its trees, as ``inplace_predict`` uses by default)."""
    if not math.isnan(missing):
        raise Unsupported(f"XGBoost with missing={missing!r} is not supported natively")
    learner = json.loads(bytes(booster.save_raw("json")))["learner"]  # type: ignore[attr-defined]
    objective = learner["objective"]["name"]
    if objective not in _XGB_OBJECTIVES:
        raise Unsupported(f"XGBoost objective {objective!r} is not supported natively")
    proba, link = _XGB_OBJECTIVES[objective]
    booster_model = learner["gradient_booster"]
    if booster_model.get("name") != "gbtree":
        raise Unsupported(f"XGBoost booster {booster_model.get('name')!r} is not supported")
    model = booster_model["model"]
    if any(e.get("values") for e in model.get("cats", {}).get("enc", [])):
        raise Unsupported("XGBoost model fitted on pandas categorical columns (it re-codes "
                          "their categories at predict time): not supported natively")  # fmt: skip
    param = learner["learner_model_param"]
    if int(param.get("num_target", "1")) > 1:
        raise Unsupported("XGBoost multi-target models are not supported natively")
    outputs = max(int(param["num_class"]), 1)
    base = _xgb_vector(param["base_score"])
    base = np.broadcast_to(base, (outputs,)) if base.size == 1 else base
    if objective == "binary:logistic":
        base = np.array([_xgb_logit(b) for b in base], dtype=np.float32)
    nodes = _Nodes()
    roots = [_xgb_tree(nodes, tree) for tree in model["trees"]]
    if not roots:
        raise Unsupported("XGBoost model has no trees")
    ensemble = nodes.ensemble(
        int(param["num_feature"]), outputs, roots, [int(g) for g in model["tree_info"]],
        base.astype(np.float64), compare="lt", input_precision="f32", sum_precision="f32",
    )  # fmt: skip
    classes = {"binary_sigmoid": 2, "softmax": outputs}.get(proba, 0)
    return Model(ensemble, proba, link, classes)


# endregion


def booster_model(model: object, coded: bool = False) -> Model:
    """The canonical form of a LightGBM or XGBoost model (sklearn wrapper or Booster), read
    by a LightGBM model with its category columns ``coded`` (``frontend.categories``)."""
    lib = library(model)
    if lib == "lightgbm":
        booster = getattr(model, "booster_", model)
        return lightgbm_model(booster, coded)
    if lib == "xgboost":
        if not hasattr(model, "get_booster"):
            return xgboost_model(model)
        booster = model.get_booster()
        start, stop = model._get_iteration_range(None)  # best_iteration after early stopping
        if stop:
            booster = booster[start:stop]
        return xgboost_model(booster, float(model.missing))
    raise Unsupported(f"{type(model).__name__} is not a LightGBM or XGBoost model")


def link_params(model: Model) -> dict[str, Attribute]:
    """The ``proba``/``decision``/``link`` params of a booster's ``pipeline.predict``."""
    if model.classes:
        return {"proba": StringAttr(model.proba), "decision": StringAttr("proba")}
    link = "c_exp" if model.link == "exp" else model.link  # their C++ calls the C library's exp
    return {"proba": StringAttr("none"), "link": StringAttr(link)}


# region Extractor

#: The methods of each model class, by library and class name: method -> the
#: ``pipeline.predict`` method it lowers to ("": by objective, ``predict_proba`` for a
#: classifier, ``predict`` for a regressor).
_METHODS: dict[tuple[str, str], dict[str, str]] = {
    ("lightgbm", "LGBMClassifier"): {"predict": "predict", "predict_proba": "predict_proba"},
    ("lightgbm", "LGBMRegressor"): {"predict": "predict"},
    ("lightgbm", "Booster"): {"predict": ""},
    ("xgboost", "XGBClassifier"): {"predict": "predict", "predict_proba": "predict_proba"},
    ("xgboost", "XGBRegressor"): {"predict": "predict"},
    ("xgboost", "XGBRFClassifier"): {"predict": "predict", "predict_proba": "predict_proba"},
    ("xgboost", "XGBRFRegressor"): {"predict": "predict"},
    ("xgboost", "Booster"): {"inplace_predict": ""},
}


def methods(model: object) -> tuple[str, ...]:
    """The prediction methods of a LightGBM or XGBoost model that may compile."""
    return tuple(_METHODS.get((library(model) or "", type(model).__name__), {}))


def extract(est: object, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    """The ``params.Extractor`` of every LightGBM/XGBoost model (see the module docstring).

    A ``Booster``'s ``predict``/``inplace_predict`` gives what its objective transforms the
    raw scores into: for a binary model the positive class's probability, so it lowers to
    ``predict_proba`` and takes column 1 of ``[1 - p, p]`` (which is ``p`` exactly).
    """
    from .params import Lowered  # params imports this module

    lib, name = library(est) or "", type(est).__name__
    table = _METHODS.get((lib, name))
    if table is None or method not in table:
        raise Unsupported(f"{name}.{method} is not supported natively")
    coded = "category" in kinds
    if any(k not in ("f64", "category") for k in kinds) or (coded and lib != "lightgbm"):
        raise Unsupported(f"{name} needs numeric input")
    model = booster_model(est, coded)
    if model.ensemble.features != len(kinds):
        raise Unsupported(f"{name} was fitted on {model.ensemble.features} features, "
                          f"got {len(kinds)}")  # fmt: skip
    estimator = f"{lib}.{name}" if name == "Booster" else name
    target = table[method] or ("predict_proba" if model.classes else "predict")
    params = model.ensemble.params(blobs, estimator.replace(".", "_").lower())
    params |= link_params(model)
    lowered = Lowered("predict", estimator, params, method=target,
                      class_indices=target == "predict" and model.classes > 0)  # fmt: skip
    if name == "Booster" and model.classes == 2:
        element = f32 if model.ensemble.sum_precision == "f32" else f64
        lowered.column, lowered.result = 1, batch_of(2, element)
    return lowered


# endregion
