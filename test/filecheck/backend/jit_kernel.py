# RUN: python %s | filecheck %s
"""Parse a func/scf/arith/math/memref kernel, lower it with convert-to-llvm, JIT it and
call it on numpy arrays with an external coefficient blob bound at load time."""

import ctypes
import os
import tempfile

import numpy as np
from xdsl.context import Context
from xdsl.dialects import get_all_dialects
from xdsl.parser import Parser

from willump_mlir.blobs import BlobStore
from willump_mlir.passes.convert_to_llvm import ConvertToLLVMPass
from willump_mlir.runtime import jit
from willump_mlir.translate import module_to_llvm_ir

KERNEL = """
"memref.global"() <{sym_name = "coef_jit_test", sym_visibility = "public",
                    type = memref<3xf64>, initial_value}> : () -> ()

func.func @score(%x: memref<?xf64>, %y: memref<?xi64>, %out: memref<?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f64
  %w = memref.get_global @coef_jit_test : memref<3xf64>
  %w0 = memref.load %w[%c0] : memref<3xf64>
  %w1 = memref.load %w[%c1] : memref<3xf64>
  %b = memref.load %w[%c2] : memref<3xf64>
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f64) {
    %xv = memref.load %x[%i] : memref<?xf64>
    %yi = memref.load %y[%i] : memref<?xi64>
    %yv = arith.sitofp %yi : i64 to f64
    %l = math.log1p %xv : f64
    %t = arith.addf %b, %l : f64
    %t1 = math.fma %yv, %w1, %t : f64
    %t2 = arith.mulf %t1, %w0 : f64
    %nan = arith.cmpf uno, %xv, %xv : f64
    %r = scf.if %nan -> (f64) {
      scf.yield %zero : f64
    } else {
      %e = math.tanh %t2 : f64
      scf.yield %e : f64
    }
    memref.store %r, %out[%i] : memref<?xf64>
    %acc2 = arith.addf %acc, %r : f64
    scf.yield %acc2 : f64
  }
  func.return %sum : f64
}
"""

os.environ["WILLUMP_MLIR_CACHE_DIR"] = tempfile.mkdtemp(prefix="willump-jit-test-")

ctx = Context()
for name, factory in get_all_dialects().items():
    ctx.register_dialect(name, factory)
module = Parser(ctx, KERNEL).parse_module()
ConvertToLLVMPass().apply(ctx, module)
module.verify()
llvm_ir = module_to_llvm_ir(module, BlobStore())
print(next(line for line in llvm_ir.splitlines() if "coef_jit_test" in line))
# CHECK: @"coef_jit_test" = external global [3 x double]

coef = np.array([0.5, 0.25, -1.0])
jit.bind_blob("coef_jit_test", coef)
assert jit.load_cached("jit_kernel_test") is None
lib = jit.compile_llvm_ir(llvm_ir, "jit_kernel_test")
print("first load from cache:", lib.cache_hit)
# CHECK: first load from cache: False

x = np.array([0.0, 1.0, np.nan, 3.0, 10.0])
y = np.array([4, -2, 7, 0, 1], dtype=np.int64)
out = np.zeros_like(x)
score = lib.cfunc(
    "score", ctypes.c_double, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64
)
total = score(x.ctypes.data, y.ctypes.data, out.ctypes.data, len(x))
expected = np.where(np.isnan(x), 0.0, np.tanh((y * 0.25 + (np.log1p(x) - 1.0)) * 0.5))
print("out:", np.array2string(out, precision=6))
print("total:", f"{total:.6f}", "matches numpy:", np.allclose(out, expected), total == out.sum())
# CHECK-NEXT: out: [ 0.       -0.382877  0.        0.190781  0.677213]
# CHECK-NEXT: total: 0.485117 matches numpy: True True

cached = jit.load_cached("jit_kernel_test")
assert cached is not None
again = cached.cfunc(
    "score", ctypes.c_double, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64
)
same = again(x.ctypes.data, y.ctypes.data, out.ctypes.data, len(x)) == total
print("cache hit:", cached.cache_hit, "same result:", same)
# CHECK-NEXT: cache hit: True same result: True
