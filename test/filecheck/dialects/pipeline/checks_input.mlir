// RUN: willump-opt %s -p dce | filecheck %s

// Ops that check their input (ChecksInput) stay when nothing reads their result: the
// original function still runs the statement, and refuses NaN in `astype(int)`. The same
// op that refuses nothing (a cast from i1) is pure, and dead-code elimination erases it.

func.func @unused(%x: tensor<?xf64>, %m: tensor<?xi1>, %k: tensor<?xi64>) -> tensor<?xf64> {
  %n = pipeline.cast %x : tensor<?xf64> -> tensor<?xi64>
  %s = pipeline.cast %x speculative : tensor<?xf64> -> tensor<?xi64>
  %b = pipeline.cast %m : tensor<?xi1> -> tensor<?xi64>
  %q = pipeline.binary "floor_divide" %k, %k speculative : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
  %r = pipeline.binary "floor_divide" %k, %k : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
  %l = pipeline.unary "log" %x : tensor<?xf64> -> tensor<?xf64>
  %v = pipeline.unary "sqrt" %x {check_finite} : tensor<?xf64> -> tensor<?xf64>
  func.return %x : tensor<?xf64>
}

// CHECK:      func.func @unused
// CHECK-NEXT:   %n = pipeline.cast %x : tensor<?xf64> -> tensor<?xi64>
// CHECK-NEXT:   %s = pipeline.cast %x speculative : tensor<?xf64> -> tensor<?xi64>
// CHECK-NEXT:   %q = pipeline.binary "floor_divide" %k, %k speculative
// CHECK-NEXT:   %v = pipeline.unary "sqrt" %x {check_finite}
// CHECK-NEXT:   func.return %x : tensor<?xf64>

// -----

// A piece of split strings hands a batch with a missing value to the original (which may
// raise), pd.cut into bins a batch whose edges pandas refuses: both stay unused.

func.func @unused_bins(%s: !pipeline.frame<"c" : !pipeline.str>, %x: tensor<?xf64>) -> tensor<?xf64> {
  %p = pipeline.str_split_piece %s piece 0 : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
  %lo = pipeline.reduce "min" %x : tensor<?xf64> -> f64
  %c = pipeline.cut_width %x, %lo, %lo bins 2 right : (tensor<?xf64>, f64, f64) -> tensor<?xf64>
  func.return %x : tensor<?xf64>
}

// CHECK:      func.func @unused_bins
// CHECK-NEXT:   %p = pipeline.str_split_piece %s piece 0
// CHECK-NEXT:   %lo = pipeline.reduce "min" %x
// CHECK-NEXT:   %c = pipeline.cut_width %x, %lo, %lo bins 2 right
// CHECK-NEXT:   func.return %x : tensor<?xf64>
