"""Clopper–Pearson bounds and the choice and certification of cascade thresholds."""

from __future__ import annotations

import time

import numpy as np
import pytest

from willump_mlir.stats.bounds import binomial_upper_bound
from willump_mlir.stats.confidence import confidence, predicted_class
from willump_mlir.stats.thresholds import (
    ThresholdChoice,
    certify,
    choose_threshold,
    evaluate_threshold,
)

# ---------------------------------------------------------------------------------------------
# binomial_upper_bound


def test_bound_known_values() -> None:
    # Zero failures: the bound is 1 - (1 - confidence) ** (1 / trials) (the "rule of three").
    assert binomial_upper_bound(0, 2995, 0.95) == pytest.approx(0.001, rel=1e-3)
    assert binomial_upper_bound(0, 10, 0.9) == pytest.approx(1 - 0.1**0.1)
    assert binomial_upper_bound(5, 5, 0.9) == 1.0
    # Larger than the point estimate, and shrinking towards it with more trials.
    assert 0.1 < binomial_upper_bound(10, 100, 0.95) < 0.17
    assert binomial_upper_bound(100, 1000, 0.95) < binomial_upper_bound(10, 100, 0.95)


def test_bound_monotone_in_failures_and_confidence() -> None:
    bounds = [binomial_upper_bound(f, 200, 0.9) for f in range(201)]
    assert all(a < b for a, b in zip(bounds, bounds[1:], strict=False))
    assert binomial_upper_bound(3, 200, 0.99) > binomial_upper_bound(3, 200, 0.9)


@pytest.mark.parametrize(
    ("failures", "trials", "conf"),
    [(0, 0, 0.9), (-1, 10, 0.9), (11, 10, 0.9), (1, 10, 0.0), (1, 10, 1.0)],
)
def test_bound_rejects_bad_arguments(failures: int, trials: int, conf: float) -> None:
    with pytest.raises(ValueError):
        binomial_upper_bound(failures, trials, conf)


# ---------------------------------------------------------------------------------------------
# choose_threshold on crafted data

N = 100
CONF = 0.9
ALLOW_0 = (binomial_upper_bound(0, N, CONF) + binomial_upper_bound(1, N, CONF)) / 2
ALLOW_1 = (binomial_upper_bound(1, N, CONF) + binomial_upper_bound(2, N, CONF)) / 2


def crafted() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """100 rows with confidences 1.00, 0.99, ..., 0.01; harmful at ranks 10 and 20, one row
    (rank 5) where only the cheap model is right."""
    conf = (N - np.arange(N)) / N
    y = np.ones(N, dtype=np.int64)
    cheap = y.copy()
    full = y.copy()
    cheap[[10, 20]] = 0
    full[5] = 0
    return conf, cheap, full, y


def test_choose_threshold_exact() -> None:
    conf, cheap, full, y = crafted()
    choice = choose_threshold(conf, cheap, full, y, ALLOW_1, CONF)
    assert choice == ThresholdChoice(
        threshold=0.81,
        settled_fraction=0.2,
        harmful=1,
        rows=N,
        observed_loss=0.0,  # one harmful and one helpful settled row
        bound=binomial_upper_bound(1, N, CONF),
    )
    choice = choose_threshold(conf, cheap, full, y, ALLOW_0, CONF)
    assert choice is not None
    assert (choice.threshold, choice.settled_fraction, choice.harmful) == (0.91, 0.1, 0)
    assert choice.observed_loss == pytest.approx(-0.01)


def test_choose_threshold_ties_settle_together() -> None:
    conf, cheap, full, y = crafted()
    conf[19:22] = 0.8  # the harmful rank-20 row ties with ranks 19 and 21
    choice = choose_threshold(conf, cheap, full, y, ALLOW_1, CONF)
    assert choice is not None
    assert (choice.threshold, choice.settled_fraction, choice.harmful) == (0.82, 0.19, 1)


def test_choose_threshold_none_when_impossible() -> None:
    conf, cheap, full, y = crafted()
    too_strict = binomial_upper_bound(0, N, CONF) / 2  # below the bound for zero failures
    assert choose_threshold(conf, cheap, full, y, too_strict, CONF) is None
    cheap[0] = 0  # the most confident row is harmful
    assert choose_threshold(conf, cheap, full, y, ALLOW_0, CONF) is None


def test_nan_confidence_never_settles() -> None:
    conf, cheap, full, y = crafted()
    cheap[:] = 1
    conf[[3, 50, 70]] = np.nan
    cheap[[3, 50, 70]] = 0  # harmful, but never settled
    choice = choose_threshold(conf, cheap, full, y, ALLOW_0, CONF)
    assert choice is not None
    assert choice.threshold == 0.01 and choice.settled_fraction == 0.97 and choice.harmful == 0
    assert evaluate_threshold(-np.inf, conf, cheap, full, y, CONF).settled_fraction == 0.97


def _brute_force(conf, cheap, full, y, max_loss, conf_level):  # noqa: ANN001, ANN202
    best = None
    for t in np.unique(conf[np.isfinite(conf)]):
        choice = evaluate_threshold(t, conf, cheap, full, y, conf_level)
        if choice.bound <= max_loss and (
            best is None or choice.settled_fraction > best.settled_fraction
        ):
            best = choice
    return best


@pytest.mark.parametrize("seed", range(20))
def test_choose_threshold_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    conf = rng.integers(0, 30, n) / 30.0  # many ties
    conf[rng.random(n) < 0.05] = np.nan
    conf[rng.random(n) < 0.02] = np.inf
    conf[rng.random(n) < 0.02] = -np.inf
    y = rng.integers(0, 3, n)
    full = np.where(rng.random(n) < 0.8, y, rng.integers(0, 3, n))
    # The cheap model is wrong more often on low-confidence rows.
    wrong = rng.random(n) > np.nan_to_num(conf, nan=0.0, posinf=1.0, neginf=0.0)
    cheap = np.where(wrong, rng.integers(0, 3, n), y)
    max_loss = float(rng.uniform(0.0, 0.3))  # some seeds admit no threshold
    got = choose_threshold(conf, cheap, full, y, max_loss, 0.9)
    assert got == _brute_force(conf, cheap, full, y, max_loss, 0.9)


def test_choose_threshold_is_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """A million distinct candidates: the bound is evaluated O(log n) times (a binary search
    for the allowed failures, then the choice's own bound), not once per candidate, and the
    whole choice costs a few sorts of ``conf`` (CPU time, not wall time: the machine may be
    busy)."""
    rng = np.random.default_rng(0)
    n = 1_000_000
    conf = rng.random(n)
    y = rng.integers(0, 2, n)
    full = np.where(rng.random(n) < 0.9, y, 1 - y)
    cheap = np.where(rng.random(n) < conf, y, 1 - y)
    calls = [0]

    def counted(failures: int, trials: int, confidence: float) -> float:
        calls[0] += 1
        return binomial_upper_bound(failures, trials, confidence)

    monkeypatch.setattr("willump_mlir.stats.thresholds.binomial_upper_bound", counted)
    start = time.process_time()
    np.argsort(-conf, kind="stable")
    sort = time.process_time() - start
    start = time.process_time()
    choice = choose_threshold(conf, cheap, full, y, 0.01, 0.95)
    elapsed = time.process_time() - start
    assert choice is not None and choice.bound <= 0.01
    assert calls[0] <= n.bit_length() + 2
    assert elapsed < 10 * sort + 0.5  # measured: about 2 sorts


def test_input_validation() -> None:
    conf, cheap, full, y = crafted()
    with pytest.raises(ValueError, match="same shape"):
        choose_threshold(conf[:-1], cheap, full, y, 0.1, CONF)
    with pytest.raises(ValueError, match="non-empty"):
        choose_threshold(np.array([]), [], [], [], 0.1, CONF)
    with pytest.raises(ValueError, match="confidence"):
        choose_threshold(conf, cheap, full, y, 0.1, 1.0)


def test_harmful_rows_are_settled_rows_cheap_gets_wrong_and_full_gets_right() -> None:
    y = np.array([1, 1, 0, 0, 1])
    cheap = np.array([0, 0, 1, 0, 1])
    full = np.array([1, 0, 0, 1, 1])
    conf = np.array([0.9, 0.9, 0.1, 0.9, 0.9])
    # Row 0: cheap wrong, full right (harmful); row 1: both wrong; row 2: unsettled.
    assert evaluate_threshold(0.5, conf, cheap, full, y, CONF).harmful == 1
    assert evaluate_threshold(0.0, conf, cheap, full, y, CONF).harmful == 2


def test_certify() -> None:
    conf, cheap, full, y = crafted()
    choice, passed = certify(0.81, conf, cheap, full, y, ALLOW_1, CONF)
    assert passed and choice.harmful == 1 and choice.settled_fraction == 0.2
    choice, passed = certify(0.75, conf, cheap, full, y, ALLOW_1, CONF)
    assert not passed and choice.harmful == 2 and choice.bound > ALLOW_1


# ---------------------------------------------------------------------------------------------
# The statistical guarantee


def test_certified_thresholds_keep_the_loss_bound() -> None:
    """Choose on one split, certify on an independent one, check the true loss on a large test
    set: certified thresholds exceed ``max_loss`` in at most about ``1 - confidence`` of runs."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    rows = 150_000
    X = rng.normal(size=(rows, 12))  # 12 informative features, the first three the strongest
    weights = np.array([2.0, 1.5, 1.0] + [0.6] * 9)
    y = (rng.random(rows) < 1 / (1 + np.exp(-X @ weights))).astype(np.int64)
    train, pool, test = np.arange(10_000), np.arange(10_000, 90_000), np.arange(90_000, rows)
    full_model = LogisticRegression(max_iter=1000).fit(X[train], y[train])
    cheap_model = LogisticRegression(max_iter=1000).fit(X[train, :3], y[train])
    full = predicted_class(full_model.predict_proba(X)[:, 1])
    cheap_proba = cheap_model.predict_proba(X[:, :3])[:, 1]
    cheap = predicted_class(cheap_proba)
    conf = confidence(cheap_proba, "top_probability")

    max_loss, level, runs = 0.01, 0.9, 50
    full_accuracy = np.mean(full[test] == y[test])
    certified, violations, settled = 0, 0, []
    for seed in range(runs):
        split = np.random.default_rng(seed).choice(pool, 6000, replace=False)
        a, b = split[:3000], split[3000:]
        # Aim below max_loss on the choosing split so that most choices also certify.
        choice = choose_threshold(conf[a], cheap[a], full[a], y[a], 0.7 * max_loss, level)
        if choice is None:
            continue
        _, passed = certify(choice.threshold, conf[b], cheap[b], full[b], y[b], max_loss, level)
        if not passed:
            continue
        certified += 1
        answered = np.where(conf[test] >= choice.threshold, cheap[test], full[test])
        true_loss = full_accuracy - np.mean(answered == y[test])
        violations += bool(true_loss > max_loss)
        settled.append(np.mean(conf[test] >= choice.threshold))

    slack = 3 * np.sqrt((1 - level) * level / runs)
    assert violations / runs <= (1 - level) + slack
    assert certified > runs / 2  # not vacuous: most runs certify ...
    assert np.mean(settled) > 0.2  # ... and the cascade settles a real share of rows
