// RUN: WILLUMP_ROUNDTRIP
// RUN: WILLUMP_GENERIC_ROUNDTRIP
// RUN: willump-opt %s --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

// Column transformers.

%x = "test.op"() : () -> tensor<?x2xf64>
%i = feature.impute %x fill <fill_0 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
%n = feature.impute %x fill <fill_0 : tensor<2xf64>> {finite} : tensor<?x2xf64> -> tensor<?x2xf64>
%s = feature.standardize %i sub <mean_1 : tensor<2xf64>> div <scale_2 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
%c = feature.standardize %i sub <center_3 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
%d = feature.standardize %i div <scale_4 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
%m = feature.mul_add %s mul <scale_5 : tensor<2xf64>> add <min_6 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
%k = feature.mul_add %s mul <scale_5 : tensor<2xf64>> add <min_6 : tensor<2xf64>> clip <range_7 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
%nl = feature.normalize %s norm l2 : tensor<?x2xf64> -> tensor<?x2xf64>
%p = feature.polynomial %x powers <powers_8 : tensor<6x2xi64>> : tensor<?x2xf64> -> tensor<?x6xf64>

// CHECK:      %x = "test.op"() : () -> tensor<?x2xf64>
// CHECK-NEXT: %i = feature.impute %x fill <fill_0 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %n = feature.impute %x fill <fill_0 : tensor<2xf64>> {finite} : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %s = feature.standardize %i sub <mean_1 : tensor<2xf64>> div <scale_2 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %c = feature.standardize %i sub <center_3 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %d = feature.standardize %i div <scale_4 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %m = feature.mul_add %s mul <scale_5 : tensor<2xf64>> add <min_6 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %k = feature.mul_add %s mul <scale_5 : tensor<2xf64>> add <min_6 : tensor<2xf64>> clip <range_7 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %nl = feature.normalize %s norm l2 : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %p = feature.polynomial %x powers <powers_8 : tensor<6x2xi64>> : tensor<?x2xf64> -> tensor<?x6xf64>

// GENERIC:      %i = "feature.impute"(%x) <{fill = #pipeline.blob<fill_0 : tensor<2xf64>>}> : (tensor<?x2xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %n = "feature.impute"(%x) <{fill = #pipeline.blob<fill_0 : tensor<2xf64>>}> {finite} : (tensor<?x2xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %s = "feature.standardize"(%i) <{sub = #pipeline.blob<mean_1 : tensor<2xf64>>, div = #pipeline.blob<scale_2 : tensor<2xf64>>}> : (tensor<?x2xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %c = "feature.standardize"(%i) <{sub = #pipeline.blob<center_3 : tensor<2xf64>>}> : (tensor<?x2xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %d = "feature.standardize"(%i) <{div = #pipeline.blob<scale_4 : tensor<2xf64>>}> : (tensor<?x2xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %m = "feature.mul_add"(%s) <{mul = #pipeline.blob<scale_5 : tensor<2xf64>>, add = #pipeline.blob<min_6 : tensor<2xf64>>}> : (tensor<?x2xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %k = "feature.mul_add"(%s) <{mul = #pipeline.blob<scale_5 : tensor<2xf64>>, add = #pipeline.blob<min_6 : tensor<2xf64>>, clip = #pipeline.blob<range_7 : tensor<2xf64>>}> : (tensor<?x2xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %nl = "feature.normalize"(%s) <{norm = #feature<row_norm l2>}> : (tensor<?x2xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %p = "feature.polynomial"(%x) <{powers = #pipeline.blob<powers_8 : tensor<6x2xi64>>}> : (tensor<?x2xf64>) -> tensor<?x6xf64>

// -----

// Categorical encoding.

func.func @encode(%df: !pipeline.frame<"city" : !pipeline.str, "age" : f64>, %x: tensor<?x2xf64>) {
  %cs = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing -1 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
  %cnone = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing 2 marker 1 on_unknown error : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
  %cany = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing 2 marker 3 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
  %cfill = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing 2 marker 1 filled 0 filled_marker 2 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
  %cnan = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing -1 filled 0 filled_marker 1 nan_refused on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
  %cn = feature.encode_numbers %x [1] categories <cats_2 : tensor<3xf64>> missing 2 on_unknown error : tensor<?x2xf64> -> tensor<?x1xi64>
  %o = feature.onehot %cs categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
  %od = feature.onehot %cn categories 3 drop 0 : tensor<?x1xi64> -> tensor<?x2xf64>
  %oi = feature.onehot %cs categories 4 drop -1 infrequent [0 : i64, 2 : i64] unknown_infrequent : tensor<?x1xi64> -> tensor<?x3xf64>
  %r = feature.ordinal %cn missing 2 {unknown_value = -1.000000e+00 : f64, missing_value = 0x7FF8000000000000 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
  %b = feature.discretize %x [1] edges <edges_4 : tensor<5xf64>> : tensor<?x2xf64> -> tensor<?x1xi64>
  func.return
}

// CHECK-LABEL: func.func @encode(%df: !pipeline.frame<"city" : !pipeline.str, "age" : f64>, %x: tensor<?x2xf64>) {
// CHECK-NEXT:    %cs = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing -1 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
// CHECK-NEXT:    %cnone = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing 2 marker 1 on_unknown error : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
// CHECK-NEXT:    %cany = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing 2 marker 3 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
// CHECK-NEXT:    %cfill = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing 2 marker 1 filled 0 filled_marker 2 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
// CHECK-NEXT:    %cnan = feature.encode_strings %df "city" bytes <bytes_0 : tensor<9xui8>> offsets <offsets_1 : tensor<4xi64>> table <table_3 : tensor<8xi64>> probes 2 missing -1 filled 0 filled_marker 1 nan_refused on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "age" : f64> -> tensor<?x1xi64>
// CHECK-NEXT:    %cn = feature.encode_numbers %x[1] categories <cats_2 : tensor<3xf64>> missing 2 on_unknown error : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT:    %o = feature.onehot %cs categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT:    %od = feature.onehot %cn categories 3 drop 0 : tensor<?x1xi64> -> tensor<?x2xf64>
// CHECK-NEXT:    %oi = feature.onehot %cs categories 4 drop -1 infrequent [0 : i64, 2 : i64] unknown_infrequent : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT:    %r = feature.ordinal %cn missing 2 {unknown_value = -1.000000e+00 : f64, missing_value = 0x7ff8000000000000 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT:    %b = feature.discretize %x[1] edges <edges_4 : tensor<5xf64>> : tensor<?x2xf64> -> tensor<?x1xi64>

// GENERIC:      %cs = "feature.encode_strings"(%df) <{column = "city", bytes = #pipeline.blob<bytes_0 : tensor<9xui8>>, offsets = #pipeline.blob<offsets_1 : tensor<4xi64>>, table = #pipeline.blob<table_3 : tensor<8xi64>>, probes = 2 : i64, missing = -1 : i64, on_unknown = #feature<on_unknown ignore>}> : (!pipeline.frame<"city" : !pipeline.str, "age" : f64>) -> tensor<?x1xi64>
// GENERIC-NEXT: %cnone = "feature.encode_strings"(%df) <{column = "city", bytes = #pipeline.blob<bytes_0 : tensor<9xui8>>, offsets = #pipeline.blob<offsets_1 : tensor<4xi64>>, table = #pipeline.blob<table_3 : tensor<8xi64>>, probes = 2 : i64, missing = 2 : i64, missing_marker = 1 : i64, on_unknown = #feature<on_unknown error>}> : (!pipeline.frame<"city" : !pipeline.str, "age" : f64>) -> tensor<?x1xi64>
// GENERIC-NEXT: %cany = "feature.encode_strings"(%df) <{column = "city", bytes = #pipeline.blob<bytes_0 : tensor<9xui8>>, offsets = #pipeline.blob<offsets_1 : tensor<4xi64>>, table = #pipeline.blob<table_3 : tensor<8xi64>>, probes = 2 : i64, missing = 2 : i64, missing_marker = 3 : i64, on_unknown = #feature<on_unknown ignore>}> : (!pipeline.frame<"city" : !pipeline.str, "age" : f64>) -> tensor<?x1xi64>
// GENERIC-NEXT: %cfill = "feature.encode_strings"(%df) <{column = "city", bytes = #pipeline.blob<bytes_0 : tensor<9xui8>>, offsets = #pipeline.blob<offsets_1 : tensor<4xi64>>, table = #pipeline.blob<table_3 : tensor<8xi64>>, probes = 2 : i64, missing = 2 : i64, missing_marker = 1 : i64, filled = 0 : i64, filled_marker = 2 : i64, on_unknown = #feature<on_unknown ignore>}> : (!pipeline.frame<"city" : !pipeline.str, "age" : f64>) -> tensor<?x1xi64>
// GENERIC-NEXT: %cnan = "feature.encode_strings"(%df) <{column = "city", bytes = #pipeline.blob<bytes_0 : tensor<9xui8>>, offsets = #pipeline.blob<offsets_1 : tensor<4xi64>>, table = #pipeline.blob<table_3 : tensor<8xi64>>, probes = 2 : i64, missing = -1 : i64, filled = 0 : i64, filled_marker = 1 : i64, nan_refused, on_unknown = #feature<on_unknown ignore>}> : (!pipeline.frame<"city" : !pipeline.str, "age" : f64>) -> tensor<?x1xi64>
// GENERIC-NEXT: %cn = "feature.encode_numbers"(%x) <{index = 1 : i64, categories = #pipeline.blob<cats_2 : tensor<3xf64>>, missing = 2 : i64, on_unknown = #feature<on_unknown error>}> : (tensor<?x2xf64>) -> tensor<?x1xi64>
// GENERIC-NEXT: %o = "feature.onehot"(%cs) <{categories = 3 : i64, drop = -1 : i64}> : (tensor<?x1xi64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %od = "feature.onehot"(%cn) <{categories = 3 : i64, drop = 0 : i64}> : (tensor<?x1xi64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %oi = "feature.onehot"(%cs) <{categories = 4 : i64, drop = -1 : i64, infrequent = [0 : i64, 2 : i64], unknown_infrequent}> : (tensor<?x1xi64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %r = "feature.ordinal"(%cn) <{missing = 2 : i64}> {unknown_value = -1.000000e+00 : f64, missing_value = 0x7ff8000000000000 : f64} : (tensor<?x1xi64>) -> tensor<?x1xf64>
// GENERIC-NEXT: %b = "feature.discretize"(%x) <{index = 1 : i64, edges = #pipeline.blob<edges_4 : tensor<5xf64>>}> : (tensor<?x2xf64>) -> tensor<?x1xi64>

// -----

// Linear models and model outputs.

%x, %codes = "test.op"() : () -> (tensor<?x5xf64>, tensor<?x1xi64>)
%d = feature.linear %x coef <w_0 : tensor<3x9xf64>> offset 0 intercept <b_1 : tensor<3xf64>> {check_finite} : tensor<?x5xf64> -> tensor<?x3xf64>
%w = feature.weight_lookup %codes coef <w_0 : tensor<3x9xf64>> offset 5 categories 4 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
%t = feature.sum %d, %w : (tensor<?x3xf64>, tensor<?x3xf64>) -> tensor<?x3xf64>
%sm = feature.softmax %t : tensor<?x3xf64> -> tensor<?x3xf64>
%sl = feature.softmax %t {libm} : tensor<?x3xf64> -> tensor<?x3xf64>
%sg = feature.sigmoid %t : tensor<?x3xf64> -> tensor<?x3xf64>
%n = feature.normalize_rows %sg : tensor<?x3xf64> -> tensor<?x3xf64>
%mh = feature.modified_huber_proba %t : tensor<?x3xf64> -> tensor<?x3xf64>
%k = feature.argmax %t : tensor<?x3xf64> -> tensor<?xi64>
%b = feature.linear %x coef <v_2 : tensor<1x5xf64>> offset 0 : tensor<?x5xf64> -> tensor<?x1xf64>
%bv = feature.linear %x coef <v_2 : tensor<1x5xf64>> offset 0 : tensor<?x5xf64> -> tensor<?xf64>
%bw = feature.weight_lookup %codes coef <v_3 : tensor<1x3xf64>> offset 0 categories 4 drop 1 : tensor<?x1xi64> -> tensor<?xf64>
%p = feature.sigmoid %b : tensor<?x1xf64> -> tensor<?x1xf64>
%pp = feature.binary_proba %p : tensor<?x1xf64> -> tensor<?x2xf64>
%bk = feature.argmax %bv : tensor<?xf64> -> tensor<?xi64>
%nk = feature.argmax %b {nonnegative} : tensor<?x1xf64> -> tensor<?xi64>

// CHECK:      %x, %codes = "test.op"() : () -> (tensor<?x5xf64>, tensor<?x1xi64>)
// CHECK-NEXT: %d = feature.linear %x coef <w_0 : tensor<3x9xf64>> offset 0 intercept <b_1 : tensor<3xf64>> {check_finite} : tensor<?x5xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %w = feature.weight_lookup %codes coef <w_0 : tensor<3x9xf64>> offset 5 categories 4 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: %t = feature.sum %d, %w : (tensor<?x3xf64>, tensor<?x3xf64>) -> tensor<?x3xf64>
// CHECK-NEXT: %sm = feature.softmax %t : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %sl = feature.softmax %t {libm} : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %sg = feature.sigmoid %t : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %n = feature.normalize_rows %sg : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %mh = feature.modified_huber_proba %t : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %k = feature.argmax %t : tensor<?x3xf64> -> tensor<?xi64>
// CHECK-NEXT: %b = feature.linear %x coef <v_2 : tensor<1x5xf64>> offset 0 : tensor<?x5xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %bv = feature.linear %x coef <v_2 : tensor<1x5xf64>> offset 0 : tensor<?x5xf64> -> tensor<?xf64>
// CHECK-NEXT: %bw = feature.weight_lookup %codes coef <v_3 : tensor<1x3xf64>> offset 0 categories 4 drop 1 : tensor<?x1xi64> -> tensor<?xf64>
// CHECK-NEXT: %p = feature.sigmoid %b : tensor<?x1xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %pp = feature.binary_proba %p : tensor<?x1xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %bk = feature.argmax %bv : tensor<?xf64> -> tensor<?xi64>
// CHECK-NEXT: %nk = feature.argmax %b {nonnegative} : tensor<?x1xf64> -> tensor<?xi64>

// GENERIC:      %d = "feature.linear"(%x) <{coef = #pipeline.blob<w_0 : tensor<3x9xf64>>, offset = 0 : i64, intercept = #pipeline.blob<b_1 : tensor<3xf64>>}> {check_finite} : (tensor<?x5xf64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %w = "feature.weight_lookup"(%codes) <{coef = #pipeline.blob<w_0 : tensor<3x9xf64>>, offset = 5 : i64, categories = 4 : i64, drop = -1 : i64}> : (tensor<?x1xi64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %t = "feature.sum"(%d, %w) : (tensor<?x3xf64>, tensor<?x3xf64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %sm = "feature.softmax"(%t) : (tensor<?x3xf64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %sl = "feature.softmax"(%t) {libm} : (tensor<?x3xf64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %sg = "feature.sigmoid"(%t) : (tensor<?x3xf64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %n = "feature.normalize_rows"(%sg) : (tensor<?x3xf64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %mh = "feature.modified_huber_proba"(%t) : (tensor<?x3xf64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %k = "feature.argmax"(%t) : (tensor<?x3xf64>) -> tensor<?xi64>
// GENERIC:      %pp = "feature.binary_proba"(%p) : (tensor<?x1xf64>) -> tensor<?x2xf64>

// -----

// Model outputs of float32 scores (XGBoost).
%m, %k = "test.op"() : () -> (tensor<?x1xf32>, tensor<?x3xf32>)
%p = feature.sigmoid %m : tensor<?x1xf32> -> tensor<?x1xf32>
%pp = feature.binary_proba %p : tensor<?x1xf32> -> tensor<?x2xf32>
%s = feature.softmax %k : tensor<?x3xf32> -> tensor<?x3xf32>
%a = feature.argmax %s : tensor<?x3xf32> -> tensor<?xi64>

// CHECK:      %p = feature.sigmoid %m : tensor<?x1xf32> -> tensor<?x1xf32>
// CHECK-NEXT: %pp = feature.binary_proba %p : tensor<?x1xf32> -> tensor<?x2xf32>
// CHECK-NEXT: %s = feature.softmax %k : tensor<?x3xf32> -> tensor<?x3xf32>
// CHECK-NEXT: %a = feature.argmax %s : tensor<?x3xf32> -> tensor<?xi64>

// -----

// A row kernel's hint: the cache line of an element read soon.
%slots, %at = "test.op"() : () -> (memref<?xi64>, index)
feature.prefetch %slots[%at] : memref<?xi64>

// CHECK:      %slots, %at = "test.op"() : () -> (memref<?xi64>, index)
// CHECK-NEXT: feature.prefetch %slots[%at] : memref<?xi64>

// GENERIC:      "feature.prefetch"(%slots, %at) : (memref<?xi64>, index) -> ()

// -----

// numpy's own loops: on one element of each operand (the second read with stride 0 under
// scalar_rhs), and over a range of a buffer into another.
%x, %e, %f = "test.op"() : () -> (f64, f64, f32)
%y = feature.ufunc "log1p"(%x) : (f64) -> f64
%p = feature.ufunc "power"(%x, %e) scalar_rhs : (f64, f64) -> f64
%q = feature.ufunc "arctan2"(%f, %f) : (f32, f32) -> f32
%col, %at, %chunk = "test.op"() : () -> (memref<?xf64>, index, memref<256xf64>)
feature.ufunc_loop "exp" %col[%at] into %chunk count %at : memref<?xf64>, memref<256xf64>
%s = "test.op"() : () -> memref<1xf64>
feature.ufunc_loop "power" %col[%at] with %s : memref<1xf64> scalar into %chunk count %at : memref<?xf64>, memref<256xf64>
feature.ufunc_loop "arctan2" %chunk[%at] with %chunk : memref<256xf64> into %chunk count %at : memref<256xf64>, memref<256xf64>

// CHECK:      %y = feature.ufunc "log1p"(%x) : (f64) -> f64
// CHECK-NEXT: %p = feature.ufunc "power"(%x, %e) scalar_rhs : (f64, f64) -> f64
// CHECK-NEXT: %q = feature.ufunc "arctan2"(%f, %f) : (f32, f32) -> f32
// CHECK:      feature.ufunc_loop "exp" %col[%at] into %chunk count %at : memref<?xf64>, memref<256xf64>
// CHECK:      feature.ufunc_loop "power" %col[%at] with %s : memref<1xf64> scalar into %chunk count %at : memref<?xf64>, memref<256xf64>
feature.ufunc_loop "arctan2" %chunk[%at] with %chunk : memref<256xf64> into %chunk count %at : memref<256xf64>, memref<256xf64>

// GENERIC:      %y = "feature.ufunc"(%x) <{function = "log1p"}> : (f64) -> f64
// GENERIC-NEXT: %p = "feature.ufunc"(%x, %e) <{function = "power", scalar_rhs}> : (f64, f64) -> f64
// GENERIC:      "feature.ufunc_loop"(%col, %at, %chunk, %at) <{function = "exp"}> : (memref<?xf64>, index, memref<256xf64>, index) -> ()
// GENERIC:      "feature.ufunc_loop"(%col, %at, %s, %chunk, %at) <{function = "power", scalar}> : (memref<?xf64>, index, memref<1xf64>, memref<256xf64>, index) -> ()
