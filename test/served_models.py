"""The serving tests' model repository: the loan table pipeline of ``serve_pipelines`` (floats
with NaN, an int64 column, str categories) and a text pipeline on a list of str, compiled and
saved. Notebook-style functions in a module of their own, so that a server process can
import them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from serve_pipelines import CATEGORICAL, NUMERIC, loan_model, loans, score_loans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

COLUMNS = [*NUMERIC, *CATEGORICAL]
WORDS = ["good", "bad", "movie", "plot", "actor", "great", "boring", "fun", "long", "music"]


def reviews(docs: list[str], vectorizer: TfidfVectorizer, model: LogisticRegression) -> Any:
    return model.predict_proba(vectorizer.transform(docs))[:, 1]


def credit_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """`n` loan applications, with NaN in ``amount``."""
    return loans(n, seed)[0]


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
            return score_loans(rows, self.credit_model)
        return reviews(list(rows), self.vectorizer, self.review_model)


def make_repository(root: Path) -> Served:
    """Compile both pipelines and save them as ``credit/1`` and ``reviews/1`` under `root`."""
    import willump_mlir as wm

    credit_model = loan_model(*loans(800, seed=1))
    example = credit_rows(200, seed=2)
    wm.compile(score_loans, example=(example, credit_model)).save(root / "credit" / "1")

    docs = review_docs(600, seed=1)
    labels = np.array(["good" in d or "great" in d for d in docs])
    vectorizer = TfidfVectorizer(ngram_range=(1, 2)).fit(docs)
    review_model = LogisticRegression().fit(vectorizer.transform(docs), labels)
    compiled = wm.compile(reviews, example=(docs[:200], vectorizer, review_model))
    compiled.save(root / "reviews" / "1")
    return Served(root, credit_model, vectorizer, review_model)
