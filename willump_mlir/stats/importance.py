"""Grouped permutation importance for dense or sparse feature matrices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

Matrix = np.ndarray | sp.csr_matrix


@dataclass(frozen=True)
class GroupImportance:
    """Score drops when one feature group is permuted, over the repeats."""

    mean: float
    std: float
    drops: tuple[float, ...]


def _permute_block(X: Matrix, columns: np.ndarray, rows: np.ndarray) -> Matrix:
    """``X`` with the block ``X[:, columns]`` row-permuted by ``rows``; column order is kept."""
    if isinstance(X, np.ndarray):
        permuted = X.copy()
        permuted[:, columns] = X[rows[:, None], columns]
        return permuted
    rest = np.setdiff1d(np.arange(X.shape[1]), columns)
    stacked = sp.hstack([X[:, rest], X[:, columns][rows]], format="csr")
    # Column j of ``stacked`` is original column ``concat[j]``; invert that map.
    position = np.empty(X.shape[1], dtype=np.int64)
    position[np.concatenate([rest, columns])] = np.arange(X.shape[1])
    return stacked[:, position]


def permutation_importance(
    score: Callable[[Matrix], float],
    X: Matrix,
    groups: Sequence[np.ndarray],
    repeats: int = 5,
    seed: int = 0,
) -> list[GroupImportance]:
    """Drop ``score(X) - score(X_permuted)`` per group, permuting the group's columns jointly.

    Each repeat draws one permutation of the rows (``np.random.default_rng(seed)``, groups in order,
    repeats within a group) and applies it to the whole column block. Sparse input (converted to
    CSR) is never densified, and dense and sparse inputs see the same permutations.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    data: Matrix = X.tocsr() if sp.issparse(X) else np.asarray(X)
    if data.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {data.shape}")
    n_rows, n_cols = data.shape
    blocks = [np.unique(np.asarray(g, dtype=np.int64)) for g in groups]
    for i, block in enumerate(blocks):
        if block.size and (block[0] < 0 or block[-1] >= n_cols):
            raise ValueError(f"group {i} has columns outside [0, {n_cols}): {block.tolist()}")
    rng = np.random.default_rng(seed)
    base = float(score(data))
    result = []
    for block in blocks:
        drops = tuple(
            base - float(score(_permute_block(data, block, rng.permutation(n_rows))))
            for _ in range(repeats)
        )
        result.append(GroupImportance(float(np.mean(drops)), float(np.std(drops)), drops))
    return result
