// RUN: WILLUMP_ROUNDTRIP
// RUN: WILLUMP_GENERIC_ROUNDTRIP
// RUN: willump-opt %s --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

// A left join on an f64 key (NaN matches row 2), on a str key, and on two columns.

%df = "test.op"() : () -> !pipeline.frame<"user" : f64, "genre" : !pipeline.str>
%x = "test.op"() : () -> tensor<?x1xf64>
%r = feature.lookup_keys %x[0] keys <keys_0 : tensor<3xf64>> table <slots_1 : tensor<8xi64>> probes 1 nan_row 2 : tensor<?x1xf64> -> tensor<?x1xi64>
%v = feature.gather_rows %r values <table_2 : tensor<3x2xf64>> fill 0x7FF8000000000000 : f64 on_missing fill : tensor<?x1xi64> -> tensor<?x2xf64>
%j = feature.join %df, %v : !pipeline.frame<"user" : f64, "genre" : !pipeline.str>, tensor<?x2xf64> -> !pipeline.frame<"user" : f64, "genre" : !pipeline.str, "mean" : f64, "n" : f64>
%g = feature.encode_strings %j "genre" bytes <keys_3 : tensor<5xui8>> offsets <offsets_4 : tensor<3xi64>> table <slots_5 : tensor<8xi64>> probes 1 missing -1 on_unknown ignore : !pipeline.frame<"user" : f64, "genre" : !pipeline.str, "mean" : f64, "n" : f64> -> tensor<?x1xi64>
%p = feature.pack_codes %r, %g radix [3 : i64, 2 : i64] : (tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?x1xi64>
%q = feature.lookup_keys %p[0] keys <keys_6 : tensor<4xi64>> table <slots_7 : tensor<8xi64>> probes 2 nan_row -1 : tensor<?x1xi64> -> tensor<?x1xi64>
%l = feature.gather_rows %q values <table_8 : tensor<4x1xf64>> fill 0.000000e+00 : f64 on_missing python : tensor<?x1xi64> -> tensor<?x1xf64>

// CHECK:      %r = feature.lookup_keys %x[0] keys <keys_0 : tensor<3xf64>> table <slots_1 : tensor<8xi64>> probes 1 nan_row 2 : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT: %v = feature.gather_rows %r values <table_2 : tensor<3x2xf64>> fill 0x7ff8000000000000 : f64 on_missing fill : tensor<?x1xi64> -> tensor<?x2xf64>
// CHECK-NEXT: %j = feature.join %df, %v : !pipeline.frame<"user" : f64, "genre" : !pipeline.str>, tensor<?x2xf64> -> !pipeline.frame<"user" : f64, "genre" : !pipeline.str, "mean" : f64, "n" : f64>
// CHECK-NEXT: %g = feature.encode_strings %j "genre"
// CHECK-NEXT: %p = feature.pack_codes %r, %g radix [3 : i64, 2 : i64] : (tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?x1xi64>
// CHECK-NEXT: %q = feature.lookup_keys %p[0] keys <keys_6 : tensor<4xi64>> table <slots_7 : tensor<8xi64>> probes 2 nan_row -1 : tensor<?x1xi64> -> tensor<?x1xi64>
// CHECK-NEXT: %l = feature.gather_rows %q values <table_8 : tensor<4x1xf64>> fill 0.000000e+00 : f64 on_missing python : tensor<?x1xi64> -> tensor<?x1xf64>

// GENERIC:      %r = "feature.lookup_keys"(%x) <{index = 0 : i64, keys = #pipeline.blob<keys_0 : tensor<3xf64>>, table = #pipeline.blob<slots_1 : tensor<8xi64>>, probes = 1 : i64, nan_row = 2 : i64}> : (tensor<?x1xf64>) -> tensor<?x1xi64>
// GENERIC-NEXT: %v = "feature.gather_rows"(%r) <{values = #pipeline.blob<table_2 : tensor<3x2xf64>>, fill = 0x7ff8000000000000 : f64, on_missing = #feature<on_missing fill>}> : (tensor<?x1xi64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %j = "feature.join"(%df, %v) : (!pipeline.frame<"user" : f64, "genre" : !pipeline.str>, tensor<?x2xf64>) -> !pipeline.frame<"user" : f64, "genre" : !pipeline.str, "mean" : f64, "n" : f64>
// GENERIC:      %p = "feature.pack_codes"(%r, %g) <{radix = [3 : i64, 2 : i64]}> : (tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?x1xi64>
