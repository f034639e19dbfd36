// RUN: willump-opt %s --split-input-file -p share-text-decoding | filecheck %s

// Two vectorizers read the same column through two selections of one frame, decoding it the
// same way: the second decode_text (and its now unused selection) goes, and its counter
// reads the first one's text. A third decode differing only in lowercase (0) stays.

func.func @shared(%df: !pipeline.frame<"id" : f64, "text" : !pipeline.str>) {
  %a = pipeline.select_columns %df ["text"] : !pipeline.frame<"id" : f64, "text" : !pipeline.str> -> !pipeline.frame<"text" : !pipeline.str>
  %t1 = feature.decode_text %a "text" lowercase 1 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<4xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"text" : !pipeline.str> -> !feature.text
  %c1 = feature.count_terms %t1 word ngram 1 to 2 vocab <v1 : tensor<20xi32>>, <o1 : tensor<5xi64>>, <h1 : tensor<16xi64>> probes 2 : !feature.text -> tensor<?x4xf64, "csr">
  %b = pipeline.select_columns %df ["text"] : !pipeline.frame<"id" : f64, "text" : !pipeline.str> -> !pipeline.frame<"text" : !pipeline.str>
  %t2 = feature.decode_text %b "text" lowercase 1 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<4xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"text" : !pipeline.str> -> !feature.text
  %c2 = feature.count_terms %t2 char_wb ngram 2 to 4 vocab <v2 : tensor<30xi32>>, <o2 : tensor<9xi64>>, <h2 : tensor<32xi64>> probes 3 : !feature.text -> tensor<?x8xf64, "csr">
  %e = pipeline.select_columns %df ["text"] : !pipeline.frame<"id" : f64, "text" : !pipeline.str> -> !pipeline.frame<"text" : !pipeline.str>
  %t3 = feature.decode_text %e "text" lowercase 0 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<4xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"text" : !pipeline.str> -> !feature.text
  %c3 = feature.hash_terms %t3 word ngram 1 to 1 features 16 : !feature.text -> tensor<?x16xf64, "csr">
  "test.op"(%c1, %c2, %c3) : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">, tensor<?x16xf64, "csr">) -> ()
  func.return
}

// CHECK-LABEL: func.func @shared(%df: !pipeline.frame<"id" : f64, "text" : !pipeline.str>) {
// CHECK-NEXT:    %a = pipeline.select_columns %df ["text"] : !pipeline.frame<"id" : f64, "text" : !pipeline.str> -> !pipeline.frame<"text" : !pipeline.str>
// CHECK-NEXT:    %t1 = feature.decode_text %a "text" lowercase 1 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<4xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"text" : !pipeline.str> -> !feature.text
// CHECK-NEXT:    %c1 = feature.count_terms %t1 word ngram 1 to 2 vocab <v1 : tensor<20xi32>>, <o1 : tensor<5xi64>>, <h1 : tensor<16xi64>> probes 2 : !feature.text -> tensor<?x4xf64, "csr">
// CHECK-NEXT:    %c2 = feature.count_terms %t1 char_wb ngram 2 to 4 vocab <v2 : tensor<30xi32>>, <o2 : tensor<9xi64>>, <h2 : tensor<32xi64>> probes 3 : !feature.text -> tensor<?x8xf64, "csr">
// CHECK-NEXT:    %e = pipeline.select_columns %df ["text"] : !pipeline.frame<"id" : f64, "text" : !pipeline.str> -> !pipeline.frame<"text" : !pipeline.str>
// CHECK-NEXT:    %t3 = feature.decode_text %e "text" lowercase 0 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<4xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"text" : !pipeline.str> -> !feature.text
// CHECK-NEXT:    %c3 = feature.hash_terms %t3 word ngram 1 to 1 features 16 : !feature.text -> tensor<?x16xf64, "csr">
// CHECK-NEXT:    "test.op"(%c1, %c2, %c3) : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">, tensor<?x16xf64, "csr">) -> ()
// CHECK-NEXT:    func.return

// -----

// The frame itself and a selection of it are the same source; a selection that has another
// user stays. Different columns, or the same column of another frame, are not shared.

func.func @sources(%df: !pipeline.frame<"title" : !pipeline.str, "body" : !pipeline.str>, %other: !pipeline.frame<"title" : !pipeline.str>) {
  %t1 = feature.decode_text %df "title" lowercase 1 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<4xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"title" : !pipeline.str, "body" : !pipeline.str> -> !feature.text
  %a = pipeline.select_columns %df ["title"] : !pipeline.frame<"title" : !pipeline.str, "body" : !pipeline.str> -> !pipeline.frame<"title" : !pipeline.str>
  %t2 = feature.decode_text %a "title" lowercase 1 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<4xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"title" : !pipeline.str> -> !feature.text
  %t3 = feature.decode_text %df "body" lowercase 1 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<4xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"title" : !pipeline.str, "body" : !pipeline.str> -> !feature.text
  %t4 = feature.decode_text %other "title" lowercase 1 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<4xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"title" : !pipeline.str> -> !feature.text
  "test.op"(%a, %t1, %t2, %t3, %t4) : (!pipeline.frame<"title" : !pipeline.str>, !feature.text, !feature.text, !feature.text, !feature.text) -> ()
  func.return
}

// CHECK-LABEL: func.func @sources(
// CHECK-NEXT:    %t1 = feature.decode_text %df "title"
// CHECK-NEXT:    %a = pipeline.select_columns %df ["title"]
// CHECK-NEXT:    %t3 = feature.decode_text %df "body"
// CHECK-NEXT:    %t4 = feature.decode_text %other "title"
// CHECK-NEXT:    "test.op"(%a, %t1, %t1, %t3, %t4)
// CHECK-NEXT:    func.return
