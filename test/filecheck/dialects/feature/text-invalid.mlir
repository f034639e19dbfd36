// RUN: willump-opt %s --split-input-file --verify-diagnostics | filecheck %s

// feature.decode_text: the column, the preprocessing options and the table sizes.

%df = "test.op"() : () -> !pipeline.frame<"c" : f64>
%t = feature.decode_text %df "c" lowercase 1 strip none map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <s : tensor<4xi32>> classes <k : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"c" : f64> -> !feature.text

// CHECK: column 'c' does not hold strings

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%t = feature.decode_text %df "d" lowercase 1 strip none map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <s : tensor<4xi32>> classes <k : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"c" : !pipeline.str> -> !feature.text

// CHECK: frame has no column 'd'

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%t = feature.decode_text %df "c" lowercase 1 strip none map <i : tensor<4352xi64>>, <b : tensor<256xi32>>, <s : tensor<4xi32>> classes <k : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"c" : !pipeline.str> -> !feature.text

// CHECK: map blob 'i' must hold i32 values

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%t = feature.decode_text %df "c" lowercase 1 strip none map <i : tensor<4096xi32>>, <b : tensor<256xi32>>, <s : tensor<4xi32>> classes <k : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"c" : !pipeline.str> -> !feature.text

// CHECK: map index must have 4352 entries (one per 256 code points)

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%t = feature.decode_text %df "c" lowercase 1 strip none map <i : tensor<4352xi32>>, <b : tensor<300xi32>>, <s : tensor<4xi32>> classes <k : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"c" : !pipeline.str> -> !feature.text

// CHECK: map blocks must hold whole blocks of 256 entries

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%t = feature.decode_text %df "c" lowercase 1 strip none map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <s : tensor<4xi32>> classes <k : tensor<65536xui8>> expansion 1 : !pipeline.frame<"c" : !pipeline.str> -> !feature.text

// CHECK: classes must have one entry per code point (1114112)

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%t = feature.decode_text %df "c" lowercase 1 strip none map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <s : tensor<4xi32>> classes <k : tensor<1114112xui8>> expansion 0 : !pipeline.frame<"c" : !pipeline.str> -> !feature.text

// CHECK: expansion must be at least 1

// -----

// feature.count_terms: analyzer, n-gram range, vocabulary table and result type.
%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 2 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: ngram range must satisfy 1 <= low <= high, got 2 to 1

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 0 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: ngram range must satisfy 1 <= low <= high, got 0 to 1

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<12xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: vocab table must hold (hash, index) pairs in 2^k slots

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<15xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: vocab table must hold (hash, index) pairs in 2^k slots

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<0xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: vocab table must hold (hash, index) pairs in 2^k slots

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 1 to 1 vocab <v : tensor<20xui8>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: vocab code point blob 'v' must hold i32 values

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi32>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: vocab offsets blob 'o' must hold i64 values

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x5xf64, "csr">

// CHECK: result must have one column per term (4)

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x4xf64>

// CHECK: result must be a sparse batch tensor<?xWxT, "csr">, got tensor<?x4xf64>

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x4xi32, "csr">

// CHECK: result must be a sparse batch tensor<?xWxT, "csr">, got tensor<?x4xi32, "csr">

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t char ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 stop <sv : tensor<7xi32>>, <so : tensor<3xi64>>, <sh : tensor<8xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: stop words apply to the word analyzer only

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t word ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 stop <sv : tensor<7xi32>>, <so : tensor<3xi64>>, <sh : tensor<6xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: stop table must hold (hash, index) pairs in 2^k slots

// -----

// feature.hash_terms: analyzer, n-gram range, feature count and stop words.
%t = "test.op"() : () -> !feature.text
%h = feature.hash_terms %t char ngram 3 to 2 features 16 : !feature.text -> tensor<?x16xf64, "csr">

// CHECK: ngram range must satisfy 1 <= low <= high, got 3 to 2

// -----

%t = "test.op"() : () -> !feature.text
%h = feature.hash_terms %t word ngram 1 to 1 features 0 : !feature.text -> tensor<?x0xf64, "csr">

// CHECK: features must be in [1, 2^31 - 1], got 0

// -----

%t = "test.op"() : () -> !feature.text
%h = feature.hash_terms %t word ngram 1 to 1 features 2147483648 : !feature.text -> tensor<?x2147483648xf64, "csr">

// CHECK: features must be in [1, 2^31 - 1], got 2147483648

// -----

%t = "test.op"() : () -> !feature.text
%h = feature.hash_terms %t word ngram 1 to 1 features 16 : !feature.text -> tensor<?x8xf64, "csr">

// CHECK: result must have 16 columns

// -----

%t = "test.op"() : () -> !feature.text
%h = feature.hash_terms %t word ngram 1 to 1 features 16 : !feature.text -> tensor<?x16xf64>

// CHECK: result must be a sparse batch tensor<?xWxT, "csr">, got tensor<?x16xf64>

// -----

%t = "test.op"() : () -> !feature.text
%h = feature.hash_terms %t char_wb ngram 1 to 1 features 16 stop <sv : tensor<7xi32>>, <so : tensor<3xi64>>, <sh : tensor<8xi64>> probes 1 : !feature.text -> tensor<?x16xf64, "csr">

// CHECK: stop words apply to the word analyzer only

// -----

%t = "test.op"() : () -> !feature.text
%h = feature.hash_terms %t word ngram 1 to 1 features 16 stop <sv : tensor<7xi32>>, <so : tensor<3xi32>>, <sh : tensor<8xi64>> probes 1 : !feature.text -> tensor<?x16xf64, "csr">

// CHECK: stop offsets blob 'so' must hold i64 values

// -----

// feature.weight_terms: idf size and type, norm, input and result types.

%c = "test.op"() : () -> tensor<?x4xf64, "csr">
%w = feature.weight_terms %c idf <idf : tensor<3xf64>> norm l2 : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">

// CHECK: idf blob 'idf' has 3 values, not 4

// -----

%c = "test.op"() : () -> tensor<?x4xf64, "csr">
%w = feature.weight_terms %c idf <idf : tensor<4xf32>> norm l2 : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">

// CHECK: idf blob 'idf' must hold f64 values

// -----

%c = "test.op"() : () -> tensor<?x4xf64, "csr">
%w = feature.weight_terms %c norm l2 : tensor<?x4xf64, "csr"> -> tensor<?x5xf64, "csr">

// CHECK: result must have the input's 4 columns

// -----

%c = "test.op"() : () -> tensor<?x4xi64, "csr">
%w = feature.weight_terms %c norm l2 : tensor<?x4xi64, "csr"> -> tensor<?x4xi64, "csr">

// CHECK: result must hold f64 or f32 values

// -----

%c = "test.op"() : () -> tensor<?x4xf64>
%w = feature.weight_terms %c idf <idf : tensor<4xf64>> norm l2 : tensor<?x4xf64> -> tensor<?x4xf64, "csr">

// CHECK: input must be a sparse batch tensor<?xWxT, "csr">, got tensor<?x4xf64>

// -----

%c = "test.op"() : () -> tensor<?x4xf64, "csr">
%w = feature.weight_terms %c idf <idf : tensor<4xf64>> norm l2 : tensor<?x4xf64, "csr"> -> tensor<?x4xf64>

// CHECK: result must be a sparse batch tensor<?xWxT, "csr">, got tensor<?x4xf64>

// -----

// feature.sparse_linear: coef covers the parts' total width, outputs, inputs.

%a = "test.op"() : () -> tensor<?x4xf64, "csr">
%d = feature.sparse_linear %a coef <w : tensor<1x3xf64>> offset 0 : (tensor<?x4xf64, "csr">) -> tensor<?x1xf64>

// CHECK: coef columns [0, 4) are out of range for 3 features

// -----

%a, %b = "test.op"() : () -> (tensor<?x4xf64, "csr">, tensor<?x2xf64, "csr">)
%d = feature.sparse_linear %a, %b coef <w : tensor<1x7xf64>> offset 2 : (tensor<?x4xf64, "csr">, tensor<?x2xf64, "csr">) -> tensor<?x1xf64>

// CHECK: coef columns [2, 8) are out of range for 7 features

// -----

%a = "test.op"() : () -> tensor<?x4xf64>
%d = feature.sparse_linear %a coef <w : tensor<1x4xf64>> offset 0 : (tensor<?x4xf64>) -> tensor<?x1xf64>

// CHECK: input must be a sparse batch tensor<?xWxT, "csr">, got tensor<?x4xf64>

// -----

%d = "feature.sparse_linear"() <{coef = #pipeline.blob<w : tensor<1x4xf64>>, offset = 0 : i64}> : () -> tensor<?x1xf64>

// CHECK: sparse_linear needs at least one input

// -----

%a = "test.op"() : () -> tensor<?x4xf64, "csr">
%d = feature.sparse_linear %a coef <w : tensor<4xf64>> offset 0 : (tensor<?x4xf64, "csr">) -> tensor<?x1xf64>

// CHECK: coef must be a 2-D blob [outputs, features]

// -----

%a = "test.op"() : () -> tensor<?x4xf64, "csr">
%d = feature.sparse_linear %a coef <w : tensor<2x4xf64>> offset 0 intercept <b : tensor<1xf64>> : (tensor<?x4xf64, "csr">) -> tensor<?x2xf64>

// CHECK: intercept blob 'b' has 1 values, not 2

// -----

%a = "test.op"() : () -> tensor<?x4xf64, "csr">
%d = feature.sparse_linear %a coef <w : tensor<2x4xf64>> offset 0 : (tensor<?x4xf64, "csr">) -> tensor<?x1xf64>

// CHECK: result must be tensor<?x2xf64>

// -----

%a = "test.op"() : () -> tensor<?x4xf64, "csr">
%d = feature.sparse_linear %a coef <w : tensor<1x4xf64>> offset 0 : (tensor<?x4xf64, "csr">) -> tensor<?x1xf64, "csr">

// CHECK: result must be tensor<?x1xf64>
