"""Generated branches (``passes.tree_branches``) against ``TreeEnsemble.reference_predict``.

Random ensembles with every numeric routing rule (NaN left or right, zero as missing, ``<=``
or ``<``, float32 inputs and sums, several outputs per leaf, single-leaf trees) are written as
LLVM IR, compiled alone and run on values placed at every threshold, one ulp either side in
both precisions, at the zero-as-missing bound, and on NaN, infinities and signed zeros.
"""

from __future__ import annotations

import ctypes
import itertools
import zlib

import numpy as np
import pytest
from tree_values import around_threshold

from willump_mlir.blobs import BlobStore
from willump_mlir.dialects.feature import MISSING_LEFT, ZERO_IS_MISSING, ZERO_THRESHOLD
from willump_mlir.frontend.trees import TreeEnsemble
from willump_mlir.passes.tree_branches import (
    QUICK_SPLITS,
    BranchWriter,
    llvm_double,
    tree_blocks,
)
from willump_mlir.runtime.jit import bind_blob, compile_llvm_ir

FEATURES = 4
THRESHOLDS = [0.0, -0.0, 1.5, -2.25, 0.1, 1e-36, ZERO_THRESHOLD, -ZERO_THRESHOLD, 3e38, 1e300]


def random_ensemble(
    rng: np.random.Generator, *, trees: int, depth: int, flags: list[int], width: int,
    outputs: int, compare: str, precisions: tuple[str, str],
) -> TreeEnsemble:  # fmt: skip
    """``trees`` random trees (some a single leaf) over ``FEATURES`` columns."""
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    node_flags: list[int] = []
    value: list[np.ndarray] = []

    def grow(levels: int) -> int:
        n = len(feature)
        leaf = levels == 0 or rng.random() < 0.15
        feature.append(-1 if leaf else int(rng.integers(FEATURES)))
        threshold.append(0.0 if leaf else float(rng.choice(THRESHOLDS)))
        node_flags.append(0 if leaf else int(rng.choice(flags)))
        value.append(rng.normal(size=width) if leaf else np.zeros(width))
        left.append(0)
        right.append(0)
        if not leaf:
            left[n] = grow(levels - 1)
            right[n] = grow(levels - 1)
        return n

    roots = [grow(0 if t == 1 else depth) for t in range(trees)]
    n = len(feature)
    return TreeEnsemble(
        features=FEATURES, outputs=outputs, feature=np.array(feature, np.int32),
        threshold=np.array(threshold), left=np.array(left, np.int32),
        right=np.array(right, np.int32), flags=np.array(node_flags, np.uint8),
        value=np.array(value), roots=np.array(roots, np.int32),
        tree_output=(np.arange(trees) % (outputs - width + 1)).astype(np.int32),
        base=rng.normal(size=outputs), category_start=np.zeros(n, np.int32),
        category_words=np.zeros(n, np.int32), category_bits=np.zeros(0, np.uint32),
        compare=compare, input_precision=precisions[0], sum_precision=precisions[1],
    )  # fmt: skip


def adversarial_rows(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Rows drawn from the values where routing can differ, plus random values."""
    special = [np.nan, np.inf, -np.inf, 0.0, -0.0, np.nextafter(ZERO_THRESHOLD, 1.0),
               np.nextafter(-ZERO_THRESHOLD, -1.0), 1e308, -1e308]  # fmt: skip
    for t in THRESHOLDS:
        special += around_threshold(t)
    values = np.array(special + list(rng.normal(size=50)))
    return rng.choice(values, size=(rows, FEATURES))


def run_branches(
    ensemble: TreeEnsemble, X: np.ndarray, key: str, quick_splits: int = QUICK_SPLITS
) -> tuple[np.ndarray, str]:
    """The raw sums of the generated code (compiled alone) for rows ``X``, and the code."""
    blobs = BlobStore()
    params = ensemble.params(blobs, "branches_test")
    for symbol, array in blobs.items():
        bind_blob(symbol, array)
    arrays = {k: blobs[v.symbol.data] for k, v in params.items() if hasattr(v, "symbol")}
    leaves = params["leaves"].symbol.data  # type: ignore[attr-defined]
    writer = BranchWriter(
        "trees", arrays["nodes"], arrays["thresholds"], arrays["roots"],
        arrays["tree_outputs"], leaves, features=FEATURES, outputs=ensemble.outputs,
        width=ensemble.width, compare=ensemble.compare,
        input_precision=ensemble.input_precision, sum_precision=ensemble.sum_precision,
        quick_splits=quick_splits,
    )  # fmt: skip
    text = f"@{leaves} = external global [{arrays['leaves'].size} x double]\n" + writer.text()
    library = compile_llvm_ir(text, f"test-tree-branches-{key}")
    function = library.cfunc(
        "trees", None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p
    )
    X = np.ascontiguousarray(X, dtype=np.float64)
    sums = np.tile(ensemble.base, (len(X), 1))
    function(X.ctypes.data, 0, len(X), sums.ctypes.data)
    return sums, text


FLAG_SETS = {
    "numeric": [0],
    "missing": [0, MISSING_LEFT],
    "zero-as-missing": [0, MISSING_LEFT, ZERO_IS_MISSING, ZERO_IS_MISSING | MISSING_LEFT],
}


@pytest.mark.parametrize(
    "flags, compare, precisions, width",
    [
        *itertools.product(FLAG_SETS, ["le", "lt"], [("f64", "f64"), ("f32", "f32")], [1]),
        ("missing", "le", ("f32", "f64"), 3),
        ("zero-as-missing", "lt", ("f64", "f32"), 2),
    ],
)
def test_generated_branches_match_the_reference(
    flags: str, compare: str, precisions: tuple[str, str], width: int
) -> None:
    rng = np.random.default_rng(zlib.crc32(repr((flags, compare, precisions, width)).encode()))
    outputs = 3 if width > 1 else 1
    ensemble = random_ensemble(rng, trees=12, depth=5, flags=FLAG_SETS[flags], width=width,
                               outputs=outputs, compare=compare, precisions=precisions)  # fmt: skip
    X = adversarial_rows(rng, 3000)
    got, _ = run_branches(ensemble, X, f"{flags}-{compare}-{precisions}-{width}")
    want = ensemble.reference_predict(X)
    if precisions[1] == "f32":
        got = got.astype(np.float32)
    np.testing.assert_array_equal(got, want)


def test_no_rows_leave_the_sums_alone() -> None:
    rng = np.random.default_rng(3)
    ensemble = random_ensemble(rng, trees=3, depth=2, flags=[0], width=1, outputs=1,
                               compare="le", precisions=("f64", "f64"))  # fmt: skip
    assert run_branches(ensemble, np.zeros((0, FEATURES)), "empty")[0].shape == (0, 1)


def test_quick_trees_match_the_reference() -> None:
    """Large ensembles' trees are ``optnone`` (quick instruction selection), still exact."""
    rng = np.random.default_rng(11)
    flags = FLAG_SETS["zero-as-missing"]
    ensemble = random_ensemble(rng, trees=12, depth=6, flags=flags, width=1, outputs=1,
                               compare="le", precisions=("f32", "f32"))  # fmt: skip
    X = adversarial_rows(rng, 3000)
    got, text = run_branches(ensemble, X, "quick", quick_splits=0)
    assert "noinline optnone" in text
    np.testing.assert_array_equal(got.astype(np.float32), ensemble.reference_predict(X))


def test_blocks_of_trees_cover_every_tree_in_order() -> None:
    sizes = np.array([1500, 600, 10, 3000, 1, 1])
    blocks = list(tree_blocks(sizes))
    assert [list(b) for b in blocks] == [[0], [1, 2], [3], [4, 5]]


def test_double_constants_are_exact() -> None:
    assert llvm_double(1.0) == "0x3FF0000000000000"
    assert llvm_double(-0.0) == "0x8000000000000000"
    assert llvm_double(float(np.float32(0.1))) == "0x3FB99999A0000000"
