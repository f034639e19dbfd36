"""The canonical tree form: scikit-learn's models read into ``TreeEnsemble``s whose numpy
reference predicts bit for bit what scikit-learn predicts, and ``check`` errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
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

from willump_mlir.blobs import BlobStore
from willump_mlir.frontend.sklearn_trees import read_ensemble
from willump_mlir.frontend.spec import Unsupported
from willump_mlir.frontend.trees import (
    CATEGORICAL,
    INTEGER_CATEGORY,
    MISSING_LEFT,
    OUT_OF_RANGE_IS_MISSING,
    TreeEnsemble,
)

RNG = np.random.default_rng(0)


def _with_nan(X: np.ndarray) -> np.ndarray:
    X = X.copy()
    X[RNG.random(X.shape) < 0.1] = np.nan
    return X


def _classification(classes: int) -> tuple[np.ndarray, np.ndarray]:
    return make_classification(300, 5, n_informative=4, n_redundant=0, n_classes=classes,
                               random_state=classes)  # fmt: skip


def _regression() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(300, 5, random_state=0)
    return X, y


FORESTS = [
    DecisionTreeClassifier(max_depth=6, random_state=0),
    RandomForestClassifier(n_estimators=7, max_depth=5, random_state=0),
    ExtraTreesClassifier(n_estimators=7, max_depth=5, random_state=0),
]
REGRESSORS = [
    DecisionTreeRegressor(max_depth=6, random_state=0),
    RandomForestRegressor(n_estimators=7, max_depth=5, random_state=0),
    ExtraTreesRegressor(n_estimators=7, max_depth=5, random_state=0),
    GradientBoostingRegressor(n_estimators=15, random_state=0),
    HistGradientBoostingRegressor(max_iter=15, random_state=0),
]


@pytest.mark.parametrize("model", FORESTS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("classes", [2, 3])
def test_forest_classifier_reference_is_predict_proba(model: object, classes: int) -> None:
    X, y = _classification(classes)
    X = _with_nan(X)  # trees and forests route NaN with missing_go_to_left
    model.fit(X, y)
    ensemble, options = read_ensemble(model)
    assert options == {"check": "infinite", "proba": "none", "decision": "proba"}
    np.testing.assert_array_equal(ensemble.reference_predict(X), model.predict_proba(X))


@pytest.mark.parametrize("model", REGRESSORS, ids=lambda m: type(m).__name__)
def test_regressor_reference_is_predict(model: object) -> None:
    X, y = _regression()
    model.fit(X, y)
    ensemble, options = read_ensemble(model)
    assert options["link"] == "identity"
    np.testing.assert_array_equal(ensemble.reference_predict(X)[:, 0], model.predict(X))


@pytest.mark.parametrize(
    "model",
    [
        GradientBoostingClassifier(n_estimators=10, random_state=0),
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
    ],
    ids=lambda m: type(m).__name__,
)
@pytest.mark.parametrize("classes", [2, 3])
def test_boosting_reference_is_decision_function(model: object, classes: int) -> None:
    X, y = _classification(classes)
    model.fit(X, y)
    ensemble, options = read_ensemble(model)
    assert options["proba"] == ("binary_sigmoid" if classes == 2 else "softmax")
    raw = ensemble.reference_predict(X)
    np.testing.assert_array_equal(raw[:, 0] if classes == 2 else raw, model.decision_function(X))


def test_gradient_boosting_binary_predicts_raw_nonnegative() -> None:
    model = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(*_classification(2))
    assert read_ensemble(model)[1]["decision"] == "raw_nonnegative"
    zero = GradientBoostingClassifier(n_estimators=5, init="zero", random_state=0)
    zero.fit(*_classification(2))
    assert not read_ensemble(zero)[0].base.any()


def test_histogram_poisson_link_is_exp() -> None:
    X, y = _regression()
    model = HistGradientBoostingRegressor(loss="poisson", max_iter=10).fit(X, np.abs(y))
    ensemble, options = read_ensemble(model)
    assert options["link"] == "exp"
    np.testing.assert_allclose(np.exp(ensemble.reference_predict(X)[:, 0]), model.predict(X),
                               rtol=1e-15)  # fmt: skip


def _categorical_data(rows: int = 400) -> tuple[np.ndarray, np.ndarray]:
    X = RNG.normal(size=(rows, 3))
    X[:, 0] = RNG.choice([0.0, 2.0, 5.0, 7.0, 40.0], size=rows)  # sparse category values
    X[:, 2] = RNG.integers(0, 4, size=rows)
    X[RNG.random(rows) < 0.1, 0] = np.nan
    y = ((X[:, 0] == 5.0) | (X[:, 0] == 40.0)) ^ (X[:, 1] > 0) ^ (X[:, 2] == 3)
    return X, y.astype(int)


def _adversarial_categories() -> np.ndarray:
    values = [np.nan, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 2.0000001, 3.0, 5.0, 39.0, 40.0, 41.0,
              63.0, 64.0, 1e9, 1e300, -1e300]  # fmt: skip
    X = np.zeros((len(values) * 4, 3))
    X[:, 0] = np.repeat(values, 4)
    X[:, 1] = np.tile([-1.0, 1.0, np.nan, np.inf], len(values))
    X[:, 2] = np.tile([0.0, 3.0, -2.0, 7.0], len(values))
    return X


@pytest.mark.parametrize("classes", [2, 3])
def test_histogram_categorical_and_missing(classes: int) -> None:
    X, y = _categorical_data()
    if classes == 3:
        y = y + (X[:, 1] > 1)
    model = HistGradientBoostingClassifier(
        max_iter=15, categorical_features=[0, 2], random_state=0
    ).fit(X, y)
    ensemble, options = read_ensemble(model)
    assert options["check_columns"] == [0, 2]  # the OrdinalEncoder rejects infinity there
    flags = ensemble.flags[ensemble.feature >= 0]
    assert np.any(flags & CATEGORICAL)
    assert np.all(flags[flags & CATEGORICAL != 0] & (OUT_OF_RANGE_IS_MISSING | INTEGER_CATEGORY))
    for data in (X, _adversarial_categories()):
        raw = ensemble.reference_predict(data)
        np.testing.assert_array_equal(raw[:, 0] if classes == 2 else raw,
                                      model.decision_function(data))  # fmt: skip


def test_histogram_rejects_non_integer_categories() -> None:
    X, y = _categorical_data()
    X[:, 2] += 0.5
    model = HistGradientBoostingClassifier(max_iter=3, categorical_features=[2]).fit(X, y)
    with pytest.raises(Unsupported, match="not integers"):
        read_ensemble(model)


def test_multi_output_is_unsupported() -> None:
    X, y = _regression()
    model = DecisionTreeRegressor(max_depth=3).fit(X, np.stack([y, y], axis=1))
    with pytest.raises(Unsupported, match="several outputs"):
        read_ensemble(model)


def test_init_estimator_is_unsupported() -> None:
    model = GradientBoostingRegressor(n_estimators=3, init=DecisionTreeRegressor(max_depth=1))
    model.fit(*_regression())
    with pytest.raises(Unsupported, match="init estimator"):
        read_ensemble(model)


# region TreeEnsemble.check and params


def _stump() -> TreeEnsemble:
    """One split on feature 0 at 0.5, missing left; leaves 1.0 and 2.0."""
    return TreeEnsemble(
        features=2,
        outputs=1,
        feature=np.array([0, -1, -1], np.int32),
        threshold=np.array([0.5, 0.0, 0.0]),
        left=np.array([1, 0, 0], np.int32),
        right=np.array([2, 0, 0], np.int32),
        flags=np.array([MISSING_LEFT, 0, 0], np.uint8),
        value=np.array([[0.0], [1.0], [2.0]]),
        roots=np.array([0], np.int32),
        tree_output=np.array([0], np.int32),
        base=np.zeros(1),
        category_start=np.zeros(3, np.int32),
        category_words=np.zeros(3, np.int32),
        category_bits=np.zeros(0, np.uint32),
    )


def test_stump_routes_as_documented() -> None:
    X = np.array([[0.5, 0], [0.6, 0], [np.nan, 0], [-np.inf, 0], [np.inf, 0]])
    np.testing.assert_array_equal(_stump().reference_predict(X)[:, 0], [1, 2, 1, 1, 2])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: setattr(e, "feature", e.feature.astype(np.int64)), "feature must be int32"),
        (lambda e: e.feature.__setitem__(0, 2), "feature indices"),
        (lambda e: e.left.__setitem__(0, 0), "left children must come after"),
        (lambda e: setattr(e, "compare", "ge"), "compare must be one of"),
        (lambda e: setattr(e, "sum_precision", "f16"), "precisions must be one of"),
        (lambda e: e.tree_output.__setitem__(0, 1), "tree_output"),
        (lambda e: e.flags.__setitem__(0, CATEGORICAL), "categorical nodes need"),
    ],
)
def test_check_names_the_inconsistency(change, message: str) -> None:
    ensemble = _stump()
    change(ensemble)
    with pytest.raises(ValueError, match=message):
        ensemble.check()


def test_params_number_internal_nodes_and_leaves_apart() -> None:
    blobs = BlobStore()
    params = _stump().params(blobs, "stump")
    arrays = {key: blobs[attr.symbol.data] for key, attr in params.items()
              if hasattr(attr, "symbol")}  # fmt: skip
    np.testing.assert_array_equal(arrays["nodes"], [[0, MISSING_LEFT, ~0, ~1]])
    np.testing.assert_array_equal(arrays["leaves"], [[1.0], [2.0]])
    np.testing.assert_array_equal(arrays["roots"], [0])
    assert params["node_flags"].value.data == MISSING_LEFT
    assert "category_ranges" not in params and "divisor" not in params


# endregion
