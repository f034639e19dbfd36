// RUN: willump-opt %s --split-input-file --parsing-diagnostics | filecheck %s

// The feature dialect's choices (#feature<on_unknown ...>, <on_missing ...>, <strip ...>,
// <analyzer ...>, <norm ...>) are enum attributes: a value outside them does not parse.

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%y = feature.encode_strings %df "c" bytes <b : tensor<3xui8>> offsets <o : tensor<2xi64>> table <t : tensor<8xi64>> probes 1 missing -1 on_unknown "warn" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>

// CHECK: Expected `ignore`, or `error`.

// -----

%c = "test.op"() : () -> tensor<?x1xi64>
%v = feature.gather_rows %c values <v : tensor<3x2xf64>> fill 0.0 : f64 on_missing raise : tensor<?x1xi64> -> tensor<?x2xf64>

// CHECK: Expected `fill`, or `python`.

// -----

%df = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%t = feature.decode_text %df "c" lowercase 1 strip "latin" map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <s : tensor<4xi32>> classes <k : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"c" : !pipeline.str> -> !feature.text

// CHECK: Expected `none`, `ascii`, or `unicode`.

// -----

%t = "test.op"() : () -> !feature.text
%c = feature.count_terms %t words ngram 1 to 1 vocab <v : tensor<20xi32>>, <o : tensor<5xi64>>, <h : tensor<16xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">

// CHECK: Expected `word`, `char`, or `char_wb`.

// -----

%t = "test.op"() : () -> !feature.text
%h = feature.hash_terms %t "chars" ngram 1 to 1 features 16 : !feature.text -> tensor<?x16xf64, "csr">

// CHECK: Expected `word`, `char`, or `char_wb`.

// -----

%c = "test.op"() : () -> tensor<?x4xf64, "csr">
%w = feature.weight_terms %c norm "max" : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">

// CHECK: Expected `l1`, `l2`, or `none`.

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%y = feature.normalize %x norm "none" : tensor<?x4xf64> -> tensor<?x4xf64>

// CHECK: Expected `l1`, `l2`, or `max`.

// -----

%c = "test.op"() : () -> tensor<?x4xf64, "csr">
%w = "feature.weight_terms"(%c) <{norm = #feature<norm max>}> : (tensor<?x4xf64, "csr">) -> tensor<?x4xf64, "csr">

// CHECK: Expected `l1`, `l2`, or `none`.
