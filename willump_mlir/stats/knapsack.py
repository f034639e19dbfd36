"""Candidate cheap feature-group subsets from a 0/1 knapsack over group costs and importances."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

BRUTE_FORCE_GROUPS = 16  # exhaustive search up to this many positive-cost groups
COST_UNITS = 1000  # cost resolution of the dynamic program beyond that
DEFAULT_BUDGETS = tuple(float(b) for b in np.linspace(0.05, 0.95, 16))


def _brute_force(costs: np.ndarray, values: np.ndarray, caps: Sequence[float]) -> list[np.ndarray]:
    """Exact optimum per capacity over all subsets; ties go to the lower cost."""
    m = costs.size
    masks = ((np.arange(1 << m)[:, None] >> np.arange(m)) & 1).astype(bool)
    subset_costs = masks @ costs
    subset_values = masks @ values
    value_tol = 1e-12 * max(float(values.sum()), 1.0)
    cost_tol = 1e-12 * max(float(costs.sum()), 1.0)
    chosen = []
    for cap in caps:
        feasible = np.flatnonzero(subset_costs <= cap + cost_tol)  # contains the empty subset
        best = subset_values[feasible].max()
        tied = feasible[subset_values[feasible] >= best - value_tol]
        chosen.append(masks[tied[np.argmin(subset_costs[tied])]])
    return chosen


def _dynamic_program(
    costs: np.ndarray, values: np.ndarray, caps: Sequence[float]
) -> list[np.ndarray]:
    """Optimum per capacity, costs rounded up to 1/1000 of the total so budgets are respected."""
    unit = float(costs.sum()) / COST_UNITS
    weights = np.maximum(np.ceil(costs / unit - 1e-9), 1).astype(np.int64)
    size = int(weights.sum()) + 1
    best = np.full(size, -np.inf)  # best[w]: top value of a subset of exact weight w
    best[0] = 0.0
    take = np.zeros((costs.size, size), dtype=bool)
    for i, (w, v) in enumerate(zip(weights, values, strict=True)):
        extended = best[:-w] + v
        better = extended > best[w:]
        best[w:][better] = extended[better]
        take[i, w:] = better
    value_tol = 1e-12 * max(float(values.sum()), 1.0)
    chosen = []
    for cap in caps:
        limit = min(size - 1, math.floor(cap / unit + 1e-9))
        top = best[: limit + 1].max()
        w = int(np.flatnonzero(best[: limit + 1] >= top - value_tol)[0])  # lightest optimum
        mask = np.zeros(costs.size, dtype=bool)
        for i in range(costs.size - 1, -1, -1):
            if take[i, w]:
                mask[i] = True
                w -= int(weights[i])
        chosen.append(mask)
    return chosen


def candidate_subsets(
    costs: Sequence[float],
    importances: Sequence[float],
    budgets: Sequence[float] | None = None,
) -> list[tuple[int, ...]]:
    """Distinct non-empty proper subsets of groups maximising importance within cost budgets.

    For each budget fraction ``b`` the subset maximises the total importance (negative importances
    count as 0) subject to ``cost <= b * sum(costs)``, preferring lower cost on ties. Zero-cost
    groups are in every subset. Results are sorted index tuples ordered by total cost.
    """
    cost = np.asarray(costs, dtype=np.float64)
    importance = np.asarray(importances, dtype=np.float64)
    fractions = np.asarray(DEFAULT_BUDGETS if budgets is None else budgets, dtype=np.float64)
    if cost.ndim != 1 or cost.shape != importance.shape:
        raise ValueError(
            f"costs and importances must be 1-D of equal length, got {cost.shape} and "
            f"{importance.shape}"
        )
    if not np.all(np.isfinite(cost)) or np.any(cost < 0):
        raise ValueError(f"costs must be finite and non-negative, got {cost.tolist()}")
    if not np.all(np.isfinite(importance)):
        raise ValueError(f"importances must be finite, got {importance.tolist()}")
    if fractions.ndim != 1 or np.any(~(fractions > 0)) or np.any(fractions > 1):
        raise ValueError(f"budgets must be fractions in (0, 1], got {fractions.tolist()}")
    if cost.size <= 1:
        return []
    free = np.flatnonzero(cost == 0)
    paid = np.flatnonzero(cost > 0)
    caps = [float(b) * float(cost.sum()) for b in fractions]
    solve = _brute_force if paid.size <= BRUTE_FORCE_GROUPS else _dynamic_program
    masks = solve(cost[paid], np.clip(importance[paid], 0.0, None), caps) if paid.size else []
    subsets = {tuple(sorted([*free.tolist(), *paid[mask].tolist()])) for mask in masks}
    proper = [s for s in subsets if 0 < len(s) < cost.size]
    return sorted(proper, key=lambda s: (float(cost[list(s)].sum()), s))
