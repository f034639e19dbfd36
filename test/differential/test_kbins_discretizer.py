"""``KBinsDiscretizer`` runs natively as ``feature.discretize`` (then a cast for ``ordinal``,
``feature.onehot`` for ``onehot`` and ``onehot-dense``): every strategy reduces to the fitted
``bin_edges_``, and a value on an edge falls in the bin above it, as scikit-learn's
``np.searchsorted(edges[1:-1], x, side="right")``. Compared with scikit-learn on the wine
table and adversarial batches (values on every edge and one ulp either side, -0.0 on an edge
0.0, values beyond the outer edges, huge values, one row, more than 2,048 rows, int
columns, float32, which scikit-learn compares in: the original runs); NaN and infinity
refused as scikit-learn refuses them; a constant column (one bin); in a Pipeline and a
ColumnTransformer feeding a model, and as ``kbins.transform(X)`` in user code."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from notebook_check import same_outcome
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer, StandardScaler

import willump_mlir as wm
from willump_mlir.selfcheck import difference

WINE = load_wine(as_frame=True)
X = WINE.data.iloc[:, :5].copy()
X["centred"] = np.linspace(-1.0, 1.0, len(X))  # uniform, 2 bins: the inner edge is 0.0
X["constant"] = 3.0  # one bin, edges [-inf, inf]


def _fit(**options: Any) -> KBinsDiscretizer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant feature, bins too small
        return KBinsDiscretizer(**options).fit(X)


BINNERS = [
    _fit(n_bins=2, encode="ordinal", strategy="uniform"),
    _fit(n_bins=5, encode="ordinal", strategy="quantile", quantile_method="linear"),
    _fit(n_bins=[3, 4, 5, 6, 7, 2, 4], encode="ordinal", strategy="kmeans"),
    _fit(n_bins=4, encode="onehot-dense", strategy="uniform"),
    _fit(n_bins=6, encode="onehot-dense", strategy="quantile"),
]


def bin_all(frame: pd.DataFrame, binners: list[Any]) -> Any:
    return [b.transform(frame) for b in binners]


@pytest.fixture(scope="module")
def compiled() -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(bin_all, example=(X.iloc[:100], BINNERS))
    explained = compiled.explain()
    assert explained.count("  - KBinsDiscretizer.transform\n") == len(BINNERS), explained
    return compiled


def _on_edges(frame: pd.DataFrame) -> pd.DataFrame:
    """Every edge of every binner in each column, one ulp below and above it, -0.0."""
    rows = []
    for binner in BINNERS:
        for j, edges in enumerate(binner.bin_edges_):
            for edge in edges[np.isfinite(edges)]:
                for value in (np.nextafter(edge, -np.inf), edge, np.nextafter(edge, np.inf)):
                    row = frame.iloc[len(rows) % len(frame)].copy()
                    row.iloc[j] = value
                    rows.append(row)
    edges = pd.DataFrame(rows)
    edges.iloc[:4, 5] = [-0.0, 0.0, -1e-300, 1e-300]
    return edges


def _extremes(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame.iloc[:4].copy()
    rows.iloc[0] = -1.7e308
    rows.iloc[1] = 1.7e308
    rows.iloc[2] = rows.iloc[2] * 1e6
    rows.iloc[3] = -rows.iloc[3]
    return rows


@pytest.mark.parametrize(
    "batch",
    [X.iloc[100:], X.iloc[[7]], pd.concat([X] * 13, ignore_index=True), _on_edges(X),
     _extremes(X), X.round().astype("int64"), X.astype("float32")],
    ids=["rows", "one-row", "2314-rows", "on-edges", "extremes", "int64", "float32"],
)  # fmt: skip
def test_kbins_matches_scikit_learn(compiled: wm.CompiledPipeline, batch: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, found = bin_all(batch, BINNERS), compiled(batch, BINNERS)
    for e, f in zip(expected, found, strict=True):
        assert e.dtype == f.dtype
        np.testing.assert_array_equal(e, f)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinity_are_refused(compiled: wm.CompiledPipeline, bad: float) -> None:
    batch = X.iloc[:20].copy()
    batch.iloc[4, 2] = bad
    error = same_outcome(compiled, bin_all, batch, BINNERS, argument="frame")
    assert isinstance(error, ValueError)


def test_empty_batch_is_the_originals(compiled: wm.CompiledPipeline) -> None:
    same_outcome(compiled, bin_all, X.iloc[:0], BINNERS, argument="frame")


def proba(frame: pd.DataFrame, model: Any) -> Any:
    return model.predict_proba(frame)


@pytest.mark.parametrize("encode", ["onehot", "onehot-dense", "ordinal"])
def test_pipeline_into_a_model(encode: str) -> None:
    model = make_pipeline(KBinsDiscretizer(n_bins=4, encode=encode, strategy="uniform"),
                          LogisticRegression(max_iter=5000))  # fmt: skip
    model.fit(WINE.data, WINE.target)
    compiled = wm.compile(proba, example=(WINE.data.iloc[:100], model))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    for batch in (WINE.data.iloc[100:], WINE.data.iloc[[3]]):
        assert difference(proba(batch, model), compiled(batch, model)) is None


def test_column_transformer_into_a_model() -> None:
    frame = WINE.data
    features = make_column_transformer(
        (KBinsDiscretizer(n_bins=5, encode="onehot", strategy="quantile"), ["alcohol", "ash"]),
        (StandardScaler(), ["hue", "proline"]),
    )
    model = make_pipeline(features, LogisticRegression(max_iter=5000)).fit(frame, WINE.target)
    compiled = wm.compile(proba, example=(frame.iloc[:100], model))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    assert difference(proba(frame, model), compiled(frame, model)) is None


def test_transform_in_user_code() -> None:
    """The way notebooks write it: bins of a few columns, one-hot, next to scaled ones."""
    columns = ["alcohol", "magnesium"]
    kbins = KBinsDiscretizer(n_bins=4, encode="onehot", strategy="kmeans").fit(WINE.data[columns])
    clf = LogisticRegression(max_iter=5000)
    clf.fit(np.hstack([kbins.transform(WINE.data[columns]).toarray(), WINE.data[["hue"]]]),
            WINE.target)  # fmt: skip

    def predict(df: pd.DataFrame) -> Any:
        binned = kbins.transform(df[columns]).toarray()
        return clf.predict(np.hstack([binned, df[["hue"]].to_numpy()]))

    compiled = wm.compile(predict, example=(WINE.data.iloc[:50],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    for batch in (WINE.data.iloc[50:], WINE.data.iloc[[0]]):
        assert difference(predict(batch), compiled(batch)) is None


def test_sparse_result_comes_back_sparse() -> None:
    kbins = KBinsDiscretizer(n_bins=3, encode="onehot", strategy="uniform").fit(WINE.data)

    def binned(df: pd.DataFrame) -> Any:
        return kbins.transform(df)

    compiled = wm.compile(binned, example=(WINE.data.iloc[:50],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    expected, found = binned(WINE.data), compiled(WINE.data)
    assert sp.issparse(found) and found.format == "csr"
    np.testing.assert_array_equal(expected.toarray(), found.toarray())


def test_float32_dtype_runs_in_python_and_is_explained() -> None:
    kbins = KBinsDiscretizer(n_bins=3, encode="ordinal", dtype=np.float32).fit(WINE.data)

    def binned(df: pd.DataFrame) -> Any:
        return kbins.transform(df)

    compiled = wm.compile(binned, example=(WINE.data.iloc[:50],))
    assert "KBinsDiscretizer(dtype=float32) compares in float32" in compiled.explain()
    np.testing.assert_array_equal(binned(WINE.data), compiled(WINE.data))
