// RUN: willump-opt %s --split-input-file -p fuse-features | filecheck %s
// RUN: willump-opt %s --split-input-file -p fuse-features | filecheck %s --check-prefix=GONE

// A scaled numeric part and a one-hot part: the linear model splits into a partial dot
// product per part, the one-hot part reads its weights by category code, and no one-hot
// columns (nor the hstack) are left.

func.func @score(%x: tensor<?x2xf64>, %codes: tensor<?x1xi64>) -> tensor<?x2xf64> {
  %s = feature.standardize %x sub <mean : tensor<2xf64>> div <scale : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %o = feature.onehot %codes categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
  %h = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x5xf64>
  %d = feature.linear %h coef <coef : tensor<1x5xf64>> offset 0 intercept <intercept : tensor<1xf64>> {check_finite} : tensor<?x5xf64> -> tensor<?x1xf64>
  %p = feature.sigmoid %d : tensor<?x1xf64> -> tensor<?x1xf64>
  %pp = feature.binary_proba %p : tensor<?x1xf64> -> tensor<?x2xf64>
  func.return %pp : tensor<?x2xf64>
}

// GONE-LABEL: func.func @score
// GONE-NOT:   feature.onehot
// GONE-NOT:   pipeline.hstack
// GONE:       func.return

// CHECK-LABEL: func.func @score(%x: tensor<?x2xf64>, %codes: tensor<?x1xi64>) -> tensor<?x2xf64> {
// CHECK-NEXT: %s = feature.standardize %x sub <mean : tensor<2xf64>> div <scale : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %s coef <coef : tensor<1x5xf64>> offset 0 intercept <intercept : tensor<1xf64>> {check_finite} : tensor<?x2xf64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.weight_lookup %codes coef <coef : tensor<1x5xf64>> offset 2 categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %d = feature.sum [[V0]], [[V1]] : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>
// CHECK-NEXT: %p = feature.sigmoid %d : tensor<?x1xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %pp = feature.binary_proba %p : tensor<?x1xf64> -> tensor<?x2xf64>
// CHECK-NEXT: func.return %pp : tensor<?x2xf64>
// CHECK-NEXT: }

// -----

// Nested hstacks are flattened into one sum; the intercept moves to the first part that
// stays a linear; check_finite stays on the parts that may hold NaN; a multiclass model.

%a, %b, %c1, %c2 = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x1xf64>, tensor<?x1xi64>, tensor<?x1xi64>)
%o1 = feature.onehot %c1 categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
%o2 = feature.onehot %c2 categories 4 drop 0 : tensor<?x1xi64> -> tensor<?x3xf64>
%inner = pipeline.hstack %o2, %b : (tensor<?x3xf64>, tensor<?x1xf64>) -> tensor<?x4xf64>
%h = pipeline.hstack %o1, %a, %inner : (tensor<?x3xf64>, tensor<?x2xf64>, tensor<?x4xf64>) -> tensor<?x9xf64>
%d = feature.linear %h coef <w : tensor<3x9xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x9xf64> -> tensor<?x3xf64>
"test.op"(%d) : (tensor<?x3xf64>) -> ()

// CHECK:      %a, %b, %c1, %c2 = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x1xf64>, tensor<?x1xi64>, tensor<?x1xi64>)
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.weight_lookup %c1 coef <w : tensor<3x9xf64>> offset 0 categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.linear %a coef <w : tensor<3x9xf64>> offset 3 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x2xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.weight_lookup %c2 coef <w : tensor<3x9xf64>> offset 5 categories 4 drop 0 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V3:%[0-9]+]] = feature.linear %b coef <w : tensor<3x9xf64>> offset 8 {check_finite} : tensor<?x1xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %d = feature.sum [[V0]], [[V1]], [[V2]], [[V3]] : (tensor<?x3xf64>, tensor<?x3xf64>, tensor<?x3xf64>, tensor<?x3xf64>) -> tensor<?x3xf64>
// CHECK-NEXT: "test.op"(%d) : (tensor<?x3xf64>) -> ()

// -----

// A per-row decision (tensor<?xf64>) keeps its type in every part.

%a, %c = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x1xi64>)
%o = feature.onehot %c categories 2 drop -1 : tensor<?x1xi64> -> tensor<?x2xf64>
%h = pipeline.hstack %a, %o : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x4xf64>
%d = feature.linear %h coef <w : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?xf64>
"test.op"(%d) : (tensor<?xf64>) -> ()

// CHECK:      %a, %c = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x1xi64>)
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %a coef <w : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.weight_lookup %c coef <w : tensor<1x4xf64>> offset 2 categories 2 drop -1 : tensor<?x1xi64> -> tensor<?xf64>
// CHECK-NEXT: %d = feature.sum [[V0]], [[V1]] : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
// CHECK-NEXT: "test.op"(%d) : (tensor<?xf64>) -> ()

// -----

// Only one-hot parts: the first keeps a linear to carry the intercept (no check_finite: one-hot
// columns are finite).

%c1, %c2 = "test.op"() : () -> (tensor<?x1xi64>, tensor<?x1xi64>)
%o1 = feature.onehot %c1 categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
%o2 = feature.onehot %c2 categories 2 drop -1 : tensor<?x1xi64> -> tensor<?x2xf64>
%h = pipeline.hstack %o1, %o2 : (tensor<?x3xf64>, tensor<?x2xf64>) -> tensor<?x5xf64>
%d = feature.linear %h coef <w : tensor<1x5xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x5xf64> -> tensor<?x1xf64>
"test.op"(%d) : (tensor<?x1xf64>) -> ()

// CHECK:      %c1, %c2 = "test.op"() : () -> (tensor<?x1xi64>, tensor<?x1xi64>)
// CHECK-NEXT: %o1 = feature.onehot %c1 categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %o1 coef <w : tensor<1x5xf64>> offset 0 intercept <b : tensor<1xf64>> : tensor<?x3xf64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.weight_lookup %c2 coef <w : tensor<1x5xf64>> offset 3 categories 2 drop -1 : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %d = feature.sum [[V0]], [[V1]] : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>
// CHECK-NEXT: "test.op"(%d) : (tensor<?x1xf64>) -> ()

// -----

// Degenerate cases: an hstack of one part, a linear without intercept over a one-hot, and an
// hstack that has another user (it stays).

%a, %c = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x1xi64>)
%h = pipeline.hstack %a : (tensor<?x2xf64>) -> tensor<?x2xf64>
%d = feature.linear %h coef <w : tensor<1x2xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x2xf64> -> tensor<?x1xf64>
%o = feature.onehot %c categories 3 drop 1 : tensor<?x1xi64> -> tensor<?x2xf64>
%e = feature.linear %o coef <v : tensor<2x4xf64>> offset 2 : tensor<?x2xf64> -> tensor<?x2xf64>
%k = pipeline.hstack %a, %a : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x4xf64>
%f = feature.linear %k coef <u : tensor<1x4xf64>> offset 0 : tensor<?x4xf64> -> tensor<?x1xf64>
"test.op"(%d, %e, %f, %k) : (tensor<?x1xf64>, tensor<?x2xf64>, tensor<?x1xf64>, tensor<?x4xf64>) -> ()

// CHECK:      %a, %c = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x1xi64>)
// CHECK-NEXT: %d = feature.linear %a coef <w : tensor<1x2xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x2xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %e = feature.weight_lookup %c coef <v : tensor<2x4xf64>> offset 2 categories 3 drop 1 : tensor<?x1xi64> -> tensor<?x2xf64>
// CHECK-NEXT: %k = pipeline.hstack %a, %a : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x4xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %a coef <u : tensor<1x4xf64>> offset 0 : tensor<?x2xf64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.linear %a coef <u : tensor<1x4xf64>> offset 2 : tensor<?x2xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %f = feature.sum [[V0]], [[V1]] : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>
// CHECK-NEXT: "test.op"(%d, %e, %f, %k) : (tensor<?x1xf64>, tensor<?x2xf64>, tensor<?x1xf64>, tensor<?x4xf64>) -> ()

// -----

// Sparse term rows: a linear model over an hstack of two TF-IDF outputs becomes one
// sparse_linear over both parts (scipy's column order, no sparse matrix, no hstack).

%c1, %c2 = "test.op"() : () -> (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">)
%w1 = feature.weight_terms %c1 idf <idf1 : tensor<4xf64>> norm l2 : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">
%w2 = feature.weight_terms %c2 idf <idf2 : tensor<8xf64>> norm l2 : tensor<?x8xf64, "csr"> -> tensor<?x8xf64, "csr">
%h = pipeline.hstack %w1, %w2 : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> tensor<?x12xf64, "csr">
%d = feature.linear %h coef <w : tensor<1x12xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x12xf64, "csr"> -> tensor<?x1xf64>
"test.op"(%d) : (tensor<?x1xf64>) -> ()

// CHECK:      %c1, %c2 = "test.op"() : () -> (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">)
// CHECK-NEXT: %w1 = feature.weight_terms %c1 idf <idf1 : tensor<4xf64>> norm l2 : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">
// CHECK-NEXT: %w2 = feature.weight_terms %c2 idf <idf2 : tensor<8xf64>> norm l2 : tensor<?x8xf64, "csr"> -> tensor<?x8xf64, "csr">
// CHECK-NEXT: %d = feature.sparse_linear %w1, %w2 coef <w : tensor<1x12xf64>> offset 0 intercept <b : tensor<1xf64>> : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> tensor<?x1xf64>
// CHECK-NEXT: "test.op"(%d) : (tensor<?x1xf64>) -> ()

// -----

// A dense part next to a sparse one (a sparse hstack, multiclass): the dense part keeps a
// linear (with the intercept and check_finite), the sparse part becomes a sparse_linear at
// its offset, and a sum adds them.

%x, %c = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x4xf64, "csr">)
%s = feature.standardize %x sub <mean : tensor<2xf64>> div <scale : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
%w = feature.weight_terms %c idf <idf : tensor<4xf64>> norm l2 : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">
%h = pipeline.hstack %s, %w : (tensor<?x2xf64>, tensor<?x4xf64, "csr">) -> tensor<?x6xf64, "csr">
%d = feature.linear %h coef <w : tensor<3x6xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x6xf64, "csr"> -> tensor<?x3xf64>
"test.op"(%d) : (tensor<?x3xf64>) -> ()

// CHECK:      %x, %c = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x4xf64, "csr">)
// CHECK-NEXT: %s = feature.standardize %x sub <mean : tensor<2xf64>> div <scale : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %w = feature.weight_terms %c idf <idf : tensor<4xf64>> norm l2 : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %s coef <w : tensor<3x6xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x2xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.sparse_linear %w coef <w : tensor<3x6xf64>> offset 2 : (tensor<?x4xf64, "csr">) -> tensor<?x3xf64>
// CHECK-NEXT: %d = feature.sum [[V0]], [[V1]] : (tensor<?x3xf64>, tensor<?x3xf64>) -> tensor<?x3xf64>
// CHECK-NEXT: "test.op"(%d) : (tensor<?x3xf64>) -> ()

// -----

// A one-hot whose infrequent codes share a column stays a linear of its columns (a weight
// lookup reads a weight per code).

func.func @infrequent(%codes: tensor<?x1xi64>) -> tensor<?x1xf64> {
  %o = feature.onehot %codes categories 4 drop -1 infrequent [0 : i64, 2 : i64] : tensor<?x1xi64> -> tensor<?x3xf64>
  %d = feature.linear %o coef <coef : tensor<1x3xf64>> offset 0 : tensor<?x3xf64> -> tensor<?x1xf64>
  func.return %d : tensor<?x1xf64>
}

// CHECK-LABEL: func.func @infrequent
// CHECK-NEXT: %o = feature.onehot %codes categories 4 drop -1 infrequent [0 : i64, 2 : i64] : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: %d = feature.linear %o coef <coef : tensor<1x3xf64>> offset 0 : tensor<?x3xf64> -> tensor<?x1xf64>
