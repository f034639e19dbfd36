"""Wrong results found by a differential hunt on the estimator side: fitted scikit-learn
transformers and models with their less common options, and tree ensembles, compiled on
one batch and compared with the original on others (``selfcheck.difference``)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeRegressor

import willump_mlir as wm
from willump_mlir.runtime.refit import RefitError
from willump_mlir.selfcheck import difference

BIG = 2**60
#: Integers around float32 split points at 2**60: float32 keeps 24 bits (a step of 2**37
#: there), float64 53 bits; BIG + 2**36 + 1 rounds to BIG + 2**37 directly in float32 but to
#: BIG through float64 (BIG + 2**36 in float64, a tie that float32 rounds to even).
LARGE = pd.DataFrame({
    "a": np.array([BIG, BIG + 2**37, BIG + 2**38, BIG + 3 * 2**37] * 10, dtype=np.int64),
    "b": np.arange(40),
})  # fmt: skip
LARGE_Y = (LARGE["a"] > BIG).astype(float) + (LARGE["a"] > BIG + 2**37)
ROUNDED_TWICE = pd.DataFrame({"a": np.array([BIG + 2**36 + 1, BIG + 2**36, BIG - 1, 5],
                                            dtype=np.int64), "b": 1})  # fmt: skip


def predict(X, model):
    return model.predict(X)


@pytest.mark.parametrize("model", [DecisionTreeRegressor(random_state=0),
                                   xgb.XGBRegressor(n_estimators=3, n_jobs=1)])  # fmt: skip
@pytest.mark.parametrize("example", [LARGE, LARGE.astype(float), LARGE.to_numpy(float)])
def test_int64_beyond_2_53_into_float32_trees(model, example) -> None:
    """scikit-learn trees and XGBoost round int64 input to float32 directly; the compiled
    code read int64 columns (and arrays) as float64 first, which rounds integers of 2**53
    or more a first time: BIG + 2**36 + 1 went left of a split at BIG + 2**36 where the
    original goes right (1.0 for 0.0). Such integers now run the original function."""
    model.fit(LARGE, LARGE_Y)
    frame = isinstance(example, pd.DataFrame)
    rows, large = (ROUNDED_TWICE, LARGE) if frame else (ROUNDED_TWICE.to_numpy(), LARGE.to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(predict, example=(example, model))
        assert not compiled.traced.python_fallbacks, compiled.explain()
        for batch in (rows, rows[:1], large):
            assert difference(predict(batch, model), compiled(batch, model)) is None


FRAME = pd.DataFrame({"x": np.linspace(-3, 3, 40), "z": np.linspace(0, 50, 40) ** 1.5,
                      "k": list("abc") * 13 + ["a"]})  # fmt: skip
LABELS = (FRAME["x"] > 0).astype(int)


def transform(X, est):
    return est.transform(X)


def probabilities(X, est):
    return est.predict_proba(X)


@pytest.mark.parametrize(("est", "columns", "fn", "same", "change"), [
    (MinMaxScaler(), ["x", "z"], transform, {"feature_range": (0, 1)}, {"clip": True}),
    (StandardScaler(), ["x", "z"], transform, {"with_mean": True}, {"with_mean": False}),
    (OneHotEncoder(sparse_output=False), ["k"], transform, {"handle_unknown": "".join("error")},
     {"handle_unknown": "ignore"}),
    (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["k"], transform,
     {"unknown_value": int("-1")}, {"unknown_value": -7}),
    (xgb.XGBClassifier(n_estimators=3, n_jobs=1), ["x", "z"], probabilities,
     {"missing": float("nan")}, {"missing": 0.0}),
])  # fmt: skip
def test_parameter_set_after_compile(est, columns, fn, same, change) -> None:
    """``set_params`` of a fitted estimator after ``wm.compile`` changes what it computes
    (``clip``, ``with_mean``, ``handle_unknown``, ``unknown_value``, ``missing``) without a
    refit; the compiled code kept what it was compiled with and returned other numbers (or
    raised where the original now returns). The guard now watches parameters: such a call
    is refused as after a refit; a parameter set again to an equal value changes nothing."""
    X = FRAME[columns]
    est.fit(X, LABELS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(X, est))
        est.set_params(**same)
        assert difference(fn(X, est), compiled(X, est)) is None
        est.set_params(**change)
        with pytest.raises(RefitError, match=f"est.{next(iter(change))} "):
            compiled(X, est)


def labels(X, model):
    return model.predict(X)


def frame_labels(df, model):
    return model.predict(df.to_numpy())


@pytest.mark.parametrize("make", [LogisticRegression, LinearSVC])
@pytest.mark.parametrize("classes", [2, 3])
def test_linear_labels_at_a_decision_of_zero_up_to_rounding(make, classes) -> None:
    """Rows built so that a linear classifier's decision (binary) or two classes' decisions
    (multiclass) tie in exact arithmetic: numpy's ``X @ coef_.T`` (OpenBLAS, FMA, an order
    that follows the array's layout) and the kernel's loop round differently, and a fifth to
    a third of the labels differed. Rows within ``LINEAR_TIE_MARGIN`` of a tie now run in
    Python (the original on those rows)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] > 0).astype(int) + ((X[:, 1] > 0) if classes == 3 else 0)
    model = make().fit(X, y)
    w, b = model.coef_, model.intercept_
    if classes == 3:
        w, b = w[:1] - w[1:2], b[:1] - b[1:2]
    rows = rng.normal(size=(3000, 4)) * rng.choice([1e-3, 1.0, 1e3], size=(3000, 1))
    rows[:, -1] = -(rows[:, :-1] @ w[0, :-1] + b[0]) / w[0, -1]
    frame = pd.DataFrame(rows, columns=list("abcd"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(labels, example=(X, model))
        assert not compiled.traced.python_fallbacks, compiled.explain()
        assert difference(labels(rows, model), compiled(rows, model)) is None
        assert difference(labels(rows[:1], model), compiled(rows[:1], model)) is None
        compiled = wm.compile(frame_labels, example=(pd.DataFrame(X, columns=list("abcd")), model))
        assert difference(frame_labels(frame, model), compiled(frame, model)) is None
