"""Pipelines the tamper tests save and attack: tabular, text (vocabulary blobs), trees; and
a pickled payload.

Notebook-style functions in a file of their own, so that a child process can import them
(a pickled save stores them by reference) and ``wm.compile`` can read their source.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

WORDS = ["good", "bad", "movie", "plot", "actor", "great", "boring", "fun", "long", "music"]


class WritesMarker:
    """A pickle payload: unpickling it writes ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (f"open({str(self.path)!r}, 'w').write('ran')",))


def tabular(frame: pd.DataFrame, scaler: StandardScaler, model: LogisticRegression) -> Any:
    x = scaler.transform(frame[["a", "b", "c"]].to_numpy())
    return model.predict_proba(np.hstack([x, np.log1p(np.abs(x))]))[:, 1]


def text(docs: list[str], vectorizer: TfidfVectorizer, model: LogisticRegression) -> Any:
    """The probability that each document is positive."""
    return model.predict_proba(vectorizer.transform(docs))[:, 1]


def trees(x: np.ndarray, model: GradientBoostingClassifier) -> Any:
    return model.predict_proba(x)[:, 1]


def linear_score(x: np.ndarray, model: LogisticRegression) -> Any:
    return model.predict_proba(x)[:, 1]


def optimized_linear() -> tuple[Any, np.ndarray, LogisticRegression]:
    """A cascade over a logistic regression (``wm.optimize`` of :func:`linear_score`), the
    rows it did not see, and its model."""
    import willump_mlir as wm

    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 6))
    y = (2 * x[:, 0] + x[:, 1] + 0.3 * np.abs(x[:, 4]) + rng.normal(scale=0.3, size=3000)) > 0
    model = LogisticRegression().fit(x[:1000], y[:1000])
    fast = wm.optimize(
        linear_score, train=(x[:1000], model), y=y[:1000], validation=(x[1000:2000], model),
        validation_y=y[1000:2000], max_accuracy_loss=0.05, progress=False,
    )  # fmt: skip
    return fast, x[2000:], model


def build(name: str) -> tuple[Callable[..., Any], tuple[Any, ...], tuple[Any, ...]]:
    """The function, its example and a batch of fresh rows (with the same bound arguments)."""
    rng = np.random.default_rng(7)
    if name == "tabular":
        frame = pd.DataFrame(rng.normal(size=(600, 3)), columns=["a", "b", "c"])
        y = (frame["a"] + frame["b"] ** 2 > 0.5).to_numpy()
        scaler = StandardScaler().fit(frame.to_numpy())
        x = scaler.transform(frame.to_numpy())
        model = LogisticRegression().fit(np.hstack([x, np.log1p(np.abs(x))]), y)
        return tabular, (frame[:200], scaler, model), (frame[200:], scaler, model)
    if name == "text":
        docs = [" ".join(rng.choice(WORDS, size=rng.integers(1, 12))) for _ in range(600)]
        y = np.array(["good" in d or "great" in d for d in docs])
        vectorizer = TfidfVectorizer(ngram_range=(1, 2)).fit(docs)
        model = LogisticRegression().fit(vectorizer.transform(docs), y)
        return text, (docs[:200], vectorizer, model), (docs[200:], vectorizer, model)
    x = rng.normal(size=(600, 4))
    y = x[:, 0] * x[:, 1] + x[:, 2] > 0
    model = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(x, y)
    return trees, (x[:200], model), (x[200:], model)


def near_and_far(frame: pd.DataFrame, model: LogisticRegression) -> Any:
    near = frame[["a", "b"]].to_numpy()
    far = np.log1p(np.abs(np.fliplr(frame[["c", "d", "e", "f"]].to_numpy())))  # a Python call
    return model.predict_proba(np.hstack([near, far]))[:, 1]


def optimized_frame() -> tuple[Any, pd.DataFrame]:
    """A certified cascade over a DataFrame (``wm.optimize`` of :func:`near_and_far`: a cheap
    model on columns a and b settles most rows) and fresh rows; ``min_speedup=0`` keeps the
    cascade on a busy host."""
    import willump_mlir as wm

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 6))
    y = (3 * x[:, 0] + 2 * x[:, 1] + np.log1p(np.abs(x[:, 2])) + rng.normal(scale=0.5, size=3000)
         > 0.5).astype(int)  # fmt: skip
    frame = pd.DataFrame(x, columns=list("abcdef"))
    model = LogisticRegression().fit(np.hstack([x[:600, :2], np.log1p(np.abs(x[:600, :1:-1]))]),
                                     y[:600])  # fmt: skip
    fast = wm.optimize(
        near_and_far, train=(frame[:600], model), y=y[:600],
        validation=(frame[600:2400], model), validation_y=y[600:2400], max_accuracy_loss=0.05,
        min_speedup=0, progress=False,
    )  # fmt: skip
    return fast, frame[2400:].reset_index(drop=True)
