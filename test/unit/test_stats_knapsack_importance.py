"""Knapsack selection of cheap feature-group subsets and grouped permutation importance."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from willump_mlir.stats.importance import permutation_importance
from willump_mlir.stats.knapsack import candidate_subsets

# ---------------------------------------------------------------------------------------------
# candidate_subsets


def _reference(costs: np.ndarray, importances: np.ndarray, budget: float) -> tuple[int, ...]:
    """Exhaustive optimum: most clipped importance within budget, then least cost."""
    m = costs.size
    masks = ((np.arange(1 << m)[:, None] >> np.arange(m)) & 1).astype(bool)
    cost = masks @ costs
    value = masks @ np.clip(importances, 0, None)
    feasible = cost <= budget * costs.sum() + 1e-9
    best = value[feasible].max()
    tied = np.flatnonzero(feasible & (value >= best - 1e-9))
    return tuple(np.flatnonzero(masks[tied[np.argmin(cost[tied])]]).tolist())


@pytest.mark.parametrize("seed", range(30))
def test_knapsack_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 9))
    costs = rng.uniform(0.1, 5.0, m)
    importances = rng.normal(0.5, 0.5, m)  # some negative
    for budget in (0.1, 0.3, 0.5, 0.8):
        expected = _reference(costs, importances, budget)
        got = candidate_subsets(costs, importances, [budget])
        assert got == ([expected] if 0 < len(expected) < m else [])


def test_dynamic_program_exact_on_integer_costs() -> None:
    # 18 groups (beyond brute force); integer costs summing to 1000 discretise exactly.
    rng = np.random.default_rng(1)
    costs = rng.integers(1, 50, 18).astype(float)
    costs[-1] = 1000 - costs[:-1].sum()
    importances = rng.uniform(0, 1, 18)
    budgets = np.linspace(0.05, 0.95, 16)
    got = candidate_subsets(costs, importances, budgets)
    expected = {_reference(costs, importances, float(b)) for b in budgets}
    assert set(got) == {s for s in expected if 0 < len(s) < 18}


def test_dynamic_program_respects_budget() -> None:
    rng = np.random.default_rng(2)
    costs = rng.uniform(0.01, 3.0, 25)
    importances = rng.uniform(0, 1, 25)
    for b in (0.1, 0.4, 0.7):
        (subset,) = candidate_subsets(costs, importances, [b])
        assert costs[list(subset)].sum() <= b * costs.sum() + 1e-9


def test_default_budgets_ordered_by_cost_and_distinct() -> None:
    rng = np.random.default_rng(3)
    costs = rng.uniform(0.1, 2.0, 6)
    importances = rng.uniform(0, 1, 6)
    got = candidate_subsets(costs, importances)
    assert got and len(set(got)) == len(got)
    totals = [costs[list(s)].sum() for s in got]
    assert totals == sorted(totals)
    assert all(list(s) == sorted(s) and 0 < len(s) < 6 for s in got)


def test_zero_cost_groups_always_included() -> None:
    costs = [0.0, 1.0, 2.0, 0.0, 3.0]
    importances = [-1.0, 0.5, 0.7, 0.0, 2.0]  # free groups count even when useless
    got = candidate_subsets(costs, importances)
    assert got
    assert all({0, 3} <= set(s) for s in got)
    assert candidate_subsets([0.0, 0.0], [1.0, 1.0]) == []  # the only answer is the full set


def test_degenerate_inputs() -> None:
    assert candidate_subsets([1.0], [1.0]) == []
    assert candidate_subsets([], []) == []
    with pytest.raises(ValueError, match="equal length"):
        candidate_subsets([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        candidate_subsets([1.0, -2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="budgets"):
        candidate_subsets([1.0, 2.0], [1.0, 1.0], [0.0])


# ---------------------------------------------------------------------------------------------
# permutation_importance


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Six columns: 0-1 drive the label, 2-5 are noise; about half the entries are zero."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2000, 6)) * (rng.random((2000, 6)) < 0.5)
    weights = np.array([3.0, -2.0, 0.0, 0.0, 0.0, 0.0])
    y = (X @ weights > 0).astype(np.int64)
    return X, y, weights


def test_informative_group_matters_noise_does_not() -> None:
    from sklearn.linear_model import LogisticRegression

    X, y, _ = _data()
    model = LogisticRegression().fit(X, y)
    groups = [np.array([0, 1]), np.array([2, 3, 4, 5])]
    informative, noise = permutation_importance(lambda M: model.score(M, y), X, groups)
    assert informative.mean > 0.2 and len(informative.drops) == 5
    assert abs(noise.mean) < 0.02 and noise.std < 0.02
    assert informative.std == pytest.approx(np.std(informative.drops))


def test_dense_and_sparse_agree() -> None:
    X, y, weights = _data(1)

    def score(M: np.ndarray | sp.csr_matrix) -> float:
        return float(np.mean((np.asarray(M @ weights).ravel() > 0) == y))

    groups = [np.array([1]), np.array([0, 4]), np.array([2, 3, 5])]
    dense = permutation_importance(score, X, groups, repeats=4, seed=7)
    sparse = permutation_importance(score, sp.csr_matrix(X), groups, repeats=4, seed=7)
    assert dense == sparse
    assert dense[0].mean > 0 and dense[2].mean == 0.0


@pytest.mark.parametrize("to_matrix", [np.asarray, sp.csr_matrix, sp.csc_matrix])
def test_group_columns_permuted_jointly_in_place(to_matrix) -> None:  # noqa: ANN001
    rows = 50
    ids = np.arange(1, rows + 1, dtype=float)
    X = np.column_stack([ids * 2, ids, ids * 3, ids * 10, ids * 5])
    seen = []

    def score(M: np.ndarray | sp.csr_matrix) -> float:
        seen.append(M.toarray() if sp.issparse(M) else np.array(M))
        return 0.0

    permutation_importance(score, to_matrix(X), [np.array([3, 1])], repeats=2)
    assert len(seen) == 3
    np.testing.assert_array_equal(seen[0], X)  # the unpermuted base score
    for M in seen[1:]:
        np.testing.assert_array_equal(M[:, [0, 2, 4]], X[:, [0, 2, 4]])  # untouched, in place
        assert sorted(M[:, 1]) == sorted(ids) and not np.array_equal(M[:, 1], ids)
        np.testing.assert_array_equal(M[:, 3], 10 * M[:, 1])  # one permutation for the block
    assert not np.array_equal(seen[1], seen[2])  # each repeat draws a new permutation


def test_importance_validation() -> None:
    X = np.zeros((4, 3))
    with pytest.raises(ValueError, match="repeats"):
        permutation_importance(lambda M: 0.0, X, [np.array([0])], repeats=0)
    with pytest.raises(ValueError, match="outside"):
        permutation_importance(lambda M: 0.0, X, [np.array([3])])
    with pytest.raises(ValueError, match="2-D"):
        permutation_importance(lambda M: 0.0, np.zeros(4), [np.array([0])])
