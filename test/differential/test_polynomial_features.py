"""``PolynomialFeatures`` runs natively as ``feature.polynomial``, bit for bit scikit-learn's
dense ``transform`` (a product folded from its last factor): degrees 2 and 3, a degree range,
``interaction_only``, with and without the bias column, compared on the wine table and on
adversarial batches (-0.0, products that overflow to infinity or underflow to zero, one row,
more than 2,048 rows, int columns, float32, which scikit-learn computes in: the original
runs); NaN and infinity refused as scikit-learn refuses them; inside a Pipeline and as
``poly.transform(X)`` in user code feeding a model."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import same_outcome
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

import willump_mlir as wm
from willump_mlir.selfcheck import difference

WINE = load_wine(as_frame=True)
X = WINE.data.iloc[:, :6]
EXPANSIONS = [
    PolynomialFeatures(degree=2).fit(X),
    PolynomialFeatures(degree=3, include_bias=False).fit(X),
    PolynomialFeatures(degree=3, interaction_only=True).fit(X),
    PolynomialFeatures(degree=(2, 3), include_bias=False).fit(X),
    PolynomialFeatures(degree=(2, 4), interaction_only=True, include_bias=True).fit(X),
]


def expand_all(frame: pd.DataFrame, expansions: list[Any]) -> Any:
    return [p.transform(frame) for p in expansions]


def _same_bits(expected: list[np.ndarray], found: list[np.ndarray]) -> None:
    """Equal values, -0.0 told from 0.0 (the NaN of inf * 0.0 is NaN in both)."""
    for e, f in zip(expected, found, strict=True):
        assert e.shape == f.shape and e.dtype == f.dtype
        assert np.array_equal(np.signbit(e), np.signbit(f))
        np.testing.assert_array_equal(e, f)


@pytest.fixture(scope="module")
def compiled() -> wm.CompiledPipeline:
    compiled = wm.compile(expand_all, example=(X.iloc[:100], EXPANSIONS))
    explained = compiled.explain()
    assert explained.count("  - PolynomialFeatures.transform\n") == len(EXPANSIONS), explained
    return compiled


def _extremes(frame: pd.DataFrame) -> pd.DataFrame:
    """-0.0, and magnitudes whose products overflow to infinity or underflow to (-)0.0."""
    rows = frame.iloc[:8].copy()
    rows.iloc[0] = -0.0
    rows.iloc[1, ::2] = -0.0
    rows.iloc[2] = rows.iloc[2] * 1e150
    rows.iloc[3] = -rows.iloc[3] * 1e-150
    rows.iloc[4, 1:] = rows.iloc[4, 1:] * 1e200
    rows.iloc[5, 0] = -1.7e308
    rows.iloc[6] = [1e300, -1e-300, 0.0, -0.0, 1e300, 1e-300]
    return rows


@pytest.mark.parametrize(
    "batch",
    [X.iloc[100:], X.iloc[[7]], pd.concat([X] * 13, ignore_index=True), _extremes(X),
     X.round().astype("int64"), X.astype("float32")],
    ids=["rows", "one-row", "2314-rows", "extremes", "int64", "float32"],
)  # fmt: skip
def test_polynomial_features_bit_for_bit(compiled: wm.CompiledPipeline, batch: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overflow in multiply
        _same_bits(expand_all(batch, EXPANSIONS), compiled(batch, EXPANSIONS))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinity_are_refused(compiled: wm.CompiledPipeline, bad: float) -> None:
    batch = X.iloc[:20].copy()
    batch.iloc[4, 2] = bad
    error = same_outcome(compiled, expand_all, batch, EXPANSIONS, argument="frame")
    assert isinstance(error, ValueError)


def test_empty_batch_is_the_originals(compiled: wm.CompiledPipeline) -> None:
    same_outcome(compiled, expand_all, X.iloc[:0], EXPANSIONS, argument="frame")


def test_pipeline_into_a_model() -> None:
    model = make_pipeline(PolynomialFeatures(degree=2), StandardScaler(),
                          LogisticRegression(max_iter=5000)).fit(X, WINE.target)  # fmt: skip

    def proba(frame: pd.DataFrame, model: Any) -> Any:
        return model.predict_proba(frame)

    compiled = wm.compile(proba, example=(X.iloc[:100], model))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    for batch in (X.iloc[100:], X.iloc[[3]], _extremes(X).iloc[:2]):
        found = difference(proba(batch, model), compiled(batch, model))
        assert found is None, found


def test_transform_in_user_code() -> None:
    """The way notebooks write it: columns picked by name, expanded, fed to a regressor."""
    columns = ["alcohol", "malic_acid", "ash"]
    poly = PolynomialFeatures(degree=3, include_bias=False).fit(WINE.data[columns])
    ridge = Ridge().fit(poly.transform(WINE.data[columns]), WINE.target)

    def predict(df: pd.DataFrame) -> Any:
        features = poly.transform(df[columns])
        return ridge.predict(features)

    compiled = wm.compile(predict, example=(WINE.data.iloc[:50],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    for batch in (WINE.data.iloc[50:], WINE.data.iloc[[0]]):
        assert difference(predict(batch), compiled(batch)) is None


def test_too_many_terms_run_in_python_and_are_explained() -> None:
    poly = PolynomialFeatures(degree=4).fit(WINE.data)  # 2,380 columns

    def expand(frame: pd.DataFrame) -> Any:
        return poly.transform(frame)

    compiled = wm.compile(expand, example=(WINE.data.iloc[:50],))
    assert "PolynomialFeatures gives 2380 columns: native code unrolls at most 600" in \
        compiled.explain()  # fmt: skip
    _same_bits([expand(WINE.data)], [compiled(WINE.data)])
