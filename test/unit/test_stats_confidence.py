"""Per-row confidence metrics of the statistics layer."""

from __future__ import annotations

import numpy as np
import pytest

from willump_mlir.stats.confidence import (
    METRICS,
    as_class_probabilities,
    confidence,
    predicted_class,
)


def test_binary_1d_becomes_two_columns() -> None:
    p = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    proba = as_class_probabilities(p)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, [[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]], rtol=1e-6)


def test_multiclass_returned_as_float64() -> None:
    proba = np.array([[0.2, 0.3, 0.5]], dtype=np.float32)
    out = as_class_probabilities(proba)
    assert out.dtype == np.float64 and out.shape == (1, 3)


@pytest.mark.parametrize("shape", [(3, 1), (2, 2, 2), ()])
def test_bad_shapes_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="class probabilities"):
        as_class_probabilities(np.zeros(shape))


def test_binary_metrics() -> None:
    p = np.array([0.1, 0.5, 0.8])
    np.testing.assert_allclose(confidence(p, "top_probability"), [0.9, 0.5, 0.8])
    np.testing.assert_allclose(confidence(p, "margin"), [0.8, 0.0, 0.6])
    # The 1-D and the two-column forms agree.
    two = np.column_stack([1 - p, p])
    for metric in METRICS:
        np.testing.assert_allclose(confidence(p, metric), confidence(two, metric))


def test_multiclass_metrics() -> None:
    proba = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.4, 0.4, 0.2]])
    np.testing.assert_allclose(confidence(proba, "top_probability"), [0.5, 0.6, 0.4])
    np.testing.assert_allclose(confidence(proba, "margin"), [0.2, 0.3, 0.0])


def test_nan_rows_give_nan() -> None:
    proba = np.array([[0.2, np.nan, 0.3], [0.6, 0.1, 0.3]])
    for metric in METRICS:
        out = confidence(proba, metric)
        assert np.isnan(out[0]) and not np.isnan(out[1])
    assert np.isnan(confidence(np.array([np.nan, 0.7]), "margin")).tolist() == [True, False]


def test_unknown_metric_names_choices() -> None:
    with pytest.raises(ValueError, match="top_probability"):
        confidence(np.array([0.5]), "entropy")


def test_predicted_class() -> None:
    p = np.array([0.2, 0.5, 0.51, 0.9])
    labels = predicted_class(p)
    assert labels.dtype == np.int64
    assert labels.tolist() == [0, 0, 1, 1]
    assert predicted_class(np.column_stack([1 - p, p])).tolist() == [0, 0, 1, 1]
    proba = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    assert predicted_class(proba).tolist() == [1, 0]


def test_predicted_class_matches_sklearn() -> None:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=500, random_state=0)
    model = LogisticRegression().fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(predicted_class(proba[:, 1]), model.predict(X))
    np.testing.assert_array_equal(predicted_class(proba), model.predict(X))
