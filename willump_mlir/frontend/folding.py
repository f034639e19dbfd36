"""Monotone column scalers folded into the thresholds of a tree ensemble, exactly.

A tree after a scaler compares ``p(g(x))`` with a threshold ``t``, where ``g`` is the
scaler's float64 arithmetic on one column and ``p`` the model's input cast (float32 or
none). Both are non-decreasing in ``x`` (IEEE rounding is monotone), so the rows that go
left, ``{x : p(g(x)) <= t}`` (or ``< t``), are exactly ``{x : x <= x*}`` for the largest
float64 ``x*`` in that set. :func:`fold_scaler` finds ``x*`` for every split by bisection
over the ordered float64 bit patterns, running the scaler's own ``transform`` on the
candidates, so the folded ensemble reads raw ``x`` and routes every finite value as the
scaler and the model would. Scalers refuse infinities, so the folded pipeline must too.
NaN stays NaN through a scaler and keeps its missing-value routing.

Splits whose routing is not a threshold on ``g(x)`` cannot be folded: categorical splits
(``trunc(g(x))``) and zero-as-missing (an interval of ``x``). An ensemble with either is
left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from .spec import Unsupported
from .trees import CATEGORICAL, ZERO_IS_MISSING, TreeEnsemble

_SIGN = np.int64(-0x8000000000000000)
_UNFOLDABLE = CATEGORICAL | ZERO_IS_MISSING


def _key(x: np.ndarray) -> np.ndarray:
    """float64 -> int64 keys in the same order (-0.0 and 0.0 share key 0)."""
    bits = np.asarray(x, dtype=np.float64).view(np.int64)
    return np.where(bits >= 0, bits, _SIGN - bits)


def _value(key: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_key`."""
    return np.where(key >= 0, key, _SIGN - key).view(np.float64)


def fold_scaler(
    ensemble: TreeEnsemble, transform: Callable[[np.ndarray], np.ndarray]
) -> TreeEnsemble | None:
    """``ensemble`` reading raw columns instead of ``transform``'s output, or ``None``.

    ``transform`` is the scaler's float64 ``[rows, F] -> [rows, F]`` map; it must act on
    each column on its own and be non-decreasing (StandardScaler, RobustScaler, MaxAbsScaler,
    MinMaxScaler without clipping). ``None`` when a split cannot be folded, or when a
    column is decreasing (its largest finite value goes left, its smallest right).
    """
    split = np.flatnonzero(ensemble.feature >= 0)
    if np.any(ensemble.flags[split] & _UNFOLDABLE):
        return None
    columns = ensemble.feature[split].astype(np.int64)
    thresholds = ensemble.threshold[split]
    # Lay the splits out column by column, so one transform call evaluates all of them.
    order = np.argsort(columns, kind="stable")
    counts = np.bincount(columns, minlength=ensemble.features)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rows = np.empty(len(split), dtype=np.int64)
    rows[order] = np.arange(len(split)) - np.repeat(starts, counts)
    grid = np.zeros((max(int(counts.max(initial=0)), 1), ensemble.features))

    def goes_left(keys: np.ndarray) -> np.ndarray:
        grid[rows, columns] = _value(keys)
        with np.errstate(all="ignore"):
            scaled = np.asarray(transform(grid), dtype=np.float64)[rows, columns]
            if ensemble.input_precision == "f32":
                scaled = scaled.astype(np.float32).astype(np.float64)
            if ensemble.compare == "le":
                return scaled <= thresholds
            return scaled < thresholds

    largest = np.finfo(np.float64).max
    if np.any(
        ~goes_left(_key(np.full(len(split), -largest)))
        & goes_left(_key(np.full(len(split), largest)))
    ):
        return None  # a decreasing column
    # Scalers refuse infinities, so only finite values are searched: -inf stands for
    # "goes left" and +inf for "goes right" without being evaluated.
    low = np.full(len(split), _key(np.array(-np.inf))[()], dtype=np.int64)
    high = np.full(len(split), _key(np.array(np.inf))[()], dtype=np.int64)
    while np.any(high - 1 > low):  # invariant: low goes left, high goes right
        middle = (low >> 1) + (high >> 1) + (low & high & 1)
        left = goes_left(middle)
        low = np.where(left, middle, low)
        high = np.where(left, high, middle)
    folded = ensemble.threshold.copy()
    # x <= value(low) for "le"; x < value(low + 1) for "lt": the same rows.
    folded[split] = _value(low if ensemble.compare == "le" else high)
    return replace(ensemble, threshold=folded, input_precision="f64")


#: Scalers whose ``transform`` is a non-decreasing map of each column on its own.
FOLDABLE_SCALERS = (StandardScaler, RobustScaler, MaxAbsScaler, MinMaxScaler)


def fold_into_model(scaler: object, ensemble: TreeEnsemble, check: str) -> tuple[TreeEnsemble, str]:
    """``ensemble`` (whose model checks its input with ``check``) reading the scaler's input,
    and the check the folded model makes; ``Unsupported`` says why it cannot be folded.

    The scaler refuses infinity and passes NaN through, so the folded model refuses
    infinity ("infinite"). That is all it must refuse only when the model itself checks
    nothing (HistGradientBoosting without categories, LightGBM, XGBoost): scikit-learn's
    other trees refuse values that overflow float32 once scaled, which no check on the raw
    value can tell.
    """
    name = type(scaler).__name__
    if check != "none":
        raise Unsupported(
            f"{name} is not folded into a model that checks its input: it refuses values "
            "that are only infinite once scaled (and rounded to float32), which a threshold "
            "on the raw value cannot tell"
        )
    folded = fold_scaler(ensemble, scaler.transform)  # type: ignore[attr-defined]
    if folded is None:
        raise Unsupported(f"{name} is not folded: a split is categorical or zero-as-missing")
    return folded, "infinite"
