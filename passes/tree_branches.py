"""Tree ensembles as generated branches: the LLVM IR of a ``layout "branches"`` ensemble.

xDSL handles a few thousand ops a second and a split costs about ten ops, so an ensemble's
trees do not go through the xDSL lowering: ``lower-feature-to-scf`` calls a declared
function, and the translation to LLVM IR (``willump_mlir.translate.module_to_llvm_ir``)
replaces the declaration with the text this module writes from the compilation's blobs::

    declare void @wm_trees_<nodes>(ptr, i64, i64, ptr)
      ~>  define void @wm_trees_<nodes>(ptr %data, i64 %start, i64 %rows, ptr %sums) {
            for each block of trees, for r in [0, rows):
              row = data + start + r * F; out = sums + r * K
              out[tree_output[t] + j] += leaves[tree_t(row) * width + j]   (t in the block)
          }
      define internal i32 @wm_trees_<nodes>_t<t>(ptr %row)   ; one per tree
          n0: %x = load double, ptr (row + feature)       ; rounded to float32 for "f32"
              %left = fcmp ole double %x, 0x3FE...         ; "ult"/"ule" when NaN goes left
              br i1 %left, label %n1, label %n2
          ...
          l3: ret i32 3                                    ; the leaf's number

The semantics are the node loop's (``tree_kernels``): the same comparisons in the same
precision, and each row's sums added in tree order; trees are grouped in blocks of about
``BLOCK_NODES`` splits so that a block's code stays in the instruction cache while it runs
over the rows. A node's flags become constants of its split. A categorical split checks the
range in floating point, converts only a value in range (``fptosi`` of anything else would
be poison) and tests the bit in its bitset: a constant ``i64`` for up to 64 categories, else
a word loaded from the ``category_bits`` blob; NaN is out of range (ordered comparisons
fail)::

          n4: %ca4 = fcmp oge double %x4, 0.0              ; "ogt -1.0" with TRUNCATE_CATEGORY
              %cb4 = fcmp olt double %x4, 6.400000e+01     ; 32 * words
              %cr4 = and i1 %ca4, %cb4
              %cs4 = select i1 %cr4, double %x4, double 0.0
              %ci4 = fptosi double %cs4 to i64             ; trunc(x), or 0 out of range
              (INTEGER_CATEGORY: in range only if sitofp(%ci4) == x)
              %cw4 = lshr i64 <the bitset>, %ci4
              %cm4 = trunc i64 %cw4 to i1
              %g4 = select i1 %cr4, i1 %cm4, i1 <out of range goes left>
              (a NaN that goes left when out of range does not: %g4 |= fcmp uno %x4)

The row loops of an ensemble with categorical splits carry ``llvm.loop.vectorize.enable
false``: LLVM's loop vectorizer takes time exponential in the number of small (inlined)
trees that test the same category code (147 s for 36 trees of 7 splits), and it does not
vectorize them anyway.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, StringAttr

from willump_mlir.blobs import BlobStore
from willump_mlir.dialects.feature import (
    CATEGORICAL,
    INTEGER_CATEGORY,
    MISSING_LEFT,
    OUT_OF_RANGE_IS_MISSING,
    TRUNCATE_CATEGORY,
    ZERO_IS_MISSING,
    ZERO_THRESHOLD,
)
from willump_mlir.dialects.pipeline import BlobAttr

BLOCK_NODES = 2048  # splits per block of trees (about 40 KiB of code)
INLINE_SPLITS = 8  # trees with more splits stay functions: inlining them triples LLVM's time
QUICK_SPLITS = 16_384
"""Above this many splits the trees are ``optnone``: LLVM's quick instruction selection
compiles them 3x faster (100 LightGBM trees of 31 leaves: 0.20 s against 0.67 s) and they
run about 18% slower (630k against 764k rows/s on one thread)."""


def compile_seconds(splits: int, categorical: int, trees: int) -> float:
    """About how long LLVM takes over the generated branches of an ensemble, measured here
    (2 shared cores): 0.2 ms per numeric split at -O3 (0.06 ms ``optnone``, past
    ``QUICK_SPLITS``), 1.2 ms per categorical split and 8 ms per tree function (XGBoost,
    1,000 trees of 16 splits on average: 7–10 s; RandomForest, 100 trees, 57k splits: 5–6 s
    for the whole compile)."""
    per_split = 0.06e-3 if splits > QUICK_SPLITS else 0.2e-3
    return per_split * (splits - categorical) + 1.2e-3 * categorical + 8e-3 * trees


def llvm_double(value: float) -> str:
    """``value`` as an exact LLVM IR double constant (``0x`` and the IEEE-754 bits)."""
    return f"0x{struct.unpack('<Q', struct.pack('<d', value))[0]:016X}"


def tree_blocks(sizes: np.ndarray) -> Iterator[range]:
    """Consecutive runs of trees (``sizes[t]`` splits each) with at most ``BLOCK_NODES``
    splits in all, or one tree."""
    start, nodes = 0, 0
    for t in range(len(sizes)):
        if nodes and nodes + sizes[t] > BLOCK_NODES:
            yield range(start, t)
            start, nodes = t, 0
        nodes += sizes[t]
    if start < len(sizes):
        yield range(start, len(sizes))


def define(name: str, ensemble: DictionaryAttr, blobs: BlobStore, metadata: int) -> str:
    """The LLVM IR that defines ``name``, declared with ``willump.tree_branches = ensemble``
    by ``tree_kernels``, from the compilation's ``blobs``, numbering its metadata from
    ``metadata`` (the first number free in the module)."""
    arrays: dict[str, np.ndarray] = {}
    keys = ["nodes", "thresholds", "roots", "tree_outputs"]
    if "category_ranges" in ensemble.data:
        keys += ["category_ranges", "category_bits"]
    for key in keys:
        blob = ensemble.data[key]
        assert isinstance(blob, BlobAttr)
        arrays[key] = blobs.array(blob)
    leaves = ensemble.data["leaves"]
    assert isinstance(leaves, BlobAttr)

    def number(key: str) -> int:
        value = ensemble.data[key]
        assert isinstance(value, IntegerAttr)
        return value.value.data

    def text(key: str) -> str:
        value = ensemble.data[key]
        assert isinstance(value, StringAttr)
        return value.data

    categories = None
    if "category_ranges" in arrays:
        bits = ensemble.data["category_bits"]
        assert isinstance(bits, BlobAttr)
        categories = (arrays["category_ranges"], arrays["category_bits"], bits.symbol.data)
    return BranchWriter(
        name, arrays["nodes"], arrays["thresholds"], arrays["roots"], arrays["tree_outputs"],
        leaves.symbol.data, features=number("features"), outputs=number("outputs"),
        width=leaves.shape[1], compare=text("compare"), input_precision=text("input"),
        sum_precision=text("sum"), categories=categories, metadata=metadata,
    ).text()  # fmt: skip


class BranchWriter:
    """Writes the LLVM IR of one ensemble (see the module docstring)."""

    def __init__(
        self,
        name: str,
        nodes: np.ndarray,
        thresholds: np.ndarray,
        roots: np.ndarray,
        tree_outputs: np.ndarray,
        leaves: str,
        *,
        features: int,
        outputs: int,
        width: int,
        compare: str,
        input_precision: str,
        sum_precision: str,
        categories: tuple[np.ndarray, np.ndarray, str] | None = None,
        metadata: int = 0,
        quick_splits: int = QUICK_SPLITS,
    ):
        """``categories`` are the ``category_ranges`` (first word, words per node) and
        ``category_bits`` (int32 words) blobs of an ensemble with categorical splits, and the
        global symbol of the bits; ``metadata`` is the first metadata number free in the
        module; trees of an ensemble of more than ``quick_splits`` splits are ``optnone``."""
        self.name, self.leaves = name, leaves
        self.nodes, self.thresholds = nodes, thresholds
        self.roots, self.tree_outputs = roots, tree_outputs
        self.features, self.outputs, self.width = features, outputs, width
        self.compare = compare
        self.f32_input = input_precision == "f32"
        self.f32_sum = sum_precision == "f32"
        self.categories, self.metadata = categories, metadata
        self.quick_splits = quick_splits

    def text(self) -> str:
        sizes = np.array([self.tree_size(r) for r in self.roots], dtype=np.int64)
        quick = " optnone" if sizes.sum() > self.quick_splits else ""
        lines: list[str] = []
        for t, root in enumerate(self.roots):
            inline = " alwaysinline" if sizes[t] <= INLINE_SPLITS else f" noinline{quick}"
            lines += self.tree(t, int(root), f"nounwind{inline}")
        lines += self.driver(list(tree_blocks(sizes)))
        return "\n".join(lines) + "\n"

    def tree_size(self, root: int) -> int:
        count, stack = 0, [root]
        while stack:
            n = stack.pop()
            if n >= 0:
                count += 1
                stack += [int(self.nodes[n, 2]), int(self.nodes[n, 3])]
        return count

    def tree(self, t: int, root: int, attributes: str) -> list[str]:
        """``i32 @<name>_t<t>(ptr %row)``: the leaf number the row reaches."""
        header = f"define internal i32 @{self.name}_t{t}(ptr noalias readonly %row)"
        lines = [f"{header} {attributes} {{"]
        if root < 0:
            return lines + [f"  ret i32 {~root}", "}"]
        ordered, stack, seen = [], [root], set()
        while stack:  # depth first, left child next: the fall-through path
            n = stack.pop()
            if n in seen:  # a node two parents share is emitted once
                continue
            seen.add(n)
            ordered.append(n)
            for child in (int(self.nodes[n, 3]), int(self.nodes[n, 2])):
                if child >= 0:
                    stack.append(child)
        fcmp = {"le": "ole", "lt": "olt"}[self.compare]
        unordered = {"le": "ule", "lt": "ult"}[self.compare]
        for i, n in enumerate(ordered):
            feature, flags, left, right = (int(v) for v in self.nodes[n])
            if i:
                lines.append(f"n{n}:")
            lines.append(f"  %p{n} = getelementptr inbounds double, ptr %row, i64 {feature}")
            lines.append(f"  %v{n} = load double, ptr %p{n}, align 8")
            x = f"%v{n}"
            if self.f32_input:
                lines.append(f"  %s{n} = fptrunc double {x} to float")
                lines.append(f"  %x{n} = fpext float %s{n} to double")
                x = f"%x{n}"
            threshold = llvm_double(float(self.thresholds[n]))
            if flags & CATEGORICAL:
                lines += self.category(n, x, flags)
            elif flags & ZERO_IS_MISSING:  # missing: NaN or |x| <= ZERO_THRESHOLD
                lines += [
                    f"  %zh{n} = fcmp ole double {x}, {llvm_double(ZERO_THRESHOLD)}",
                    f"  %zl{n} = fcmp oge double {x}, {llvm_double(-ZERO_THRESHOLD)}",
                    f"  %z{n} = and i1 %zh{n}, %zl{n}",
                    f"  %u{n} = fcmp uno double {x}, 0.0",
                    f"  %m{n} = or i1 %u{n}, %z{n}",
                    f"  %c{n} = fcmp {fcmp} double {x}, {threshold}",
                    f"  %g{n} = select i1 %m{n}, i1 {'true' if flags & MISSING_LEFT else 'false'}, "
                    f"i1 %c{n}",
                ]
            else:
                predicate = unordered if flags & MISSING_LEFT else fcmp
                lines.append(f"  %g{n} = fcmp {predicate} double {x}, {threshold}")
            lines.append(f"  br i1 %g{n}, label %{self.label(left)}, label %{self.label(right)}")
        leaves = {int(c) for n in ordered for c in self.nodes[n, 2:4] if c < 0}
        for leaf in sorted(leaves, reverse=True):  # leaf 0 first
            lines += [f"{self.label(leaf)}:", f"  ret i32 {~leaf}"]
        return lines + ["}"]

    def category(self, n: int, x: str, flags: int) -> list[str]:
        """``%g<n>``: whether value ``x`` goes left at categorical node ``n`` (see the module
        docstring); exactly ``frontend.trees``' rule, where NaN goes the missing way."""
        assert self.categories is not None
        ranges, bits, symbol = self.categories
        first, words = int(ranges[n, 0]), int(ranges[n, 1])
        missing_left = bool(flags & MISSING_LEFT)
        out_left = missing_left and bool(flags & OUT_OF_RANGE_IS_MISSING)
        # trunc(x) >= 0 exactly when x > -1; trunc(x) < 32 * words exactly when x < it
        low = "ogt double {x}, -1.0" if flags & TRUNCATE_CATEGORY else "oge double {x}, 0.0"
        lines = [
            f"  %ca{n} = fcmp {low.format(x=x)}",
            f"  %cb{n} = fcmp olt double {x}, {llvm_double(32.0 * words)}",
            f"  %cr{n} = and i1 %ca{n}, %cb{n}",
            f"  %cs{n} = select i1 %cr{n}, double {x}, double 0.0",
            f"  %ci{n} = fptosi double %cs{n} to i64",
        ]
        in_range = f"%cr{n}"
        if flags & INTEGER_CATEGORY:  # x == trunc(x)
            lines += [
                f"  %cf{n} = sitofp i64 %ci{n} to double",
                f"  %ce{n} = fcmp oeq double %cf{n}, {x}",
                f"  %ck{n} = and i1 %cr{n}, %ce{n}",
            ]
            in_range = f"%ck{n}"
        if words <= 2:
            bitset = bits[first : first + words]  # int32 words: bit c is word c // 32, c % 32
            mask = sum((int(word) & 0xFFFFFFFF) << (32 * i) for i, word in enumerate(bitset))
            signed = mask - (1 << 64) if mask >= 1 << 63 else mask
            lines += [
                f"  %cw{n} = lshr i64 {signed}, %ci{n}",
                f"  %cm{n} = trunc i64 %cw{n} to i1",
            ]
        else:
            lines += [
                f"  %cq{n} = lshr i64 %ci{n}, 5",
                f"  %cx{n} = add i64 %cq{n}, {first}",
                f"  %cp{n} = getelementptr inbounds i32, ptr @{symbol}, i64 %cx{n}",
                f"  %cl{n} = load i32, ptr %cp{n}, align 4",
                f"  %cy{n} = trunc i64 %ci{n} to i32",
                f"  %cz{n} = and i32 %cy{n}, 31",
                f"  %cw{n} = lshr i32 %cl{n}, %cz{n}",
                f"  %cm{n} = trunc i32 %cw{n} to i1",
            ]
        result = f"%g{n}" if out_left == missing_left else f"%gc{n}"
        lines.append(f"  {result} = select i1 {in_range}, i1 %cm{n}, i1 {str(out_left).lower()}")
        if out_left != missing_left:  # NaN, out of range, goes left all the same
            lines += [f"  %u{n} = fcmp uno double {x}, 0.0", f"  %g{n} = or i1 %u{n}, %gc{n}"]
        return lines

    @staticmethod
    def label(child: int) -> str:
        return f"n{child}" if child >= 0 else f"l{~child}"

    def driver(self, blocks: list[range]) -> list[str]:
        """The exported function: for each block of trees, a loop over the rows."""
        real = "float" if self.f32_sum else "double"
        no_vectorize, loops = self.metadata, self.metadata + 1  # loop b: !<loops + b>
        lines = [
            f"define void @{self.name}(ptr noalias readonly %data, i64 %start, i64 %rows, "
            "ptr noalias %sums) nounwind {",
            "entry:",
            "  %empty = icmp sle i64 %rows, 0",
            "  br i1 %empty, label %done, label %b0",
        ]
        for b, block in enumerate(blocks):
            after = f"b{b + 1}" if b + 1 < len(blocks) else "done"
            lines += [
                f"b{b}:",
                f"  br label %b{b}.row",
                f"b{b}.row:",
                f"  %r{b} = phi i64 [0, %b{b}], [%r{b}.next, %b{b}.row]",
                f"  %o{b} = mul i64 %r{b}, {self.features}",
                f"  %i{b} = add i64 %start, %o{b}",
                f"  %row{b} = getelementptr inbounds double, ptr %data, i64 %i{b}",
                f"  %so{b} = mul i64 %r{b}, {self.outputs}",
                f"  %out{b} = getelementptr inbounds double, ptr %sums, i64 %so{b}",
            ]
            for t in block:
                lines.append(f"  %leaf{t} = call i32 @{self.name}_t{t}(ptr %row{b})")
                lines.append(f"  %lw{t} = mul i32 %leaf{t}, {self.width}")
                for j in range(self.width):
                    v, k = f"{t}.{j}", int(self.tree_outputs[t]) + j
                    lines += [
                        f"  %li{v} = add i32 %lw{t}, {j}",
                        f"  %lx{v} = sext i32 %li{v} to i64",
                        f"  %lp{v} = getelementptr inbounds double, ptr @{self.leaves}, i64 %lx{v}",
                        f"  %lv{v} = load double, ptr %lp{v}, align 8",
                        f"  %sp{v} = getelementptr inbounds double, ptr %out{b}, i64 {k}",
                        f"  %sv{v} = load double, ptr %sp{v}, align 8",
                    ]
                    if self.f32_sum:
                        lines += [
                            f"  %ln{v} = fptrunc double %lv{v} to float",
                            f"  %sn{v} = fptrunc double %sv{v} to float",
                            f"  %t{v} = fadd float %sn{v}, %ln{v}",
                            f"  %tw{v} = fpext float %t{v} to double",
                            f"  store double %tw{v}, ptr %sp{v}, align 8",
                        ]
                    else:
                        lines += [
                            f"  %t{v} = fadd {real} %sv{v}, %lv{v}",
                            f"  store double %t{v}, ptr %sp{v}, align 8",
                        ]
            hint = f", !llvm.loop !{loops + b}" if self.categories is not None else ""
            lines += [
                f"  %r{b}.next = add i64 %r{b}, 1",
                f"  %more{b} = icmp slt i64 %r{b}.next, %rows",
                f"  br i1 %more{b}, label %b{b}.row, label %{after}{hint}",
            ]
        lines += ["done:", "  ret void", "}"]
        if self.categories is not None:
            lines.append(f'!{no_vectorize} = !{{!"llvm.loop.vectorize.enable", i1 false}}')
            lines += [f"!{loops + b} = distinct !{{!{loops + b}, !{no_vectorize}}}"
                      for b in range(len(blocks))]  # fmt: skip
        return lines
