// RUN: willump-opt %s -p lower-feature-to-scf | filecheck %s
// RUN: willump-opt %s -p lower-feature-to-scf,convert-to-llvm -t llvm | filecheck %s --check-prefix=LLVM

// A frame with two numeric columns and a string column: impute + scale the numbers, one-hot
// the strings, a binary logistic regression. One row loop, no intermediate matrix.
func.func @score(%df: !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str>) -> tensor<?xf64> {
  %x = pipeline.to_array %df ["a", "b"] : !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str> -> tensor<?x2xf64>
  %f = feature.impute %x fill <"fill_1" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %s = feature.standardize %f sub <"mean_2" : tensor<2xf64>> div <"scale_3" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %c = feature.encode_strings %df "city" bytes <"b_1" : tensor<9xui8>> offsets <"o_2" : tensor<3xi64>> table <"t_3" : tensor<8xi64>> probes 2 missing -1 on_unknown "error" : !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str> -> tensor<?x1xi64>
  %o = feature.onehot %c categories 2 drop -1 : tensor<?x1xi64> -> tensor<?x2xf64>
  %h = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x4xf64>
  %d = feature.linear %h coef <"w_1" : tensor<1x4xf64>> offset 0 intercept <"b_2" : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x1xf64>
  %p = feature.sigmoid %d : tensor<?x1xf64> -> tensor<?x1xf64>
  %pp = feature.binary_proba %p : tensor<?x1xf64> -> tensor<?x2xf64>
  %r = pipeline.take_column %pp [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %r : tensor<?xf64>
}

// CHECK: builtin.module attributes {willump.schedule = {score = {steps = [{kernel = "score_stage0"}], returns = ["v9"], errors = {"1" = {op = "feature.impute"}, "2" = {op = "feature.standardize"}, "3" = {op = "feature.encode_strings", value = "arg0", column = "city"}, "6" = {op = "feature.linear"}}, constants = {}}}}
// CHECK-DAG: "memref.global"() <{sym_name = "fill_1", type = memref<2xf64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "w_1", type = memref<4xf64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "t_3", type = memref<8xi64>, initial_value, sym_visibility = "public"}>
// CHECK: func.func @score_stage0(%{{.*}}: index, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xi8>, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xi8>)
// CHECK-SAME: willump.kernel
// CHECK-SAME: willump.inputs = [{value = "arg0", part = "values", dtype = "f64", column = "a"}, {value = "arg0", part = "values", dtype = "f64", column = "b"}, {value = "arg0", part = "bytes", dtype = "i8", column = "city"}
// CHECK-SAME: willump.outputs = [{value = "v9", width = 1 : i64, dtype = "f64", shape = []}]
// CHECK-DAG: memref.get_global @fill_1 : memref<2xf64>
// The hash table, FNV-1a's offset basis (0xcbf29ce484222325 as a signed i64) and prime, the
// slot mask (table size 8 - 1), the probe count and the "not found" code, hoisted out of the loop.
// CHECK-DAG: [[TABLE:%[0-9]+]] = memref.get_global @t_3 : memref<8xi64>
// CHECK-DAG: [[BASIS:%[0-9]+]] = arith.constant -3750763034362895579 : i64
// CHECK-DAG: [[PRIME:%[0-9]+]] = arith.constant 1099511628211 : i64
// CHECK-DAG: [[MASK:%[0-9]+]] = arith.constant 7 : i64
// CHECK-DAG: [[PROBES:%[0-9]+]] = arith.constant 2 : index
// CHECK-DAG: [[NONE:%[0-9]+]] = arith.constant -1 : i64
// CHECK: scf.for
// CHECK: arith.cmpf uno
// CHECK: arith.select
// CHECK: arith.subf
// CHECK: arith.divf
// The string column: hash the row's bytes with FNV-1a (a loop carrying the i64 hash) ...
// CHECK: [[HASH:%[0-9]+]] = scf.for %{{[0-9]+}} = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%[[H:[0-9]+]] = [[BASIS]]) -> (i64) {
// CHECK: [[BYTE:%[0-9]+]] = arith.extui %{{[0-9]+}} : i8 to i64
// CHECK-NEXT: [[MIXED:%[0-9]+]] = arith.xori %[[H]], [[BYTE]] : i64
// CHECK-NEXT: [[NEXT:%[0-9]+]] = arith.muli [[MIXED]], [[PRIME]] : i64
// CHECK-NEXT: scf.yield [[NEXT]] : i64
// CHECK-NEXT: }
// ... then probe `probes` consecutive slots from hash & mask, carrying the code found so far ...
// CHECK-NEXT: [[CODE:%[0-9]+]] = scf.for %[[P:[0-9]+]] = %{{[0-9]+}} to [[PROBES]] step %{{[0-9]+}} iter_args(%[[FOUND:[0-9]+]] = [[NONE]]) -> (i64) {
// CHECK-NEXT: [[P64:%[0-9]+]] = arith.index_cast %[[P]] : index to i64
// CHECK-NEXT: [[SHIFTED:%[0-9]+]] = arith.addi [[HASH]], [[P64]] : i64
// CHECK-NEXT: [[SLOT:%[0-9]+]] = arith.andi [[SHIFTED]], [[MASK]] : i64
// CHECK-NEXT: [[SLOTI:%[0-9]+]] = arith.index_cast [[SLOT]] : i64 to index
// CHECK-NEXT: [[ENTRY:%[0-9]+]] = memref.load [[TABLE]][[[SLOTI]]] : memref<8xi64>
// CHECK-NEXT: [[OCCUPIED:%[0-9]+]] = arith.cmpi sge, [[ENTRY]], %{{[0-9]+}} : i64
// CHECK: scf.if %{{[0-9]+}} -> (i64) {
// ... and compare an occupied slot's category bytes with the row's (a loop carrying i1).
// CHECK: [[SAME:%[0-9]+]] = scf.for %{{[0-9]+}} = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%{{[0-9]+}} = %{{[0-9]+}}) -> (i1) {
// CHECK: arith.cmpi eq, %{{[0-9]+}}, %{{[0-9]+}} : i8
// CHECK: scf.yield %{{[0-9]+}} : i1
// CHECK-NEXT: }
// CHECK-NEXT: [[HIT:%[0-9]+]] = arith.select [[SAME]], [[ENTRY]], %[[FOUND]] : i64
// CHECK-NEXT: scf.yield [[HIT]] : i64
// CHECK-NEXT: } else {
// CHECK-NEXT: scf.yield %[[FOUND]] : i64
// CHECK-NEXT: }
// CHECK: scf.yield %{{[0-9]+}} : i64
// CHECK-NEXT: }
// A missing value overrides the code found.
// CHECK: arith.select %{{[0-9]+}}, [[NONE]], [[CODE]] : i64
// CHECK: math.exp
// CHECK: memref.store {{.*}} : memref<?xf64>
// CHECK-NOT: feature.
// CHECK-NOT: pipeline.

// LLVM: @"fill_1" = external global [2 x double]
// LLVM: @"t_3" = external global [8 x i64]
// LLVM: define void @"score_stage0"(i64 %{{.*}}, ptr
// LLVM: fcmp uno double
// LLVM: fdiv double
// LLVM: phi i64 [-3750763034362895579,
// LLVM: [[X:%"?\.?[0-9]+"?]] = xor i64
// LLVM-NEXT: mul i64 [[X]], 1099511628211
// LLVM: and i64 %{{.*}}, 7
// LLVM: call double @"llvm.exp.f64"
// LLVM: ret void
