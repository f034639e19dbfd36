"""Synthetic tree workloads: ``StandardScaler -> tree ensemble`` on a 50k x 30 array.

The data come from scikit-learn's ``make_classification`` with a fixed seed; the model is fitted on
the first 50,000 rows and the next 10,000 are the held-out test rows.  Input and output are plain
arrays::

    score(X, model) == model.predict_proba(X)[:, 1]    # X: float64 (n, 30)

One builder per model family (``build_gb``, ``build_rf``, ``build_hgb``, ``build_lgbm``,
``build_xgb``), each ``build_x(seed=0, limit=None)``; ``limit`` fits on fewer rows (smoke tests).
Large ensembles (issue 12, "never slower than the original"): ``build_xgb_1000``,
``build_lgbm_1000`` and ``build_rf_1000`` (1,000 trees), and 9-class models of 900 trees
(``build_xgb_9class``, ``build_lgbm_9class``: 100 rounds of 9 trees), scored by
``score_all`` (the whole probability matrix)::

    score_all(X, model) == model.predict_proba(X)               # (n, 9)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

N_FIT = 50_000
N_TEST = 10_000
N_FEATURES = 30
N_TREES = 100
LARGE_TREES = 1000
CLASSES = 9


@dataclass(frozen=True)
class TreeData:
    """The fitted ``StandardScaler -> model`` pipeline, its fit rows and the held-out rows."""

    model: Pipeline
    train: np.ndarray
    test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def make_data(
    seed: int = 0, limit: int | None = None, classes: int = 2
) -> tuple[np.ndarray, ...]:
    """``(X_fit, y_fit, X_test, y_test)``: ``limit`` fit rows (default 50k) and a fifth as many
    test rows (at most 10k), float64, from one ``make_classification`` draw."""
    from sklearn.datasets import make_classification

    n_fit = N_FIT if limit is None else limit
    n_test = min(N_TEST, max(n_fit // 5, 2))
    X, y = make_classification(
        n_samples=n_fit + n_test,
        n_features=N_FEATURES,
        n_informative=15,
        n_redundant=5,
        n_classes=classes,
        flip_y=0.05,
        random_state=seed,
    )
    return X[:n_fit], y[:n_fit], X[n_fit:], y[n_fit:]


def _build(estimator: Any, seed: int, limit: int | None, classes: int = 2) -> TreeData:
    X, y, X_test, y_test = make_data(seed, limit, classes)
    model = Pipeline([("scale", StandardScaler()), ("model", estimator)])
    model.fit(X, y)
    return TreeData(model=model, train=X, test=X_test, y_train=y, y_test=y_test)


def build_gb(seed: int = 0, limit: int | None = None) -> TreeData:
    """``GradientBoostingClassifier(n_estimators=100)`` (depth 3)."""
    from sklearn.ensemble import GradientBoostingClassifier

    return _build(GradientBoostingClassifier(n_estimators=N_TREES, random_state=seed), seed, limit)


def build_rf(seed: int = 0, limit: int | None = None) -> TreeData:
    """``RandomForestClassifier(n_estimators=100, max_depth=10)``."""
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=N_TREES, max_depth=10, n_jobs=2, random_state=seed)
    return _build(forest, seed, limit)


def build_hgb(seed: int = 0, limit: int | None = None) -> TreeData:
    """``HistGradientBoostingClassifier(max_iter=100)`` without early stopping."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    hgb = HistGradientBoostingClassifier(max_iter=N_TREES, early_stopping=False, random_state=seed)
    return _build(hgb, seed, limit)


def build_lgbm(seed: int = 0, limit: int | None = None) -> TreeData:
    """``lightgbm.LGBMClassifier(n_estimators=100)`` (31 leaves)."""
    import lightgbm

    lgbm = lightgbm.LGBMClassifier(n_estimators=N_TREES, random_state=seed, n_jobs=2, verbose=-1)
    return _build(lgbm, seed, limit)


def build_xgb(seed: int = 0, limit: int | None = None) -> TreeData:
    """``xgboost.XGBClassifier(n_estimators=100)`` (depth 6, hist)."""
    import xgboost

    xgb = xgboost.XGBClassifier(n_estimators=N_TREES, random_state=seed, n_jobs=2)
    return _build(xgb, seed, limit)


def build_xgb_1000(seed: int = 0, limit: int | None = None) -> TreeData:
    """``xgboost.XGBClassifier(n_estimators=1000)`` (depth 6, hist)."""
    import xgboost

    xgb = xgboost.XGBClassifier(n_estimators=LARGE_TREES, random_state=seed, n_jobs=2)
    return _build(xgb, seed, limit)


def build_lgbm_1000(seed: int = 0, limit: int | None = None) -> TreeData:
    """``lightgbm.LGBMClassifier(n_estimators=1000)`` (31 leaves)."""
    import lightgbm

    lgbm = lightgbm.LGBMClassifier(
        n_estimators=LARGE_TREES, random_state=seed, n_jobs=2, verbose=-1
    )
    return _build(lgbm, seed, limit)


def build_rf_1000(seed: int = 0, limit: int | None = None) -> TreeData:
    """``RandomForestClassifier(n_estimators=1000, max_depth=8)``."""
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(
        n_estimators=LARGE_TREES, max_depth=8, n_jobs=2, random_state=seed
    )
    return _build(forest, seed, limit)


def build_xgb_9class(seed: int = 0, limit: int | None = None) -> TreeData:
    """``xgboost.XGBClassifier(n_estimators=100)`` on 9 classes: 900 trees (depth 6)."""
    import xgboost

    xgb = xgboost.XGBClassifier(n_estimators=N_TREES, random_state=seed, n_jobs=2)
    return _build(xgb, seed, limit, CLASSES)


def build_lgbm_9class(seed: int = 0, limit: int | None = None) -> TreeData:
    """``lightgbm.LGBMClassifier(n_estimators=100)`` on 9 classes: 900 trees (31 leaves)."""
    import lightgbm

    lgbm = lightgbm.LGBMClassifier(n_estimators=N_TREES, random_state=seed, n_jobs=2, verbose=-1)
    return _build(lgbm, seed, limit, CLASSES)


def score(X: np.ndarray, model: Pipeline) -> np.ndarray:
    """The inference function users hand to ``wm.compile``: P(class 1) per row."""
    return model.predict_proba(X)[:, 1]


def score_all(X: np.ndarray, model: Pipeline) -> np.ndarray:
    """The inference function of the multi-class workloads: every class's probability."""
    return model.predict_proba(X)
