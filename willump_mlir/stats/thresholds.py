"""Choosing and certifying the confidence threshold of a cascade.

The accuracy loss of a cascade is ``accuracy(full) - accuracy(cascade)``. A row the cascade settles
(answers with the cheap label) contributes +1 if the cheap label is wrong and the full one right,
-1 in the opposite case and 0 otherwise, so ``loss <= harmful / n`` with ``harmful`` the settled
rows where cheap is wrong and full is right. ``harmful / n`` is a Bernoulli rate over the rows, and
its Clopper–Pearson upper bound is a sound (conservative) bound on the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from willump_mlir.stats.bounds import binomial_upper_bound


@dataclass(frozen=True)
class ThresholdChoice:
    """A threshold and what it does on a set of rows."""

    threshold: float
    settled_fraction: float
    harmful: int
    rows: int
    observed_loss: float  # accuracy(full) - accuracy(cascade) on these rows; may be negative
    bound: float  # upper confidence bound on the true loss


def _outcomes(
    conf: np.ndarray, cheap_labels: np.ndarray, full_labels: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate the inputs; return conf as float64, per-row harmful flags and loss contributions."""
    conf = np.asarray(conf, dtype=np.float64)
    cheap_labels, full_labels, y = (np.asarray(a) for a in (cheap_labels, full_labels, y))
    if conf.ndim != 1 or conf.size == 0:
        raise ValueError(f"conf must be a non-empty 1-D array, got shape {conf.shape}")
    if not conf.shape == cheap_labels.shape == full_labels.shape == y.shape:
        raise ValueError(
            "conf, cheap_labels, full_labels and y must have the same shape, got "
            f"{conf.shape}, {cheap_labels.shape}, {full_labels.shape}, {y.shape}"
        )
    cheap_ok = cheap_labels == y
    full_ok = full_labels == y
    return conf, full_ok & ~cheap_ok, full_ok.astype(np.int64) - cheap_ok.astype(np.int64)


def evaluate_threshold(
    threshold: float,
    conf: np.ndarray,
    cheap_labels: np.ndarray,
    full_labels: np.ndarray,
    y: np.ndarray,
    confidence: float,
) -> ThresholdChoice:
    """Settle the rows with ``conf >= threshold`` (never NaN) and bound the resulting loss."""
    conf, harmful, delta = _outcomes(conf, cheap_labels, full_labels, y)
    settled = conf >= threshold
    n = conf.size
    count = int(np.count_nonzero(harmful & settled))
    return ThresholdChoice(
        threshold=float(threshold),
        settled_fraction=float(np.count_nonzero(settled)) / n,
        harmful=count,
        rows=n,
        observed_loss=float(delta[settled].sum()) / n,
        bound=binomial_upper_bound(count, n, confidence),
    )


def _max_failures(trials: int, max_bound: float, confidence: float) -> int:
    """Largest failure count whose upper bound is ``<= max_bound`` (-1 if none).

    Binary search; valid because the bound is increasing in the failure count.
    """
    lo, hi = -1, trials  # bound(lo) <= max_bound (or lo == -1); bound(hi) == 1.0
    if max_bound >= 1.0:
        return trials
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if binomial_upper_bound(mid, trials, confidence) <= max_bound:
            lo = mid
        else:
            hi = mid
    return lo


def choose_threshold(
    conf: np.ndarray,
    cheap_labels: np.ndarray,
    full_labels: np.ndarray,
    y: np.ndarray,
    max_loss: float,
    confidence: float,
) -> ThresholdChoice | None:
    """The threshold settling the most rows whose loss bound is ``<= max_loss``, or None.

    Every distinct finite confidence is a candidate; each is checked (O(n log n) overall). The bound
    uses all ``n`` rows as trials and the harmful settled rows as failures.
    """
    conf, harmful, delta = _outcomes(conf, cheap_labels, full_labels, y)
    n = conf.size
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    known = np.flatnonzero(~np.isnan(conf))
    order = known[np.argsort(-conf[known], kind="stable")]
    values = conf[order]
    cum_harmful = np.cumsum(harmful[order])
    cum_delta = np.cumsum(delta[order])
    # Last position of each run of equal confidences: settling ``values[i]`` settles rows 0..i.
    last = np.flatnonzero(np.append(values[1:] != values[:-1], True))
    last = last[np.isfinite(values[last])]
    allowed = _max_failures(n, max_loss, confidence)
    ok = last[cum_harmful[last] <= allowed]
    if ok.size == 0:
        return None
    best = int(ok[-1])  # settled counts grow along ``last``: the last fit settles the most
    return ThresholdChoice(
        threshold=float(values[best]),
        settled_fraction=(best + 1) / n,
        harmful=int(cum_harmful[best]),
        rows=n,
        observed_loss=float(cum_delta[best]) / n,
        bound=binomial_upper_bound(int(cum_harmful[best]), n, confidence),
    )


def certify(
    threshold: float,
    conf: np.ndarray,
    cheap_labels: np.ndarray,
    full_labels: np.ndarray,
    y: np.ndarray,
    max_loss: float,
    confidence: float,
) -> tuple[ThresholdChoice, bool]:
    """Evaluate ``threshold`` on an independent split; it passes if the loss bound is within
    ``max_loss``."""
    choice = evaluate_threshold(threshold, conf, cheap_labels, full_labels, y, confidence)
    return choice, choice.bound <= max_loss
