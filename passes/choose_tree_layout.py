"""choose-tree-layout: how each tree ensemble runs, generated branches or node arrays.

The frontend gives every ``feature.tree_ensemble`` its node arrays in plain order (internal
nodes as the model lists them; a child ``c >= 0`` is internal node ``c``, ``c < 0`` leaf
``~c``) and no layout. This pass decides, per ensemble:

* ``layout "branches"`` (each tree generated code, ``passes.tree_branches``) when LLVM would
  compile the branches in at most ``branch_seconds`` (``tree_branches.compile_seconds``);
  a shallow one (at most ``levels_below_top`` levels of splits below its complete top
  levels) also gets ``top N`` node arrays, which blocks of rows walk together;
* else ``layout "nodes"``, with ``top N``: the top ``N`` levels of every tree re-laid as a
  complete binary tree (the children of node ``roots[t] + i`` are ``roots[t] + 2i + 1`` and
  ``+ 2i + 2``; a leaf above level ``N`` is padded by nodes that go right whatever the
  value), for each level up to ``top_levels`` while at least ``top_fill`` of its places
  across all trees are internal nodes. The re-laid ``nodes``, ``thresholds``, ``roots`` and
  ``category_ranges`` are new blobs; leaves keep their numbers::

    %r = feature.tree_ensemble %x nodes <n_0a… : tensor<3x4xi32>> thresholds <t_… : tensor<3xf64>>
           leaves <l_… : tensor<4x1xf64>> roots <r_… : tensor<1xi32>> ... check "none"
           : tensor<?x2xf64> -> tensor<?x1xf64>
  ~> (choose-tree-layout{layout=nodes top-fill=0.0 top-levels=2})
    %r = feature.tree_ensemble %x nodes <n_1b… : tensor<3x4xi32>> ... roots <r_… : tensor<1xi32>>
           ... check "none" layout "nodes" top 2 : tensor<?x2xf64> -> tensor<?x1xf64>

``layout=branches`` or ``layout=nodes`` forces the layout (an ensemble without splits keeps
node arrays); ``wm.compile(..., tree_layout=...)`` sets these options. An ensemble whose
layout is already given (``layout`` or ``top``) is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, StringAttr, i64
from xdsl.passes import ModulePass

from willump_mlir.blobs import BlobStore, blob_store
from willump_mlir.dialects.feature import CATEGORICAL, TREE_TOP_LEVELS, TreeEnsembleOp
from willump_mlir.passes.tree_branches import BLOCK_NODES, compile_seconds

LAYOUTS = ("auto", "branches", "nodes")


@dataclass(frozen=True)
class ChooseTreeLayoutPass(ModulePass):
    """Choose each ``feature.tree_ensemble``'s layout (see the module docstring)."""

    name = "choose-tree-layout"

    layout: str = "auto"
    """``auto`` (by the cost model), ``branches`` or ``nodes``."""
    branch_seconds: float = 6.0
    """``auto``: generated branches when LLVM would compile them in at most this long.
    The bench's ``willump-mlir-node-loop`` rows (bench/results/trees_summary.md) measure both
    layouts; bench/results/compile_time.md the 1,000-tree models that keep node arrays."""
    top_fill: float = 0.55
    """Node arrays: a top level is complete while at least this fraction of its places are
    internal nodes, not padding (which every row of a block still walks through)."""
    top_levels: int = 6
    """... for at most this many levels (XGBoost's ``ArrayTreeLayout`` stops at 6 too)."""
    levels_below_top: int = 1
    """``auto``: branches ensembles with at most this many levels of splits below their
    complete top levels keep ``top N`` node arrays too: blocks of rows the kernel reads in
    place walk those (no branch depends on a row's path), rows it computes one at a time
    call the branches (a lone walk of node arrays ran 2-4x slower on the corpus). XGBoost's
    100 depth-6 trees, 5 levels complete, 10k rows read in place: 9.3 ms walked, 13.2 ms as
    branches, XGBoost 11.8 ms (one thread, CPU time); 50 sparse depth-6 trees, 2 levels
    complete: 3.5 ms walked, 2.4 ms as branches, so they call the branches. Nor when their
    padding would take them past ``tree_branches.BLOCK_NODES`` nodes, onto stored rows (the
    corpus' loans_hgb_category, 1,539 splits computed a row at a time: 0.55 ms as branches,
    1.24 ms stored and walked)."""

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            choices = ", ".join(LAYOUTS)
            raise ValueError(f"tree layout must be one of {choices}, not {self.layout!r}")
        if not 0 <= self.top_levels <= TREE_TOP_LEVELS:
            raise ValueError(f"top_levels must be 0 to {TREE_TOP_LEVELS}, not {self.top_levels}")

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for ensemble in op.walk():
            if (
                isinstance(ensemble, TreeEnsembleOp)
                and ensemble.layout is None
                and ensemble.top_levels is None  # else the layout is given
            ):
                self.choose(ensemble, blob_store(ctx))

    def choose(self, op: TreeEnsembleOp, blobs: BlobStore) -> None:
        """Give ``op`` (plain node arrays, no layout) its layout."""
        nodes = blobs.array(op.nodes)
        roots = blobs.array(op.roots)
        depth = node_depths(nodes, roots)
        internal = depth >= 0
        splits = int(np.count_nonzero(internal))
        categorical = int(np.count_nonzero(nodes[internal, 1] & CATEGORICAL))
        at_depth = np.bincount(depth[internal], minlength=self.top_levels + 1)
        trees, levels = len(roots), 0
        while levels < self.top_levels and at_depth[levels] >= self.top_fill * (trees << levels):
            levels += 1
        if splits and (
            self.layout == "branches"
            or self.layout == "auto"
            and compile_seconds(splits, categorical, len(roots)) <= self.branch_seconds
        ):
            op.layout = StringAttr("branches")
            deepest = int(depth.max()) + 1  # levels of splits
            padded = splits + trees * ((1 << levels) - 1) - int(at_depth[:levels].sum())
            if (
                self.layout == "branches"
                or deepest - levels > self.levels_below_top
                or padded > BLOCK_NODES >= splits  # the padding would store its rows
            ):
                return
        else:
            op.layout = StringAttr("nodes")
        if not levels:
            return
        source, left, right, new_roots = top_numbering(nodes, roots, depth, levels)
        padding = source < 0
        inner = np.where(padding, 0, source)
        laid = np.stack(
            [np.where(padding, 0, nodes[inner, 0]), np.where(padding, 0, nodes[inner, 1]),
             left, right],
            axis=1,
        ).astype(np.int32)  # fmt: skip
        thresholds = np.where(padding, np.nan, blobs.array(op.thresholds)[inner])
        op.nodes = blobs.replacement(op.nodes, laid)
        op.thresholds = blobs.replacement(op.thresholds, thresholds)
        op.roots = blobs.replacement(op.roots, new_roots)
        if op.category_ranges is not None:
            ranges = np.where(padding[:, None], 0, blobs.array(op.category_ranges)[inner])
            op.category_ranges = blobs.replacement(op.category_ranges, ranges.astype(np.int32))
        op.top_levels = IntegerAttr(levels, i64)


def node_depths(nodes: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """The level of each internal node reached from ``roots`` (a root is level 0), -1 for
    nodes no tree reaches; ``ValueError`` if a walk does not end."""
    depth = np.full(len(nodes), -1, np.int64)
    level = roots[roots >= 0].astype(np.int64)
    for d in range(len(nodes) + 1):
        if not level.size:
            return depth
        depth[level] = d
        children = nodes[level, 2:4].ravel()
        level = children[children >= 0].astype(np.int64)
    raise ValueError("tree ensemble nodes form a cycle")


def top_numbering(
    nodes: np.ndarray, roots: np.ndarray, depth: np.ndarray, levels: int
) -> tuple[np.ndarray, ...]:
    """The re-laid node arrays' order and children: ``source`` (the plain internal node each
    new node is, or ``~leaf`` for padding), ``left``, ``right`` and ``roots`` (new numbers
    ``c >= 0``, leaves ``~leaf`` as before).

    Each tree starts with its top ``levels`` levels as a complete binary tree, level by
    level, then its deeper internal nodes: the subtrees below level ``levels``, the last of
    that level first, each in pre-order (a node, its left subtree, its right subtree).
    Padding's children are the leaf it pads, so a walk that follows children never meets it.
    """
    trees, top = len(roots), (1 << levels) - 1
    level = roots.astype(np.int64)[:, None]
    parts = []
    for _ in range(levels):  # the complete top levels, all trees at once
        parts.append(level)
        at = np.where(level >= 0, level, 0)
        left = np.where(level >= 0, nodes[at, 2], level)
        right = np.where(level >= 0, nodes[at, 3], level)
        level = np.stack([left, right], axis=2).reshape(trees, -1)
    top_source = np.concatenate(parts, axis=1)  # [trees, top]
    # the deeper subtrees: sizes bottom-up, then pre-order places top-down
    size = np.zeros(len(nodes), np.int64)
    order = np.argsort(depth, kind="stable")
    order = order[depth[order] >= levels]
    bounds = np.searchsorted(depth[order], np.arange(levels, depth.max() + 2))
    by_level = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def internal_size(children: np.ndarray) -> np.ndarray:
        return np.where(children >= 0, size[np.maximum(children, 0)], 0)

    for at in reversed(by_level):
        size[at] = 1 + internal_size(nodes[at, 2]) + internal_size(nodes[at, 3])
    deep_roots = level[:, ::-1]  # the last of the level first
    deep_size = internal_size(deep_roots)  # [trees, 2**levels]
    per_tree = top + deep_size.sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(per_tree)[:-1]]).astype(np.int64)
    place = np.full(len(nodes), -1, np.int64)
    offsets = starts[:, None] + top + np.cumsum(deep_size, axis=1) - deep_size
    place[deep_roots[deep_roots >= 0]] = offsets[deep_roots >= 0]
    for at in by_level:
        left, right = nodes[at, 2], nodes[at, 3]
        place[left[left >= 0]] = (place[at] + 1)[left >= 0]
        place[right[right >= 0]] = (place[at] + 1 + internal_size(left))[right >= 0]
    top_places = starts[:, None] + np.arange(top)
    inside = top_source >= 0
    place[top_source[inside]] = top_places[inside]
    source = np.full(int(per_tree.sum()), 0, np.int64)
    source[top_places.ravel()] = top_source.ravel()
    reached = place >= 0
    source[place[reached]] = np.flatnonzero(reached)

    def number(child: np.ndarray) -> np.ndarray:
        return np.where(child >= 0, place[np.maximum(child, 0)], child)

    at = np.maximum(source, 0)
    left = np.where(source >= 0, number(nodes[at, 2]), source)
    right = np.where(source >= 0, number(nodes[at, 3]), source)
    return source, left, right, starts.astype(np.int32)
