"""Differential tests of the complete top levels of node arrays (``top N`` of
``feature.tree_ensemble``, issue 12 section 4): the top levels of every tree laid out as a
complete binary tree, walked by index arithmetic, a leaf above the last of them padded by
nodes that always go right. Missing values in both default directions, values exactly at
each float32 threshold and one ulp either side, categorical splits, several classes, padded
(unbalanced, single-leaf) trees and every batch size around the block and walk boundaries
(empty, 1, 7, 8, 64, ...) return exactly what XGBoost, LightGBM or scikit-learn return."""

from __future__ import annotations

import numpy as np
import pytest
from notebook_check import same_outcome
from sklearn.ensemble import ExtraTreesRegressor
from test_large_ensembles import adversarial, check_sizes, float32_range, predict, proba

from willump_mlir.blobs import BlobStore
from willump_mlir.frontend.boosters import booster_model
from willump_mlir.frontend.sklearn_trees import read_ensemble
from willump_mlir.passes.choose_tree_layout import (
    ChooseTreeLayoutPass,
    node_depths,
    top_numbering,
)

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
ONE_THREAD = {"n_jobs": 1}


ALL_LEVELS = ChooseTreeLayoutPass(layout="nodes", top_fill=0.0)
"""Every ensemble walks its node arrays, as a large one does, with all ``top_levels`` levels
complete however much padding that takes (the most padding to walk through)."""
TOP_LEVELS = ALL_LEVELS.top_levels


def missing_data(rows: int = 1500, features: int = 6, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Rows with NaN in every column, and labels that depend on which values are missing
    (so splits learn both default directions)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features)).astype(np.float32).astype(np.float64)
    X[rng.random(X.shape) < 0.15] = np.nan
    score = np.nan_to_num(X[:, 0], nan=2.0) - np.nan_to_num(X[:, 1], nan=-2.0) + X[:, 2] ** 2
    return X, (np.nan_to_num(score) > 0.5).astype(int)


def top_levels(compiled: object) -> int:
    """The ``top N`` of the compiled pipeline's ensemble (0 without)."""
    ir = compiled.ir("feature")  # type: ignore[attr-defined]
    words = ir.split(" top ")
    return int(words[1].split()[0]) if len(words) > 1 else 0


def check_with_empty(fn: object, model: object, X: np.ndarray, rows: np.ndarray) -> int:
    """``check_sizes``, an empty batch, and the top levels the compiled ensemble has."""
    compiled = check_sizes(fn, model, X, rows, ALL_LEVELS)
    same_outcome(compiled, fn, rows[:0], model, argument="X")  # scikit-learn refuses 0 rows
    return top_levels(compiled)


def test_xgboost_missing_both_directions_and_thresholds() -> None:
    """Depth-6 XGBoost: NaN goes each split's default way (left and right both occur), and
    values at each float32 threshold and one ulp either side route as XGBoost's
    ``float32(x) < threshold``."""
    X, y = missing_data()
    model = xgb.XGBClassifier(n_estimators=30, max_depth=6, **ONE_THREAD).fit(X, y)
    ensemble = booster_model(model).ensemble
    split = ensemble.feature >= 0
    default_left = ensemble.flags[split] & 1
    assert default_left.any() and not default_left.all()
    rows = adversarial(X, ensemble.feature, ensemble.threshold)
    assert check_with_empty(proba, model, X, rows) == TOP_LEVELS


def test_xgboost_multiclass() -> None:
    """Three classes: three trees a round, each with its own top levels."""
    X, y = missing_data(seed=1)
    y3 = y + (np.nan_to_num(X[:, 3]) > 0.7)
    model = xgb.XGBClassifier(n_estimators=12, max_depth=5, **ONE_THREAD).fit(X, y3)
    ensemble = booster_model(model).ensemble
    rows = adversarial(X, ensemble.feature, ensemble.threshold)
    assert check_with_empty(proba, model, X, rows) == TOP_LEVELS


def test_xgboost_categorical_splits() -> None:
    """Categorical splits inside the top levels (bitsets, out-of-range and NaN codes)."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(1200, 3))
    X[:, 0] = rng.integers(0, 12, len(X))
    X[rng.random(len(X)) < 0.1, 0] = np.nan
    y = (np.isin(X[:, 0], [1, 4, 6, 7]) ^ (X[:, 1] > 0.3)).astype(int)
    params = {"objective": "binary:logistic", "max_depth": 4, "max_cat_to_onehot": 1,
              "nthread": 1}  # fmt: skip
    dtrain = xgb.DMatrix(X, label=y, feature_types=["c", "q", "q"], enable_categorical=True)
    booster = xgb.train(params, dtrain, 10)
    assert booster_model(booster).ensemble.category_words.max() >= 1

    def inplace(X: np.ndarray, model: object) -> np.ndarray:
        return model.inplace_predict(X)  # type: ignore[attr-defined]

    rows = np.vstack([X, X[:12]])
    rows[-12:, 0] = [-1.0, 0.5, 11.0, 12.0, 1e10, np.nan, 3.0, 4.0, 6.99, -0.0, 31.0, 32.0]
    assert check_with_empty(inplace, booster, X, rows) == TOP_LEVELS


def test_single_leaf_trees_are_padded() -> None:
    """Trees that are a single leaf (the first tree fits exactly, nothing is left to learn)
    are padding only: nodes that go right whatever the value, NaN included."""
    X, _ = missing_data(rows=200, features=3)
    X[:, 0] = np.random.default_rng(3).normal(size=len(X))
    y = (X[:, 0] > 0).astype(float)
    model = xgb.XGBRegressor(n_estimators=4, max_depth=2, learning_rate=1.0, reg_lambda=0.0,
                             base_score=0.5, **ONE_THREAD).fit(X, y)  # fmt: skip
    ensemble = booster_model(model).ensemble
    assert (ensemble.feature[ensemble.roots] < 0).sum() == 3  # three trees are one leaf
    assert check_with_empty(predict, model, X, X) == TOP_LEVELS


def test_unbalanced_trees() -> None:
    """Deep, unbalanced trees: rows leave the top levels at a leaf, at padding or at a
    deeper node."""
    rng = np.random.default_rng(5)
    X = rng.exponential(size=(400, 4))
    y = np.log1p(X[:, 0]) * X[:, 1] + rng.normal(size=400) * 0.01
    model = ExtraTreesRegressor(n_estimators=6, random_state=0, **ONE_THREAD).fit(X, y)
    ensemble = read_ensemble(model)[0]
    rows = float32_range(adversarial(X, ensemble.feature, ensemble.threshold))
    assert check_with_empty(predict, model, X, rows) == TOP_LEVELS


def test_lightgbm_zero_as_missing() -> None:
    """LightGBM's float64 comparisons and zero-as-missing splits in the top levels."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(800, 4))
    X[rng.random(len(X)) < 0.3, 2] = 0.0
    X[rng.random(len(X)) < 0.2, 0] = np.nan
    y = (np.nan_to_num(X[:, 0]) + X[:, 1] + (X[:, 2] == 0) > 0.4).astype(int)
    model = lgb.LGBMClassifier(n_estimators=10, num_leaves=15, min_child_samples=5,
                               zero_as_missing=True, verbose=-1, **ONE_THREAD)  # fmt: skip
    model.fit(X, y)
    ensemble = booster_model(model).ensemble
    rows = adversarial(X, ensemble.feature, ensemble.threshold)
    assert check_with_empty(proba, model, X, rows) == TOP_LEVELS


def test_numbering_is_complete_binary() -> None:
    """``top_numbering`` (``choose-tree-layout`` re-laying the frontend's plain node arrays):
    array node ``root + 2i + 1`` (``+ 2i + 2``) of the top levels is the left (right) child
    of ``root + i``, or the leaf it pads; both the kernel's walk (index arithmetic through
    the top levels, padding going right, then the children) and a walk following the
    children reach the leaf the ensemble's reference walk reaches."""
    X, y = missing_data(rows=600)
    model = xgb.XGBClassifier(n_estimators=6, max_depth=4, **ONE_THREAD).fit(X, y)
    ensemble = booster_model(model).ensemble
    blobs = BlobStore()
    params = ensemble.params(blobs, "m")
    nodes, thresholds, plain_roots = (
        blobs[params[k].symbol.data] for k in ("nodes", "thresholds", "roots")
    )  # type: ignore[attr-defined]
    levels = 3
    depths = node_depths(nodes, plain_roots)
    source, left, right, roots = top_numbering(nodes, plain_roots, depths, levels)
    split = source >= 0  # else padding: the leaf ~source
    for root in roots:
        for i in range((1 << (levels - 1)) - 1):
            n = source[root + i]
            children = (nodes[n, 2], nodes[n, 3]) if split[root + i] else (n, n)
            assert (source[root + 2 * i + 1], source[root + 2 * i + 2]) == children

    def goes_left(n: int, x: np.ndarray) -> bool:
        if not split[n]:
            return False  # padding: NaN threshold, no flags
        s = source[n]
        value = np.float32(x[nodes[s, 0]])
        if np.isnan(value):
            return bool(nodes[s, 1] & 1)
        return bool(value < thresholds[s])

    leaf = np.flatnonzero(ensemble.feature < 0)
    for t, root in enumerate(roots):
        expected = ensemble.leaves(X[:50], t)
        for x, reached in zip(X[:50], expected, strict=True):
            i = 0
            for _ in range(levels - 1):
                i = 2 * i + (1 if goes_left(root + i, x) else 2)
            n = left[root + i] if goes_left(root + i, x) else right[root + i]
            while n >= 0:
                n = left[n] if goes_left(n, x) else right[n]
            assert leaf[~n] == reached
            n = root
            while n >= 0:
                assert split[n]  # following children never meets padding
                n = left[n] if goes_left(n, x) else right[n]
            assert leaf[~n] == reached
