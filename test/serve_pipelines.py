"""Small real pipelines the serving tests compile, save into a repository and query.

Notebook-style functions in a module of their own, so ``wm.compile`` reads their source and a
pickled save stores them by reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["amount", "rate", "years"]
CATEGORICAL = ["grade", "state"]


def loans(rows: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A loan table: floats with NaN, an int64 column, two object str columns."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "amount": rng.gamma(2.0, 5000.0, rows),
        "rate": np.round(rng.uniform(5, 25, rows), 2),
        "years": rng.integers(0, 30, rows).astype(np.int64),
        "grade": pd.Series(rng.choice(list("ABCDE"), rows), dtype=object),
        "state": pd.Series(rng.choice(["CA", "NY", "TX", "WA"], rows), dtype=object),
    })  # fmt: skip
    frame.loc[rng.random(rows) < 0.1, "amount"] = np.nan
    y = ((frame["rate"] > 15) ^ (frame["grade"] > "C")).to_numpy()
    return frame, y


def loan_model(frame: pd.DataFrame, y: np.ndarray, unknown: str = "ignore") -> Pipeline:
    features = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                          ("scale", StandardScaler())]), NUMERIC),
        ("cat", OneHotEncoder(handle_unknown=unknown), CATEGORICAL),
    ])  # fmt: skip
    return Pipeline([("features", features), ("clf", LogisticRegression(max_iter=1000))]).fit(
        frame, y
    )


def score_loans(frame: pd.DataFrame, model: Pipeline) -> Any:
    """Probability of the positive class: every step native."""
    return model.predict_proba(frame)[:, 1]


def score_loans_py(frame: pd.DataFrame, model: Pipeline) -> Any:
    """The same with a step that runs in Python (a regex), so its save holds a pickle."""
    x = frame.copy()
    x["state"] = x["state"].str.replace(r"^\s+", "", regex=True)
    return model.predict_proba(x)[:, 1]


def cascade_rows(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Columns a and b carry most of the signal: a cheap model on them settles most rows."""
    x = rng.normal(size=(n, 6))
    noise = rng.normal(scale=0.5, size=n)
    y = (3 * x[:, 0] + 2 * x[:, 1] + np.log1p(np.abs(x[:, 2])) + noise > 0.5).astype(int)
    return pd.DataFrame(x, columns=list("abcdef")), y


def score_cascade(frame: pd.DataFrame, model: LogisticRegression) -> Any:
    near = frame[["a", "b"]].to_numpy()
    far = np.log1p(np.abs(frame[["c", "d", "e", "f"]].to_numpy()))
    return model.predict_proba(np.hstack([near, far]))[:, 1]


def cascade() -> tuple[Any, LogisticRegression, pd.DataFrame]:
    """A certified cascade (``wm.optimize`` of :func:`score_cascade`), its model and rows
    neither saw."""
    import willump_mlir as wm

    frame, y = cascade_rows(np.random.default_rng(0), 2400)
    x = frame.to_numpy()
    model = LogisticRegression().fit(np.hstack([x[:600, :2], np.log1p(np.abs(x[:600, 2:]))]),
                                     y[:600])  # fmt: skip
    fast = wm.optimize(
        score_cascade, train=(frame[:600], model), y=y[:600], validation=(frame[600:], model),
        validation_y=y[600:], max_accuracy_loss=0.05, min_speedup=0.0, progress=False,
    )  # fmt: skip
    return fast, model, cascade_rows(np.random.default_rng(1), 300)[0]
