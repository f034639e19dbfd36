// RUN: willump-opt %s --split-input-file --verify-diagnostics | filecheck %s

%x = "test.op"() : () -> tensor<?x4xf64>
%p = cascade.approx_predict @missing(%x) : (tensor<?x4xf64>) -> tensor<?x2xf64>

// CHECK: '@missing' does not reference a func.func

// -----

func.func private @cheap(tensor<?x4xf64>) -> tensor<?xf64>
%x = "test.op"() : () -> tensor<?x4xf64>
%p = cascade.approx_predict @cheap(%x) : (tensor<?x4xf64>) -> tensor<?x2xf64>

// CHECK: model '@cheap' has type (tensor<?x4xf64>) -> tensor<?xf64>, expected (tensor<?x4xf64>) -> tensor<?x2xf64>

// -----

func.func private @cheap(tensor<16x4xf64>) -> tensor<?x2xf64>
%x = "test.op"() : () -> tensor<16x4xf64>
%p = cascade.approx_predict @cheap(%x) : (tensor<16x4xf64>) -> tensor<?x2xf64>

// CHECK: features must be a frame or a batch tensor<?x...> with a dynamic leading dimension, got tensor<16x4xf64>

// -----

func.func private @cheap(tensor<?x4xf64>) -> tensor<?x2xf32>
%x = "test.op"() : () -> tensor<?x4xf64>
%p = cascade.approx_predict @cheap(%x) : (tensor<?x4xf64>) -> tensor<?x2xf32>

// CHECK: result must be tensor<?xf64> or tensor<?xKxf64>, got tensor<?x2xf32>

// -----

func.func private @cheap(tensor<?x4xf64>) -> tensor<?x1xf64>
%x = "test.op"() : () -> tensor<?x4xf64>
%p = cascade.approx_predict @cheap(%x) : (tensor<?x4xf64>) -> tensor<?x1xf64>

// CHECK: result must have a static number of classes K >= 2, got tensor<?x1xf64>

// -----

%p = "test.op"() : () -> tensor<?xf64>
%m = cascade.confidence_mask top_probability(%p) >= 4.000000e-01 : tensor<?xf64>

// CHECK: top_probability threshold must lie in [0.5, 1] for 2 classes, got 0.4

// -----

%p = "test.op"() : () -> tensor<?x4xf64>
%m = cascade.confidence_mask top_probability(%p) >= 2.000000e-01 : tensor<?x4xf64>

// CHECK: top_probability threshold must lie in [0.25, 1] for 4 classes, got 0.2

// -----

%p = "test.op"() : () -> tensor<?x3xf64>
%m = cascade.confidence_mask margin(%p) >= 1.500000e+00 : tensor<?x3xf64>

// CHECK: margin threshold must lie in [0, 1] for 3 classes, got 1.5

// -----

%p = "test.op"() : () -> tensor<?x?xf64>
%m = cascade.confidence_mask margin(%p) >= 5.000000e-01 : tensor<?x?xf64>

// CHECK: probabilities must have a static number of classes K >= 2, got tensor<?x?xf64>

// -----

%p = "test.op"() : () -> tensor<?xf64>
%m = "cascade.confidence_mask"(%p) <{metric = #cascade<metric top_probability>, threshold = 9.000000e-01 : f64}> : (tensor<?xf64>) -> tensor<?xi8>

// CHECK:      result 'settled' at position 0 does not verify:
// CHECK-NEXT: Expected attribute tensor<?xi1> but got tensor<?xi8>

// -----

%x, %m = "test.op"() : () -> (tensor<?x8xf64>, tensor<?xi1>)
%rest, %rows = "cascade.compact"(%x, %m) : (tensor<?x8xf64>, tensor<?xi1>) -> (tensor<?x7xf64>, tensor<?xi64>)

// CHECK:      result 'rest' at position 0 does not verify:
// CHECK-NEXT: attribute tensor<?x8xf64> expected from variable 'T', but got tensor<?x7xf64>

// -----

%x, %m = "test.op"() : () -> (tensor<?x8xf64>, tensor<?xi64>)
%rest, %rows = "cascade.compact"(%x, %m) : (tensor<?x8xf64>, tensor<?xi64>) -> (tensor<?x8xf64>, tensor<?xi64>)

// CHECK:      operand 'settled' at position 1 does not verify:
// CHECK-NEXT: Expected attribute tensor<?xi1> but got tensor<?xi64>

// -----

%x, %m = "test.op"() : () -> (tensor<8xf64>, tensor<?xi1>)
%rest, %rows = cascade.compact %x drop %m : tensor<8xf64>

// CHECK: input must be a frame or a batch tensor<?x...> with a dynamic leading dimension, got tensor<8xf64>

// -----

%full, %p, %rows = "test.op"() : () -> (tensor<?xf64>, tensor<?x2xf64>, tensor<?xi64>)
%y = "cascade.merge"(%full, %p, %rows) : (tensor<?xf64>, tensor<?x2xf64>, tensor<?xi64>) -> tensor<?x2xf64>

// CHECK:      operand 'approx' at position 1 does not verify:
// CHECK-NEXT: attribute tensor<?xf64> expected from variable 'T', but got tensor<?x2xf64>

// -----

%full, %p, %rows = "test.op"() : () -> (tensor<?xf64>, tensor<?xf64>, tensor<?xi32>)
%y = "cascade.merge"(%full, %p, %rows) : (tensor<?xf64>, tensor<?xf64>, tensor<?xi32>) -> tensor<?xf64>

// CHECK:      operand 'rows' at position 2 does not verify:
// CHECK-NEXT: Expected attribute tensor<?xi64> but got tensor<?xi32>

// -----

%rest = "test.op"() : () -> tensor<?x8xf64>
%full = "cascade.lazy_branch"(%rest) ({
^bb0(%r: tensor<?x4xf64>):
  %q = "test.op"(%r) : (tensor<?x4xf64>) -> tensor<?xf64>
  cascade.yield %q : tensor<?xf64>
}) : (tensor<?x8xf64>) -> tensor<?xf64>

// CHECK: body arguments (tensor<?x4xf64>) must match the inputs (tensor<?x8xf64>)

// -----

%rest = "test.op"() : () -> tensor<?x8xf64>
%full = cascade.lazy_branch(%r = %rest) : (tensor<?x8xf64>) -> tensor<?x2xf64> {
  %q = "test.op"(%r) : (tensor<?x8xf64>) -> tensor<?xf64>
  cascade.yield %q : tensor<?xf64>
}

// CHECK: cascade.yield types (tensor<?xf64>) must match the results (tensor<?x2xf64>)

// -----

%rest = "test.op"() : () -> tensor<?x8xf64>
%full = cascade.lazy_branch(%r = %rest) : (tensor<?x8xf64>) -> tensor<?xf64> {
  %q = "test.op"(%r) : (tensor<?x8xf64>) -> tensor<?xf64>
  "test.termop"(%q) : (tensor<?xf64>) -> ()
}

// CHECK: body must end with a cascade.yield

// -----

%full = "cascade.lazy_branch"() ({
  %q = "test.op"() : () -> tensor<?xf64>
  cascade.yield %q : tensor<?xf64>
}) : () -> tensor<?xf64>

// CHECK: expects at least one compacted input

// -----

%rest = "test.op"() : () -> tensor<?x8xf64>
%full = cascade.lazy_branch(%r = %rest) : (tensor<?x8xf64>) -> tensor<4xf64> {
  %q = "test.op"(%r) : (tensor<?x8xf64>) -> tensor<4xf64>
  cascade.yield %q : tensor<4xf64>
}

// CHECK: result #0 must be a frame or a batch tensor<?x...> with a dynamic leading dimension, got tensor<4xf64>

// -----

%q = "test.op"() : () -> tensor<?xf64>
cascade.yield %q : tensor<?xf64>

// CHECK: 'cascade.yield' expects parent op 'cascade.lazy_branch'

// -----

%s, %k = "test.op"() : () -> (tensor<?xf64>, i64)
%c = cascade.topk_candidates %s, %k oversample 5.000000e-01 : tensor<?xf64>

// CHECK: oversample must be a finite number >= 1, got 0.5

// -----

%s, %k = "test.op"() : () -> (tensor<?xf64>, i32)
%c = "cascade.topk_candidates"(%s, %k) : (tensor<?xf64>, i32) -> tensor<?xi64>

// CHECK:      operand 'k' at position 1 does not verify:
// CHECK-NEXT: Expected attribute i64 but got i32

// -----

%s, %k = "test.op"() : () -> (tensor<?x2xf64>, i64)
%c = cascade.topk_candidates %s, %k : tensor<?x2xf64>

// CHECK:      operand 'scores' at position 0 does not verify:
// CHECK-NEXT: Expected attribute tensor<?xf64> but got tensor<?x2xf64>

// -----

%m, %a, %f = "test.op"() : () -> (tensor<?xi1>, tensor<?xf64>, tensor<?x2xf64>)
%r = "cascade.select_rows"(%m, %a, %f) : (tensor<?xi1>, tensor<?xf64>, tensor<?x2xf64>) -> tensor<?xf64>

// CHECK:      operand 'full' at position 2 does not verify:
// CHECK-NEXT: attribute tensor<?xf64> expected from variable 'T', but got tensor<?x2xf64>

// -----

%m, %a, %f = "test.op"() : () -> (tensor<?xi1>, tensor<?xf64>, tensor<?xf64>)
%r = "cascade.select_rows"(%m, %a, %f) : (tensor<?xi1>, tensor<?xf64>, tensor<?xf64>) -> tensor<?xi64>

// CHECK:      result 'result' at position 0 does not verify:
// CHECK-NEXT: attribute tensor<?xf64> expected from variable 'T', but got tensor<?xi64>

// -----

%m, %a, %f = "test.op"() : () -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>)
%r = "cascade.select_rows"(%m, %a, %f) : (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>

// CHECK:      operand 'settled' at position 0 does not verify:
// CHECK-NEXT: Expected attribute tensor<?xi1> but got tensor<?xf64>

// -----

%m, %a, %f = "test.op"() : () -> (tensor<?xi1>, tensor<4xf64>, tensor<4xf64>)
%r = cascade.select_rows %m, %a, %f : tensor<4xf64>

// CHECK: result must be a frame or a batch tensor<?x...> with a dynamic leading dimension, got tensor<4xf64>

// -----

// select_rows picks rows of batches (tensors, frames, packed values), not of a str column.

%m, %a, %f = "test.op"() : () -> (tensor<?xi1>, !pipeline.str, !pipeline.str)
%r = "cascade.select_rows"(%m, %a, %f) : (tensor<?xi1>, !pipeline.str, !pipeline.str) -> !pipeline.str

// CHECK:      operand 'approx' at position 1 does not verify:
// CHECK-NEXT: Unexpected attribute !pipeline.str

// -----

%df, %m = "test.op"() : () -> (!pipeline.frame<"a" : f64>, tensor<?xi1>)
%rest, %rows = "cascade.compact"(%df, %m) : (!pipeline.frame<"a" : f64>, tensor<?xi1>) -> (!pipeline.frame<"b" : f64>, tensor<?xi64>)

// CHECK:      result 'rest' at position 0 does not verify:
// CHECK-NEXT: attribute !pipeline.frame<"a" : f64> expected from variable 'T', but got !pipeline.frame<"b" : f64>

// -----

// A branch yields batches (tensors, frames, packed values), not a str column.

%df, %s = "test.op"() : () -> (!pipeline.frame<"a" : f64>, !pipeline.str)
%full = cascade.lazy_branch(%d = %df) : (!pipeline.frame<"a" : f64>) -> !pipeline.str {
  cascade.yield %s : !pipeline.str
}

// CHECK:      result 'outputs' at position 0 does not verify:
// CHECK-NEXT: Unexpected attribute !pipeline.str
