"""``Normalizer`` (l1, l2, max) runs natively as ``feature.normalize``, compared with
scikit-learn on the wine table and adversarial batches: NaN and infinity refused as
scikit-learn refuses them, rows of zeros and rows whose norm is below ``10 * eps`` (divided
by 1), -0.0, one row, more than 2,048 rows, int columns, float32 (scikit-learn computes in
float32: the original runs)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import same_outcome
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

import willump_mlir as wm
from willump_mlir.selfcheck import difference

WINE = load_wine(as_frame=True)
X = WINE.data
NORMALIZERS = [Normalizer(norm=norm).fit(X) for norm in ("l1", "l2", "max")]


def normalize_all(frame: pd.DataFrame, normalizers: list[Any]) -> Any:
    return [n.transform(frame) for n in normalizers]


@pytest.fixture(scope="module")
def compiled() -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(normalize_all, example=(X.iloc[:100], NORMALIZERS))
    explained = compiled.explain()
    assert explained.count("  - Normalizer.transform\n") == 3, explained
    return compiled


def _tiny(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of zeros, -0.0, and rows whose norms fall below 10 * eps."""
    tiny = frame.iloc[:6].copy()
    tiny.iloc[0] = 0.0
    tiny.iloc[1] = -0.0
    tiny.iloc[2:] = tiny.iloc[2:] * 1e-19
    return tiny


@pytest.mark.parametrize(
    "batch",
    [X.iloc[100:], X.iloc[[7]], pd.concat([X] * 13, ignore_index=True), _tiny(X),
     X.round().astype("int64"), X.astype("float32")],
    ids=["rows", "one-row", "2314-rows", "zeros-and-tiny", "int64", "float32"],
)  # fmt: skip
def test_normalizer_matches_scikit_learn(compiled: wm.CompiledPipeline, batch: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = difference(normalize_all(batch, NORMALIZERS), compiled(batch, NORMALIZERS))
    assert found is None, found


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinity_are_refused(compiled: wm.CompiledPipeline, bad: float) -> None:
    batch = X.iloc[:20].copy()
    batch.iloc[4, 2] = bad
    error = same_outcome(compiled, normalize_all, batch, NORMALIZERS, argument="frame")
    assert isinstance(error, ValueError)


def test_empty_batch_is_the_originals(compiled: wm.CompiledPipeline) -> None:
    same_outcome(compiled, normalize_all, X.iloc[:0], NORMALIZERS, argument="frame")


def test_normalizer_into_a_model() -> None:
    model = make_pipeline(Normalizer(), LogisticRegression(max_iter=2000)).fit(X, WINE.target)

    def proba(frame: pd.DataFrame, model: Any) -> Any:
        return model.predict_proba(frame)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(proba, example=(X.iloc[:100], model))
        found = difference(proba(X.iloc[100:], model), compiled(X.iloc[100:], model))
    assert found is None, found
    assert not compiled.traced.python_fallbacks, compiled.explain()
