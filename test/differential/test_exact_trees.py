"""Differential tests: compiled scikit-learn tree models return exactly what they return.

Every family (decision tree, random forest, extra trees, gradient boosting, histogram
gradient boosting) as classifier (binary and multiclass) and regressor, every method, on
held-out rows, on rows placed exactly at each float32-rounded threshold and one ulp either
side, on NaN/inf/huge values (NaN routes or raises as in scikit-learn), HGB categorical
features with negative, unknown and non-integer categories, single rows and a 10,000-row
batch (the threaded path). Labels are identical; numbers agree within 1e-9.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
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
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from test_exact_tabular import METHODS, differential
from tree_values import around_threshold, odd_categories

import willump_mlir as wm
from willump_mlir.frontend.sklearn_trees import read_ensemble
from willump_mlir.passes.choose_tree_layout import ChooseTreeLayoutPass

FEATURES = 5
RNG = np.random.default_rng(7)
HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _classification(classes: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(400, FEATURES, n_informative=4, n_redundant=0,
                               n_classes=classes, random_state=classes)  # fmt: skip
    X[RNG.random(X.shape) < 0.05] = np.nan  # models that route NaN learn where it goes
    return X, y


def _regression() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(400, FEATURES, random_state=0)
    return X, y


CLASSIFIERS = [
    DecisionTreeClassifier(max_depth=6, random_state=0),
    RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0),
    ExtraTreesClassifier(n_estimators=8, max_depth=6, random_state=0),
    GradientBoostingClassifier(n_estimators=12, max_depth=3, random_state=0),
    HistGradientBoostingClassifier(max_iter=12, random_state=0),
]
REGRESSORS = [
    DecisionTreeRegressor(max_depth=6, random_state=0),
    RandomForestRegressor(n_estimators=8, max_depth=6, random_state=0),
    ExtraTreesRegressor(n_estimators=8, max_depth=6, random_state=0),
    GradientBoostingRegressor(n_estimators=12, max_depth=3, random_state=0),
    HistGradientBoostingRegressor(max_iter=12, random_state=0),
]


def _methods(model: object) -> list[str]:
    methods = ["predict"]
    if hasattr(model, "predict_proba"):
        methods.append("predict_proba")
    if hasattr(model, "decision_function"):
        methods.append("decision_function")
    return methods


def _edge_rows(model: object, X: np.ndarray) -> np.ndarray:
    """Rows whose value of a split's feature is exactly its threshold, the float32 values
    next to it and one f64 ulp either side (other columns from a held-out row)."""
    ensemble, _ = read_ensemble(model)
    split = np.flatnonzero(ensemble.feature >= 0)[:60]
    rows = []
    for n in split:
        for value in around_threshold(ensemble.threshold[n]):
            row = np.nan_to_num(X[len(rows) % len(X)]).copy()
            row[ensemble.feature[n]] = value
            rows.append(row)
    return np.array(rows, dtype=np.float64)


def _special_rows(X: np.ndarray) -> list[np.ndarray]:
    """Single columns set to NaN, ±inf, ±0, huge (inf in float32) and tiny values."""
    base = np.nan_to_num(X[:8]).copy()
    batches = []
    for value in (np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, -1e300, 3.5e38, 5e-324):
        rows = base.copy()
        rows[np.arange(len(rows)), np.arange(len(rows)) % FEATURES] = value
        batches.append(rows)
    return batches


def _check_model(model: object, X: np.ndarray, method: str, tree_layout: str) -> None:
    fn = METHODS[method]
    compiled = wm.compile(fn, example=(X[:60], model), tree_layout=tree_layout)
    assert "Runs in Python:\n  - nothing" in compiled.explain() or method == "predict"
    assert "tree_ensemble" in compiled.ir("feature")
    for batch in (X, _edge_rows(model, X), *_special_rows(X), X[:1], X[-1:]):
        differential(compiled, fn, batch, model)


@pytest.mark.parametrize("model", CLASSIFIERS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("classes", [2, 3])
def test_classifier(model: object, classes: int, tree_layout: str) -> None:
    X, y = _classification(classes)
    if isinstance(model, GradientBoostingClassifier):
        X = np.nan_to_num(X)  # scikit-learn's gradient boosting refuses NaN
    model.fit(X[:300], y[:300])
    for method in _methods(model):
        _check_model(model, X[300:], method, tree_layout)


@pytest.mark.parametrize("model", REGRESSORS, ids=lambda m: type(m).__name__)
def test_regressor(model: object, tree_layout: str) -> None:
    X, y = _regression()
    model.fit(X[:300], y[:300])
    _check_model(model, X[300:], "predict", tree_layout)


def test_histogram_poisson_regressor(tree_layout: str) -> None:
    X, y = _regression()
    model = HistGradientBoostingRegressor(loss="poisson", max_iter=12).fit(X[:300], np.abs(y[:300]))
    _check_model(model, X[300:], "predict", tree_layout)


def test_gradient_boosting_zero_init_and_single_stump(tree_layout: str) -> None:
    X, y = _classification(2)
    X = np.nan_to_num(X)
    model = GradientBoostingClassifier(n_estimators=1, max_depth=1, init="zero").fit(X, y)
    for method in _methods(model):
        _check_model(model, X, method, tree_layout)


# region Categorical features (HistGradientBoosting)


def _categorical_data(rows: int) -> tuple[np.ndarray, np.ndarray]:
    X = RNG.normal(size=(rows, 3))
    X[:, 0] = RNG.choice([0.0, 2.0, 5.0, 7.0, 40.0], size=rows)
    X[:, 2] = RNG.integers(0, 4, size=rows)
    X[RNG.random(rows) < 0.1, 0] = np.nan
    y = ((X[:, 0] == 5.0) | (X[:, 0] == 40.0)) ^ (X[:, 1] > 0) ^ (X[:, 2] == 3)
    return X, y.astype(int) + (X[:, 1] > 1)


@pytest.mark.parametrize("classes", [2, 3])
def test_histogram_categorical(classes: int, tree_layout: str) -> None:
    X, y = _categorical_data(600)
    y = np.minimum(y, classes - 1)
    model = HistGradientBoostingClassifier(max_iter=15, categorical_features=[0, 2],
                                           random_state=0).fit(X, y)  # fmt: skip
    values = [np.nan, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 2.0000001, 3.0, 5.0, 39.0, 40.0, 41.0,
              63.0, 64.0, -5.0, 1e9, 1e300]  # fmt: skip
    odd = np.zeros((len(values) * 4, 3))
    odd[:, 0] = np.repeat(values, 4)
    odd[:, 1] = np.tile([-1.0, 1.0, np.nan, np.inf], len(values))  # a numeric column: inf ok
    odd[:, 2] = np.tile([0.0, 3.0, -2.0, 7.0], len(values))
    for method in _methods(model):
        fn = METHODS[method]
        compiled = wm.compile(fn, example=(X[:60], model), tree_layout=tree_layout)
        for batch in (X, odd, odd[:1], odd[4:5]):
            differential(compiled, fn, batch, model)
        infinite = odd.copy()
        infinite[3, 2] = np.inf  # the OrdinalEncoder refuses infinity in a categorical column
        differential(compiled, fn, infinite, model)


def test_histogram_many_categories(tree_layout: str) -> None:
    """100 categories: bitsets of four words (generated branches load them from the blob),
    on every code, each word boundary and odd values, batch and single rows."""
    X = RNG.normal(size=(3000, 2))
    X[:, 0] = RNG.integers(0, 100, len(X))
    y = np.isin(X[:, 0] % 9, [1, 4, 6, 7]) ^ (X[:, 1] > 0.5)
    model = HistGradientBoostingClassifier(max_iter=10, categorical_features=[0],
                                           random_state=0).fit(X, y)  # fmt: skip
    assert read_ensemble(model)[0].category_words.max() == 4
    fn = METHODS["predict_proba"]
    compiled = wm.compile(fn, example=(X[:60], model), tree_layout=tree_layout)
    assert ('layout "branches"' in compiled.ir("feature")) == (tree_layout == "branches")
    values = odd_categories(4)
    odd = X[np.arange(len(values)) % len(X)].copy()
    odd[:, 0] = values
    finite = odd[~np.isinf(values)]  # infinity in a categorical column raises
    for batch in (X, finite, *(odd[i : i + 1] for i in range(len(odd)))):
        differential(compiled, fn, batch, model)


# endregion
# region Batches, single rows, pipelines, hypothesis


def test_large_batch_runs_on_threads(tree_layout: str) -> None:
    X, y = _classification(3)
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    big = np.repeat(X, 25, axis=0)[:10_000] + RNG.normal(scale=1e-3, size=(10_000, FEATURES))
    compiled = wm.compile(
        METHODS["predict_proba"], example=(X[:60], model), tree_layout=tree_layout
    )
    differential(compiled, METHODS["predict_proba"], big, model)
    forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X, y)
    compiled = wm.compile(METHODS["predict"], example=(X[:60], forest), tree_layout=tree_layout)
    differential(compiled, METHODS["predict"], big, forest)


def test_scaler_then_gradient_boosting_pipeline(tree_layout: str) -> None:
    X, y = _classification(2)
    X = np.nan_to_num(X) * 100 + 3
    pipe = make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=15))
    pipe.fit(X[:300], y[:300])
    for method in ("predict", "predict_proba", "decision_function"):
        fn = METHODS[method]
        compiled = wm.compile(fn, (X[:60], pipe), tree_layout=tree_layout)
        assert "feature.standardize" in compiled.ir("feature")
        for batch in (X[300:], X[300:301], *_special_rows(X)):
            differential(compiled, fn, batch, pipe)


def test_large_branches_behind_a_scaler_run_on_stored_rows(tree_layout: str) -> None:
    """Generated branches or node arrays too large to run a row at a time, reading computed
    rows, get a kernel of their own (the scaler's kernel stores the rows); results do not
    change."""
    X = RNG.normal(size=(3000, FEATURES))
    y = X[:, 0] + RNG.normal(size=3000) > 0  # noisy labels: deep trees, over 2,048 splits
    forest = RandomForestClassifier(n_estimators=12, max_depth=12, random_state=0)
    pipe = make_pipeline(StandardScaler(), forest).fit(X, y)
    compiled = wm.compile(METHODS["predict_proba"], example=(X[:60], pipe), tree_layout=tree_layout)
    assert compiled.ir("scf").count("willump.kernel") == 2
    assert "stored first by a kernel of their own" in compiled.explain()
    for batch in (X, X[:1], X[-3:], *_special_rows(X)):
        differential(compiled, METHODS["predict_proba"], batch, pipe)


@pytest.fixture(scope="module", params=["branches", "nodes"])
def compiled_forest(request: pytest.FixtureRequest) -> tuple[object, object]:
    X, y = _classification(3)
    model = RandomForestClassifier(n_estimators=6, max_depth=8, random_state=0).fit(X, y)
    compiled = wm.compile(
        METHODS["predict_proba"], example=(X[:60], model), tree_layout=request.param
    )
    return model, compiled


def test_explain_says_how_the_trees_run(tree_layout: str) -> None:
    X, y = _regression()
    y = y > 0
    model = GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0)
    compiled = wm.compile(
        METHODS["predict_proba"], example=(X[:60], model.fit(X, y)), tree_layout=tree_layout
    )
    explained = compiled.explain()
    if tree_layout == "branches":
        assert "5 tree(s), 15 split(s) as generated branches" in explained
        assert 'layout "branches"' in compiled.ir("feature")
    else:
        assert "walked as node arrays" in explained and "(tree_layout='nodes')" in explained
    by_cost = wm.compile(
        METHODS["predict_proba"], example=(X[:60], model),
        tree_layout=ChooseTreeLayoutPass(branch_seconds=0.0),
    )  # fmt: skip
    assert "over 0 s to compile them as branches" in by_cost.explain()


@HYPOTHESIS
@given(
    rows=arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.just(FEATURES)),
        elements=st.one_of(
            st.floats(-4, 4, width=32), st.floats(allow_nan=True, allow_infinity=True)
        ),
    )
)
def test_hypothesis_rows(compiled_forest: tuple[object, object], rows: np.ndarray) -> None:
    model, compiled = compiled_forest
    differential(compiled, METHODS["predict_proba"], rows, model)


def test_unsupported_models_run_in_python_and_say_why(tree_layout: str) -> None:
    X, y = _regression()
    multi = DecisionTreeRegressor(max_depth=3).fit(X, np.stack([y, -y], axis=1))
    compiled = wm.compile(METHODS["predict"], example=(X[:60], multi), tree_layout=tree_layout)
    assert "several outputs" in compiled.explain()
    differential(compiled, METHODS["predict"], X, multi)
    Xc, yc = _classification(2)
    exponential = GradientBoostingClassifier(loss="exponential", n_estimators=5)
    exponential.fit(np.nan_to_num(Xc), yc)
    compiled = wm.compile(
        METHODS["predict_proba"],
        example=(np.nan_to_num(Xc[:60]), exponential),
        tree_layout=tree_layout,
    )
    assert "predict_proba is not supported natively" in compiled.explain()
    differential(compiled, METHODS["predict_proba"], np.nan_to_num(Xc), exponential)
    single = DecisionTreeClassifier().fit(X, np.full(len(X), "only"))  # one leaf, one class
    compiled = wm.compile(METHODS["predict"], example=(X[:60], single), tree_layout=tree_layout)
    assert "single class" in compiled.explain()
    differential(compiled, METHODS["predict"], X, single)
    compiled = wm.compile(
        METHODS["predict_proba"], example=(X[:60], single), tree_layout=tree_layout
    )
    differential(compiled, METHODS["predict_proba"], X[:1], single)


def test_dataframe_input(tree_layout: str) -> None:
    X, y = _classification(3)
    frame = pd.DataFrame(X, columns=[f"c{j}" for j in range(FEATURES)])
    for model in (RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0),
                  HistGradientBoostingClassifier(max_iter=8, random_state=0)):  # fmt: skip
        model.fit(frame.iloc[:300], y[:300])
        for method in ("predict", "predict_proba"):
            fn = METHODS[method]
            compiled = wm.compile(fn, example=(frame.iloc[:60], model), tree_layout=tree_layout)
            assert "tree_ensemble" in compiled.ir("feature")
            for batch in (frame.iloc[300:], frame.iloc[[301]], frame.iloc[:8].assign(c1=np.inf)):
                differential(compiled, fn, batch, model)


# endregion
