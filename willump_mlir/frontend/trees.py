"""Tree ensembles in one canonical form, whatever library fitted them.

Every tree model (scikit-learn's trees, forests and boosting, LightGBM, XGBoost) is read
into a :class:`TreeEnsemble`: flat node arrays plus the few rules in which the libraries
differ (how a threshold compares, the precision of inputs and sums, how missing values and
categories route). The compiler sees only this form, so a new library needs an extractor,
not a new kernel. :meth:`TreeEnsemble.reference_predict` is the executable definition of the
semantics, in numpy; extractors and the native kernel are both tested against it.

Routing of one row at node ``n`` (``x`` is the row's value of ``feature[n]``)::

    if input_precision == "f32": x = float32(x)
    if isnan(x) or (flags & ZERO_IS_MISSING and not flags & CATEGORICAL and |x| <= ZERO_THRESHOLD):
        go left if flags & MISSING_LEFT else right
    elif flags & CATEGORICAL:
        c = trunc(x) if flags & TRUNCATE_CATEGORY else x
        if c < 0 or c >= 32 * category_words[n] or (flags & INTEGER_CATEGORY and x != trunc(x)):
            go the missing way if flags & OUT_OF_RANGE_IS_MISSING else right
        else: left if bit trunc(x) of the node's bitset is set else right
    else:
        left if x <= threshold[n] (compare "le") or x < threshold[n] (compare "lt") else right

Accumulation: ``acc = base``; for each tree ``t`` in order, with ``v`` the ``width`` leaf
values the row reaches, ``acc[tree_output[t] + j] += v[j]`` (in ``sum_precision``); then
``acc /= divisor`` when a divisor is set (forest averages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import FloatAttr, IntegerAttr, StringAttr, f64, i64
from xdsl.ir import Attribute

from willump_mlir.dialects.feature import (  # noqa: F401 - the node flags, re-exported
    CATEGORICAL,
    INTEGER_CATEGORY,
    MISSING_LEFT,
    OUT_OF_RANGE_IS_MISSING,
    TREE_COMPARES,
    TREE_PRECISIONS,
    TRUNCATE_CATEGORY,
    ZERO_IS_MISSING,
    ZERO_THRESHOLD,
)
from willump_mlir.passes.tree_branches import BLOCK_NODES, compile_seconds

if TYPE_CHECKING:
    from .params import Blobs

COMPARES, PRECISIONS = TREE_COMPARES, TREE_PRECISIONS
TOP_LEVELS = 6
"""At most this many top levels of each tree are laid out as complete binary trees in node
arrays (XGBoost's ``ArrayTreeLayout`` stops at 6 too)."""
TOP_FILL = 0.55
"""... each while at least this fraction of its places are internal nodes, not padding."""
BRANCH_SECONDS = 6.0
"""Ensembles whose generated branches LLVM would compile in at most this long
(estimated by ``tree_branches.compile_seconds``) become ``layout "branches"``; others walk
node arrays (see also :data:`LEVELS_BELOW_TOP`).
The bench's ``willump-mlir-node-loop`` rows (bench/results/trees_summary.md) measure both
layouts; bench/results/compile_time.md the 1,000-tree models that keep node arrays."""
LEVELS_BELOW_TOP = 1
"""Branches ensembles with at most this many levels of splits below their complete top levels
keep ``top_levels`` node arrays too: blocks of rows the kernel reads in place walk those
(no branch depends on a row's path), rows it computes one at a time call the branches
(a lone walk of node arrays ran 2-4x slower on the corpus). XGBoost's 100 depth-6 trees,
5 levels complete, 10k rows read in place: 9.3 ms walked, 13.2 ms as branches, XGBoost
11.8 ms (one thread, CPU time); 50 sparse depth-6 trees, 2 levels complete: 3.5 ms walked,
2.4 ms as branches, so they call the branches. Nor when their padding would take them past
``tree_branches.BLOCK_NODES`` nodes, onto stored rows (the corpus' loans_hgb_category,
1,539 splits computed a row at a time: 0.55 ms as branches, 1.24 ms stored and walked)."""


@dataclass
class TreeEnsemble:
    """Flat node arrays of ``T`` trees with ``N`` nodes in all (see the module docstring).

    Node ``n`` is a leaf when ``feature[n] == -1``; its ``width`` outputs are ``value[n]``
    (already scaled, e.g. by a learning rate). Children are absolute node indices.
    """

    features: int  # F: the width of the input rows
    outputs: int  # K: the width of the result
    feature: np.ndarray  # int32[N]; -1 marks a leaf
    threshold: np.ndarray  # float64[N]; numeric splits only
    left: np.ndarray  # int32[N]
    right: np.ndarray  # int32[N]
    flags: np.ndarray  # uint8[N]
    value: np.ndarray  # float64[N, width]; leaves only (0 elsewhere)
    roots: np.ndarray  # int32[T]
    tree_output: np.ndarray  # int32[T]: the first of the ``width`` outputs tree t adds to
    base: np.ndarray  # float64[K]: the accumulator's start
    category_start: np.ndarray  # int32[N]: first word of a categorical node's bitset
    category_words: np.ndarray  # int32[N]: its number of 32-bit words (0: not categorical)
    category_bits: np.ndarray  # uint32[M]: all bitsets; bit c of a set is word c//32, bit c%32
    compare: str = "le"
    input_precision: str = "f64"
    sum_precision: str = "f64"
    divisor: float | None = None

    @property
    def trees(self) -> int:
        return len(self.roots)

    @property
    def nodes(self) -> int:
        return len(self.feature)

    @property
    def width(self) -> int:
        return self.value.shape[1]

    def check(self) -> None:
        """Raise ``ValueError`` naming the first inconsistency."""
        n = self.nodes
        for name, dtype in (
            ("feature", np.int32), ("left", np.int32), ("right", np.int32),
            ("flags", np.uint8), ("category_start", np.int32), ("category_words", np.int32),
            ("threshold", np.float64),
        ):  # fmt: skip
            array = getattr(self, name)
            if array.dtype != dtype or array.shape != (n,):
                raise ValueError(f"{name} must be {np.dtype(dtype).name}[{n}], "
                                 f"got {array.dtype}{list(array.shape)}")  # fmt: skip
        if self.value.dtype != np.float64 or self.value.ndim != 2 or len(self.value) != n:
            raise ValueError(f"value must be float64[{n}, width], got {self.value.shape}")
        if self.category_bits.dtype != np.uint32 or self.category_bits.ndim != 1:
            raise ValueError("category_bits must be a 1-D uint32 array")
        if self.roots.dtype != np.int32 or self.tree_output.shape != self.roots.shape:
            raise ValueError("roots and tree_output must be int32[T]")
        if self.base.shape != (self.outputs,):
            raise ValueError(f"base must be float64[{self.outputs}]")
        if self.compare not in COMPARES:
            raise ValueError(f"compare must be one of {COMPARES}")
        if self.input_precision not in PRECISIONS or self.sum_precision not in PRECISIONS:
            raise ValueError(f"precisions must be one of {PRECISIONS}")
        split = self.feature >= 0
        if np.any(self.feature >= self.features) or np.any(self.feature < -1):
            raise ValueError(f"feature indices must be -1 or in [0, {self.features})")
        for name in ("left", "right"):
            child = getattr(self, name)[split]
            if np.any((child <= np.flatnonzero(split)) | (child >= n)):
                raise ValueError(f"{name} children must come after their parent, within nodes")
        if np.any((self.roots < 0) | (self.roots >= n)):
            raise ValueError("roots must be node indices")
        if np.any(self.tree_output < 0) or np.any(self.tree_output + self.width > self.outputs):
            raise ValueError(f"tree_output + width must stay within {self.outputs} outputs")
        categorical = split & (self.flags & CATEGORICAL != 0)
        ends = self.category_start[categorical] + self.category_words[categorical]
        if (
            np.any(self.category_start[categorical] < 0)
            or np.any(self.category_words[categorical] <= 0)
            or np.any(ends > len(self.category_bits))
        ):
            raise ValueError("categorical nodes need a non-empty bitset within category_bits")

    # region Kernel layout

    def params(self, blobs: Blobs, stem: str) -> dict[str, Attribute]:
        """The ``feature.tree_ensemble`` blobs and attributes of this ensemble: the
        library-neutral part of a tree model's ``pipeline.predict`` params.

        Internal nodes and leaves are numbered apart. A child or root ``c >= 0`` is internal
        node ``c``; ``c < 0`` is leaf ``~c``, so a walk tests one sign per level:

        * ``nodes`` i32[M, 4]: feature, flags, left, right of each internal node;
        * ``thresholds`` f64[M]; ``leaves`` f64[L, width]; ``roots``, ``tree_outputs`` i32[T];
          ``base`` f64[K];
        * with categorical splits, ``category_ranges`` i32[M, 2] (first word, words) and
          ``category_bits`` i32[B] (the uint32 words);
        * ``compare``, ``input_precision``, ``sum_precision``, ``node_flags`` (the OR of all
          flags: the kernel tests only those) and ``divisor`` when set;
        * ``layout "branches"`` when the ensemble is small enough (see :data:`BRANCH_SECONDS`);
          ``top_levels``, the complete top levels of each tree in the node arrays
          (:meth:`numbering`), when it is not, or when at most :data:`LEVELS_BELOW_TOP`
          levels of splits lie below them.
        """
        self.check()
        internal = self.feature >= 0
        categorical = np.count_nonzero(self.flags[internal] & CATEGORICAL)
        splits = np.count_nonzero(internal)
        depths = self.depths()
        levels = self.top_levels(depths)
        branches = (
            splits
            and compile_seconds(splits, categorical, self.trees) <= BRANCH_SECONDS
        )
        if branches:  # padding must not move the ensemble onto stored rows (BLOCK_NODES)
            padded = splits + self.trees * ((1 << levels) - 1) - np.count_nonzero(depths < levels)
            if depths.max() + 1 - levels > LEVELS_BELOW_TOP or padded > BLOCK_NODES >= splits:
                levels = 0
        source, left, right, roots = self.numbering(levels)
        padding = self.feature[source] < 0
        nodes = np.stack(
            [
                np.where(padding, 0, self.feature[source]),
                np.where(padding, 0, self.flags[source]).astype(np.int32),
                left,
                right,
            ],
            axis=1,
        ).astype(np.int32)
        thresholds = np.where(padding, np.nan, self.threshold[source])
        if not len(nodes):  # every tree is a single leaf: keep one unreachable node
            nodes, thresholds = np.zeros((1, 4), np.int32), np.zeros(1)
        params: dict[str, Attribute] = {
            "nodes": blobs.add(f"{stem}_nodes", nodes),
            "thresholds": blobs.add(f"{stem}_thresholds", thresholds),
            "leaves": blobs.add(f"{stem}_leaves", self.value[~internal]),
            "roots": blobs.add(f"{stem}_roots", roots),
            "tree_outputs": blobs.add(f"{stem}_tree_outputs", self.tree_output.astype(np.int32)),
            "base": blobs.add(f"{stem}_base", self.base.astype(np.float64)),
            "compare": StringAttr(self.compare),
            "input_precision": StringAttr(self.input_precision),
            "sum_precision": StringAttr(self.sum_precision),
            "node_flags": IntegerAttr(
                int(np.bitwise_or.reduce(self.flags[internal], initial=0)), i64
            ),
        }
        if categorical:
            ranges = np.stack([self.category_start, self.category_words], axis=1)[source]
            ranges[padding] = 0
            params["category_ranges"] = blobs.add(
                f"{stem}_category_ranges", ranges.astype(np.int32)
            )
            params["category_bits"] = blobs.add(
                f"{stem}_category_bits", self.category_bits.view(np.int32)
            )
        if self.divisor is not None:
            params["divisor"] = FloatAttr(float(self.divisor), f64)
        if branches:
            params["layout"] = StringAttr("branches")
        if levels:
            params["top_levels"] = IntegerAttr(levels, i64)
        return params

    def depths(self) -> np.ndarray:
        """The level of each internal node (a root is level 0)."""
        depth = np.zeros(self.nodes, np.int64)  # children come after their parent
        internal = np.flatnonzero(self.feature >= 0)
        for n in internal:
            depth[self.left[n]] = depth[self.right[n]] = depth[n] + 1
        return depth[internal]

    def top_levels(self, depths: np.ndarray) -> int:
        """How many top levels of every tree the node arrays lay out as complete binary trees
        (``top_levels`` of ``feature.tree_ensemble``), given the internal nodes' ``depths``:
        each level, up to :data:`TOP_LEVELS`, while at least :data:`TOP_FILL` of its places
        across all trees are internal nodes (the rest are padding, which every row of a
        block still walks through)."""
        at_depth = np.bincount(depths, minlength=TOP_LEVELS)
        levels = 0
        while levels < TOP_LEVELS and at_depth[levels] >= TOP_FILL * (self.trees << levels):
            levels += 1
        return levels

    def numbering(self, levels: int) -> tuple[np.ndarray, ...]:
        """The internal nodes' order in the kernel's arrays and their children: ``source``
        (the node of this ensemble each array node is: a leaf for padding), ``left``,
        ``right`` and ``roots``, as array numbers (``c >= 0``) or leaves (``~leaf``, leaves
        in order).

        With ``levels``, each tree starts with its top ``levels`` levels as a complete binary
        tree (the children of array node ``root + i`` are ``root + 2i + 1`` and
        ``root + 2i + 2``), then its deeper internal nodes. A leaf above the last level is
        padding below it, nodes the kernel makes go right whatever the value; children point
        at the leaf itself, so a walk that follows them never meets padding."""
        internal = self.feature >= 0
        leaf = ~(np.cumsum(~internal) - 1)
        if not levels:
            source = np.flatnonzero(internal)
            number = np.where(internal, np.cumsum(internal) - 1, leaf)
        else:
            order: list[int] = []
            number = leaf.copy()
            starts = []
            for root in self.roots:
                starts.append(len(order))
                level = [int(root)]
                for _ in range(levels):
                    for n in level:
                        if internal[n]:
                            number[n] = len(order)
                        order.append(n)
                    level = [c for n in level for c in (
                        (int(self.left[n]), int(self.right[n])) if internal[n] else (n, n)
                    )]  # fmt: skip
                deep = [n for n in level if internal[n]]
                while deep:  # the deeper internal nodes, each before its children
                    n = deep.pop()
                    number[n] = len(order)
                    order.append(n)
                    deep += [c for c in (int(self.right[n]), int(self.left[n])) if internal[c]]
            source = np.array(order, np.int64)
        split = internal[source]
        left, right = (number[np.where(split, side[source], source)]
                       for side in (self.left, self.right))  # fmt: skip
        roots = np.array(starts) if levels else number[self.roots]
        return source, left, right, roots.astype(np.int32)

    # endregion
    # region Reference semantics

    def _route(self, nodes: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The next node of each row (numpy, vectorised over rows at ``nodes``)."""
        flags = self.flags[nodes]
        if self.input_precision == "f32":
            with np.errstate(over="ignore"):
                x = x.astype(np.float32).astype(np.float64)
        categorical = flags & CATEGORICAL != 0
        missing = np.isnan(x) | (
            (flags & ZERO_IS_MISSING != 0) & ~categorical & (np.abs(x) <= ZERO_THRESHOLD)
        )
        missing_left = flags & MISSING_LEFT != 0
        with np.errstate(invalid="ignore"):
            if self.compare == "le":
                go_left = x <= self.threshold[nodes]
            else:
                go_left = x < self.threshold[nodes]
            checked = np.where(flags & TRUNCATE_CATEGORY != 0, np.trunc(x), x)
            words = self.category_words[nodes]
            in_range = (checked >= 0) & (checked < 32.0 * words)
            in_range &= (flags & INTEGER_CATEGORY == 0) | (x == np.trunc(x))
            code = np.where(categorical & in_range & ~missing, np.trunc(x), 0).astype(np.int64)
        word = (
            self.category_bits[
                np.minimum(self.category_start[nodes] + code // 32, len(self.category_bits) - 1)
            ]
            if len(self.category_bits)
            else np.zeros(len(nodes), np.uint32)
        )
        member = (word >> (code % 32).astype(np.uint32)) & 1 == 1
        out_missing = flags & OUT_OF_RANGE_IS_MISSING != 0
        go_left = np.where(
            categorical,
            np.where(in_range, member, out_missing & missing_left),
            go_left,
        )
        go_left = np.where(missing, missing_left, go_left)
        return np.where(go_left, self.left[nodes], self.right[nodes])

    def leaves(self, X: np.ndarray, tree: int) -> np.ndarray:
        """The leaf each row of ``X`` (float64 [rows, F]) reaches in ``tree``."""
        rows = np.arange(len(X))
        nodes = np.full(len(X), self.roots[tree], dtype=np.int64)
        while True:
            active = self.feature[nodes] >= 0
            if not active.any():
                return nodes
            at = nodes[active]
            nodes[active] = self._route(at, X[rows[active], self.feature[at]])

    def reference_predict(self, X: np.ndarray) -> np.ndarray:
        """The raw outputs (float64 or float32 [rows, K]) for ``X`` (float64 [rows, F])."""
        X = np.asarray(X, dtype=np.float64)
        dtype = np.float32 if self.sum_precision == "f32" else np.float64
        acc = np.tile(self.base.astype(dtype), (len(X), 1))
        for t in range(self.trees):
            start = self.tree_output[t]
            values = self.value[self.leaves(X, t)].astype(dtype)
            acc[:, start : start + self.width] += values
        if self.divisor is not None:
            acc /= dtype(self.divisor)
        return acc

    # endregion
