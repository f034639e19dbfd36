// RUN: willump-opt %s -p lower-feature-to-scf | filecheck %s
// RUN: willump-opt %s -p lower-feature-to-scf,convert-to-llvm -t llvm | filecheck %s --check-prefix=LLVM

// A frame with two numeric columns and a string column: impute + scale the numbers, one-hot
// the strings, a binary logistic regression. One row loop, no intermediate matrix.
func.func @score(%df: !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str>) -> tensor<?xf64> {
  %x = pipeline.to_array %df ["a", "b"] : !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str> -> tensor<?x2xf64>
  %f = feature.impute %x fill <"fill_1" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %s = feature.standardize %f sub <"mean_2" : tensor<2xf64>> div <"scale_3" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %c = feature.encode_strings %df "city" bytes <"b_1" : tensor<9xui8>> offsets <"o_2" : tensor<3xi64>> missing -1 on_unknown "error" : !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str> -> tensor<?x1xi64>
  %o = feature.onehot %c categories 2 drop -1 : tensor<?x1xi64> -> tensor<?x2xf64>
  %h = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x4xf64>
  %d = feature.linear %h coef <"w_1" : tensor<1x4xf64>> offset 0 intercept <"b_2" : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x1xf64>
  %p = feature.sigmoid %d : tensor<?x1xf64> -> tensor<?x1xf64>
  %pp = feature.binary_proba %p : tensor<?x1xf64> -> tensor<?x2xf64>
  %r = pipeline.take_column %pp [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %r : tensor<?xf64>
}

// CHECK: builtin.module attributes {willump.schedule = {score = {steps = [{kernel = "score_stage0"}], returns = ["v9"], errors = {"3" = {op = "feature.encode_strings", value = "arg0", column = "city"}, "6" = {op = "feature.linear"}}}}}
// CHECK-DAG: "memref.global"() <{sym_name = "fill_1", type = memref<2xf64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "w_1", type = memref<4xf64>, initial_value, sym_visibility = "public"}>
// CHECK: func.func @score_stage0(%{{.*}}: index, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xi8>, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xi8>)
// CHECK-SAME: willump.kernel
// CHECK-SAME: willump.inputs = [{value = "arg0", part = "values", dtype = "f64", column = "a"}, {value = "arg0", part = "values", dtype = "f64", column = "b"}, {value = "arg0", part = "bytes", dtype = "i8", column = "city"}
// CHECK-SAME: willump.outputs = [{value = "v9", width = 1 : i64, dtype = "f64", shape = []}]
// CHECK: memref.get_global @fill_1 : memref<2xf64>
// CHECK: scf.for
// CHECK: arith.cmpf uno
// CHECK: arith.select
// CHECK: arith.subf
// CHECK: arith.divf
// The string column is matched against each category's bytes.
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (i64)
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (i1)
// CHECK: math.exp
// CHECK: memref.store {{.*}} : memref<?xf64>
// CHECK-NOT: feature.
// CHECK-NOT: pipeline.

// LLVM: @"fill_1" = external global [2 x double]
// LLVM: define void @"score_stage0"(i64 %{{.*}}, ptr
// LLVM: fcmp uno double
// LLVM: fdiv double
// LLVM: call double @"llvm.exp.f64"
// LLVM: ret void
