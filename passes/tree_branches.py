"""Tree ensembles as generated branches: the LLVM IR of a ``layout "branches"`` ensemble.

xDSL handles a few thousand ops a second and a split costs about ten ops, so an ensemble's
trees do not go through the xDSL lowering: ``lower-feature-to-scf`` calls a declared
function, and the translation to LLVM IR (``runtime.jit.module_to_llvm_ir``) replaces the
declaration with the text this module writes from the bound blobs::

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
over the rows. Only numeric splits are generated (``MISSING_LEFT`` and ``ZERO_IS_MISSING``
become constants of each split); an ensemble with categorical splits keeps the node loop.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping

import numpy as np
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, StringAttr

from willump_mlir.dialects.feature import MISSING_LEFT, ZERO_IS_MISSING, ZERO_THRESHOLD
from willump_mlir.dialects.pipeline import BlobAttr

BLOCK_NODES = 2048  # splits per block of trees (about 40 KiB of code)
INLINE_SPLITS = 8  # trees with more splits stay functions: inlining them triples LLVM's time
QUICK_SPLITS = 16_384
"""Above this many splits the trees are ``optnone``: LLVM's quick instruction selection
compiles them 3x faster (100 LightGBM trees of 31 leaves: 0.20 s against 0.67 s) and they
run about 18% slower (630k against 764k rows/s on one thread)."""


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


def define(name: str, ensemble: DictionaryAttr, blobs: Mapping[str, np.ndarray]) -> str | None:
    """The LLVM IR that defines ``name``, declared with ``willump.tree_branches = ensemble``
    by ``tree_kernels``; ``None`` when a blob it reads is not in ``blobs`` (not bound)."""
    arrays: dict[str, np.ndarray] = {}
    for key in ("nodes", "thresholds", "roots", "tree_outputs"):
        blob = ensemble.data[key]
        assert isinstance(blob, BlobAttr)
        if blob.symbol.data not in blobs:
            return None
        arrays[key] = blobs[blob.symbol.data]
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

    return BranchWriter(
        name, arrays["nodes"], arrays["thresholds"], arrays["roots"], arrays["tree_outputs"],
        leaves.symbol.data, features=number("features"), outputs=number("outputs"),
        width=leaves.shape[1], compare=text("compare"), input_precision=text("input"),
        sum_precision=text("sum"),
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
    ):
        self.name, self.leaves = name, leaves
        self.nodes, self.thresholds = nodes, thresholds
        self.roots, self.tree_outputs = roots, tree_outputs
        self.features, self.outputs, self.width = features, outputs, width
        self.compare = compare
        self.f32_input = input_precision == "f32"
        self.f32_sum = sum_precision == "f32"

    def text(self) -> str:
        sizes = np.array([self.tree_size(r) for r in self.roots], dtype=np.int64)
        quick = " optnone" if sizes.sum() > QUICK_SPLITS else ""
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
        ordered, stack = [], [root]
        while stack:  # depth first, left child next: the fall-through path
            n = stack.pop()
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
            if flags & ZERO_IS_MISSING:  # missing: NaN or |x| <= ZERO_THRESHOLD
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

    @staticmethod
    def label(child: int) -> str:
        return f"n{child}" if child >= 0 else f"l{~child}"

    def driver(self, blocks: list[range]) -> list[str]:
        """The exported function: for each block of trees, a loop over the rows."""
        real = "float" if self.f32_sum else "double"
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
            lines += [
                f"  %r{b}.next = add i64 %r{b}, 1",
                f"  %more{b} = icmp slt i64 %r{b}.next, %rows",
                f"  br i1 %more{b}, label %b{b}.row, label %{after}",
            ]
        lines += ["done:", "  ret void", "}"]
        return lines
