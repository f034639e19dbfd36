// RUN: willump-opt %s -p convert-to-llvm | filecheck %s
// RUN: willump-opt %s -p convert-to-llvm -t llvm | filecheck %s --check-prefix=LLVMIR

// A linear model over rows: coefficients come from an external blob.
"memref.global"() <{sym_name = "coef_ab12", sym_visibility = "public", type = memref<3xf64>, initial_value}> : () -> ()

func.func @score(%x: memref<?xf64>, %y: memref<?xf64>, %out: memref<?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.000000e+00 : f64
  %w = memref.get_global @coef_ab12 : memref<3xf64>
  %w0 = memref.load %w[%c0] : memref<3xf64>
  %w1 = memref.load %w[%c1] : memref<3xf64>
  %b = memref.load %w[%c2] : memref<3xf64>
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f64) {
    %xv = memref.load %x[%i] : memref<?xf64>
    %yv = memref.load %y[%i] : memref<?xf64>
    feature.prefetch %x[%n] : memref<?xf64>
    %l = math.log1p %xv : f64
    %t1 = arith.mulf %l, %w0 : f64
    %t2 = arith.mulf %yv, %w1 : f64
    %s = arith.addf %t1, %t2 : f64
    %s2 = arith.addf %s, %b : f64
    %nan = arith.cmpf uno, %xv, %xv : f64
    %r = scf.if %nan -> (f64) {
      scf.yield %zero : f64
    } else {
      %e = math.exp %s2 : f64
      scf.yield %e : f64
    }
    memref.store %r, %out[%i] : memref<?xf64>
    %acc2 = arith.addf %acc, %r : f64
    scf.yield %acc2 : f64
  }
  func.return %sum : f64
}

// CHECK:      builtin.module {
// CHECK-NEXT:   llvm.mlir.global external @coef_ab12() {addr_space = 0 : i32} : !llvm.array<3 x f64>
// A kernel's buffers are distinct: its pointer arguments are noalias.
// CHECK-NEXT:   llvm.func @score(%x: !llvm.ptr {llvm.noalias}, %y: !llvm.ptr {llvm.noalias}, %out: !llvm.ptr {llvm.noalias}, %n: i64) -> f64 {
// CHECK-NEXT:     %c0 = llvm.mlir.constant(0) : i64
// CHECK-NEXT:     %c1 = llvm.mlir.constant(1) : i64
// CHECK-NEXT:     %c2 = llvm.mlir.constant(2) : i64
// CHECK-NEXT:     %zero = llvm.mlir.constant(0.000000e+00 : f64) : f64
// CHECK-NEXT:     %w = llvm.mlir.addressof @coef_ab12 : !llvm.ptr
// CHECK-NEXT:     %{{.*}} = llvm.getelementptr inbounds %w[%c0] : (!llvm.ptr, i64) -> !llvm.ptr, f64
// CHECK-NEXT:     %w0 = llvm.load %{{.*}} : !llvm.ptr -> f64
// CHECK:          llvm.br ^[[COND:.*]](%c0, %zero : i64, f64)
// CHECK-NEXT:   ^[[COND]](%i: i64, %acc: f64):
// CHECK-NEXT:     %[[CMP:.*]] = llvm.icmp "slt" %i, %n : i64
// CHECK-NEXT:     llvm.cond_br %[[CMP]], ^{{.*}}, ^[[EXIT:.*]]
// CHECK:          %[[XP:.*]] = llvm.getelementptr inbounds %x[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f64
// CHECK-NEXT:     %xv = llvm.load %[[XP]] : !llvm.ptr -> f64
// A prefetch: the element's address, then the intrinsic (read, every cache level, data).
// CHECK:          %yv = llvm.load %{{.*}} : !llvm.ptr -> f64
// CHECK-NEXT:     %[[PP:.*]] = llvm.getelementptr inbounds %x[%n] : (!llvm.ptr, i64) -> !llvm.ptr, f64
// CHECK-NEXT:     %[[RW:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:     %[[LOCALITY:.*]] = llvm.mlir.constant(3 : i32) : i32
// CHECK-NEXT:     %[[DATA:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT:     llvm.call_intrinsic "llvm.prefetch.p0"(%[[PP]], %[[RW]], %[[LOCALITY]], %[[DATA]]) : (!llvm.ptr, i32, i32, i32) -> ()
// CHECK-NEXT:     %l = llvm.call @log1p(%xv) : (f64) -> f64
// CHECK-NEXT:     %t1 = llvm.fmul %l, %w0 : f64
// CHECK:          %s2 = llvm.fadd %s, %b : f64
// CHECK-NEXT:     %nan = llvm.fcmp "uno" %xv, %xv : f64
// CHECK-NEXT:     llvm.cond_br %nan, ^{{.*}}, ^{{.*}}
// CHECK:          %e = llvm.call_intrinsic "llvm.exp.f64"(%s2) : (f64) -> f64
// CHECK:        ^{{.*}}(%r: f64):
// CHECK:          %[[OP:.*]] = llvm.getelementptr inbounds %out[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f64
// CHECK-NEXT:     llvm.store %r, %[[OP]] : f64, !llvm.ptr
// CHECK-NEXT:     %acc2 = llvm.fadd %acc, %r : f64
// CHECK-NEXT:     %[[NEXT:.*]] = llvm.add %i, %c1 : i64
// CHECK-NEXT:     llvm.br ^[[COND]](%[[NEXT]], %acc2 : i64, f64)
// CHECK-NEXT:   ^[[EXIT]]:
// CHECK-NEXT:     llvm.return %acc : f64
// CHECK-NEXT:   }

// Scalar conversions, comparisons and intrinsics; a while loop; a private helper.
func.func private @helper(%v: f64) -> f64 {
  %a = math.absf %v : f64
  func.return %a : f64
}

// CHECK-NEXT:   llvm.func internal @helper(%v: f64) -> f64 {
// CHECK-NEXT:     %a = llvm.call_intrinsic "llvm.fabs.f64"(%v) : (f64) -> f64
// CHECK-NEXT:     llvm.return %a : f64
// CHECK-NEXT:   }

func.func @scalars(%p: f64, %k: i32, %u: i64) -> i64 {
  %h = func.call @helper(%p) : (f64) -> f64
  %m = arith.maximumf %h, %p : f64
  %t = math.tanh %m : f64
  %q = math.powf %t, %p : f64
  %kf = arith.sitofp %k : i32 to f64
  %uf = arith.uitofp %u : i64 to f64
  %sel0 = arith.cmpf oge, %q, %kf : f64
  %sel = arith.select %sel0, %q, %uf : f64
  %fi = arith.fptosi %sel : f64 to i64
  %ki = arith.extsi %k : i32 to i64
  %si = arith.addi %fi, %ki : i64
  %idx = arith.index_cast %si : i64 to index
  %c10 = arith.constant 10 : index
  %lim = arith.minsi %idx, %c10 : index
  %w = scf.while (%j = %lim) : (index) -> index {
    %c0 = arith.constant 0 : index
    %go = arith.cmpi sgt, %j, %c0 : index
    scf.condition(%go) %j : index
  } do {
  ^bb0(%j2: index):
    %c3 = arith.constant 3 : index
    %j3 = arith.subi %j2, %c3 : index
    scf.yield %j3 : index
  }
  %r = arith.index_cast %w : index to i64
  func.return %r : i64
}

// CHECK-NEXT:   llvm.func @scalars(%p: f64, %k: i32, %u: i64) -> i64 {
// CHECK-NEXT:     %h = llvm.call @helper(%p) : (f64) -> f64
// CHECK-NEXT:     %m = llvm.call_intrinsic "llvm.maximum.f64"(%h, %p) : (f64, f64) -> f64
// CHECK-NEXT:     %t = llvm.call @tanh(%m) : (f64) -> f64
// CHECK-NEXT:     %q = llvm.call_intrinsic "llvm.pow.f64"(%t, %p) : (f64, f64) -> f64
// CHECK-NEXT:     %kf = llvm.sitofp %k : i32 to f64
// CHECK:          %[[UF:.*]] = llvm.select %{{.*}}, %{{.*}}, %{{.*}} : i1, f64
// CHECK-NEXT:     %sel0 = llvm.fcmp "oge" %q, %kf : f64
// CHECK-NEXT:     %sel = llvm.select %sel0, %q, %[[UF]] : i1, f64
// CHECK-NEXT:     %fi = llvm.call_intrinsic "llvm.fptosi.sat.i64.f64"(%sel) : (f64) -> i64
// CHECK-NEXT:     %ki = llvm.sext %k : i32 to i64
// CHECK-NEXT:     %si = llvm.add %fi, %ki : i64
// CHECK-NEXT:     %c10 = llvm.mlir.constant(10) : i64
// CHECK-NEXT:     %[[LT:.*]] = llvm.icmp "slt" %si, %c10 : i64
// CHECK-NEXT:     %[[LIM:.*]] = llvm.select %[[LT]], %si, %c10 : i1, i64
// CHECK-NEXT:     llvm.br ^[[BEFORE:.*]](%[[LIM]] : i64)
// CHECK-NEXT:   ^[[BEFORE]](%j: i64):
// CHECK:          %go = llvm.icmp "sgt" %j, %{{.*}} : i64
// CHECK-NEXT:     llvm.cond_br %go, ^[[AFTER:.*]](%j : i64), ^[[DONE:.*]]
// CHECK-NEXT:   ^[[AFTER]](%j2: i64):
// CHECK:          %j3 = llvm.sub %j2, %{{.*}} : i64
// CHECK-NEXT:     llvm.br ^[[BEFORE]](%j3 : i64)
// CHECK-NEXT:   ^[[DONE]]:
// CHECK-NEXT:     llvm.return %j : i64
// CHECK-NEXT:   }

// A memref.cast is the pointer itself; a declaration keeps its willump.* attributes (the
// LLVM IR translation defines a willump.tree_branches declaration from the bound blobs).
func.func private @sum_rows(memref<?xf64>, index) attributes {willump.tree_branches = {rows = 8 : i64}}

func.func @cast(%b: memref<8xf64>, %n: index) {
  %d = "memref.cast"(%b) : (memref<8xf64>) -> memref<?xf64>
  func.call @sum_rows(%d, %n) : (memref<?xf64>, index) -> ()
  func.return
}

// CHECK-NEXT:   llvm.func @sum_rows(!llvm.ptr, i64) attributes {willump.tree_branches = {rows = 8 : i64}}
// CHECK-NEXT:   llvm.func @cast(%{{.*}}: !llvm.ptr {llvm.noalias}, %[[N:.*]]: i64) {
// CHECK-NEXT:     llvm.call @sum_rows(%[[B:.*]], %[[N]]) : (!llvm.ptr, i64) -> ()
// CHECK-NEXT:     llvm.return
// CHECK-NEXT:   }
// CHECK-NEXT:   llvm.func @ufuncs(%ux: f64, %ue: f64, %ucol: !llvm.ptr {llvm.noalias}, %ui: i64, %um: i64) -> f64 {
// CHECK-NEXT:     %uy = llvm.call @willump.ufunc.log1p.f64(%ux) : (f64) -> f64
// CHECK-NEXT:     %uz = llvm.call @willump.ufunc.log1p.f64(%uy) : (f64) -> f64
// CHECK-NEXT:     %up = llvm.call @willump.ufunc.power.f64.scalar_rhs(%uz, %ue) : (f64, f64) -> f64
// CHECK-NEXT:     %[[SIZE:.*]] = llvm.mlir.constant(256) : i64
// CHECK-NEXT:     %uchunk = llvm.alloca %[[SIZE]] x f32 {{.*}} : (i64) -> !llvm.ptr
// CHECK-NEXT:     %[[FROM:.*]] = llvm.getelementptr inbounds %ucol[%ui] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:     llvm.call @willump.ufunc_loop.exp.f32(%[[FROM]], %uchunk, %um) : (!llvm.ptr, !llvm.ptr, i64) -> ()
// CHECK-NEXT:     %[[ONE:.*]] = llvm.mlir.constant(1) : i64
// CHECK-NEXT:     %uscalar = llvm.alloca %[[ONE]] x f32 {{.*}} : (i64) -> !llvm.ptr
// CHECK-NEXT:     %[[FROM2:.*]] = llvm.getelementptr inbounds %ucol[%ui] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:     llvm.call @willump.ufunc_loop.power.f32.scalar_rhs(%[[FROM2]], %uscalar, %uchunk, %um) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, i64) -> ()
// CHECK-NEXT:     llvm.return %up : f64
// CHECK-NEXT:   }
// CHECK-NEXT:   llvm.func @log1p(f64) -> f64
// CHECK-NEXT:   llvm.func @tanh(f64) -> f64
// CHECK-NEXT:   llvm.func internal @willump.ufunc.log1p.f64(%[[X:.*]]: f64) -> f64 {
// CHECK:          %[[SLOTS:.*]] = llvm.alloca %{{.*}} x f64
// CHECK:          llvm.store %[[X]], %[[SLOTS]] : f64, !llvm.ptr
// CHECK:          %[[DATA:.*]] = llvm.mlir.addressof @numpy.ufunc.log1p.f64.data : !llvm.ptr
// CHECK-NEXT:     %[[D:.*]] = llvm.load %[[DATA]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT:     llvm.call @numpy.ufunc.log1p.f64(%{{.*}}, %{{.*}}, %{{.*}}, %[[D]]) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
// CHECK:          llvm.return
// CHECK-NEXT:   }
// CHECK-NEXT:   llvm.func @numpy.ufunc.log1p.f64(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr)
// CHECK-NEXT:   llvm.mlir.global external @numpy.ufunc.log1p.f64.data() {addr_space = 0 : i32} : !llvm.ptr
// CHECK-NEXT:   llvm.func internal @willump.ufunc.power.f64.scalar_rhs(
// CHECK:          %[[ZERO:.*]] = llvm.mlir.constant(0) : i64
// CHECK-NEXT:     %[[STEP:.*]] = llvm.getelementptr inbounds %{{.*}}[1] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT:     llvm.store %[[ZERO]], %[[STEP]] : i64, !llvm.ptr
// CHECK:          llvm.call @numpy.ufunc.power.f64(
// CHECK:        llvm.func @numpy.ufunc.power.f64(
// CHECK-NEXT:   llvm.mlir.global external @numpy.ufunc.power.f64.data()
// CHECK-NEXT:   llvm.func internal @willump.ufunc_loop.exp.f32(%[[IN:.*]]: !llvm.ptr, %[[OUT:.*]]: !llvm.ptr, %[[COUNT:.*]]: i64) {
// CHECK:          llvm.store %[[COUNT]], %{{.*}} : i64, !llvm.ptr
// CHECK-NEXT:     llvm.store %[[IN]], %{{.*}} : !llvm.ptr, !llvm.ptr
// CHECK-NEXT:     %[[SIZE:.*]] = llvm.mlir.constant(4) : i64
// CHECK:          llvm.call @numpy.ufunc.exp.f32(
// CHECK-NEXT:     llvm.return
// CHECK-NEXT:   }
// CHECK-NEXT:   llvm.func @numpy.ufunc.exp.f32(
// CHECK-NEXT:   llvm.mlir.global external @numpy.ufunc.exp.f32.data()
// CHECK-NEXT:   llvm.func internal @willump.ufunc_loop.power.f32.scalar_rhs(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64) {
// CHECK:          %[[ZERO32:.*]] = llvm.mlir.constant(0) : i64
// CHECK-NEXT:     %[[STEP32:.*]] = llvm.getelementptr inbounds %{{.*}}[1] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT:     llvm.store %[[ZERO32]], %[[STEP32]] : i64, !llvm.ptr
// CHECK:          llvm.call @numpy.ufunc.power.f32(
// CHECK:        llvm.func @numpy.ufunc.power.f32(
// CHECK-NEXT:   llvm.mlir.global external @numpy.ufunc.power.f32.data()
// CHECK-NEXT: }

// numpy's own loops: feature.ufunc calls an internal helper that calls numpy's loop (an
// external symbol the runtime binds at load time, with its data pointer) on one element on
// the stack, the second operand read with stride 0 under scalar_rhs; feature.ufunc_loop
// calls one that runs the loop over a range of a buffer. Each helper is defined once.
func.func @ufuncs(%ux: f64, %ue: f64, %ucol: memref<?xf32>, %ui: index, %um: index) -> f64 {
  %uy = feature.ufunc "log1p"(%ux) : (f64) -> f64
  %uz = feature.ufunc "log1p"(%uy) : (f64) -> f64
  %up = feature.ufunc "power"(%uz, %ue) scalar_rhs : (f64, f64) -> f64
  %uchunk = memref.alloca() : memref<256xf32>
  feature.ufunc_loop "exp" %ucol[%ui] into %uchunk count %um : memref<?xf32>, memref<256xf32>
  %uscalar = memref.alloca() : memref<1xf32>
  feature.ufunc_loop "power" %ucol[%ui] with %uscalar : memref<1xf32> scalar into %uchunk count %um : memref<?xf32>, memref<256xf32>
  func.return %up : f64
}

// LLVMIR:      @"coef_ab12" = external global [3 x double]
// LLVMIR-NEXT: @"numpy.ufunc.log1p.f64.data" = external global ptr
// LLVMIR:      define double @"score"(ptr noalias %{{.*}}, ptr noalias %{{.*}}, ptr noalias %{{.*}}, i64 %{{.*}})
// LLVMIR:        getelementptr inbounds double, double* %{{.*}}, i64 0
// LLVMIR:        phi i64 [0, %{{.*}}], [%{{.*}}, %{{.*}}]
// LLVMIR:        icmp slt i64
// LLVMIR:        getelementptr inbounds double, ptr %{{.*}}, i64 %{{.*}}
// LLVMIR:        load double, ptr
// LLVMIR:        call void @"llvm.prefetch.p0"(ptr %{{.*}}, i32 0, i32 3, i32 1)
// LLVMIR:        call ccc double @"log1p"(double %{{.*}})
// LLVMIR:        fmul double
// LLVMIR:        fcmp uno double
// LLVMIR:        call double @"llvm.exp.f64"(double %{{.*}})
// LLVMIR:        phi double
// LLVMIR:        store double %{{.*}}, ptr %{{.*}}
// LLVMIR:        fadd double
// LLVMIR:        ret double
// LLVMIR:      define double @"helper"(double %{{.*}})
// LLVMIR:        call double @"llvm.fabs.f64"
// LLVMIR:      define i64 @"scalars"(double %{{.*}}, i32 %{{.*}}, i64 %{{.*}})
// LLVMIR:        call double @"llvm.maximum.f64"
// LLVMIR:        call ccc double @"tanh"
// LLVMIR:        sitofp i32 %{{.*}} to double
// LLVMIR:        call i64 @"llvm.fptosi.sat.i64.f64"
// LLVMIR:        sext i32 %{{.*}} to i64
// LLVMIR:      declare void @"sum_rows"(ptr %{{.*}}, i64 %{{.*}})
// LLVMIR:      define void @"cast"(ptr noalias %[[B:.*]], i64 %[[N:.*]])
// LLVMIR:        call ccc void @"sum_rows"(ptr %[[B]], i64 %[[N]])
// LLVMIR:      declare double @"log1p"(double %{{.*}})
// LLVMIR:      declare double @"tanh"(double %{{.*}})
// LLVMIR:      define double @"willump.ufunc.log1p.f64"(double %{{.*}})
// LLVMIR:        load ptr, ptr @"numpy.ufunc.log1p.f64.data"
// LLVMIR:        call ccc void @"numpy.ufunc.log1p.f64"(ptr
// LLVMIR:      declare void @"numpy.ufunc.log1p.f64"(ptr %{{.*}}, ptr %{{.*}}, ptr %{{.*}}, ptr %{{.*}})
