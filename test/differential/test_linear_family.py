"""scikit-learn's linear models run natively, found by their methods rather than by class
(``params.linear_role``): a regressor whose ``predict`` is ``X @ coef_.T + intercept_``
(Lasso, ElasticNet, their CV searches, RidgeCV, SGDRegressor, LinearSVR, Huber, Bayesian,
quantile, Theil-Sen, LARS, OMP), a classifier whose ``decision_function`` is (Perceptron,
PassiveAggressive, RidgeClassifier, LogisticRegressionCV, SGDClassifier with modified
Huber probabilities). Each table compiles once (a list of models), compared with the
originals on scikit-learn's bundled tables and adversarial batches."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import same_outcome
from sklearn import linear_model as lm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC, LinearSVR

import willump_mlir as wm
from willump_mlir.selfcheck import difference

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DIABETES = load_diabetes(as_frame=True)
X, Y = DIABETES.data, DIABETES.target
WINE = load_wine(as_frame=True)
WINE_X, WINE_Y = WINE.data, WINE.target.map(dict(enumerate(WINE.target_names)))
CANCER = load_breast_cancer(as_frame=True)


def _fit(models: list[Any], frame: pd.DataFrame, y: Any) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [m.fit(frame, y) for m in models]


REGRESSORS = _fit([
    lm.Lasso(alpha=0.1), lm.ElasticNet(alpha=0.01), lm.LassoCV(cv=3), lm.ElasticNetCV(cv=3),
    lm.RidgeCV(), lm.SGDRegressor(random_state=0), LinearSVR(random_state=0, max_iter=5000),
    lm.HuberRegressor(max_iter=500), lm.BayesianRidge(), lm.ARDRegression(),
    lm.QuantileRegressor(alpha=0.0), lm.TheilSenRegressor(random_state=0, max_subpopulation=100),
    lm.Lars(), lm.OrthogonalMatchingPursuit(), lm.PassiveAggressiveRegressor(random_state=0),
    lm.Lasso(alpha=0.1, fit_intercept=False),  # intercept_ is the scalar 0.0
], X, Y)  # fmt: skip


def predict_all(frame: pd.DataFrame, models: list[Any]) -> Any:
    return [m.predict(frame) for m in models]


def _compile(fn: Any, frame: pd.DataFrame, models: list[Any]) -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(frame.iloc[:120], models))
    assert all(f.reason == "a list, tuple or dict of values stays in Python"
               for f in compiled.traced.python_fallbacks.values()), compiled.explain()  # fmt: skip
    assert compiled.original_reason is None
    return compiled


def _same(fn: Any, compiled: Any, batch: pd.DataFrame, models: list[Any]) -> None:
    """The original's result, or its class of error (an empty batch: scikit-learn's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = fn(batch.copy(), models)
        except ValueError:
            with pytest.raises(ValueError):
                compiled(batch.copy(), models)
            return
        found = difference(expected, compiled(batch.copy(), models))
    assert found is None, found


@pytest.fixture(scope="module")
def regressors() -> wm.CompiledPipeline:
    return _compile(predict_all, X, REGRESSORS)


def _adversarial(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Other rows, one row, more than 2,048 rows (two blocks), -0.0, float32, int and
    nullable columns, and an empty batch."""
    zeros = frame.iloc[:3] * -0.0
    return [
        frame.iloc[120:], frame.iloc[[5]], pd.concat([frame] * 6, ignore_index=True), zeros,
        frame.astype("float32"), (frame * 100).round().astype("int64"), frame.astype("Float64"),
        frame.iloc[:0],
    ]  # fmt: skip


def test_regressors_are_native_and_equal(regressors: wm.CompiledPipeline) -> None:
    explained = regressors.explain()
    for model in REGRESSORS:
        assert f"  - {type(model).__name__}.predict\n" in explained
    for batch in _adversarial(X):
        _same(predict_all, regressors, batch, REGRESSORS)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinity_are_refused_as_scikit_learn_does(
    regressors: wm.CompiledPipeline, bad: float
) -> None:
    batch = X.iloc[:50].copy()
    batch.iloc[7, 3] = bad
    error = same_outcome(regressors, predict_all, batch, REGRESSORS, argument="frame")
    assert isinstance(error, ValueError)


def _classifiers(frame: pd.DataFrame, y: Any) -> list[Any]:
    """The first three have ``predict_proba``."""
    models = [
        lm.LogisticRegressionCV(cv=3, max_iter=2000),
        lm.SGDClassifier(loss="log_loss", random_state=0),
        lm.SGDClassifier(loss="modified_huber", random_state=0),
        lm.Perceptron(random_state=0), lm.PassiveAggressiveClassifier(random_state=0),
        lm.RidgeClassifierCV(), LinearSVC(fit_intercept=False, random_state=0),
    ]  # fmt: skip
    return _fit([make_pipeline(StandardScaler(), m) for m in models], frame, y)


def classify_all(frame: pd.DataFrame, models: list[Any]) -> Any:
    labels = [m.predict(frame) for m in models]
    scores = [m.decision_function(frame) for m in (models[2], models[5], models[6])]
    probabilities = [m.predict_proba(frame) for m in (models[0], models[1], models[2])]
    return labels, scores, probabilities


@pytest.mark.parametrize(
    ("frame", "y"),
    [(WINE_X, WINE_Y), (CANCER.data.iloc[:, :6], CANCER.target)],
    ids=["wine-3-str-classes", "breast-cancer-binary"],
)
def test_classifiers_are_native_and_equal(frame: pd.DataFrame, y: Any) -> None:
    models = _classifiers(frame, y)
    compiled = _compile(classify_all, frame, models)
    explained = compiled.explain()
    for name in ("Perceptron.predict", "RidgeClassifierCV.decision_function",
                 "LogisticRegressionCV.predict_proba", "SGDClassifier.predict_proba"):  # fmt: skip
        assert f"  - {name}\n" in explained
    for batch in _adversarial(frame):
        _same(classify_all, compiled, batch, models)


def _retuned(model: Any, **attributes: Any) -> Any:
    """A copy of a fitted model with some fitted attributes set by hand."""
    model = copy.deepcopy(model)
    for name, value in attributes.items():
        setattr(model, name, value)
    return model


def test_ties_and_uniform_probabilities() -> None:
    """Equal decision rows tie (numpy's argmax takes the first: the rows are handed back);
    modified Huber decisions all at or below -1 give uniform probabilities, beyond +-1 0
    and 1."""
    wine = StandardScaler().fit_transform(WINE_X)
    frame = pd.DataFrame(wine, columns=WINE_X.columns)
    perceptron, huber = _fit([lm.Perceptron(random_state=0),
                              lm.SGDClassifier(loss="modified_huber", random_state=0)],
                             frame, WINE_Y)  # fmt: skip
    tied = perceptron.coef_.copy()
    tied[1] = tied[0]
    intercept = perceptron.intercept_.copy()
    intercept[1] = intercept[0]
    low = huber.intercept_ - 1e6
    binary = _fit([lm.SGDClassifier(loss="modified_huber", random_state=0)], frame,
                  WINE_Y == "class_0")[0]  # fmt: skip
    models = [_retuned(perceptron, coef_=tied, intercept_=intercept),
              _retuned(huber, intercept_=low), huber, binary]  # fmt: skip

    def decide(batch: pd.DataFrame, models: list[Any]) -> Any:
        return [models[0].predict(batch), models[1].predict_proba(batch),
                models[2].predict_proba(batch * 10.0), models[3].predict_proba(batch * 10.0)]

    compiled = _compile(decide, frame, models)
    for batch in (frame.iloc[120:], frame.iloc[[0]], frame):
        _same(decide, compiled, batch, models)
    uniform = compiled(frame, models)[1]
    assert (uniform == 1 / 3).all()


class Shifted(lm.Lasso):
    """A subclass whose predict is not scikit-learn's: it runs in Python."""

    def predict(self, X: Any) -> Any:
        return super().predict(X) + 1.0


class Renamed(lm.Lasso):
    """A subclass that keeps scikit-learn's methods: it is a Lasso."""


def predict_one(frame: pd.DataFrame, model: Any) -> Any:
    return model.predict(frame)


@pytest.mark.parametrize(
    ("model", "native"),
    [
        (Shifted(alpha=0.1), False),
        (Renamed(alpha=0.1), True),
        (lm.RidgeClassifier(), False),  # fitted on multilabel targets below
        (lm.PoissonRegressor(), False),  # exp of the linear predictor: not compiled here
    ],
    ids=["overridden-predict", "subclass", "ridge-multilabel", "glm"],
)
def test_capability_not_class(model: Any, native: bool) -> None:
    y = np.stack([Y > 140, Y > 200], axis=1) if isinstance(model, lm.RidgeClassifier) else Y
    _fit([model], X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(predict_one, example=(X.iloc[:120], model))
        found = difference(predict_one(X.iloc[120:], model), compiled(X.iloc[120:], model))
    assert found is None, found
    assert (not compiled.traced.python_fallbacks) == native, compiled.explain()
    if native:
        assert "  - Lasso.predict\n" in compiled.explain()


def test_return_std_runs_in_python() -> None:
    model = REGRESSORS[8]
    assert isinstance(model, lm.BayesianRidge)

    def with_std(frame: pd.DataFrame, model: Any) -> Any:
        return model.predict(frame, return_std=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(with_std, example=(X.iloc[:120], model))
        found = difference(with_std(X.iloc[120:], model), compiled(X.iloc[120:], model))
    assert found is None, found


def _near_the_float64_range(frame: pd.DataFrame) -> pd.DataFrame:
    """Ordinary rows with, every third row, up to five values of +-1.5e308 (terms whose sum
    overflows in some orders of addition and not in others), and rows with one value of
    1e290 (no order overflows: native)."""
    rows = frame.to_numpy().copy()
    huge = 1.5e308
    patterns = [[huge, huge, huge, -huge, -huge], [huge, huge, -huge, huge, -huge],
                [huge, -huge, huge, -huge, huge], [huge, 0, 0, 0, -huge], [-huge, huge]]
    for n, i in enumerate(range(0, len(rows), 3)):
        pattern = patterns[n % len(patterns)]
        rows[i, : len(pattern)] = pattern
    rows[1::6, 0] = 1e290
    return pd.DataFrame(rows, columns=frame.columns)


def test_values_near_the_float64_range_run_in_python() -> None:
    """Multi-class modified Huber (``decision_function``, ``predict_proba``, ``predict``), a
    binary one and a regressor on rows with values near +-1e308: the kernel's order of
    additions and BLAS's overflow differently (inf, inf - inf = NaN, or a finite 9e307), so
    a batch with such a row runs the original (BLAS orders a row by the batch), counted in
    explain(); a row with one value of 1e290, where no order overflows, stays native."""
    frame, y = WINE_X.iloc[::2].reset_index(drop=True), WINE_Y.iloc[::2]
    (huber,) = _fit([lm.SGDClassifier(loss="modified_huber", random_state=0)], frame, y)
    (binary,) = _fit([lm.SGDClassifier(loss="modified_huber", random_state=0)], frame,
                     y == "class_0")  # fmt: skip
    coef = np.full_like(huber.coef_, 0.6)  # small weights: 1.5e308 * 0.6 is finite
    coef[1] *= -1
    coef[2, ::2] *= -1
    small = _retuned(huber, coef_=coef, intercept_=np.array([0.0, 1.0, -1.0]))
    models = [small, huber, binary, lm.Ridge().fit(frame, frame["proline"])]

    def scores(batch: pd.DataFrame, models: list[Any]) -> Any:
        small, huber, binary, ridge = models
        return [small.decision_function(batch), small.predict_proba(batch),
                small.predict(batch), huber.predict_proba(batch), binary.predict_proba(batch),
                ridge.predict(batch)]  # fmt: skip

    compiled = _compile(scores, frame, models)
    batch = _near_the_float64_range(WINE_X.iloc[1::2].reset_index(drop=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        decisions = scores(batch, models)[0]
    assert np.isinf(decisions).any()
    assert ((np.abs(decisions) >= 1e307) & np.isfinite(decisions)).any()  # 9e307
    _same(scores, compiled, batch, models)
    assert compiled.handoffs.calls["linear-magnitude"] == compiled.calls_in_python == 1
    for i in (0, 1, 3, 6):  # each row alone: a huge one in Python, a 1e290 one native
        _same(scores, compiled, batch.iloc[[i]], models)
    assert compiled.handoffs.calls["linear-magnitude"] == compiled.calls_in_python == 4
    assert "linear model's sum of their products may overflow" in compiled.explain()
