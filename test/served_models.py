"""Pipelines the serving tests save into a model repository and query over HTTP: a
lending-club-like credit frame (numeric columns with NaN, an int64 count, string categories)
and a text pipeline on a list of str. Notebook-style functions in a module of their own, so
that a server process can import them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["funded_amnt", "int_rate", "annual_inc"]
COUNT = "inq_last_6mths"
CATEGORICAL = ["term", "addr_state"]
COLUMNS = [*NUMERIC, COUNT, *CATEGORICAL]
WORDS = ["good", "bad", "movie", "plot", "actor", "great", "boring", "fun", "long", "music"]


def credit(frame: pd.DataFrame, model: Pipeline) -> np.ndarray:
    return model.predict_proba(frame)[:, 1]


def reviews(docs: list[str], vectorizer: TfidfVectorizer, model: LogisticRegression) -> Any:
    return model.predict_proba(vectorizer.transform(docs))[:, 1]


def credit_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """`n` loan applications, with NaN in the numeric columns."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "funded_amnt": rng.uniform(1_000, 40_000, n).round(0),
            "int_rate": rng.uniform(5, 25, n).round(2),
            "annual_inc": rng.lognormal(11, 0.5, n).round(0),
            COUNT: rng.integers(0, 6, n).astype(np.int64),
            "term": rng.choice(["term_36", "term_60"], n),
            "addr_state": rng.choice(["CA", "NY", "TX", "WA", "IL"], n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "annual_inc"] = np.nan
    frame.loc[rng.random(n) < 0.05, "int_rate"] = np.nan
    return frame


def review_docs(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(1, 12))) for _ in range(n)]


@dataclass(frozen=True)
class Served:
    """A saved repository and the original functions with their bound arguments."""

    root: Path
    credit_model: Pipeline
    vectorizer: TfidfVectorizer
    review_model: LogisticRegression

    def expected(self, model: str, rows: Any) -> np.ndarray:
        """The original (Python) function's result on `rows`."""
        if model == "credit":
            return credit(rows, self.credit_model)
        return reviews(list(rows), self.vectorizer, self.review_model)


def make_repository(root: Path) -> Served:
    """Compile both pipelines and save them as ``credit/1`` and ``reviews/1`` under `root`."""
    import willump_mlir as wm

    train = credit_rows(800, seed=1)
    y = ((train["int_rate"].fillna(15) > 15) ^ (train["term"] == "term_60")).to_numpy()
    features = ColumnTransformer(
        [
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                              ("scale", StandardScaler())]), [*NUMERIC, COUNT]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )  # fmt: skip
    credit_model = Pipeline([("features", features), ("clf", LogisticRegression())])
    credit_model.fit(train, y)
    wm.compile(credit, example=(credit_rows(200, seed=2), credit_model)).save(root / "credit" / "1")

    docs = review_docs(600, seed=1)
    labels = np.array(["good" in d or "great" in d for d in docs])
    vectorizer = TfidfVectorizer(ngram_range=(1, 2)).fit(docs)
    review_model = LogisticRegression().fit(vectorizer.transform(docs), labels)
    compiled = wm.compile(reviews, example=(docs[:200], vectorizer, review_model))
    compiled.save(root / "reviews" / "1")
    return Served(root, credit_model, vectorizer, review_model)
