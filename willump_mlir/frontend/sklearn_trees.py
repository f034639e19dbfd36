"""scikit-learn's tree models read into the canonical :class:`~.trees.TreeEnsemble`.

Decision trees, random forests, extra trees and gradient boosting compare the input rounded
to float32 with float64 thresholds; histogram gradient boosting compares float64 input and
routes missing values (NaN, and for categorical features any value that is not a known
category) with each node's ``missing_go_to_left``. The extractors return the
``pipeline.predict`` params of ``lower_tree_ensemble`` (see ``lower-pipeline-to-feature``):
``TreeEnsemble.params`` plus ``check`` and either ``proba`` and ``decision`` (classifiers)
or ``link`` (regressors). Arithmetic follows scikit-learn 1.9:

* a classifier tree's leaf is its stored class fractions (``predict_proba``); forests add
  their trees' leaves in order and divide by the number of trees;
* gradient boosting starts from the init estimator's constant raw prediction and adds
  ``learning_rate * value`` per tree; a binary classifier predicts ``raw >= 0``;
* histogram gradient boosting starts from ``_baseline_prediction`` and adds each leaf
  value; a binary classifier predicts ``raw > 0``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, StringAttr, i64
from xdsl.ir import Attribute

from willump_mlir.blobs import BlobStore

from .spec import Unsupported
from .trees import (
    CATEGORICAL,
    INTEGER_CATEGORY,
    MISSING_LEFT,
    OUT_OF_RANGE_IS_MISSING,
    TreeEnsemble,
)

if TYPE_CHECKING:
    from .params import Extractor, Lowered

_LARGEST_CATEGORY = 1 << 12  # categories must be integers in [0, this): 128 words a node


#: The ``pipeline.predict`` params besides the ensemble's: check (and check_columns), proba,
#: decision, link.
Options = dict[str, str | list[int]]


def _concatenate(
    features: int,
    outputs: int,
    parts: list[tuple[np.ndarray, ...]],
    tree_output: list[int],
    base: np.ndarray,
    **options: object,
) -> TreeEnsemble:
    """One ensemble from per-tree (feature, threshold, left, right, flags, value) arrays
    whose children are tree-local (-1 or anything at leaves)."""
    sizes = np.array([len(p[0]) for p in parts])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    feature, threshold, left, right, flags, value = (
        np.concatenate([p[i] for p in parts]) for i in range(6)
    )
    leaf = feature < 0
    offset = np.repeat(starts, sizes)
    nodes = len(feature)
    return TreeEnsemble(
        features=features,
        outputs=outputs,
        feature=np.where(leaf, -1, feature).astype(np.int32),
        threshold=np.where(leaf, 0.0, threshold).astype(np.float64),
        left=np.where(leaf, 0, left + offset).astype(np.int32),
        right=np.where(leaf, 0, right + offset).astype(np.int32),
        flags=np.where(leaf, 0, flags).astype(np.uint8),
        value=np.where(leaf[:, None], value, 0.0).astype(np.float64),
        roots=starts.astype(np.int32),
        tree_output=np.asarray(tree_output, dtype=np.int32),
        base=np.asarray(base, dtype=np.float64),
        category_start=np.zeros(nodes, np.int32),
        category_words=np.zeros(nodes, np.int32),
        category_bits=np.zeros(0, np.uint32),
        **options,  # type: ignore[arg-type]
    )


# region Trees and forests (tree_ based)


def _tree_part(tree: object, value: np.ndarray, nan_routing: bool) -> tuple[np.ndarray, ...]:
    """A fitted ``sklearn.tree.Tree`` as node arrays with leaf values ``value``."""
    flags = np.zeros(tree.node_count, np.uint8)
    if nan_routing:
        flags = np.asarray(tree.missing_go_to_left, np.uint8) * MISSING_LEFT
    return (tree.feature, tree.threshold, tree.children_left, tree.children_right, flags, value)


def _tree_models(est: object) -> list[object]:
    return list(est.estimators_) if hasattr(est, "estimators_") else [est]


def _forest(est: object) -> tuple[TreeEnsemble, Options]:
    """DecisionTree*, RandomForest*, ExtraTrees*: leaves added in order, then averaged."""
    classifier = hasattr(est, "classes_")
    models = _tree_models(est)
    allow_nan = models[0].__sklearn_tags__().input_tags.allow_nan
    outputs = len(est.classes_) if classifier else 1
    parts = []
    for model in models:
        tree = model.tree_
        value = tree.value[:, 0, :outputs]  # class fractions (predict_proba) or the mean
        parts.append(_tree_part(tree, value, allow_nan))
    ensemble = _concatenate(
        est.n_features_in_, outputs, parts, [0] * len(models), np.zeros(outputs),
        input_precision="f32", divisor=float(len(models)) if models[0] is not est else None,
    )  # fmt: skip
    check = "infinite" if allow_nan else "nan_or_infinite"
    if classifier:
        return ensemble, {"check": check, "proba": "none", "decision": "proba"}
    return ensemble, {"check": check, "link": "identity"}


def _gradient_boosting(est: object) -> tuple[TreeEnsemble, Options]:
    """GradientBoosting*: the init constant plus ``learning_rate * value`` per tree."""
    classifier = hasattr(est, "classes_")
    if est.init not in (None, "zero"):
        raise Unsupported(f"{type(est).__name__} with an init estimator is not supported natively")
    stages, outputs = est.estimators_.shape
    with warnings.catch_warnings():  # the init estimator's constant, from one row of zeros
        warnings.simplefilter("ignore")
        base = est._raw_predict_init(np.zeros((1, est.n_features_in_)))[0]
    parts = [
        _tree_part(model.tree_, est.learning_rate * model.tree_.value[:, 0, :1], False)
        for model in est.estimators_.ravel()
    ]
    ensemble = _concatenate(
        est.n_features_in_, outputs, parts, list(range(outputs)) * stages, base,
        input_precision="f32",
    )  # fmt: skip
    if not classifier:
        return ensemble, {"check": "nan_or_infinite", "link": "identity"}
    binary = outputs == 1
    proba = "binary_sigmoid" if binary else "softmax"
    return ensemble, {
        "check": "nan_or_infinite",
        "proba": proba,
        "decision": "raw_nonnegative" if binary else "raw",
    }


# endregion
# region Histogram gradient boosting


def _column_order(
    est: object, coded: frozenset[int]
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """The original column of each column the predictors read (scikit-learn moves the
    categorical columns first) and each original column's categories (None: numeric): the
    values the compiled input holds, which for the ``coded`` columns (category columns,
    ``frontend.categories``) are the encoder's codes."""
    features = est.n_features_in_
    categories: list[np.ndarray | None] = [None] * features
    if est._preprocessor is None:
        return np.arange(features), categories
    categorical = np.asarray(est.is_categorical_, dtype=bool)
    order = np.concatenate([np.flatnonzero(categorical), np.flatnonzero(~categorical)])
    encoder = est._preprocessor.named_transformers_["encoder"]
    for column, known in zip(np.flatnonzero(categorical), encoder.categories_, strict=True):
        if column in coded:  # NaN, the last category if missing at fit, is not a code
            missing = len(known) and isinstance(known[-1], float) and np.isnan(known[-1])
            categories[column] = np.arange(len(known) - missing, dtype=np.float64)
            continue
        known = np.asarray(known, dtype=np.float64)
        known = known[~np.isnan(known)]
        if (
            np.any(known < 0)
            or np.any(known != np.trunc(known))
            or np.any(known >= _LARGEST_CATEGORY)
        ):
            raise Unsupported(f"categorical feature {column} has categories that are not "
                              f"integers in [0, {_LARGEST_CATEGORY})")  # fmt: skip
        categories[column] = known
    return order, categories


def _category_bitsets(
    codes_left: np.ndarray, known: np.ndarray, missing_left: np.ndarray
) -> np.ndarray:
    """uint32 words [nodes, words] over raw category values: a known category goes left
    when its code's bit is set, an unknown integer in range the missing way."""
    words = int(known.max(initial=0)) // 32 + 1
    codes = np.arange(len(known))
    member = (codes_left[:, codes // 32] >> (codes % 32).astype(np.uint32)) & 1 == 1
    raw = np.repeat(missing_left[:, None], 32 * words, axis=1)
    raw[:, known.astype(np.int64)] = member
    weights = np.uint32(1) << np.arange(32, dtype=np.uint32)
    return (raw.reshape(len(raw), words, 32) * weights).sum(axis=2, dtype=np.uint32)


def _histogram_part(
    predictor: object, order: np.ndarray, categories: list[np.ndarray | None]
) -> tuple[tuple[np.ndarray, ...], list[tuple[np.ndarray, np.ndarray]]]:
    """A ``TreePredictor``'s node arrays, and its categorical nodes' (indices, bitsets)."""
    nodes = predictor.nodes
    leaf = nodes["is_leaf"].astype(bool)
    feature = np.where(leaf, -1, order[nodes["feature_idx"]])
    missing_left = nodes["missing_go_to_left"].astype(bool)
    categorical = nodes["is_categorical"].astype(bool) & ~leaf
    flags = np.where(missing_left, MISSING_LEFT, 0)
    flags = np.where(categorical, flags | CATEGORICAL | OUT_OF_RANGE_IS_MISSING | INTEGER_CATEGORY,
                     flags)  # fmt: skip
    bitsets = []
    for column in np.unique(feature[categorical]):
        at = np.flatnonzero(categorical & (feature == column))
        known = categories[column]
        assert known is not None
        left_codes = predictor.raw_left_cat_bitsets[nodes["bitset_idx"][at]]
        bitsets.append((at, _category_bitsets(left_codes, known, missing_left[at])))
    part = (
        feature, nodes["num_threshold"], nodes["left"], nodes["right"], flags,
        nodes["value"][:, None],
    )  # fmt: skip
    return part, bitsets


def _histogram(est: object, coded: frozenset[int] = frozenset()) -> tuple[TreeEnsemble, Options]:
    """HistGradientBoosting*: ``_baseline_prediction`` plus each leaf value, float64 input
    (the ``coded`` columns as the encoder's codes)."""
    classifier = hasattr(est, "classes_")
    link = type(est._loss.link).__name__
    if not classifier and link not in ("IdentityLink", "LogLink"):
        raise Unsupported(f"HistGradientBoostingRegressor with a {link} is not supported")
    order, categories = _column_order(est, coded)
    outputs = est.n_trees_per_iteration_
    parts, tree_output, category_parts = [], [], []
    start = 0
    for iteration in est._predictors:
        for k, predictor in enumerate(iteration):
            part, bitsets = _histogram_part(predictor, order, categories)
            parts.append(part)
            tree_output.append(k)
            category_parts.extend((at + start, words) for at, words in bitsets)
            start += len(part[0])
    ensemble = _concatenate(
        est.n_features_in_, outputs, parts, tree_output, est._baseline_prediction[0]
    )
    _add_bitsets(ensemble, category_parts)
    # The categorical columns pass through an OrdinalEncoder, which rejects infinity.
    encoded = [column for column, known in enumerate(categories) if known is not None]
    options: Options = (
        {"check": "infinite", "check_columns": encoded} if encoded else {"check": "none"}
    )
    if not classifier:
        return ensemble, options | {"link": "exp" if link == "LogLink" else "identity"}
    proba = "binary_sigmoid" if outputs == 1 else "softmax"
    return ensemble, options | {"proba": proba, "decision": "raw"}


def _add_bitsets(ensemble: TreeEnsemble, parts: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Lay the categorical nodes' bitsets end to end in ``category_bits``."""
    first = 0
    words = []
    for at, bitsets in parts:
        count = bitsets.shape[1]
        ensemble.category_start[at] = first + count * np.arange(len(at))
        ensemble.category_words[at] = count
        words.append(bitsets.ravel())
        first += bitsets.size
    if words:
        ensemble.category_bits = np.concatenate(words).astype(np.uint32)


# endregion

FAMILIES: dict[type, Callable[[object], tuple[TreeEnsemble, Options]]] = {
    DecisionTreeClassifier: _forest,
    DecisionTreeRegressor: _forest,
    RandomForestClassifier: _forest,
    RandomForestRegressor: _forest,
    ExtraTreesClassifier: _forest,
    ExtraTreesRegressor: _forest,
    GradientBoostingClassifier: _gradient_boosting,
    GradientBoostingRegressor: _gradient_boosting,
    HistGradientBoostingClassifier: _histogram,
    HistGradientBoostingRegressor: _histogram,
}


def read_ensemble(
    est: object, coded: frozenset[int] = frozenset()
) -> tuple[TreeEnsemble, Options]:
    """A fitted single-output tree model as a ``TreeEnsemble`` and its prediction options;
    the ``coded`` columns (HistGradientBoosting only) hold category codes."""
    if getattr(est, "n_outputs_", 1) != 1:
        raise Unsupported(f"{type(est).__name__} with several outputs is not supported natively")
    if coded:
        if FAMILIES[type(est)] is not _histogram:
            raise Unsupported(f"{type(est).__name__} does not read category columns natively")
        return _histogram(est, coded)
    return FAMILIES[type(est)](est)


def extract(est: object, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    """The ``pipeline.predict`` of ``est.method`` (see the module docstring)."""
    from .params import Lowered  # params imports this module for its extractors

    name = type(est).__name__
    if any(kind not in ("f64", "category") for kind in kinds):
        raise Unsupported(f"{name} needs numeric input")
    ensemble, options = read_ensemble(
        est, frozenset(i for i, kind in enumerate(kinds) if kind == "category")
    )
    if ensemble.features != len(kinds):
        raise Unsupported(f"{name} was fitted on {ensemble.features} features, got {len(kinds)}")
    methods = ("predict",)
    if "proba" in options:  # the exponential loss's probabilities are expit(2 * raw)
        methods += ("predict_proba",) if getattr(est, "loss", "") != "exponential" else ()
        methods += ("decision_function",) if options["proba"] != "none" else ()
    if method not in methods:
        raise Unsupported(f"{name}.{method} is not supported natively")
    if method == "predict" and ensemble.outputs == 1 and options.get("decision") == "proba":
        raise Unsupported(f"{name}.predict of a single class is not supported natively")
    params: dict[str, Attribute] = ensemble.params(blobs, name.lower())
    for key, value in options.items():
        params[key] = (
            StringAttr(value)
            if isinstance(value, str)
            else ArrayAttr([IntegerAttr(c, i64) for c in value])
        )
    return Lowered(
        "predict", name, params, class_indices=method == "predict" and "proba" in options
    )


EXTRACTORS: dict[type, Extractor] = dict.fromkeys(FAMILIES, extract)
"""The tree models' extractors, merged into ``params.EXTRACTORS``."""
