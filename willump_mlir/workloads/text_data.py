"""What the text workloads share: a fitted model with its split, and the seeded split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.pipeline import Pipeline

TRAIN_FRACTION = 0.7


@dataclass(frozen=True)
class TextData:
    """A fitted text model with its train/test split (texts as ``list[str]``)."""

    model: Pipeline
    train: list[str]
    test: list[str]
    y_train: np.ndarray
    y_test: np.ndarray


def split_indices(
    n: int, seed: int = 0, limit: int | None = None, train_fraction: float = TRAIN_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded permutation of ``range(n)`` (cut to ``limit`` rows), split train/test."""
    order = np.random.default_rng(seed).permutation(n)
    if limit is not None:
        order = order[:limit]
    cut = int(train_fraction * len(order))
    return order[:cut], order[cut:]
