// RUN: WILLUMP_ROUNDTRIP
// RUN: WILLUMP_GENERIC_ROUNDTRIP
// RUN: willump-opt %s --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

// Decoding: a string column of a wider frame, and a one-column frame without lowercasing.

func.func @decode(%df: !pipeline.frame<"id" : f64, "text" : !pipeline.str>, %s: !pipeline.frame<"s" : !pipeline.str>) {
  %t = feature.decode_text %df "text" lowercase 1 strip unicode map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<9xi32>> classes <cc : tensor<1114112xui8>> expansion 3 : !pipeline.frame<"id" : f64, "text" : !pipeline.str> -> !feature.text
  %u = feature.decode_text %s "s" lowercase 0 strip none map <ci : tensor<4352xi32>>, <cb : tensor<256xi32>>, <cs : tensor<0xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"s" : !pipeline.str> -> !feature.text
  "test.op"(%t, %u) : (!feature.text, !feature.text) -> ()
  func.return
}

// CHECK-LABEL: func.func @decode(%df: !pipeline.frame<"id" : f64, "text" : !pipeline.str>, %s: !pipeline.frame<"s" : !pipeline.str>) {
// CHECK-NEXT:    %t = feature.decode_text %df "text" lowercase 1 strip unicode map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<9xi32>> classes <cc : tensor<1114112xui8>> expansion 3 : !pipeline.frame<"id" : f64, "text" : !pipeline.str> -> !feature.text
// CHECK-NEXT:    %u = feature.decode_text %s "s" lowercase 0 strip none map <ci : tensor<4352xi32>>, <cb : tensor<256xi32>>, <cs : tensor<0xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"s" : !pipeline.str> -> !feature.text
// CHECK-NEXT:    "test.op"(%t, %u) : (!feature.text, !feature.text) -> ()

// GENERIC:      %t = "feature.decode_text"(%df) <{column = "text", lowercase = 1 : i64, strip = #feature<strip unicode>, char_index = #pipeline.blob<ci : tensor<4352xi32>>, char_blocks = #pipeline.blob<cb : tensor<512xi32>>, char_sequences = #pipeline.blob<cs : tensor<9xi32>>, char_classes = #pipeline.blob<cc : tensor<1114112xui8>>, expansion = 3 : i64}> : (!pipeline.frame<"id" : f64, "text" : !pipeline.str>) -> !feature.text
// GENERIC-NEXT: %u = "feature.decode_text"(%s) <{column = "s", lowercase = 0 : i64, strip = #feature<strip none>, char_index = #pipeline.blob<ci : tensor<4352xi32>>, char_blocks = #pipeline.blob<cb : tensor<256xi32>>, char_sequences = #pipeline.blob<cs : tensor<0xi32>>, char_classes = #pipeline.blob<cc : tensor<1114112xui8>>, expansion = 1 : i64}> : (!pipeline.frame<"s" : !pipeline.str>) -> !feature.text

// -----

// Vocabulary counts: words with stop words and binary counts, char_wb n-grams as f32, chars as i64.

%t = "test.op"() : () -> !feature.text
%w = feature.count_terms %t word ngram 1 to 2 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 2 stop <sv : tensor<7xi32>>, <so : tensor<3xi64>>, <sh : tensor<8xi64>> probes 1 {binary} : !feature.text -> tensor<?x4xf64, "csr">
%b = feature.count_terms %t char_wb ngram 2 to 4 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 3 : !feature.text -> tensor<?x4xf32, "csr">
%c = feature.count_terms %t char ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x4xi64, "csr">

// CHECK:      %t = "test.op"() : () -> !feature.text
// CHECK-NEXT: %w = feature.count_terms %t word ngram 1 to 2 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 2 stop <sv : tensor<7xi32>>, <so : tensor<3xi64>>, <sh : tensor<8xi64>> probes 1 {binary} : !feature.text -> tensor<?x4xf64, "csr">
// CHECK-NEXT: %b = feature.count_terms %t char_wb ngram 2 to 4 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 3 : !feature.text -> tensor<?x4xf32, "csr">
// CHECK-NEXT: %c = feature.count_terms %t char ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x4xi64, "csr">

// GENERIC:      %w = "feature.count_terms"(%t) <{analyzer = #feature<analyzer word>, ngram_min = 1 : i64, ngram_max = 2 : i64, vocab_codepoints = #pipeline.blob<v : tensor<20xi32>>, vocab_offsets = #pipeline.blob<o : tensor<5xi64>>, vocab_table = #pipeline.blob<h : tensor<16xi64>>, probes = 2 : i64, stop_codepoints = #pipeline.blob<sv : tensor<7xi32>>, stop_offsets = #pipeline.blob<so : tensor<3xi64>>, stop_table = #pipeline.blob<sh : tensor<8xi64>>, stop_probes = 1 : i64}> {binary} : (!feature.text) -> tensor<?x4xf64, "csr">
// GENERIC-NEXT: %b = "feature.count_terms"(%t) <{analyzer = #feature<analyzer char_wb>, ngram_min = 2 : i64, ngram_max = 4 : i64, vocab_codepoints = #pipeline.blob<v : tensor<20xi32>>, vocab_offsets = #pipeline.blob<o : tensor<5xi64>>, vocab_table = #pipeline.blob<h : tensor<16xi64>>, probes = 3 : i64}> : (!feature.text) -> tensor<?x4xf32, "csr">
// GENERIC-NEXT: %c = "feature.count_terms"(%t) <{analyzer = #feature<analyzer char>, ngram_min = 1 : i64, ngram_max = 1 : i64, vocab_codepoints = #pipeline.blob<v : tensor<20xi32>>, vocab_offsets = #pipeline.blob<o : tensor<5xi64>>, vocab_table = #pipeline.blob<h : tensor<16xi64>>, probes = 1 : i64}> : (!feature.text) -> tensor<?x4xi64, "csr">

// -----

// Hashed counts: alternate signs and stop words, binary counts, no flags; words of one
// character as tokens (short_tokens).

%t = "test.op"() : () -> !feature.text
%a = feature.hash_terms %t word ngram 1 to 2 features 1048576 stop <sv : tensor<7xi32>>, <so : tensor<3xi64>>, <sh : tensor<8xi64>> probes 1 {alternate_sign} : !feature.text -> tensor<?x1048576xf64, "csr">
%b = feature.hash_terms %t char ngram 3 to 3 features 16 {binary} : !feature.text -> tensor<?x16xf32, "csr">
%c = feature.hash_terms %t char_wb ngram 2 to 5 features 2147483647 : !feature.text -> tensor<?x2147483647xi64, "csr">
%d = feature.hash_terms %t word ngram 1 to 1 features 16 {short_tokens} : !feature.text -> tensor<?x16xf64, "csr">

// CHECK:      %t = "test.op"() : () -> !feature.text
// CHECK-NEXT: %a = feature.hash_terms %t word ngram 1 to 2 features 1048576 stop <sv : tensor<7xi32>>, <so : tensor<3xi64>>, <sh : tensor<8xi64>> probes 1 {alternate_sign} : !feature.text -> tensor<?x1048576xf64, "csr">
// CHECK-NEXT: %b = feature.hash_terms %t char ngram 3 to 3 features 16 {binary} : !feature.text -> tensor<?x16xf32, "csr">
// CHECK-NEXT: %c = feature.hash_terms %t char_wb ngram 2 to 5 features 2147483647 : !feature.text -> tensor<?x2147483647xi64, "csr">
// CHECK-NEXT: %d = feature.hash_terms %t word ngram 1 to 1 features 16 {short_tokens} : !feature.text -> tensor<?x16xf64, "csr">

// GENERIC:      %a = "feature.hash_terms"(%t) <{analyzer = #feature<analyzer word>, ngram_min = 1 : i64, ngram_max = 2 : i64, features = 1048576 : i64, stop_codepoints = #pipeline.blob<sv : tensor<7xi32>>, stop_offsets = #pipeline.blob<so : tensor<3xi64>>, stop_table = #pipeline.blob<sh : tensor<8xi64>>, stop_probes = 1 : i64}> {alternate_sign} : (!feature.text) -> tensor<?x1048576xf64, "csr">
// GENERIC-NEXT: %b = "feature.hash_terms"(%t) <{analyzer = #feature<analyzer char>, ngram_min = 3 : i64, ngram_max = 3 : i64, features = 16 : i64}> {binary} : (!feature.text) -> tensor<?x16xf32, "csr">
// GENERIC-NEXT: %c = "feature.hash_terms"(%t) <{analyzer = #feature<analyzer char_wb>, ngram_min = 2 : i64, ngram_max = 5 : i64, features = 2147483647 : i64}> : (!feature.text) -> tensor<?x2147483647xi64, "csr">
// GENERIC-NEXT: %d = "feature.hash_terms"(%t) <{analyzer = #feature<analyzer word>, ngram_min = 1 : i64, ngram_max = 1 : i64, features = 16 : i64}> {short_tokens} : (!feature.text) -> tensor<?x16xf64, "csr">

// -----

// Weighting: TF-IDF with sublinear tf, integer counts weighted to f64, a norm alone in f32,
// and float32 sublinear tf reading numpy's logs from a table.

%c, %k, %h = "test.op"() : () -> (tensor<?x4xf64, "csr">, tensor<?x4xi64, "csr">, tensor<?x16xf32, "csr">)
%w = feature.weight_terms %c idf <idf : tensor<4xf64>> norm l2 {sublinear_tf} : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">
%x = feature.weight_terms %k idf <idf : tensor<4xf64>> norm none : tensor<?x4xi64, "csr"> -> tensor<?x4xf64, "csr">
%n = feature.weight_terms %h norm l1 : tensor<?x16xf32, "csr"> -> tensor<?x16xf32, "csr">
%g = feature.weight_terms %h log <lg : tensor<4096xf32>> norm l2 {sublinear_tf} : tensor<?x16xf32, "csr"> -> tensor<?x16xf32, "csr">

// CHECK:      %c, %k, %h = "test.op"() : () -> (tensor<?x4xf64, "csr">, tensor<?x4xi64, "csr">, tensor<?x16xf32, "csr">)
// CHECK-NEXT: %w = feature.weight_terms %c idf <idf : tensor<4xf64>> norm l2 {sublinear_tf} : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">
// CHECK-NEXT: %x = feature.weight_terms %k idf <idf : tensor<4xf64>> norm none : tensor<?x4xi64, "csr"> -> tensor<?x4xf64, "csr">
// CHECK-NEXT: %n = feature.weight_terms %h norm l1 : tensor<?x16xf32, "csr"> -> tensor<?x16xf32, "csr">
// CHECK-NEXT: %g = feature.weight_terms %h log <lg : tensor<4096xf32>> norm l2 {sublinear_tf} : tensor<?x16xf32, "csr"> -> tensor<?x16xf32, "csr">

// GENERIC:      %w = "feature.weight_terms"(%c) <{idf = #pipeline.blob<idf : tensor<4xf64>>, norm = #feature<norm l2>}> {sublinear_tf} : (tensor<?x4xf64, "csr">) -> tensor<?x4xf64, "csr">
// GENERIC-NEXT: %x = "feature.weight_terms"(%k) <{idf = #pipeline.blob<idf : tensor<4xf64>>, norm = #feature<norm none>}> : (tensor<?x4xi64, "csr">) -> tensor<?x4xf64, "csr">
// GENERIC-NEXT: %n = "feature.weight_terms"(%h) <{norm = #feature<norm l1>}> : (tensor<?x16xf32, "csr">) -> tensor<?x16xf32, "csr">
// GENERIC-NEXT: %g = "feature.weight_terms"(%h) <{log_table = #pipeline.blob<lg : tensor<4096xf32>>, norm = #feature<norm l2>}> {sublinear_tf} : (tensor<?x16xf32, "csr">) -> tensor<?x16xf32, "csr">

// -----

// Sparse linear models: two parts side by side (multiclass), one part with an offset into
// coef and a per-row decision.

%a, %b = "test.op"() : () -> (tensor<?x4xf64, "csr">, tensor<?x16xf32, "csr">)
%d = feature.sparse_linear %a, %b coef <w : tensor<3x20xf64>> offset 0 intercept <b : tensor<3xf64>> : (tensor<?x4xf64, "csr">, tensor<?x16xf32, "csr">) -> tensor<?x3xf64>
%e = feature.sparse_linear %a coef <v : tensor<1x9xf64>> offset 5 : (tensor<?x4xf64, "csr">) -> tensor<?xf64>

// CHECK:      %a, %b = "test.op"() : () -> (tensor<?x4xf64, "csr">, tensor<?x16xf32, "csr">)
// CHECK-NEXT: %d = feature.sparse_linear %a, %b coef <w : tensor<3x20xf64>> offset 0 intercept <b : tensor<3xf64>> : (tensor<?x4xf64, "csr">, tensor<?x16xf32, "csr">) -> tensor<?x3xf64>
// CHECK-NEXT: %e = feature.sparse_linear %a coef <v : tensor<1x9xf64>> offset 5 : (tensor<?x4xf64, "csr">) -> tensor<?xf64>

// GENERIC:      %d = "feature.sparse_linear"(%a, %b) <{coef = #pipeline.blob<w : tensor<3x20xf64>>, offset = 0 : i64, intercept = #pipeline.blob<b : tensor<3xf64>>}> : (tensor<?x4xf64, "csr">, tensor<?x16xf32, "csr">) -> tensor<?x3xf64>
// GENERIC-NEXT: %e = "feature.sparse_linear"(%a) <{coef = #pipeline.blob<v : tensor<1x9xf64>>, offset = 5 : i64}> : (tensor<?x4xf64, "csr">) -> tensor<?xf64>
