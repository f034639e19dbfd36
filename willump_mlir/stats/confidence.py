"""Per-row confidence of a classifier from its predicted class probabilities."""

from __future__ import annotations

import numpy as np

METRICS = ("top_probability", "margin")


def as_class_probabilities(proba: np.ndarray) -> np.ndarray:
    """Return an ``(n, K)`` float64 array; a 1-D binary ``p`` (positive class) becomes
    ``[1-p, p]``."""
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim == 1:
        return np.column_stack([1.0 - arr, arr])
    if arr.ndim == 2 and arr.shape[1] >= 2:
        return arr
    raise ValueError(
        "expected class probabilities as a 1-D array (binary, positive class) or an (n, K) "
        f"array with K >= 2, got shape {arr.shape}"
    )


def confidence(proba: np.ndarray, metric: str) -> np.ndarray:
    """Per-row confidence: the top class probability, or its margin over the runner-up.

    A row containing NaN gets NaN.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown confidence metric {metric!r}; choose one of {METRICS}")
    ordered = np.sort(as_class_probabilities(proba), axis=1)  # NaN sorts last
    top = ordered[:, -1]
    if metric == "top_probability":
        return top
    return top - ordered[:, -2]


def predicted_class(proba: np.ndarray) -> np.ndarray:
    """Argmax class index per row (int64).

    For a 1-D binary ``p`` this is ``p > 0.5``, matching scikit-learn's
    ``LogisticRegression.predict`` (decision function > 0); a tie at 0.5 gives class 0, as argmax
    does on ``[0.5, 0.5]``.
    """
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim == 1:
        return (arr > 0.5).astype(np.int64)
    return np.argmax(as_class_probabilities(arr), axis=1).astype(np.int64)
