"""Monotone scalers folded into tree thresholds by ``fold-scalers``: the same routing for
every finite value, the same errors, and a clear note where folding does not apply."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from xdsl.dialects.builtin import StringAttr
from xdsl.ir import Block

import willump_mlir as wm
from willump_mlir.blobs import BlobStore
from willump_mlir.dialects.pipeline import PredictOp, TransformOp, batch_of, vector_of
from willump_mlir.frontend.params import lower_estimator
from willump_mlir.frontend.sklearn_trees import read_ensemble
from willump_mlir.frontend.trees import TreeEnsemble
from willump_mlir.passes.fold_scalers import fold

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")
SCALERS = [StandardScaler, RobustScaler, MaxAbsScaler, MinMaxScaler]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 5)) * [1.0, 1e4, 1e-4, 3.0, 1.0] + [0.0, 5e5, 0.0, -2.0, 0.0]
    return X, (X[:, 0] + X[:, 3] / 3 > -0.5).astype(np.int64)


def fold_scaler(ensemble: TreeEnsemble, scaler: object) -> TreeEnsemble:
    """``ensemble`` with the fitted ``scaler`` folded in by the pass: ``scaler``'s
    ``pipeline.transform`` feeding the ensemble's ``pipeline.predict`` (which checks
    nothing), folded, and the folded thresholds read back into the ensemble."""
    store, width = BlobStore(), ensemble.features
    params = ensemble.params(store, "model")
    params |= {"check": StringAttr("none"), "link": StringAttr("identity")}
    block = Block(arg_types=[batch_of(width)])
    lowered = lower_estimator(scaler, "transform", ["f64"] * width, store)
    transform = TransformOp(lowered.estimator, block.args[0], lowered.params, batch_of(width))
    predict = PredictOp("HistGradientBoostingRegressor", "predict", transform.result, params,
                        vector_of())  # fmt: skip
    block.add_ops([transform, predict])
    folded = fold(predict, store)
    assert folded is not None and folded.params.data["input_precision"] == StringAttr("f64")
    assert folded.input is block.args[0] and transform.parent is None  # the scaler is gone
    thresholds = store.array(folded.params.data["thresholds"])  # type: ignore[arg-type]
    internal = np.flatnonzero(ensemble.feature >= 0)  # the frontend's plain node order
    threshold = ensemble.threshold.copy()
    threshold[internal] = thresholds[: len(internal)]
    return replace(ensemble, threshold=threshold, input_precision="f64")


def around_thresholds(X: np.ndarray, features: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Rows with one value at each (raw) threshold and one ulp either side, plus extremes."""
    parts = [X]
    for value in (thresholds, np.nextafter(thresholds, -np.inf), np.nextafter(thresholds, np.inf)):
        rows = np.repeat(X[:1], len(thresholds), axis=0)
        rows[np.arange(len(thresholds)), features] = value
        parts.append(rows)
    largest = np.finfo(np.float64).max
    parts.append(np.array([[largest] * 5, [-largest] * 5, [np.nan] * 5, [0.0] * 5, [-0.0] * 5]))
    return np.vstack(parts)


@pytest.mark.parametrize("scaler", SCALERS)
@pytest.mark.parametrize("model", ["hgb", "lgbm", "gb"])
def test_folded_ensemble_routes_like_the_scaled_one(data, scaler, model) -> None:
    X, y = data
    fitted = scaler().fit(X)
    Z = fitted.transform(X)
    if model == "hgb":
        ensemble = read_ensemble(HistGradientBoostingRegressor(max_iter=30).fit(Z, y))[0]
    elif model == "gb":  # float32 input: the fold itself still holds
        ensemble = read_ensemble(GradientBoostingClassifier(n_estimators=20).fit(Z, y))[0]
    else:
        from willump_mlir.frontend.boosters import booster_model

        booster = lgb.LGBMRegressor(n_estimators=30, verbose=-1).fit(Z, y)
        ensemble = booster_model(booster).ensemble
    folded = fold_scaler(ensemble, fitted)
    split = folded.feature >= 0
    rows = around_thresholds(X, folded.feature[split], folded.threshold[split])
    with np.errstate(all="ignore"):
        scaled = fitted.transform(rows)
    expected = ensemble.reference_predict(scaled)
    np.testing.assert_array_equal(folded.reference_predict(rows), expected)


@pytest.mark.parametrize("scaler", [StandardScaler, MinMaxScaler])
@pytest.mark.parametrize(
    "model",
    [
        HistGradientBoostingClassifier(max_iter=40),
        lgb.LGBMClassifier(n_estimators=40, verbose=-1),
        xgb.XGBClassifier(n_estimators=40, max_depth=4),
    ],
    ids=["hgb", "lgbm", "xgb"],
)
def test_compiled_pipeline_folds_the_scaler_and_stays_exact(
    data, scaler, model, tree_layout: str
) -> None:
    """Folded into float64 (HistGradientBoosting, LightGBM) and float32 (XGBoost) models."""
    X, y = data
    pipe = make_pipeline(scaler(), model).fit(X, y)

    def score(x: np.ndarray) -> np.ndarray:
        return pipe.predict_proba(x)

    compiled = wm.compile(score, (X[:20],), tree_layout=tree_layout)
    assert "is folded into the split thresholds" in compiled.explain()
    assert "feature.standardize" not in compiled.ir("feature")
    assert "feature.mul_add" not in compiled.ir("feature")
    rows = X[:500].copy()
    rows[::7, 2] = np.nan  # NaN passes the scaler and routes as missing
    np.testing.assert_array_equal(compiled(rows), score(rows))
    np.testing.assert_array_equal(compiled(rows[3:4]), score(rows[3:4]))
    rows[5, 1] = np.inf  # the scaler refuses infinity; so does the folded model
    with pytest.raises(ValueError, match="infinity"):
        score(rows)
    with pytest.raises(wm.InputError, match="infinity"):
        compiled(rows)


def test_models_that_check_their_input_keep_the_scaler_and_say_why(data, tree_layout: str) -> None:
    X, y = data
    pipe = make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=10)).fit(X, y)

    def score(x: np.ndarray) -> np.ndarray:
        return pipe.predict_proba(x)

    compiled = wm.compile(score, (X[:20],), tree_layout=tree_layout)
    assert "runs before the model" in compiled.explain()
    assert "checks its input" in compiled.explain()
    assert "feature.standardize" in compiled.ir("feature")
    huge = X[:3].copy()
    huge[1, 0] = 1e300  # finite, but infinite in float32 once scaled: sklearn refuses it
    with pytest.raises(ValueError):
        score(huge)
    with pytest.raises(wm.InputError):
        compiled(huge)
    np.testing.assert_allclose(compiled(X), score(X), rtol=0, atol=1e-12)


def test_only_tree_models_are_tried(data, tree_layout: str) -> None:
    X, y = data
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)

    def score(x: np.ndarray) -> np.ndarray:
        return pipe.predict_proba(x)

    explained = wm.compile(score, (X[:20],), tree_layout=tree_layout).explain()
    assert "folded" not in explained and "runs before the model" not in explained


def test_a_scaler_called_on_its_own_folds_too(data) -> None:
    """fold-scalers folds the IR, however the function is written: a scaler called apart
    from the model (not in a Pipeline) folds as the Pipeline's does."""
    X, y = data
    pipe = make_pipeline(RobustScaler(), lgb.LGBMClassifier(n_estimators=20, verbose=-1))
    pipe.fit(X, y)

    def score(x: np.ndarray) -> np.ndarray:
        return pipe[-1].predict_proba(pipe[0].transform(x))

    compiled = wm.compile(score, (X[:20],))
    assert "RobustScaler.transform is folded into the split thresholds" in compiled.explain()
    assert "  - RobustScaler.transform\n" not in compiled.explain()  # not a native step
    assert "feature.standardize" not in compiled.ir("feature")
    assert 'pipeline.transform "RobustScaler"' in compiled.ir("pipeline")  # the frontend's
    np.testing.assert_array_equal(compiled(X), score(X))


def test_fold_scalers_false_keeps_the_scaler_and_saves_that(data, tmp_path) -> None:
    X, y = data
    pipe = make_pipeline(StandardScaler(), HistGradientBoostingClassifier(max_iter=20))
    pipe.fit(X, y)

    def score(x: np.ndarray) -> np.ndarray:
        return pipe.predict_proba(x)

    kept = wm.compile(score, (X[:20],), fold_scalers=False)
    assert "feature.standardize" in kept.ir("feature")
    assert "not folded: fold-scalers{enabled=false}" in kept.explain()
    assert "  - StandardScaler.transform\n" in kept.explain()
    folded = wm.compile(score, (X[:20],))
    assert "feature.standardize" not in folded.ir("feature")
    assert kept.library.cache_key != folded.library.cache_key
    np.testing.assert_array_equal(kept(X), score(X))
    kept.save(tmp_path / "kept")
    loaded = wm.load(tmp_path / "kept")
    assert "feature.standardize" in loaded.ir("feature")
    np.testing.assert_array_equal(loaded(X), score(X))
