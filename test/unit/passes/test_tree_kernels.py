"""The node-array walk of ``passes.tree_kernels`` against ``TreeEnsemble.reference_predict``.

Random ensembles with every numeric routing rule (NaN left or right, zero as missing, ``<=``
or ``<``, float32 inputs and sums, single-leaf trees) are compiled as node arrays through
the whole pipeline and run on values placed at every threshold, one ulp either side in both
precisions, at the zero-as-missing bound, and on NaN, infinities and signed zeros; at every
batch size around the walks' boundaries (a row at a time, rows walking together, blocks).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor
from test_tree_branches import adversarial_rows, random_ensemble

import willump_mlir as wm
from willump_mlir.dialects.feature import MISSING_LEFT, ZERO_IS_MISSING
from willump_mlir.frontend import params, sklearn_trees
from willump_mlir.frontend.trees import TreeEnsemble
from willump_mlir.passes.lower_pipeline_to_feature import PREDICTORS, lower_tree_ensemble
from willump_mlir.passes.tree_kernels import TOGETHER_ROWS, TREE_BLOCK

SIZES = (1, 2, TOGETHER_ROWS - 1, TOGETHER_ROWS, TREE_BLOCK - 1, TREE_BLOCK, 2 * TREE_BLOCK + 9)


class ReferenceTrees(DecisionTreeRegressor):
    """A tree model whose ``predict`` is a given ensemble's reference semantics."""

    def __init__(self, ensemble: TreeEnsemble | None = None) -> None:
        self.ensemble = ensemble

    def predict(self, X: np.ndarray) -> np.ndarray:
        assert self.ensemble is not None
        return self.ensemble.reference_predict(np.asarray(X, dtype=np.float64))[:, 0]


@pytest.fixture(autouse=True)
def reference_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ReferenceTrees`` compiles as its ensemble."""
    read = lambda est: (est.ensemble, {"check": "none", "link": "identity"})  # noqa: E731
    monkeypatch.setitem(sklearn_trees.FAMILIES, ReferenceTrees, read)
    monkeypatch.setitem(params.EXTRACTORS, ReferenceTrees, sklearn_trees.extract)
    monkeypatch.setitem(PREDICTORS, "ReferenceTrees", lower_tree_ensemble)


def predict(X: np.ndarray, model: ReferenceTrees) -> np.ndarray:
    return model.predict(X)


@pytest.mark.parametrize(
    ("compare", "precisions"),
    list(itertools.product(["le", "lt"], [("f64", "f64"), ("f32", "f64"), ("f32", "f32")])),
)
def test_node_walks_match_the_reference(compare: str, precisions: tuple[str, str]) -> None:
    rng = np.random.default_rng(len(compare) * 7 + len(precisions[0] + precisions[1]))
    ensemble = random_ensemble(
        rng, trees=9, depth=6, flags=[0, MISSING_LEFT, ZERO_IS_MISSING,
        MISSING_LEFT | ZERO_IS_MISSING], width=1, outputs=1, compare=compare,
        precisions=precisions,
    )  # fmt: skip
    ensemble.check()
    model = ReferenceTrees(ensemble)
    X = adversarial_rows(rng, 3 * TREE_BLOCK)
    compiled = wm.compile(predict, (X[:40], model), tree_layout="nodes")
    assert "walked as node arrays" in compiled.explain()
    assert not compiled.traced.python_calls, compiled.explain()
    for size in SIZES:
        for start in (0, len(X) - size):
            part = X[start : start + size]
            got, expected = compiled(part, model), predict(part, model)
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)
