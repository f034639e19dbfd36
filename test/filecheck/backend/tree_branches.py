# RUN: python %s | filecheck %s
"""Write the LLVM IR of a two-tree ensemble as generated branches (``passes.tree_branches``)
from its blobs, JIT it and sum three rows: one left, one right, one NaN (its missing way)."""

import ctypes

import numpy as np
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, StringAttr, i64

from willump_mlir.blobs import BlobStore
from willump_mlir.dialects.feature import MISSING_LEFT
from willump_mlir.frontend.trees import TreeEnsemble
from willump_mlir.passes.tree_branches import define
from willump_mlir.runtime import jit

# Tree 0: x0 <= 0.5 (NaN left) ? (x1 < 2 ? 1 : 2) : 3; tree 1: a single leaf, 10.
ensemble = TreeEnsemble(
    features=2, outputs=1,
    feature=np.array([0, 1, -1, -1, -1, -1], np.int32),
    threshold=np.array([0.5, 2.0, 0, 0, 0, 0]),
    left=np.array([1, 2, 0, 0, 0, 0], np.int32), right=np.array([4, 3, 0, 0, 0, 0], np.int32),
    flags=np.array([MISSING_LEFT, 0, 0, 0, 0, 0], np.uint8),
    value=np.array([[0], [0], [1], [2], [3], [10]], np.float64),
    roots=np.array([0, 5], np.int32), tree_output=np.zeros(2, np.int32), base=np.zeros(1),
    category_start=np.zeros(6, np.int32), category_words=np.zeros(6, np.int32),
    category_bits=np.zeros(0, np.uint32), input_precision="f32",
)  # fmt: skip
blobs = BlobStore()
params = ensemble.params(blobs, "lit")
for symbol, array in blobs.items():
    jit.bind_blob(symbol, array)
keys = ("nodes", "thresholds", "leaves", "roots", "tree_outputs")
attribute = DictionaryAttr(
    {k: params[k] for k in keys}
    | {"features": IntegerAttr(2, i64), "outputs": IntegerAttr(1, i64)}
    | {"compare": StringAttr("le"), "input": StringAttr("f32"), "sum": StringAttr("f64")}
)
text = define("trees", attribute, blobs, metadata=0)
print(text)
leaves = params["leaves"]
header = f"@{leaves.symbol.data} = external global [{leaves.size} x double]\n"  # type: ignore[attr-defined]
library = jit.compile_llvm_ir(header + text, "lit-tree-branches")
trees = library.cfunc(
    "trees", None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p
)
rows = np.array([[0.25, 1.0], [0.75, 1.0], [np.nan, 5.0]])
sums = np.zeros(3)
trees(rows.ctypes.data, 0, 3, sums.ctypes.data)
print("sums", sums.tolist(), "reference", ensemble.reference_predict(rows)[:, 0].tolist())

# CHECK:      define internal i32 @trees_t0(ptr noalias readonly %row) nounwind alwaysinline {
# CHECK-NEXT:   %p0 = getelementptr inbounds double, ptr %row, i64 0
# CHECK-NEXT:   %v0 = load double, ptr %p0, align 8
# CHECK-NEXT:   %s0 = fptrunc double %v0 to float
# CHECK-NEXT:   %x0 = fpext float %s0 to double
# CHECK-NEXT:   %g0 = fcmp ule double %x0, 0x3FE0000000000000
# CHECK-NEXT:   br i1 %g0, label %n1, label %l2
# CHECK-NEXT: n1:
# CHECK:        %g1 = fcmp ole double %x1, 0x4000000000000000
# CHECK-NEXT:   br i1 %g1, label %l0, label %l1
# CHECK-NEXT: l0:
# CHECK-NEXT:   ret i32 0
# CHECK-NEXT: l1:
# CHECK-NEXT:   ret i32 1
# CHECK:      define internal i32 @trees_t1(ptr noalias readonly %row) nounwind alwaysinline {
# CHECK-NEXT:   ret i32 3
# CHECK:      define void @trees(ptr noalias readonly %data, i64 %start, i64 %rows,
# CHECK-SAME:   ptr noalias %sums) nounwind {
# CHECK:        %leaf0 = call i32 @trees_t0(ptr %row0)
# CHECK:        %leaf1 = call i32 @trees_t1(ptr %row0)
# CHECK:        fadd double
# CHECK:      sums [11.0, 13.0, 12.0] reference [11.0, 13.0, 12.0]
