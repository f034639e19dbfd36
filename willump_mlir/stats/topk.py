"""How many cheap-model candidates a top-K query needs for the full model to find its top K.

The cheap scores pick the ``m`` rows with the highest cheap scores; the full model re-scores them
and returns its top K. Precision is the share of the true top K (by full score over all rows) that
is among those ``m`` candidates. Ties rank the lower row index first; NaN scores rank last.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_ROWS = 20
DEFAULT_GRID_POINTS = 12
DEFAULT_MAX_FRACTION = 0.2


def _scores(cheap_scores: np.ndarray, full_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cheap = np.asarray(cheap_scores, dtype=np.float64)
    full = np.asarray(full_scores, dtype=np.float64)
    if cheap.ndim != 1 or cheap.shape != full.shape:
        raise ValueError(
            f"cheap_scores and full_scores must be 1-D of equal length, got {cheap.shape} and "
            f"{full.shape}"
        )
    return cheap, full


def _cheap_ranks_in_full_order(cheap: np.ndarray, full: np.ndarray) -> np.ndarray:
    """Cheap rank (0 = best) of each row, listed in full-score order (best first)."""
    rank = np.empty(cheap.size, dtype=np.int64)
    rank[np.argsort(-cheap, kind="stable")] = np.arange(cheap.size)
    return rank[np.argsort(-full, kind="stable")]


def _needed(k: int, precision: float) -> int:
    """How many of the true top ``k`` must be among the candidates."""
    return max(1, math.ceil(precision * k - 1e-9))


def _required(ranks: np.ndarray, k: int, precision: float) -> int:
    """Smallest ``m >= k`` with ``_needed(k, precision)`` of the true top ``k`` in the top ``m``."""
    q = _needed(k, precision)
    return max(k, int(np.partition(ranks[:k], q - 1)[q - 1]) + 1)


def _check_precision(precision: float) -> None:
    if not 0.0 < precision <= 1.0:
        raise ValueError(f"precision must lie in (0, 1], got {precision}")


def required_candidates(
    cheap_scores: np.ndarray, full_scores: np.ndarray, k: int, precision: float = 1.0
) -> int:
    """Smallest ``m >= k`` whose top ``m`` cheap rows hold ``ceil(precision * k)`` of the true top
    ``k`` by full score. O(n log n)."""
    cheap, full = _scores(cheap_scores, full_scores)
    if not 1 <= k <= cheap.size:
        raise ValueError(f"k must lie in [1, {cheap.size}], got {k}")
    _check_precision(precision)
    return _required(_cheap_ranks_in_full_order(cheap, full), k, precision)


@dataclass(frozen=True)
class CandidateCurve:
    """Candidates per requested row (``ratios``) as a function of ``k / n`` (``k_fractions``).

    The ratios are monotone so that ``k_fractions[i] * ratios[i]`` (candidates / n) never
    decreases along the grid.
    """

    ratios: tuple[float, ...]
    k_fractions: tuple[float, ...]
    precision: float
    confidence: float

    def candidates(self, k: int, n: int) -> int:
        """Candidates to request for the top ``k`` of ``n`` rows; non-decreasing in ``k``.

        Between grid points, and below the grid (a tail the fit did not reach), the
        candidate fraction of the next grid point up is used (conservative, since needs grow
        with k); above the grid the end ratio is applied to ``k``.
        """
        if not 1 <= k <= n:
            raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
        fraction = k / n
        grid = self.k_fractions
        if fraction <= grid[0]:
            wanted = n * grid[0] * self.ratios[0]
        elif fraction >= grid[-1]:
            wanted = k * self.ratios[-1]
        else:
            i = int(np.searchsorted(grid, fraction, side="left"))
            wanted = n * grid[i] * self.ratios[i]
        return min(n, max(k, math.ceil(wanted - 1e-9)))


def fit_candidate_curve(
    cheap_scores: np.ndarray,
    full_scores: np.ndarray,
    precision: float = 0.95,
    confidence: float = 0.95,
    k_fractions: Sequence[float] | None = None,
    batches: int = 40,
    seed: int = 0,
) -> CandidateCurve:
    """Fit the candidates-per-k curve on resampled batches of the given rows.

    Each batch is a subsample without replacement of half the rows (``np.random.default_rng
    (seed)``). Grid fractions (default: about 12 geometric points from one row of a batch up to
    0.2) are snapped to ``k / batch size`` with ``k >= 1``, so the stored grid may be shorter. At
    each point the ratio is the ``confidence`` quantile (method "higher") over batches of the
    candidates needed for ``precision``. The quantile is over resamples of these rows, so on fresh
    data it holds only approximately.
    """
    cheap, full = _scores(cheap_scores, full_scores)
    if cheap.size < MIN_ROWS:
        raise ValueError(f"need at least {MIN_ROWS} rows for a candidate curve, got {cheap.size}")
    _check_precision(precision)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if batches < 1:
        raise ValueError(f"batches must be at least 1, got {batches}")
    size = cheap.size // 2
    if k_fractions is None:
        grid = np.geomspace(1.0 / size, DEFAULT_MAX_FRACTION, DEFAULT_GRID_POINTS)
    else:
        grid = np.asarray(k_fractions, dtype=np.float64)
        if grid.ndim != 1 or grid.size == 0 or np.any(~(grid > 0)) or np.any(grid > 1):
            raise ValueError(f"k_fractions must be fractions in (0, 1], got {grid.tolist()}")
        if np.any(np.diff(grid) <= 0):
            raise ValueError(f"k_fractions must be increasing, got {grid.tolist()}")
    ks = np.unique(np.clip(np.rint(grid * size), 1, size).astype(np.int64))
    rng = np.random.default_rng(seed)
    ratios = np.empty((batches, ks.size))
    for b in range(batches):
        rows = rng.choice(cheap.size, size=size, replace=False)
        ranks = _cheap_ranks_in_full_order(cheap[rows], full[rows])
        ratios[b] = [_required(ranks, int(k), precision) / k for k in ks]
    quantiles = np.quantile(ratios, confidence, axis=0, method="higher")
    fractions = ks / size
    needed = np.maximum.accumulate(fractions * quantiles)  # candidates / n, non-decreasing
    return CandidateCurve(
        ratios=tuple(float(r) for r in needed / fractions),
        k_fractions=tuple(float(f) for f in fractions),
        precision=float(precision),
        confidence=float(confidence),
    )
