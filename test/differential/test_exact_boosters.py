"""Differential tests: compiled LightGBM and XGBoost models return exactly what the library
returns (same dtype, bit for bit: XGBoost's float32 probabilities included), row by row,
on real rows and adversarial ones (NaN, ±inf, ±0, every threshold and one ulp either side
in double and float32, odd categories), on one row and on a batch that runs threaded."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from tree_values import around_threshold, odd_categories

import willump_mlir as wm
from willump_mlir.frontend.boosters import booster_model
from willump_mlir.frontend.trees import ZERO_THRESHOLD

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
CATEGORY = 3
ONE_THREAD = {"n_jobs": 1}  # two shared cores: OpenMP spinning on more threads is slow


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    n = 500
    X = rng.normal(size=(n, 5))
    X[:, CATEGORY] = rng.integers(0, 8, n)
    X[rng.random(n) < 0.15, 0] = np.nan
    X[rng.random(n) < 0.3, 4] = 0.0
    signal = np.nan_to_num(X[:, 0]) + X[:, 1] + 2.0 * np.isin(X[:, CATEGORY], [1, 4, 6])
    y = (signal > 0.8).astype(np.int64)
    y3 = (np.nan_to_num(X[:, 0]) > 0).astype(np.int64) + (X[:, CATEGORY] > 3)
    return X, y, y3


def rows(X: np.ndarray, model: object) -> np.ndarray:
    """Real rows, special values, and each split's feature at its threshold ± one ulp."""
    ensemble = booster_model(model).ensemble
    special = np.repeat(X[:1], 14, axis=0)
    special[:7] = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, ZERO_THRESHOLD, 1e39])[:, None]
    special[7:, CATEGORY] = [-0.5, 2.7, 3e9, -3.0, np.nan, 7.0, 1e-300]
    parts = [X[:150], special]
    numeric = ensemble.feature >= 0
    for f, t in zip(ensemble.feature[numeric], ensemble.threshold[numeric], strict=True):
        values = around_threshold(t)
        edge = np.repeat(X[200:201], len(values), axis=0)
        edge[:, f] = values
        parts.append(edge)
    return np.vstack(parts)


def assert_exact(got: object, expected: object) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    same = (got == expected) | (np.isnan(got) & np.isnan(expected) if got.dtype.kind == "f"
                                else False)  # fmt: skip
    bad = np.flatnonzero(~same.reshape(len(same), -1).all(axis=1))
    assert not len(bad), f"{len(bad)} rows differ, first {bad[0]}: {got[bad[0]]} != " \
        f"{expected[bad[0]]}"  # fmt: skip


def assert_native(compiled: object) -> None:
    """Only the lookup of class labels (``classes_.take``) may run in Python."""
    explain = compiled.explain()
    python_ops = [line for line in explain.splitlines() if line.startswith("  - py")]
    assert all("classes_take" in line for line in python_ops), explain


def check(fn: Callable, model: object, X: np.ndarray, tree_layout: str) -> None:
    """Compile ``fn(X, model)`` natively (trees in ``tree_layout``), then compare on all rows,
    one row, a big batch."""
    compiled = wm.compile(fn, (X[:50], model), tree_layout=tree_layout)
    assert_native(compiled)
    T = rows(X, model)
    assert_exact(compiled(T, model), fn(T, model))
    assert_exact(compiled(T[7:8], model), fn(T[7:8], model))
    big = np.repeat(T, -(-2100 // len(T)), axis=0)  # >= 2,048 rows: two threads
    assert_exact(compiled(big, model), fn(big, model))


def proba(X: np.ndarray, model: object) -> np.ndarray:
    return model.predict_proba(X)


def predict(X: np.ndarray, model: object) -> np.ndarray:
    return model.predict(X)


def inplace(X: np.ndarray, model: object) -> np.ndarray:
    return model.inplace_predict(X)


# region LightGBM

LGBM = {"n_estimators": 12, "num_leaves": 8, "min_child_samples": 5, "min_data_per_group": 5,
        "verbose": -1, **ONE_THREAD}  # fmt: skip


@pytest.mark.parametrize("classes", [2, 3])
def test_lgbm_classifier(data: tuple, classes: int, tree_layout: str) -> None:
    X, y, y3 = data
    model = lgb.LGBMClassifier(**LGBM).fit(X, y if classes == 2 else y3,
                                           categorical_feature=[CATEGORY])  # fmt: skip
    check(proba, model, X, tree_layout)
    check(predict, model, X, tree_layout)


@pytest.mark.parametrize("options", [{}, {"objective": "poisson"}, {"zero_as_missing": True},
                                     {"use_missing": False}])  # fmt: skip
def test_lgbm_regressor(data: tuple, options: dict, tree_layout: str) -> None:
    X, _, _ = data
    target = np.exp(X[:, 1] / 2 + np.isin(X[:, CATEGORY], [1, 4, 6]))
    model = lgb.LGBMRegressor(**(LGBM | options)).fit(X, target, categorical_feature=[CATEGORY])
    check(predict, model, X, tree_layout)


@pytest.mark.parametrize("classes", [2, 3])
def test_lgbm_booster(data: tuple, classes: int, tree_layout: str) -> None:
    X, y, y3 = data
    params = {"objective": "binary"} if classes == 2 else {"objective": "multiclass",
                                                           "num_class": 3}  # fmt: skip
    dataset = lgb.Dataset(X, y if classes == 2 else y3, categorical_feature=[CATEGORY])
    booster = lgb.train(params | {"verbose": -1, "num_threads": 1}, dataset, 8)
    check(predict, booster, X, tree_layout)


# endregion
# region XGBoost

XGB = {"n_estimators": 12, "max_depth": 3, **ONE_THREAD}


@pytest.mark.parametrize("classes", [2, 3])
def test_xgb_classifier(data: tuple, classes: int, tree_layout: str) -> None:
    X, y, y3 = data
    model = xgb.XGBClassifier(**XGB).fit(X, y if classes == 2 else y3)
    check(proba, model, X, tree_layout)
    check(predict, model, X, tree_layout)


@pytest.mark.parametrize("objective", ["reg:squarederror", "reg:absoluteerror"])
def test_xgb_regressor(data: tuple, objective: str, tree_layout: str) -> None:
    X, _, _ = data
    check(predict, xgb.XGBRegressor(objective=objective, **XGB).fit(X, X[:, 1] * 3), X, tree_layout)


def test_xgb_random_forests(data: tuple, tree_layout: str) -> None:
    X, y, _ = data
    forest = xgb.XGBRFClassifier(n_estimators=8, max_depth=3, **ONE_THREAD).fit(X, y)
    check(proba, forest, X, tree_layout)
    check(predict, forest, X, tree_layout)
    check(
        predict,
        xgb.XGBRFRegressor(n_estimators=8, max_depth=3, **ONE_THREAD).fit(X, y),
        X,
        tree_layout,
    )


@pytest.mark.parametrize("objective", ["binary:logistic", "multi:softprob"])
def test_xgb_booster_categorical(data: tuple, objective: str, tree_layout: str) -> None:
    X, y, y3 = data
    params = {"objective": objective, "max_depth": 3, "max_cat_to_onehot": 1, "nthread": 1}
    if objective == "multi:softprob":
        params["num_class"] = 3
    label = y if objective == "binary:logistic" else y3
    types = ["q", "q", "q", "c", "q"]
    dtrain = xgb.DMatrix(X, label=label, feature_types=types, enable_categorical=True)
    check(inplace, xgb.train(params, dtrain, 10), X, tree_layout)


@pytest.mark.parametrize("base_score", [1e-45, 0.3, 1 - 1e-9])
def test_xgb_base_score(data: tuple, base_score: float, tree_layout: str) -> None:
    """The base score's logit: XGBoost clamps p to [1e-6f, 1 - 1e-6f] first."""
    X, y, _ = data
    model = xgb.XGBClassifier(n_estimators=3, max_depth=2, base_score=base_score,
                              **ONE_THREAD).fit(X, y)  # fmt: skip
    check(proba, model, X, tree_layout)
    check(predict, model, X, tree_layout)


def test_xgb_sigmoid_clamp(data: tuple, tree_layout: str) -> None:
    """Margins below -88.7: XGBoost's sigmoid clamps the exponent to 88.7f, so p is a
    denormal float, not 0."""
    X, _, _ = data
    y = np.zeros(len(X), dtype=np.int64)
    y[:2] = 1  # rare positives: strongly negative leaves
    model = xgb.XGBClassifier(n_estimators=90, max_depth=1, learning_rate=1.0, base_score=1e-6,
                              reg_lambda=0.0, min_child_weight=0, **ONE_THREAD)  # fmt: skip
    model.fit(X, y)
    margin = model.predict(X, output_margin=True)
    assert margin.min() < -88.7, margin.min()
    assert 0.0 < model.predict_proba(X)[:, 1].min() < 1e-38
    check(proba, model, X, tree_layout)


# endregion
# region Many categories (generated branches test bitsets of several words)


def test_many_categories(tree_layout: str) -> None:
    """A categorical column of 100 categories (bitsets of up to four words, which generated
    branches load from the blob), on every code, word boundary and odd value, batch and rows."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 3))
    X[:, 0] = rng.integers(0, 100, len(X))
    y = (np.isin(X[:, 0] % 9, [1, 4, 6, 7]) ^ (X[:, 1] > 0.5)).astype(np.int64)
    lgbm = lgb.LGBMClassifier(**(LGBM | {"n_estimators": 20, "max_cat_threshold": 64}))
    lgbm.fit(X, y, categorical_feature=[0])
    params = {"objective": "binary:logistic", "max_depth": 3, "max_cat_to_onehot": 1,
              "nthread": 1}  # fmt: skip
    dtrain = xgb.DMatrix(X, label=y, feature_types=["c", "q", "q"], enable_categorical=True)
    for fn, model in ((proba, lgbm), (inplace, xgb.train(params, dtrain, 10))):
        assert booster_model(model).ensemble.category_words.max() >= 3
        compiled = wm.compile(fn, (X[:50], model), tree_layout=tree_layout)
        assert ('layout "branches"' in compiled.ir("feature")) == (tree_layout == "branches")
        values = odd_categories(4)
        T = X[np.arange(len(values)) % len(X)].copy()
        T[:, 0] = values
        assert_exact(compiled(T, model), fn(T, model))
        for i in range(len(T)):
            assert_exact(compiled(T[i : i + 1], model), fn(T[i : i + 1], model))


# endregion


def test_frame_input(data: tuple, tree_layout: str) -> None:
    """``model.predict_proba(frame[FEATURES])`` as the movielens workload calls it."""
    X, y, _ = data
    features = ["a", "b", "c", "d", "e"]
    frame = pd.DataFrame(X, columns=features).assign(title="x")

    def score(frame: pd.DataFrame, model: object) -> np.ndarray:
        return model.predict_proba(frame[features])[:, 1]

    for model in (lgb.LGBMClassifier(**LGBM).fit(frame[features], y),
                  xgb.XGBClassifier(**XGB).fit(frame[features], y)):  # fmt: skip
        compiled = wm.compile(score, (frame.iloc[:50], model), tree_layout=tree_layout)
        assert_native(compiled)
        assert_exact(compiled(frame, model), score(frame, model))


def test_unsupported_runs_in_python(data: tuple, tree_layout: str) -> None:
    """What is not compiled still runs, in Python, and ``explain()`` says why."""
    X, _, _ = data
    linear = lgb.LGBMRegressor(n_estimators=3, linear_tree=True, **ONE_THREAD, verbose=-1)
    linear.fit(X, X[:, 1])
    compiled = wm.compile(predict, (X[:50], linear), tree_layout=tree_layout)
    assert "linear_tree=True" in compiled.explain()
    assert_exact(compiled(X, linear), predict(X, linear))

    def raw(X: np.ndarray, model: object) -> np.ndarray:
        return model.predict(X, raw_score=True)

    model = lgb.LGBMClassifier(**LGBM).fit(X, X[:, 1] > 0)
    compiled = wm.compile(raw, (X[:50], model), tree_layout=tree_layout)
    assert "runs in Python" in compiled.explain()
    assert_exact(compiled(X, model), raw(X, model))
