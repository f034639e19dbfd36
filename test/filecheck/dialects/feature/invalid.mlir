// RUN: willump-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Column transformers: shape, element type and blob sizes.

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.impute %x fill <f : tensor<3xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>

// CHECK: fill blob 'f' has 3 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.impute %x fill <f : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x3xf64>

// CHECK: feature.impute: result type must equal the input type tensor<?x2xf64>

// -----

%x = "test.op"() : () -> tensor<?x2xi64>
%y = feature.impute %x fill <f : tensor<2xf64>> : tensor<?x2xi64> -> tensor<?x2xi64>

// CHECK: feature.impute: input must hold f64 values

// -----

%x = "test.op"() : () -> tensor<5x2xf64>
%y = feature.impute %x fill <f : tensor<2xf64>> : tensor<5x2xf64> -> tensor<5x2xf64>

// CHECK: input must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<5x2xf64>

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.standardize %x sub <m : tensor<1xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>

// CHECK: sub blob 'm' has 1 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.standardize %x div <s : tensor<2x2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>

// CHECK: div blob 's' has 4 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.mul_add %x mul <s : tensor<3xf64>> add <m : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>

// CHECK: mul blob 's' has 3 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.mul_add %x mul <s : tensor<2xf64>> add <m : tensor<1xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>

// CHECK: add blob 'm' has 1 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.mul_add %x mul <s : tensor<2xf64>> add <m : tensor<2xf64>> clip <r : tensor<3xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>

// CHECK: clip blob 'r' has 3 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x3xf64>
%y = feature.polynomial %x powers <p : tensor<6x2xi64>> : tensor<?x3xf64> -> tensor<?x6xf64>

// CHECK: powers has 2 columns, the input 3

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.polynomial %x powers <p : tensor<6x2xi64>> : tensor<?x2xf64> -> tensor<?x5xf64>

// CHECK: result must be tensor<?x6xf64>

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.polynomial %x powers <p : tensor<6x2xf64>> : tensor<?x2xf64> -> tensor<?x6xf64>

// CHECK: powers must be a 2-D blob of i64

// -----

// Categorical encoding.

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.discretize %x [2] edges <e : tensor<4xf64>> : tensor<?x2xf64> -> tensor<?x1xi64>

// CHECK: column 2 is out of range

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.discretize %x [0] edges <e : tensor<1xf64>> : tensor<?x2xf64> -> tensor<?x1xi64>

// CHECK: edges must be a 1-D blob of at least 2 f64 values

// -----

%x = "test.op"() : () -> tensor<?x2xi64>
%y = feature.discretize %x [0] edges <e : tensor<4xf64>> : tensor<?x2xi64> -> tensor<?x1xi64>

// CHECK: input must hold f64 values

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "d" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 1 missing -1 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: frame has no column 'd'

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : f64>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 1 missing -1 on_unknown ignore : !pipeline.frame<"c" : f64> -> tensor<?x1xi64>

// CHECK: column 'c' does not hold strings

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<0xui8>> offsets <o : tensor<0xi64>> table <t : tensor<8xi64>> probes 1 missing -1 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: offsets must hold at least two values: one category or more

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 1 missing -1 filled 0 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: filled and filled_marker go together

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 1 missing -1 filled 0 filled_marker 2 nan_refused on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: nan_refused goes with a fill of None (filled_marker 1)

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 1 missing -1 filled 1 filled_marker 2 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: filled must be -1 or a category index, got 1

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<0xui8>> offsets <o : tensor<1xi64>> table <t : tensor<8xi64>> probes 1 missing -1 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: offsets must hold at least two values: one category or more

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 1 missing 1 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: missing code 1 is not -1 or a category

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<6xi64>> probes 1 missing -1 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: table size 6 is not a power of two

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<0xi64>> probes 1 missing -1 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: table size 0 is not a power of two

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 0 missing -1 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: probes must be in [1, 8], got 0

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 9 missing -1 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: probes must be in [1, 8], got 9

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 1 missing -1 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi64>

// CHECK: result must be tensor<?x1xi64>

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.encode_numbers %x [2] categories <c : tensor<3xf64>> missing -1 on_unknown error : tensor<?x2xf64> -> tensor<?x1xi64>

// CHECK: column 2 is out of range

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = feature.encode_numbers %x [0] categories <c : tensor<3xf64>> missing -2 on_unknown error : tensor<?x2xf64> -> tensor<?x1xi64>

// CHECK: missing code -2 is not -1 or a category

// -----

%c = "test.op"() : () -> tensor<?x1xf64>
%y = feature.onehot %c categories 3 drop -1 : tensor<?x1xf64> -> tensor<?x3xf64>

// CHECK: codes must be tensor<?x1xi64>

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%y = feature.onehot %c categories 3 drop 3 : tensor<?x1xi64> -> tensor<?x2xf64>

// CHECK: drop 3 is not -1 or a category

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%y = feature.onehot %c categories 3 drop 0 : tensor<?x1xi64> -> tensor<?x3xf64>

// CHECK: result must be tensor<?x2xf64>

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%y = feature.onehot %c categories 3 drop 0 infrequent [1 : i64, 2 : i64] : tensor<?x1xi64> -> tensor<?x1xf64>

// CHECK: infrequent must be increasing categories, without drop

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%y = feature.onehot %c categories 3 drop -1 infrequent [2 : i64, 3 : i64] : tensor<?x1xi64> -> tensor<?x2xf64>

// CHECK: infrequent must be increasing categories, without drop

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%y = feature.onehot %c categories 3 drop -1 unknown_infrequent : tensor<?x1xi64> -> tensor<?x3xf64>

// CHECK: unknown_infrequent needs infrequent categories

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%y = feature.onehot %c categories 4 drop -1 infrequent [0 : i64, 2 : i64] : tensor<?x1xi64> -> tensor<?x4xf64>

// CHECK: result must be tensor<?x3xf64>

// -----

%c = "test.op"() : () -> tensor<?x2xi64>
%y = feature.ordinal %c missing -1 {unknown_value = -1.0 : f64, missing_value = -2.0 : f64} : tensor<?x2xi64> -> tensor<?x1xf64>

// CHECK: codes must be tensor<?x1xi64>

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%y = feature.ordinal %c missing -1 {unknown_value = -1.0 : f64, missing_value = -2.0 : f64} : tensor<?x1xi64> -> tensor<?x1xi64>

// CHECK: result must be tensor<?x1xf64>

// -----

// Linear models.

%x = "test.op"() : () -> tensor<?x3xf64>
%d = feature.linear %x coef <w : tensor<3xf64>> offset 0 : tensor<?x3xf64> -> tensor<?x1xf64>

// CHECK: coef must be a 2-D blob [outputs, features]

// -----

%x = "test.op"() : () -> tensor<?x3xf64>
%d = feature.linear %x coef <w : tensor<1x4xf64>> offset 2 : tensor<?x3xf64> -> tensor<?x1xf64>

// CHECK: coef columns [2, 5) are out of range for 4 features

// -----

%x = "test.op"() : () -> tensor<?x3xf64>
%d = feature.linear %x coef <w : tensor<2x3xf64>> offset 0 intercept <b : tensor<1xf64>> : tensor<?x3xf64> -> tensor<?x2xf64>

// CHECK: intercept blob 'b' has 1 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x3xf64>
%d = feature.linear %x coef <w : tensor<2x3xf64>> offset 0 : tensor<?x3xf64> -> tensor<?xf64>

// CHECK: result must be tensor<?x2xf64>

// -----

%x = "test.op"() : () -> tensor<3x3xf64>
%d = feature.linear %x coef <w : tensor<1x3xf64>> offset 0 : tensor<3x3xf64> -> tensor<?xf64>

// CHECK: input must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<3x3xf64>

// -----

%c = "test.op"() : () -> tensor<?xi64>
%d = feature.weight_lookup %c coef <w : tensor<1x3xf64>> offset 0 categories 3 drop -1 : tensor<?xi64> -> tensor<?x1xf64>

// CHECK: codes must be tensor<?x1xi64>

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%d = feature.weight_lookup %c coef <w : tensor<1x5xf64>> offset 3 categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x1xf64>

// CHECK: coef columns [3, 6) are out of range for 5 features

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%d = feature.weight_lookup %c coef <w : tensor<2x3xf64>> offset 0 categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x1xf64>

// CHECK: result must be tensor<?x2xf64>

// -----

%y = "feature.sum"() : () -> tensor<?x1xf64>

// CHECK: sum needs at least one input

// -----

%a, %b = "test.op"() : () -> (tensor<?x1xf64>, tensor<?xf64>)
%y = feature.sum %a, %b : (tensor<?x1xf64>, tensor<?xf64>) -> tensor<?x1xf64>

// CHECK: all inputs must have the result type

// -----

// Model outputs.

%d = "test.op"() : () -> tensor<?x2xi64>
%p = feature.sigmoid %d : tensor<?x2xi64> -> tensor<?x2xi64>

// CHECK: feature.sigmoid: input must hold f64 or f32 values

// -----

%d = "test.op"() : () -> tensor<?x2xf32>
%p = feature.normalize_rows %d : tensor<?x2xf32> -> tensor<?x2xf32>

// CHECK: feature.normalize_rows: input must hold f64 values

// -----

%d = "test.op"() : () -> tensor<?x3xf64>
%p = feature.softmax %d : tensor<?x3xf64> -> tensor<?x2xf64>

// CHECK: feature.softmax: result must be tensor<?x3xf64>

// -----

%d = "test.op"() : () -> tensor<?x3xf64>
%p = feature.softmax %d {libm = 1 : i64} : tensor<?x3xf64> -> tensor<?x3xf64>

// CHECK: feature.softmax: libm must be a unit attribute

// -----

%d = "test.op"() : () -> tensor<3xf64>
%p = feature.normalize_rows %d : tensor<3xf64> -> tensor<3xf64>

// CHECK: input must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<3xf64>

// -----

%d = "test.op"() : () -> tensor<?x1xf64>
%p = feature.binary_proba %d : tensor<?x1xf64> -> tensor<?x1xf64>

// CHECK: feature.binary_proba: result must be tensor<?x2xf64>

// -----

%d = "test.op"() : () -> tensor<?x1xf32>
%p = feature.binary_proba %d : tensor<?x1xf32> -> tensor<?x2xf64>

// CHECK: feature.binary_proba: result must be tensor<?x2xf32>

// -----

%d = "test.op"() : () -> tensor<?x2xf64>
%p = feature.binary_proba %d : tensor<?x2xf64> -> tensor<?x2xf64>

// CHECK: input must have one value per row

// -----

%d = "test.op"() : () -> tensor<?x3xf64>
%k = feature.argmax %d : tensor<?x3xf64> -> tensor<?x1xi64>

// CHECK: feature.argmax: result must be tensor<?xi64>

// -----

%d = "test.op"() : () -> tensor<?x3xf64>
%k = feature.argmax %d {nonnegative} : tensor<?x3xf64> -> tensor<?xi64>

// CHECK: feature.argmax: {nonnegative} needs one value per row

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<2xui8>> offsets <o : tensor<3xi64>> table <t : tensor<8xi64>> probes 1 missing 1 marker 4 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: marker must be 1 (None), 2 (NaN) or 3 (either), got 4

// -----

%x = "test.op"() : () -> f64
%y = feature.ufunc "sqrt"(%x) : (f64) -> f64

// CHECK: 'sqrt' is not a ufunc with a numpy loop: expected one of log1p, log, exp

// -----

%x = "test.op"() : () -> f64
%y = feature.ufunc "power"(%x) : (f64) -> f64

// CHECK: power takes 2 operand(s), got 1

// -----

%x, %f = "test.op"() : () -> (f64, f32)
%y = feature.ufunc "arctan2"(%x, %f) : (f64, f32) -> f64

// CHECK: every operand must have the result's type

// -----

%x = "test.op"() : () -> i64
%y = feature.ufunc "exp"(%x) : (i64) -> i64

// CHECK: the result must be f64 or f32, got i64

// -----

%x = "test.op"() : () -> f64
%y = feature.ufunc "exp"(%x) scalar_rhs : (f64) -> f64

// CHECK: scalar_rhs needs two operands

// -----

%col, %at, %chunk = "test.op"() : () -> (memref<?xf64>, index, memref<256xf32>)
feature.ufunc_loop "exp" %col[%at] into %chunk count %at : memref<?xf64>, memref<256xf32>

// CHECK: every buffer must hold the input's element type

// -----

%col, %at, %chunk = "test.op"() : () -> (memref<?xf64>, index, memref<256xf64>)
feature.ufunc_loop "power" %col[%at] into %chunk count %at : memref<?xf64>, memref<256xf64>

// CHECK: power takes 2 operand(s), got 1

// -----

%col, %at, %chunk = "test.op"() : () -> (memref<?xf64>, index, memref<256xf64>)
feature.ufunc_loop "exp" %col[%at] scalar into %chunk count %at : memref<?xf64>, memref<256xf64>

// CHECK: scalar needs a second operand
