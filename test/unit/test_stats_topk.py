"""Candidate counts for top-K queries answered with a cheap model."""

from __future__ import annotations

import numpy as np
import pytest

from willump_mlir.stats.topk import CandidateCurve, fit_candidate_curve, required_candidates


def test_perfect_cheap_model_needs_k() -> None:
    full = np.random.default_rng(0).normal(size=200)
    for k in (1, 7, 200):
        assert required_candidates(2 * full + 1, full, k) == k


def test_reversed_cheap_model_needs_everything() -> None:
    full = np.arange(100.0)
    assert required_candidates(-full, full, 1) == 100
    assert required_candidates(-full, full, 10) == 100
    # Half of the top 4 (ranks 96-99 by cheap score) are inside the top 98.
    assert required_candidates(-full, full, 4, precision=0.5) == 98


def test_partial_precision_and_ties() -> None:
    full = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.0])
    cheap = np.array([0.0, 5.0, 4.0, 3.0, 2.0, 1.0])  # the top full row ranks last
    assert required_candidates(cheap, full, 2) == 6
    assert required_candidates(cheap, full, 2, precision=0.5) == 2
    # Rows 0-54 of the true top 100 lead the cheap ranking, rows 55-99 trail it.
    full = -np.arange(200.0)
    rank = np.concatenate([np.arange(55), np.arange(155, 200), np.arange(55, 155)])
    cheap = -rank.astype(float)
    # 0.55 * 100 evaluates to 55.00000000000001, yet 55 of the top 100 suffice.
    assert required_candidates(cheap, full, 100, precision=0.55) == 100
    assert required_candidates(cheap, full, 100, precision=0.56) == 156
    # Ties rank the lower index first for both scores.
    assert required_candidates(np.array([0.0, 1.0, 0.0]), np.array([1.0, 1.0, 0.0]), 1) == 2
    assert required_candidates(np.array([1.0, 1.0, 0.0]), np.array([1.0, 1.0, 0.0]), 1) == 1


def test_required_candidates_validation() -> None:
    with pytest.raises(ValueError, match="equal length"):
        required_candidates(np.zeros(3), np.zeros(4), 1)
    with pytest.raises(ValueError, match="k must"):
        required_candidates(np.zeros(3), np.zeros(3), 4)
    with pytest.raises(ValueError, match="precision"):
        required_candidates(np.zeros(3), np.zeros(3), 1, precision=0.0)


def _draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Full scores and a noisy cheap copy."""
    full = rng.normal(size=n)
    return full + 0.5 * rng.normal(size=n), full


def test_curve_candidates_bounded_and_monotone() -> None:
    cheap, full = _draw(np.random.default_rng(0), 3000)
    curve = fit_candidate_curve(cheap, full, precision=0.9, confidence=0.9)
    assert list(curve.k_fractions) == sorted(set(curve.k_fractions))
    assert 8 <= len(curve.k_fractions) <= 12 and curve.k_fractions[-1] == pytest.approx(0.2)
    assert all(r >= 1.0 for r in curve.ratios)
    for n in (20, 500, 1500, 20_000):
        counts = [curve.candidates(k, n) for k in range(1, n + 1)]
        assert all(k <= m <= n for k, m in enumerate(counts, start=1))
        assert all(a <= b for a, b in zip(counts, counts[1:], strict=False))


def test_curve_with_explicit_grid() -> None:
    cheap, full = _draw(np.random.default_rng(1), 400)
    curve = fit_candidate_curve(cheap, full, k_fractions=[0.01, 0.05, 0.1], batches=10)
    assert curve.k_fractions == (0.01, 0.05, 0.1)  # already multiples of 1 / 200
    assert (curve.precision, curve.confidence) == (0.95, 0.95)
    with pytest.raises(ValueError, match="increasing"):
        fit_candidate_curve(cheap, full, k_fractions=[0.1, 0.05])
    with pytest.raises(ValueError, match="at least 20 rows"):
        fit_candidate_curve(cheap[:19], full[:19])
    with pytest.raises(ValueError, match="equal length"):
        fit_candidate_curve(cheap, full[:-1])


def test_curve_interpolation() -> None:
    curve = CandidateCurve(
        ratios=(4.0, 3.0, 2.0), k_fractions=(0.01, 0.1, 0.2), precision=0.9, confidence=0.9
    )
    assert curve.candidates(5, 1000) == 40  # below the grid: the first point's 0.01 * 4 * n
    assert curve.candidates(10, 1000) == 40  # at a grid point
    assert curve.candidates(11, 1000) == 300  # between points: the next point's 0.1 * 3 * n
    assert curve.candidates(100, 1000) == 300
    assert curve.candidates(101, 1000) == 400
    assert curve.candidates(300, 1000) == 600  # beyond the grid: 300 * 2
    assert curve.candidates(800, 1000) == 1000  # capped at n
    with pytest.raises(ValueError):
        curve.candidates(0, 10)


def test_fitted_candidates_reach_precision_on_fresh_batches() -> None:
    """On fresh batches from the same distribution, the fitted candidate count reaches the
    target precision in about ``confidence`` of batches (the fit only sees one sample)."""
    precision, level, rows = 0.9, 0.9, 4000
    hits, trials = 0, 0
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        curve = fit_candidate_curve(*_draw(rng, rows), precision=precision, confidence=level)
        for k in (20, 50, 100):
            for _ in range(50):
                cheap, full = _draw(rng, rows // 2)
                m = curve.candidates(k, rows // 2)
                top_full = np.argsort(-full, kind="stable")[:k]
                top_cheap = np.argsort(-cheap, kind="stable")[:m]
                hits += np.isin(top_full, top_cheap).sum() >= round(precision * k)
                trials += 1
    assert hits / trials >= level - 0.1
