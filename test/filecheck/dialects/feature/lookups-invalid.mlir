// RUN: willump-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Lookups: key types, table shapes, codes and join frames.

%x = "test.op"() : () -> tensor<?x1xf64>
%r = feature.lookup_keys %x[0] keys <k : tensor<3xi64>> table <t : tensor<8xi64>> probes 1 nan_row -1 : tensor<?x1xf64> -> tensor<?x1xi64>

// CHECK: keys blob 'k' must hold f64 values

// -----

%x = "test.op"() : () -> tensor<?x1xf64>
%r = feature.lookup_keys %x[1] keys <k : tensor<3xf64>> table <t : tensor<8xi64>> probes 1 nan_row -1 : tensor<?x1xf64> -> tensor<?x1xi64>

// CHECK: column 1 is out of range

// -----

%x = "test.op"() : () -> tensor<?x1xf64>
%r = feature.lookup_keys %x[0] keys <k : tensor<3xf64>> table <t : tensor<6xi64>> probes 1 nan_row -1 : tensor<?x1xf64> -> tensor<?x1xi64>

// CHECK: table size 6 is not a power of two

// -----

%x = "test.op"() : () -> tensor<?x1xf64>
%r = feature.lookup_keys %x[0] keys <k : tensor<3xf64>> table <t : tensor<8xi64>> probes 9 nan_row -1 : tensor<?x1xf64> -> tensor<?x1xi64>

// CHECK: probes must be in [1, 8], got 9

// -----

%x = "test.op"() : () -> tensor<?x1xf64>
%r = feature.lookup_keys %x[0] keys <k : tensor<3xf64>> table <t : tensor<8xi64>> probes 1 nan_row 3 : tensor<?x1xf64> -> tensor<?x1xi64>

// CHECK: nan_row 3 is not -1 or a key

// -----

%x = "test.op"() : () -> tensor<?x1xi64>
%r = feature.lookup_keys %x[0] keys <k : tensor<3xi64>> table <t : tensor<8xi64>> probes 1 nan_row 0 : tensor<?x1xi64> -> tensor<?x1xi64>

// CHECK: only f64 keys have a NaN row

// -----

%a = "test.op"() : () -> tensor<?x1xi64>
%p = feature.pack_codes %a, %a radix [3 : i64] : (tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?x1xi64>

// CHECK: radix needs one entry per code, and two codes or more

// -----

%a = "test.op"() : () -> tensor<?x1xi64>
%p = feature.pack_codes %a, %a radix [4294967296 : i64, 4294967296 : i64] : (tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?x1xi64>

// CHECK: must be positive with a product below 2^62

// -----

%a = "test.op"() : () -> tensor<?x1xf64>
%p = feature.pack_codes %a, %a radix [2 : i64, 2 : i64] : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xi64>

// CHECK: codes and result must be tensor<?x1xi64>

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%v = feature.gather_rows %c values <v : tensor<3x2xf64>> fill 0.0 : f64 on_missing fill : tensor<?x1xi64> -> tensor<?x3xf64>

// CHECK: result must be tensor<?x2xf64>

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%v = feature.gather_rows %c values <v : tensor<6xf64>> fill 0.0 : f64 on_missing fill : tensor<?x1xi64> -> tensor<?x2xf64>

// CHECK: values must be a rows x columns table

// -----

%df = "test.op"() : () -> !pipeline.frame<"k" : f64>
%v = "test.op"() : () -> tensor<?x2xf64>
%j = feature.join %df, %v : !pipeline.frame<"k" : f64>, tensor<?x2xf64> -> !pipeline.frame<"k" : f64, "a" : f64>

// CHECK: result columns must be the 1 of left then 2 f64 columns
