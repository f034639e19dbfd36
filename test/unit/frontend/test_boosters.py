"""LightGBM and XGBoost models read into ``TreeEnsemble``: the numpy reference semantics
(``reference_predict``) must give the library's own raw scores, bit for bit, on real rows
and on adversarial ones (NaN, ±inf, ±0, values at every threshold and one ulp either
side, in double and in float32, categories that are negative, fractional, huge or NaN)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from tree_values import around_threshold

from willump_mlir.blobs import BlobStore
from willump_mlir.frontend.boosters import booster_model, extract, methods
from willump_mlir.frontend.params import lower_estimator
from willump_mlir.frontend.spec import Unsupported
from willump_mlir.frontend.trees import CATEGORICAL, ZERO_THRESHOLD, TreeEnsemble

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore:The argument 'eval_set' is deprecated"),
]
ONE_THREAD = {"n_jobs": 1}  # two shared cores: OpenMP spinning on more threads is slow
CATEGORY = 3  # the categorical column of the data


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with NaN in column 0, zeros in column 4, categories 0..7 in column 3; binary and
    3-class labels."""
    rng = np.random.default_rng(0)
    n = 600
    X = rng.normal(size=(n, 5))
    X[:, CATEGORY] = rng.integers(0, 8, n)
    X[rng.random(n) < 0.15, 0] = np.nan
    X[rng.random(n) < 0.3, 4] = 0.0
    signal = np.nan_to_num(X[:, 0]) + X[:, 1] + (X[:, CATEGORY] % 3 == 1) + (X[:, 4] == 0)
    y = (signal > 0.8).astype(np.int64)
    y3 = (np.nan_to_num(X[:, 0]) > 0).astype(np.int64) + (X[:, CATEGORY] > 3)
    return X, y, y3


def adversarial(X: np.ndarray, ensemble: TreeEnsemble) -> np.ndarray:
    """Real rows, special values, and every split's feature at its threshold ± one ulp
    (double and float32)."""
    rows = [X[:100]]
    special = X[:12].copy()
    special[0] = np.nan
    special[1] = np.inf
    special[2] = -np.inf
    special[3] = 0.0
    special[4] = -0.0
    special[5] = ZERO_THRESHOLD
    special[6] = -ZERO_THRESHOLD
    special[7] = 1e-36
    special[8, CATEGORY] = -0.5  # category 0 for LightGBM, invalid for XGBoost
    special[9, CATEGORY] = 2.7
    special[10, CATEGORY] = 3e9
    special[11, CATEGORY] = -3.0
    rows.append(special)
    numeric = (ensemble.feature >= 0) & (ensemble.flags & CATEGORICAL == 0)
    for f, t in zip(ensemble.feature[numeric], ensemble.threshold[numeric], strict=True):
        values = around_threshold(t)
        edge = np.repeat(X[100:101], len(values), axis=0)
        edge[:, f] = values
        rows.append(edge)
    return np.vstack(rows)


def assert_bits(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal bit for bit (same dtype, NaN where NaN), with the first differing row named."""
    got, expected = np.asarray(got), np.asarray(expected).reshape(np.shape(got))
    assert got.dtype == expected.dtype
    same = (got == expected) | (np.isnan(got) & np.isnan(expected))
    rows = np.flatnonzero(~same.reshape(len(same), -1).all(axis=1))
    assert not len(rows), f"{len(rows)} rows differ, first {rows[0]}: {got[rows[0]]} != " \
        f"{expected[rows[0]]}"  # fmt: skip


# region LightGBM


def _lgbm_raw(model: object, X: np.ndarray) -> np.ndarray:
    raw = model.predict(X, raw_score=True)
    return raw.reshape(len(X), -1)


LGBM_MISSING = {"nan": {}, "none": {"use_missing": False}}


@pytest.mark.parametrize("missing", list(LGBM_MISSING))
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression", "poisson"])
def test_lightgbm_raw_scores(data: tuple, task: str, missing: str) -> None:
    X, y, y3 = data
    options = dict(n_estimators=15, num_leaves=8, min_child_samples=5, min_data_per_group=5,
                   verbose=-1, **ONE_THREAD)  # fmt: skip
    options |= LGBM_MISSING[missing]
    if task in ("binary", "multiclass"):
        model = lgb.LGBMClassifier(**options).fit(
            X, y if task == "binary" else y3, categorical_feature=[CATEGORY]
        )
    else:
        signal = X[:, 1] + 5.0 * np.isin(X[:, CATEGORY], [1, 4, 6])
        target = signal * 3 if task == "regression" else np.exp(signal / 3)
        model = lgb.LGBMRegressor(objective=task, **options).fit(
            X, target, categorical_feature=[CATEGORY]
        )
    read = booster_model(model)
    assert read.ensemble.trees == len(model.booster_.dump_model()["tree_info"])
    assert np.any(read.ensemble.flags & CATEGORICAL)
    T = adversarial(X, read.ensemble)
    assert_bits(read.ensemble.reference_predict(T), _lgbm_raw(model, T))
    assert read.link == {"poisson": "exp", "regression": "identity"}.get(task, "logit")


def test_lightgbm_zero_as_missing(data: tuple) -> None:
    """Missing type Zero: 0, tiny values and NaN all go the default way."""
    X, y, _ = data
    model = lgb.LGBMClassifier(n_estimators=15, num_leaves=8, verbose=-1, zero_as_missing=True,
                               **ONE_THREAD).fit(X, y)  # fmt: skip
    read = booster_model(model)
    T = adversarial(X, read.ensemble)
    assert_bits(read.ensemble.reference_predict(T), _lgbm_raw(model, T))


def test_lightgbm_zero_as_missing_at_kzerothreshold(data: tuple) -> None:
    X, y, _ = data
    model = lgb.LGBMClassifier(n_estimators=15, num_leaves=8, verbose=-1, zero_as_missing=True,
                               **ONE_THREAD).fit(X, y)  # fmt: skip
    T = np.repeat(X[:20], 2, axis=0)
    T[::2, 4], T[1::2, 4] = ZERO_THRESHOLD, -ZERO_THRESHOLD
    assert_bits(booster_model(model).ensemble.reference_predict(T), _lgbm_raw(model, T))


def test_lightgbm_threshold_next_to_zero() -> None:
    """LightGBM reads |x| <= 1e-35f as 0: a split at -1e-35f sends -1e-35f right."""
    X = np.repeat([[-1.0], [0.0], [1.0]], 40, axis=0)
    y = (X[:, 0] >= 0).astype(np.int64)
    model = lgb.LGBMClassifier(n_estimators=3, min_child_samples=5, verbose=-1, **ONE_THREAD)
    model.fit(X, y)
    read = booster_model(model)
    edges = [-ZERO_THRESHOLD, ZERO_THRESHOLD, -1e-36, 1e-36, -0.0, np.nan,
             math.nextafter(-ZERO_THRESHOLD, -1), math.nextafter(ZERO_THRESHOLD, 1)]  # fmt: skip
    T = np.array(edges).reshape(-1, 1)
    assert_bits(read.ensemble.reference_predict(T), _lgbm_raw(model, T))


def test_lightgbm_best_iteration_and_rf(data: tuple) -> None:
    X, y, _ = data
    model = lgb.LGBMClassifier(n_estimators=40, verbose=-1, **ONE_THREAD).fit(
        X[:400], y[:400], eval_set=[(X[400:], 1 - y[400:])],  # worse with every tree
        callbacks=[lgb.early_stopping(3, verbose=False)],
    )  # fmt: skip
    assert 0 < model.best_iteration_ < 40
    read = booster_model(model)
    assert read.ensemble.trees == model.best_iteration_
    assert_bits(read.ensemble.reference_predict(X), _lgbm_raw(model, X))
    forest = lgb.LGBMRegressor(boosting_type="rf", n_estimators=10, subsample=0.8,
                               subsample_freq=1, verbose=-1, **ONE_THREAD)  # fmt: skip
    forest.fit(X, X[:, 1])
    read = booster_model(forest)
    assert read.ensemble.divisor == 10
    assert_bits(read.ensemble.reference_predict(X)[:, 0], forest.predict(X))


def test_lightgbm_booster(data: tuple) -> None:
    X, y, _ = data
    params = {"objective": "binary", "verbose": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(X, y), 5)
    read = booster_model(booster)
    assert methods(booster) == ("predict",)
    assert_bits(read.ensemble.reference_predict(X), _lgbm_raw(booster, X))


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"objective": "binary", "sigmoid": 2.0}, "sigmoid != 1"),
        ({"objective": "multiclassova", "num_class": 3}, "multiclassova"),
        ({"objective": "cross_entropy"}, "cross_entropy"),
        ({"objective": "regression", "reg_sqrt": True}, "reg_sqrt"),
        ({"objective": "regression", "linear_tree": True}, "linear_tree"),
        ({"objective": "regression", "linear_trees": True}, "linear_tree"),  # an alias
    ],
)
def test_lightgbm_unsupported(data: tuple, params: dict, reason: str) -> None:
    X, y, y3 = data
    label = y3 if params.get("num_class") else y
    booster = lgb.train(params | {"verbose": -1, "num_threads": 1}, lgb.Dataset(X, label), 2)
    with pytest.raises(Unsupported, match=reason):
        booster_model(booster)


def test_lightgbm_pandas_categorical_unsupported(data: tuple) -> None:
    X, y, _ = data
    frame = pd.DataFrame({"a": X[:, 1], "c": pd.Categorical(X[:, CATEGORY].astype(int))})
    model = lgb.LGBMClassifier(n_estimators=2, verbose=-1, **ONE_THREAD).fit(frame, y)
    with pytest.raises(Unsupported, match="pandas categorical"):
        booster_model(model)


# endregion
# region XGBoost


def _xgb_margin(booster: object, X: np.ndarray) -> np.ndarray:
    return booster.inplace_predict(X, predict_type="margin").reshape(len(X), -1)


def _xgb_train(X: np.ndarray, y: np.ndarray, params: dict, rounds: int,
               categorical: bool) -> object:  # fmt: skip
    types = ["q", "q", "q", "c", "q"] if categorical else None
    dtrain = xgb.DMatrix(X, label=y, feature_types=types, enable_categorical=categorical)
    return xgb.train(params | {"max_depth": 3, "max_cat_to_onehot": 1, "nthread": 1}, dtrain,
                     rounds)  # fmt: skip


@pytest.mark.parametrize("categorical", [False, True])
@pytest.mark.parametrize("objective", ["binary:logistic", "multi:softprob", "reg:squarederror"])
def test_xgboost_margins(data: tuple, objective: str, categorical: bool) -> None:
    X, y, y3 = data
    params: dict = {"objective": objective}
    label = {"binary:logistic": y, "multi:softprob": y3}.get(objective, X[:, 1] * 3)
    if objective == "multi:softprob":
        params["num_class"] = 3
    booster = _xgb_train(X, label, params, 12, categorical)
    read = booster_model(booster)
    ensemble = read.ensemble
    assert (ensemble.compare, ensemble.input_precision, ensemble.sum_precision) == \
        ("lt", "f32", "f32")  # fmt: skip
    assert bool(np.any(ensemble.flags & CATEGORICAL)) == categorical
    T = adversarial(X, ensemble)
    assert_bits(ensemble.reference_predict(T), _xgb_margin(booster, T))


@pytest.mark.parametrize(
    "objective",
    ["reg:squaredlogerror", "reg:absoluteerror", "reg:pseudohubererror", "reg:quantileerror"],
)
def test_xgboost_identity_regressions(data: tuple, objective: str) -> None:
    X, _, _ = data
    alpha = {"quantile_alpha": 0.3} if objective == "reg:quantileerror" else {}
    model = xgb.XGBRegressor(objective=objective, n_estimators=8, max_depth=3, **alpha,
                             **ONE_THREAD)  # fmt: skip
    model.fit(X, np.abs(X[:, 1] * 3 + X[:, 2]))
    read = booster_model(model)
    assert read.link == "identity"
    T = adversarial(X, read.ensemble)
    assert_bits(read.ensemble.reference_predict(T)[:, 0].astype(np.float32), model.predict(T))


def test_xgboost_sklearn_wrappers(data: tuple) -> None:
    """The wrappers' base score (a fitted intercept, logit for binary) and early stopping."""
    X, y, y3 = data
    model = xgb.XGBClassifier(n_estimators=40, max_depth=2, early_stopping_rounds=2,
                              **ONE_THREAD)  # fmt: skip
    model.fit(X[:400], y[:400], eval_set=[(X[400:], 1 - y[400:])], verbose=False)
    read = booster_model(model)
    assert read.ensemble.trees == model.best_iteration + 1 < 40
    assert read.ensemble.base[0] != 0.0
    margin = model.predict(X, output_margin=True).reshape(len(X), -1)
    assert_bits(read.ensemble.reference_predict(X), margin)
    regressor = xgb.XGBRegressor(n_estimators=10, max_depth=3, **ONE_THREAD).fit(X, X[:, 1])
    read = booster_model(regressor)
    margin = regressor.predict(X, output_margin=True).reshape(len(X), -1)
    assert_bits(read.ensemble.reference_predict(X), margin)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"missing": 0.0}, "missing"),
        ({"objective": "binary:logitraw"}, "binary:logitraw"),
        ({"booster": "gblinear"}, "gblinear"),
        ({"objective": "multi:softmax", "num_class": 2}, "multi:softmax"),
    ],
)  # fmt: skip
def test_xgboost_unsupported(data: tuple, options: dict, reason: str) -> None:
    X, y, _ = data
    model = xgb.XGBClassifier(n_estimators=2, **ONE_THREAD, **options).fit(X, y)
    with pytest.raises(Unsupported, match=reason):
        booster_model(model)


# endregion
# region Extractor


def test_extract_params_and_methods(data: tuple) -> None:
    X, y, _ = data
    model = xgb.XGBClassifier(n_estimators=3, max_depth=2, **ONE_THREAD).fit(X, y)
    blobs = BlobStore()
    lowered = lower_estimator(model, "predict_proba", ["f64"] * 5, blobs)
    assert (lowered.estimator, lowered.method) == ("XGBClassifier", "predict_proba")
    assert lowered.params["proba"].data == "binary_sigmoid"
    assert lowered.params["decision"].data == "proba"
    assert lowered.params["sum_precision"].data == "f32"
    booster = lower_estimator(model.get_booster(), "inplace_predict", ["f64"] * 5, blobs)
    assert (booster.estimator, booster.method, booster.column) == \
        ("xgboost.Booster", "predict_proba", 1)  # fmt: skip
    regressor = lgb.LGBMRegressor(n_estimators=2, objective="gamma", verbose=-1, **ONE_THREAD)
    regressor.fit(X, np.exp(X[:, 1]))
    lowered = extract(regressor, "predict", ["f64"] * 5, blobs)
    assert lowered.params["link"].data == "c_exp"  # the C library's, as LightGBM's C++
    with pytest.raises(Unsupported, match="fitted on 5 features, got 4"):
        extract(regressor, "predict", ["f64"] * 4, blobs)
    with pytest.raises(Unsupported, match="numeric"):
        extract(regressor, "predict", ["f64"] * 4 + ["str"], blobs)
    with pytest.raises(Unsupported, match="predict_proba"):
        extract(regressor, "predict_proba", ["f64"] * 5, blobs)


def test_library_objects_that_are_not_models() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = lgb.Dataset(np.zeros((2, 1)))
    assert methods(dataset) == ()
    with pytest.raises(Unsupported, match="Dataset"):
        extract(dataset, "predict", ["f64"], BlobStore())


# endregion
