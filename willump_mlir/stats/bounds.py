"""Exact binomial confidence bounds."""

from __future__ import annotations

from scipy.stats import beta


def binomial_upper_bound(failures: int, trials: int, confidence: float) -> float:
    """One-sided Clopper–Pearson upper bound on a Bernoulli rate from ``failures`` in ``trials``.

    With probability at least ``confidence`` the true rate is at most the returned value. The
    bound is strictly increasing in ``failures`` for fixed ``trials``.
    """
    if trials <= 0:
        raise ValueError(f"trials must be positive, got {trials}")
    if not 0 <= failures <= trials:
        raise ValueError(f"failures must lie in [0, trials={trials}], got {failures}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if failures == trials:
        return 1.0
    return float(beta.ppf(confidence, failures + 1, trials - failures))
