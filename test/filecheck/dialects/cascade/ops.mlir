// RUN: WILLUMP_ROUNDTRIP
// RUN: WILLUMP_GENERIC_ROUNDTRIP
// RUN: willump-opt %s --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

builtin.module {
  func.func private @cheap(tensor<?x4xf64>) -> tensor<?x2xf64>
  func.func private @full(tensor<?x8xf64>) -> tensor<?x2xf64>

  %x_cheap, %x = "test.op"() : () -> (tensor<?x4xf64>, tensor<?x8xf64>)

  %p = cascade.approx_predict @cheap(%x_cheap) : (tensor<?x4xf64>) -> tensor<?x2xf64>
  %settled = cascade.confidence_mask top_probability(%p) >= 9.000000e-01 : tensor<?x2xf64>
  %rest, %rows = cascade.compact %x drop %settled : tensor<?x8xf64>
  %full = cascade.lazy_branch(%r = %rest) : (tensor<?x8xf64>) -> tensor<?x2xf64> {
    %q = func.call @full(%r) : (tensor<?x8xf64>) -> tensor<?x2xf64>
    cascade.yield %q : tensor<?x2xf64>
  }
  %y = cascade.merge %full into %p at %rows : tensor<?x2xf64>
  "test.op"(%y) : (tensor<?x2xf64>) -> ()
}

// CHECK:      func.func private @cheap(tensor<?x4xf64>) -> tensor<?x2xf64>
// CHECK:      %x_cheap, %x = "test.op"() : () -> (tensor<?x4xf64>, tensor<?x8xf64>)
// CHECK-NEXT: %p = cascade.approx_predict @cheap(%x_cheap) : (tensor<?x4xf64>) -> tensor<?x2xf64>
// CHECK-NEXT: %settled = cascade.confidence_mask top_probability(%p) >= 9.000000e-01 : tensor<?x2xf64>
// CHECK-NEXT: %rest, %rows = cascade.compact %x drop %settled : tensor<?x8xf64>
// CHECK-NEXT: %full = cascade.lazy_branch(%r = %rest) : (tensor<?x8xf64>) -> tensor<?x2xf64> {
// CHECK-NEXT:   %q = func.call @full(%r) : (tensor<?x8xf64>) -> tensor<?x2xf64>
// CHECK-NEXT:   cascade.yield %q : tensor<?x2xf64>
// CHECK-NEXT: }
// CHECK-NEXT: %y = cascade.merge %full into %p at %rows : tensor<?x2xf64>

// GENERIC:      %p = "cascade.approx_predict"(%x_cheap) <{model = @cheap}> : (tensor<?x4xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %settled = "cascade.confidence_mask"(%p) <{metric = #cascade<metric top_probability>, threshold = 9.000000e-01 : f64}> : (tensor<?x2xf64>) -> tensor<?xi1>
// GENERIC-NEXT: %rest, %rows = "cascade.compact"(%x, %settled) : (tensor<?x8xf64>, tensor<?xi1>) -> (tensor<?x8xf64>, tensor<?xi64>)
// GENERIC-NEXT: %full = "cascade.lazy_branch"(%rest) ({
// GENERIC-NEXT: ^bb0(%r: tensor<?x8xf64>):
// GENERIC-NEXT:   %q = "func.call"(%r) <{callee = @full}> : (tensor<?x8xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT:   "cascade.yield"(%q) : (tensor<?x2xf64>) -> ()
// GENERIC-NEXT: }) : (tensor<?x8xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %y = "cascade.merge"(%full, %p, %rows) : (tensor<?x2xf64>, tensor<?x2xf64>, tensor<?xi64>) -> tensor<?x2xf64>

// -----

// Binary scores, the margin metric, several compacted inputs and results.

%scores, %a, %b = "test.op"() : () -> (tensor<?xf64>, tensor<?x3xf64>, tensor<?xi64>)
%m = cascade.confidence_mask margin(%scores) >= 2.500000e-01 : tensor<?xf64>
%a_rest, %a_rows = cascade.compact %a drop %m : tensor<?x3xf64>
%b_rest, %b_rows = cascade.compact %b drop %m {note = "ids"} : tensor<?xi64>
%u, %v = cascade.lazy_branch(%ra = %a_rest, %rb = %b_rest) : (tensor<?x3xf64>, tensor<?xi64>) -> (tensor<?xf64>, tensor<?xi64>) {
  %s = "test.op"(%ra) : (tensor<?x3xf64>) -> tensor<?xf64>
  cascade.yield %s, %rb : tensor<?xf64>, tensor<?xi64>
} {lazy = true}
%merged = cascade.merge %u into %scores at %a_rows : tensor<?xf64>

// CHECK:      %m = cascade.confidence_mask margin(%scores) >= 2.500000e-01 : tensor<?xf64>
// CHECK-NEXT: %a_rest, %a_rows = cascade.compact %a drop %m : tensor<?x3xf64>
// CHECK-NEXT: %b_rest, %b_rows = cascade.compact %b drop %m {note = "ids"} : tensor<?xi64>
// CHECK-NEXT: %u, %v = cascade.lazy_branch(%ra = %a_rest, %rb = %b_rest) : (tensor<?x3xf64>, tensor<?xi64>) -> (tensor<?xf64>, tensor<?xi64>) {
// CHECK-NEXT:   %s = "test.op"(%ra) : (tensor<?x3xf64>) -> tensor<?xf64>
// CHECK-NEXT:   cascade.yield %s, %rb : tensor<?xf64>, tensor<?xi64>
// CHECK-NEXT: } {lazy = true}
// CHECK-NEXT: %merged = cascade.merge %u into %scores at %a_rows : tensor<?xf64>

// GENERIC: "cascade.confidence_mask"(%scores) <{metric = #cascade<metric margin>, threshold = 2.500000e-01 : f64}> : (tensor<?xf64>) -> tensor<?xi1>

// -----

// Top-K candidates: K is an SSA value, oversampling is optional.

%cheap_scores, %k = "test.op"() : () -> (tensor<?xf64>, i64)
%c = cascade.topk_candidates %cheap_scores, %k : tensor<?xf64>
%c2 = cascade.topk_candidates %cheap_scores, %k oversample 2.500000e+00 : tensor<?xf64>

// CHECK:      %c = cascade.topk_candidates %cheap_scores, %k : tensor<?xf64>
// CHECK-NEXT: %c2 = cascade.topk_candidates %cheap_scores, %k oversample 2.500000e+00 : tensor<?xf64>

// GENERIC:      %c = "cascade.topk_candidates"(%cheap_scores, %k) : (tensor<?xf64>, i64) -> tensor<?xi64>
// GENERIC-NEXT: %c2 = "cascade.topk_candidates"(%cheap_scores, %k) <{oversample = 2.500000e+00 : f64}> : (tensor<?xf64>, i64) -> tensor<?xi64>

// -----

// Before schedule-lazy: select_rows takes each row from the approximate result where it is
// settled, else from the full one (any batch tensor: scores, labels).

%settled, %approx, %exact = "test.op"() : () -> (tensor<?xi1>, tensor<?xf64>, tensor<?xf64>)
%y = cascade.select_rows %settled, %approx, %exact : tensor<?xf64>
%k1, %k2 = "test.op"() : () -> (tensor<?xi64>, tensor<?xi64>)
%k = cascade.select_rows %settled, %k1, %k2 {note = "labels"} : tensor<?xi64>
%f1, %f2, %t1, %t2 = "test.op"() : () -> (!pipeline.frame<"id" : f64, "pred" : f64>, !pipeline.frame<"id" : f64, "pred" : f64>, !pipeline.object, !pipeline.object)
%f = cascade.select_rows %settled, %f1, %f2 : !pipeline.frame<"id" : f64, "pred" : f64>
%t = cascade.select_rows %settled, %t1, %t2 : !pipeline.object

// CHECK:      %y = cascade.select_rows %settled, %approx, %exact : tensor<?xf64>
// CHECK-NEXT: %k1, %k2 = "test.op"() : () -> (tensor<?xi64>, tensor<?xi64>)
// CHECK-NEXT: %k = cascade.select_rows %settled, %k1, %k2 {note = "labels"} : tensor<?xi64>
// CHECK-NEXT: %f1, %f2, %t1, %t2 = "test.op"()
// CHECK-NEXT: %f = cascade.select_rows %settled, %f1, %f2 : !pipeline.frame<"id" : f64, "pred" : f64>
// CHECK-NEXT: %t = cascade.select_rows %settled, %t1, %t2 : !pipeline.object

// GENERIC:      %y = "cascade.select_rows"(%settled, %approx, %exact) : (tensor<?xi1>, tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
// GENERIC:      %k = "cascade.select_rows"(%settled, %k1, %k2) {note = "labels"} : (tensor<?xi1>, tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
// GENERIC:      %t = "cascade.select_rows"(%settled, %t1, %t2) : (tensor<?xi1>, !pipeline.object, !pipeline.object) -> !pipeline.object

// -----

// A packed result (a tuple of batches) yielded by the branch and merged.

%df, %m, %cheap = "test.op"() : () -> (!pipeline.frame<"a" : f64>, tensor<?xi1>, !pipeline.object)
%rest, %rows = cascade.compact %df drop %m : !pipeline.frame<"a" : f64>
%full = cascade.lazy_branch(%d = %rest) : (!pipeline.frame<"a" : f64>) -> !pipeline.object {
  %pair = "test.op"(%d) : (!pipeline.frame<"a" : f64>) -> !pipeline.object
  cascade.yield %pair : !pipeline.object
}
%y = cascade.merge %full into %cheap at %rows : !pipeline.object

// CHECK:      %full = cascade.lazy_branch(%d = %rest) : (!pipeline.frame<"a" : f64>) -> !pipeline.object {
// CHECK-NEXT:   %pair = "test.op"(%d) : (!pipeline.frame<"a" : f64>) -> !pipeline.object
// CHECK-NEXT:   cascade.yield %pair : !pipeline.object
// CHECK-NEXT: }
// CHECK-NEXT: %y = cascade.merge %full into %cheap at %rows : !pipeline.object

// GENERIC: %y = "cascade.merge"(%full, %cheap, %rows) : (!pipeline.object, !pipeline.object, tensor<?xi64>) -> !pipeline.object

// -----

// A frame argument compacted and passed into the branch next to a compacted tensor.

%df, %num, %m, %p = "test.op"() : () -> (!pipeline.frame<"text" : !pipeline.str, "n" : f64>, tensor<?x2xf64>, tensor<?xi1>, tensor<?xf64>)
%df_rest, %rows = cascade.compact %df drop %m : !pipeline.frame<"text" : !pipeline.str, "n" : f64>
%num_rest, %num_rows = cascade.compact %num drop %m : tensor<?x2xf64>
%full = cascade.lazy_branch(%d = %df_rest, %x = %num_rest) : (!pipeline.frame<"text" : !pipeline.str, "n" : f64>, tensor<?x2xf64>) -> tensor<?xf64> {
  %q = "test.op"(%d, %x) : (!pipeline.frame<"text" : !pipeline.str, "n" : f64>, tensor<?x2xf64>) -> tensor<?xf64>
  cascade.yield %q : tensor<?xf64>
}
%y = cascade.merge %full into %p at %rows : tensor<?xf64>

// CHECK:      %df_rest, %rows = cascade.compact %df drop %m : !pipeline.frame<"text" : !pipeline.str, "n" : f64>
// CHECK-NEXT: %num_rest, %num_rows = cascade.compact %num drop %m : tensor<?x2xf64>
// CHECK-NEXT: %full = cascade.lazy_branch(%d = %df_rest, %x = %num_rest) : (!pipeline.frame<"text" : !pipeline.str, "n" : f64>, tensor<?x2xf64>) -> tensor<?xf64> {
// CHECK-NEXT:   %q = "test.op"(%d, %x) : (!pipeline.frame<"text" : !pipeline.str, "n" : f64>, tensor<?x2xf64>) -> tensor<?xf64>
// CHECK-NEXT:   cascade.yield %q : tensor<?xf64>
// CHECK-NEXT: }
// CHECK-NEXT: %y = cascade.merge %full into %p at %rows : tensor<?xf64>

// GENERIC:      %df_rest, %rows = "cascade.compact"(%df, %m) : (!pipeline.frame<"text" : !pipeline.str, "n" : f64>, tensor<?xi1>) -> (!pipeline.frame<"text" : !pipeline.str, "n" : f64>, tensor<?xi64>)
// GENERIC:      %full = "cascade.lazy_branch"(%df_rest, %num_rest) ({
// GENERIC-NEXT: ^bb0(%d: !pipeline.frame<"text" : !pipeline.str, "n" : f64>, %x: tensor<?x2xf64>):
