"""The short call path of pipelines of kernels over float64 matrices: same results, same
errors as the general path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import willump_mlir as wm
from willump_mlir.runtime.compiled import PARALLEL_ROWS


def close(actual: np.ndarray, expected: np.ndarray) -> None:
    """Probabilities within 1e-12 (the dot product sums in another order than BLAS)."""
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def compiled() -> tuple[wm.CompiledPipeline, object, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 4))
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, X[:, 0] > 0)

    def score(x: np.ndarray) -> np.ndarray:
        return model.predict_proba(x)

    return wm.compile(score, (X[:8],)), model, X


def test_taken_for_contiguous_float64_rows(compiled) -> None:
    fast, model, X = compiled
    assert fast.direct is not None
    assert "goes straight to the kernel(s)" in fast.explain()
    big = np.tile(X, (PARALLEL_ROWS // len(X) + 1, 1))
    assert fast.direct((big,)) is None  # a large batch runs on every core
    close(fast(big), model.predict_proba(big))
    for rows in (X[:1], X[5:6], X[:300]):
        assert fast.direct((rows,)) is not None
        close(fast(rows), model.predict_proba(rows))


def test_other_inputs_take_the_general_path_with_its_results_and_errors(compiled) -> None:
    fast, model, X = compiled
    columns_first = np.asfortranarray(X[:3])
    assert fast.direct((columns_first,)) is None
    close(fast(columns_first), model.predict_proba(columns_first))
    assert fast.direct((X[:4].tolist(),)) is None
    with pytest.raises(wm.InputError, match="3 columns"):
        fast(X[:2, :3])
    narrow = X[:2].astype(np.float32)  # scikit-learn computes in float32: the original runs
    np.testing.assert_array_equal(fast(narrow), model.predict_proba(narrow))
    with pytest.raises(wm.InputError, match="empty batch"):
        fast(X[:0])


def test_a_run_time_error_is_reported_by_the_general_path(compiled) -> None:
    fast, model, X = compiled
    bad = X[:2].copy()
    bad[1, 2] = np.nan
    assert fast.direct((bad,)) is None
    with pytest.raises(wm.InputError, match="NaN"):
        fast(bad)
    close(fast(X[:1]), model.predict_proba(X[:1]))  # record reset


def test_not_taken_when_another_data_argument_is_not_a_matrix(compiled) -> None:
    fast, model, X = compiled
    frame = pd.DataFrame({"a": X[:, 0]})

    def score(x: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(x) * table[["a"]].to_numpy()

    both = wm.compile(score, (X[:8], frame.iloc[:8]))
    assert both.direct is None
    close(both(X[:3], frame.iloc[:3]), score(X[:3], frame.iloc[:3]))


def test_taken_through_a_chain_of_kernels() -> None:
    """A large forest of generated branches behind a scaler runs in a kernel of its own,
    reading the rows the scaler's kernel wrote; the short path runs both, one after another."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 4))
    y = X[:, 0] + rng.normal(size=3000) > 0
    forest = RandomForestClassifier(n_estimators=12, max_depth=12, random_state=0)
    model = make_pipeline(StandardScaler(), forest).fit(X, y)

    def score(x: np.ndarray) -> np.ndarray:
        return model.predict_proba(x)

    fast = wm.compile(score, (X[:8],))
    assert len(fast.kernels) == 2 and fast.direct is not None
    for rows in (X[:1], X[7:8], X[:500]):
        assert fast.direct((rows,)) is not None
        np.testing.assert_array_equal(fast(rows), model.predict_proba(rows))
    bad = X[:3].copy()
    bad[2, 1] = np.inf  # refused in the second kernel: reported by the general path
    assert fast.direct((bad,)) is None
    with pytest.raises(wm.InputError, match="infinity|inf"):
        fast(bad)
