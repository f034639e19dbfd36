// RUN: willump-opt %s --split-input-file -p lower-feature-to-scf | filecheck %s
// RUN: willump-opt %s --split-input-file -p lower-feature-to-scf,convert-to-llvm -t llvm | filecheck %s --check-prefix=LLVM

// A frame with two numeric columns and a string column: impute + scale the numbers, one-hot
// the strings, a binary logistic regression. One row loop, no intermediate matrix.
func.func @score(%df: !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str>) -> tensor<?xf64> {
  %x = pipeline.to_array %df ["a", "b"] : !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str> -> tensor<?x2xf64>
  %f = feature.impute %x fill <fill_1 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %s = feature.standardize %f sub <mean_2 : tensor<2xf64>> div <scale_3 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %c = feature.encode_strings %df "city" bytes <b_1 : tensor<9xui8>> offsets <o_2 : tensor<3xi64>> table <t_3 : tensor<8xi64>> probes 2 missing -1 on_unknown error : !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str> -> tensor<?x1xi64>
  %o = feature.onehot %c categories 2 drop -1 : tensor<?x1xi64> -> tensor<?x2xf64>
  %h = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x4xf64>
  %d = feature.linear %h coef <w_e9e5b9ab5bd86d34 : tensor<1x4xf64>> offset 0 intercept <b_66e8c71309dc477b : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x1xf64>
  %p = feature.sigmoid %d : tensor<?x1xf64> -> tensor<?x1xf64>
  %pp = feature.binary_proba %p : tensor<?x1xf64> -> tensor<?x2xf64>
  %r = pipeline.take_column %pp [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %r : tensor<?xf64>
}

// The model's coefficients and intercept: a row whose largest |value| reaches
// 2^1000 / (0.5 + 1 + 2 + 0.25 + 0.1) runs in Python (its sum may overflow in BLAS's order).
{-#
  dialect_resources: {
    pipeline: {
      w_e9e5b9ab5bd86d34: "0x08000000000000000000E03F000000000000F0BF0000000000000040000000000000D03F",
      b_66e8c71309dc477b: "0x080000009A9999999999B93F"
    }
  }
#-}

// CHECK: builtin.module attributes {willump.schedule = {score = {steps = [{kernel = "score_stage0"}], returns = ["v9"], errors = {"1" = {op = "feature.impute"}, "2" = {op = "feature.standardize"}, "3" = {op = "feature.encode_strings", value = "arg0", column = "city"}, "6" = {op = "feature.linear"}}, constants = {}}}}
// CHECK-DAG: "memref.global"() <{sym_name = "fill_1", type = memref<2xf64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "w_e9e5b9ab5bd86d34", type = memref<4xf64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "t_3", type = memref<8xi64>, initial_value, sym_visibility = "public"}>
// CHECK: func.func @score_stage0(%{{.*}}: index, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xi8>, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xi8>)
// CHECK-SAME: willump.kernel
// CHECK-SAME: willump.inputs = [{value = "arg0", part = "values", dtype = "f64", column = "a"}, {value = "arg0", part = "values", dtype = "f64", column = "b"}, {value = "arg0", part = "bytes", dtype = "i8", column = "city"}
// CHECK-SAME: willump.outputs = [{value = "v9", width = 1 : i64, dtype = "f64", shape = []}]
// CHECK-DAG: memref.get_global @fill_1 : memref<2xf64>
// The hash table, FNV-1a's offset basis (0xcbf29ce484222325 as a signed i64) and prime, the
// slot mask (table size 8 - 1), the "searching" and "not found" codes, hoisted out of the loop.
// CHECK-DAG: [[TABLE:%[0-9]+]] = memref.get_global @t_3 : memref<8xi64>
// CHECK-DAG: [[BASIS:%[0-9]+]] = arith.constant -3750763034362895579 : i64
// CHECK-DAG: [[PRIME:%[0-9]+]] = arith.constant 1099511628211 : i64
// CHECK-DAG: [[MASK:%[0-9]+]] = arith.constant 7 : i64
// CHECK-DAG: [[SEARCHING:%[0-9]+]] = arith.constant -2 : i64
// CHECK-DAG: [[NONE:%[0-9]+]] = arith.constant -1 : i64
// CHECK-DAG: [[LIMIT:%[0-9]+]] = arith.constant 2.78313923944{{[0-9]*}}e+300 : f64
// CHECK-DAG: [[KIND9:%[0-9]+]] = arith.constant 9 : i64
// CHECK: scf.for
// The two columns' infinity tests, one branch for both; the errors are recorded in order in it.
// CHECK: [[INF_A:%[0-9]+]] = arith.cmpf oeq, %{{[0-9]+}}, %{{[0-9]+}} : f64
// CHECK: [[INF_B:%[0-9]+]] = arith.cmpf oeq, %{{[0-9]+}}, %{{[0-9]+}} : f64
// CHECK-NEXT: [[ANY:%[0-9]+]] = arith.ori [[INF_A]], [[INF_B]] : i1
// CHECK-NEXT: scf.if [[ANY]] {
// CHECK: arith.andi [[INF_A]], %{{[0-9]+}} : i1
// CHECK: arith.andi [[INF_B]], %{{[0-9]+}} : i1
// CHECK: arith.cmpf uno
// CHECK: arith.select
// CHECK: arith.subf
// CHECK: arith.divf
// The string column: hash the row's bytes with FNV-1a (a loop carrying the i64 hash) ...
// CHECK: [[HASH:%[0-9]+]] = scf.for %{{[0-9]+}} = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%[[H:[0-9]+]] = [[BASIS]]) -> (i64) {
// CHECK: [[BYTE:%[0-9]+]] = arith.extui %{{[0-9]+}} : i8 to i64
// CHECK-NEXT: [[MIXED:%[0-9]+]] = arith.xori %[[H]], [[BYTE]] : i64
// CHECK-NEXT: [[NEXT:%[0-9]+]] = arith.muli [[MIXED]], [[PRIME]] : i64
// CHECK-NEXT: scf.yield [[NEXT]] : i64
// CHECK-NEXT: }
// ... then probe consecutive slots from hash & mask while the code is "searching" ...
// CHECK-NEXT: %{{[0-9]+}}, [[CODE:%[0-9]+]] = scf.while (%{{[0-9]+}} = %{{[0-9]+}}, %[[C:[0-9]+]] = [[SEARCHING]]) : (i64, i64) -> (i64, i64) {
// CHECK-NEXT: [[GOING:%[0-9]+]] = arith.cmpi eq, %[[C]], [[SEARCHING]] : i64
// CHECK-NEXT: scf.condition([[GOING]])
// CHECK-NEXT: } do {
// CHECK-NEXT: ^bb0(%[[P:[0-9]+]]: i64, %{{[0-9]+}}: i64):
// CHECK-NEXT: [[SHIFTED:%[0-9]+]] = arith.addi [[HASH]], %[[P]] : i64
// CHECK-NEXT: [[SLOT:%[0-9]+]] = arith.andi [[SHIFTED]], [[MASK]] : i64
// CHECK-NEXT: [[SLOTI:%[0-9]+]] = arith.index_cast [[SLOT]] : i64 to index
// CHECK-NEXT: [[ENTRY:%[0-9]+]] = memref.load [[TABLE]][[[SLOTI]]] : memref<8xi64>
// CHECK-NEXT: [[OCCUPIED:%[0-9]+]] = arith.cmpi sge, [[ENTRY]], %{{[0-9]+}} : i64
// ... an occupied slot's category: the same length, then the same bytes (a loop that stops at
// the first difference) ...
// CHECK-NEXT: [[FOUND:%[0-9]+]] = scf.if [[OCCUPIED]] -> (i1) {
// CHECK: scf.if %{{[0-9]+}} -> (i1) {
// CHECK: scf.while
// CHECK: arith.cmpi eq, %{{[0-9]+}}, %{{[0-9]+}} : i8
// CHECK: scf.condition
// ... the key found ends the search, so do an empty slot and the last probe (not found).
// CHECK: [[MORE:%[0-9]+]] = arith.andi [[OCCUPIED]], %{{[0-9]+}} : i1
// CHECK-NEXT: [[AGAIN:%[0-9]+]] = arith.select [[MORE]], [[SEARCHING]], [[NONE]] : i64
// CHECK-NEXT: [[STEP:%[0-9]+]] = arith.select [[FOUND]], [[ENTRY]], [[AGAIN]] : i64
// CHECK: scf.yield %{{[0-9]+}}, [[STEP]] : i64, i64
// CHECK-NEXT: }
// A missing value overrides the code found.
// CHECK: arith.select %{{[0-9]+}}, [[NONE]], [[CODE]] : i64
// A value reaching 2^1000 / 3.85 (unordered: NaN too) records error kind 9 (the runtime
// runs the original on the batch).
// CHECK: arith.cmpf uge, %{{[0-9]+}}, [[LIMIT]] : f64
// CHECK: memref.store [[KIND9]], %{{[0-9]+}}[%{{[0-9]+}}] : memref<?xi64>
// CHECK: math.exp
// CHECK: memref.store {{.*}} : memref<?xf64>
// CHECK-NOT: feature.
// CHECK-NOT: pipeline.

// LLVM: @"fill_1" = external global [2 x double]
// LLVM: @"t_3" = external global [8 x i64]
// LLVM: define void @"score_stage0"(i64 %{{.*}}, ptr
// LLVM: fcmp uno double
// LLVM: fdiv double
// LLVM: phi i64 [-3750763034362895579,
// LLVM: [[X:%"?\.?[0-9]+"?]] = xor i64
// LLVM-NEXT: mul i64 [[X]], 1099511628211
// LLVM: and i64 %{{.*}}, 7
// LLVM: call double @"llvm.exp.f64"
// LLVM: ret void

// -----

// Text: decode_text -> count_terms (word uni- and bigrams) -> weight_terms (idf, l2) ->
// sparse_linear is one row kernel over the column's UTF-8; the runtime passes zeroed scratch
// buffers, and an extra output flags the rows that must run in Python.
func.func @classify(%docs: !pipeline.frame<"docs" : !pipeline.str>) -> tensor<?x1xf64> {
  %t = feature.decode_text %docs "docs" lowercase 1 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<9xi32>> classes <cc : tensor<1114112xui8>> expansion 2 : !pipeline.frame<"docs" : !pipeline.str> -> !feature.text
  %c = feature.count_terms %t word ngram 1 to 2 vocab <vc_833af41fe5605d34 : tensor<11xi32>>, <vo_0822e36c0f8f9c8f : tensor<5xi64>>, <vt_5a169908ff557e56 : tensor<16xi64>> probes 2 : !feature.text -> tensor<?x4xf64, "csr">
  %w = feature.weight_terms %c idf <idf_5482bb98700ca1e7 : tensor<4xf64>> norm l2 : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">
  %d = feature.sparse_linear %w coef <coef_e9e5b9ab5bd86d34 : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> : (tensor<?x4xf64, "csr">) -> tensor<?x1xf64>
  func.return %d : tensor<?x1xf64>
}

// The vocabulary "ab", "ab cd", "cd", "ef" (its term table), idf and coef: the lowering
// derives the table of its tokens, its (id, token) edges and each term's [idf^2, idf * coef].
{-#
  dialect_resources: {
    pipeline: {
      vc_833af41fe5605d34: "0x080000006100000062000000610000006200000020000000630000006400000063000000640000006500000066000000",
      vo_0822e36c0f8f9c8f: "0x0800000000000000000000000200000000000000070000000000000009000000000000000B00000000000000",
      vt_5a169908ff557e56: "0x08000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6200300600000080000000000000000066007006000000800300000000000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF64005006000000800200000000000000B943B6B52E031A170100000000000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
      idf_5482bb98700ca1e7: "0x08000000000000000000F03F0000000000000040000000000000F83F000000000000F43F",
      coef_e9e5b9ab5bd86d34: "0x08000000000000000000E03F000000000000F0BF0000000000000040000000000000D03F"
    }
  }
#-}

// CHECK-LABEL: builtin.module attributes {willump.schedule = {classify = {steps = [{kernel = "classify_stage0"}], returns = ["v3"], errors = {"0" = {op = "feature.decode_text", value = "arg0", column = "docs"}, "2" = {op = "feature.weight_terms"}, "3" = {op = "feature.sparse_linear"}}, constants = {}}}}
// CHECK-DAG: "memref.global"() <{sym_name = "cc", type = memref<1114112xi8>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "word_token_slots_{{[0-9a-f]+}}", type = memref<16xi64>, initial_value, sym_visibility = "public"}>
// The (id, token) edges compact, a slot an int64 (key << 32 | id): the one edge "ab" -> "ab cd".
// CHECK-DAG: "memref.global"() <{sym_name = "word_edges_{{[0-9a-f]+}}", type = memref<2xi64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "tally_terms_{{[0-9a-f]+}}", type = memref<8xf64>, initial_value, sym_visibility = "public"}>
// CHECK: func.func @classify_stage0(
// The column's bytes, offsets and missing flags; then scratch buffers: the row's code points
// and their classes (expansion 2 per byte of the longest row, plus 1), the term counts, ...
// CHECK-SAME: willump.inputs = [{value = "arg0", part = "bytes", dtype = "i8", text = 1 : i64, column = "docs"}, {value = "arg0", part = "offsets", dtype = "i64", text = 1 : i64, column = "docs"}, {value = "arg0", part = "missing", dtype = "i8", text = 1 : i64, column = "docs"},
// CHECK-SAME: {value = "classify_stage0.0.cps", part = "scratch", dtype = "i32", size = {fixed = 1 : i64, per_byte = 2 : i64, value = "arg0", column = "docs"}}, {value = "classify_stage0.0.classes", part = "scratch", dtype = "i8", size = {fixed = 1 : i64, per_byte = 2 : i64, value = "arg0", column = "docs"}}
// CHECK-SAME: {value = "classify_stage0.1.counts", part = "scratch", dtype = "i32", size = {fixed = 4 : i64}}
// ... and the stamp the row's counts start from (no count is zeroed after a row). Only the
// model reads the weights (idf, l2): each occurrence is tallied into the decision as it is
// counted, so no bitmap and no buffers of term ids and values.
// CHECK-SAME: {value = "classify_stage0.1.stamp", part = "scratch", dtype = "i64", size = {fixed = 1 : i64}}
// CHECK-NOT: .values"
// CHECK-NOT: .bits"
// The decision, then the per-row "run in Python" flag.
// CHECK-SAME: willump.outputs = [{value = "v3", width = 1 : i64, dtype = "f64", shape = [1 : i64]}, {value = "classify_stage0.python_rows", width = 1 : i64, dtype = "i8", shape = [], role = "python_rows", reasons = ["text-context", "linear-range"]}]
// Hoisted: the "not text" error code, the UTF-8 lead byte bounds, the two-level character map,
// the tables of tokens and edges, the "keep probing" marker and the terms' idf^2 and idf * coef.
// CHECK-DAG: [[NOT_TEXT:%[0-9]+]] = arith.constant 4 : i64
// CHECK-DAG: [[B128:%[0-9]+]] = arith.constant 128 : i32
// CHECK-DAG: [[B224:%[0-9]+]] = arith.constant 224 : i32
// CHECK-DAG: [[B240:%[0-9]+]] = arith.constant 240 : i32
// CHECK-DAG: [[INDEX:%[0-9]+]] = memref.get_global @ci : memref<4352xi32>
// CHECK-DAG: [[BLOCKS:%[0-9]+]] = memref.get_global @cb : memref<512xi32>
// CHECK-DAG: [[TOKENS:%[0-9]+]] = memref.get_global @word_token_slots_{{[0-9a-f]+}} : memref<16xi64>
// CHECK-DAG: [[EDGES:%[0-9]+]] = memref.get_global @word_edges_{{[0-9a-f]+}} : memref<2xi64>
// CHECK-DAG: [[PROBING:%[0-9]+]] = arith.constant -2 : i64
// CHECK-DAG: [[TERMS:%[0-9]+]] = memref.get_global @tally_terms_{{[0-9a-f]+}} : memref<8xf64>
// CHECK: scf.for %[[ROW:[0-9]+]] = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} {
// A missing document (None or NaN) is an error, as in scikit-learn.
// CHECK: memref.store [[NOT_TEXT]], %{{[0-9]+}}[%{{[0-9]+}}] : memref<?xi64>
// UTF-8 decoding: a while loop over the row's bytes carrying the byte position, the number of
// code points written and the "run in Python" flag; the lead byte gives the sequence length.
// CHECK: scf.while (%{{[0-9]+}} = %{{[0-9]+}}, %{{[0-9]+}} = %{{[0-9]+}}, %{{[0-9]+}} = %{{[0-9]+}}) : (index, index, i1) -> (index, index, i1) {
// CHECK-NEXT: [[MORE:%[0-9]+]] = arith.cmpi ult, %{{[0-9]+}}, %{{[0-9]+}} : index
// CHECK-NEXT: scf.condition([[MORE]])
// CHECK-NEXT: } do {
// First the ASCII bytes mapping to one code point, with their entries in the first block: a
// loop taking eight at a time while all eight are, then one taking one at a time.
// CHECK: scf.while
// CHECK: memref.load [[BLOCKS]][%{{[0-9]+}}] : memref<512xi32>
// CHECK: scf.while
// CHECK: memref.load [[BLOCKS]][%{{[0-9]+}}] : memref<512xi32>
// Then one code point through the decoder.
// CHECK: [[LEAD:%[0-9]+]] = arith.extui %{{[0-9]+}} : i8 to i32
// CHECK-NEXT: arith.cmpi ult, [[LEAD]], [[B128]] : i32
// CHECK: arith.cmpi ult, [[LEAD]], [[B224]] : i32
// CHECK: arith.cmpi ult, [[LEAD]], [[B240]] : i32
// The code point's block (cp >> 8) in the index, then its entry in the blocks.
// CHECK: memref.load [[INDEX]][%{{[0-9]+}}] : memref<4352xi32>
// CHECK: memref.load [[BLOCKS]][%{{[0-9]+}}] : memref<512xi32>
// Each token is looked up once in the table of the vocabulary's tokens, by its key (its
// bytes, packed as it is scanned, when they hold it): for an exact key a while loop probes
// slots from its home until the slot holding it or an empty one; for a hashed key another
// also compares code points until the token is found or an empty slot ends the search.
// CHECK: scf.while (%{{[0-9]+}} = %{{[0-9]+}}) : (i64) -> i64 {
// CHECK: memref.load [[TOKENS]]
// CHECK: scf.while (%{{[0-9]+}} = %{{[0-9]+}}, %{{[0-9]+}} = [[PROBING]]) : (i64, i64) -> (i64, i64) {
// CHECK-NEXT: [[AGAIN:%[0-9]+]] = arith.cmpi eq, %{{[0-9]+}}, [[PROBING]] : i64
// CHECK-NEXT: scf.condition([[AGAIN]])
// CHECK: memref.load [[TOKENS]]
// Then each n-gram: its first token's id (in the token's slot), extended by the next token
// through the compact edges (the key in the slot's high half).
// CHECK: scf.while (%{{[0-9]+}} = %{{[0-9]+}}) : (i64) -> i64 {
// CHECK: memref.load [[EDGES]]
// Each term found adds idf * coef to the decision (the squared norm grows by
// idf^2 * (2c + 1)); after the row, the l2 norm divides the sum.
// CHECK: memref.load [[TERMS]][%{{[0-9]+}}] : memref<8xf64>
// CHECK: math.sqrt
// CHECK: arith.divf
// The Python flags of the row (two reasons: bits 0 and 1).
// CHECK: [[BIT0:%[0-9]+]] = arith.extui %{{[0-9]+}} : i1 to i8
// CHECK-NEXT: [[BIT1:%[0-9]+]] = arith.extui %{{[0-9]+}} : i1 to i8
// CHECK-NEXT: [[SHIFTED:%[0-9]+]] = arith.shli [[BIT1]], %{{[0-9]+}} : i8
// CHECK-NEXT: [[FLAG:%[0-9]+]] = arith.ori [[BIT0]], [[SHIFTED]] : i8
// CHECK-NEXT: memref.store [[FLAG]], %{{[0-9]+}}[%[[ROW]]] : memref<?xi8>
// CHECK-NOT: feature.
// CHECK-NOT: pipeline.

// LLVM: define void @"classify_stage0"(i64 %{{.*}}, ptr
// LLVM: call double @"llvm.sqrt.f64"
// LLVM: ret void

// -----

// A left join of a frame with a table on an f64 key (NaN matches table row 2), then a model
// over a left column and the joined columns: the key is hashed and probed, the table row
// gathered (NaN for a key not found), and the join builds no frame: its columns are read from
// where they come from.
func.func @joined(%df: !pipeline.frame<"user" : f64, "age" : f64>) -> tensor<?x3xf64> {
  %k = pipeline.to_array %df ["user"] : !pipeline.frame<"user" : f64, "age" : f64> -> tensor<?x1xf64>
  %r = feature.lookup_keys %k[0] keys <keys_1 : tensor<3xf64>> table <slots_2 : tensor<8xi64>> probes 2 nan_row 2 : tensor<?x1xf64> -> tensor<?x1xi64>
  %v = feature.gather_rows %r values <table_3 : tensor<3x2xf64>> fill 0x7FF8000000000000 : f64 on_missing fill : tensor<?x1xi64> -> tensor<?x2xf64>
  %j = feature.join %df, %v : !pipeline.frame<"user" : f64, "age" : f64>, tensor<?x2xf64> -> !pipeline.frame<"user" : f64, "age" : f64, "mean" : f64, "n" : f64>
  %x = pipeline.to_array %j ["age", "mean", "n"] : !pipeline.frame<"user" : f64, "age" : f64, "mean" : f64, "n" : f64> -> tensor<?x3xf64>
  func.return %x : tensor<?x3xf64>
}

// CHECK: builtin.module attributes {willump.schedule = {joined = {steps = [{kernel = "joined_stage0"}], returns = ["v4"], errors = {}, constants = {}}}}
// CHECK-DAG: "memref.global"() <{sym_name = "slots_2", type = memref<8xi64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "table_3", type = memref<6xf64>, initial_value, sym_visibility = "public"}>
// The joined columns are no inputs; the key column's dtype is checked, not the gathered ones'.
// CHECK: func.func @joined_stage0(%{{.*}}: index, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xf64>, %[[USER:[0-9]+]]: memref<?xf64>, %[[AGE:[0-9]+]]: memref<?xf64>)
// CHECK-SAME: willump.inputs = [{value = "arg0", part = "values", dtype = "f64", column = "user"}, {value = "arg0", part = "values", dtype = "f64", column = "age"}]
// CHECK-SAME: willump.column_groups = [{value = "arg0", columns = ["user"]}]
// The hash: 64 - log2(8) = 61 bits of shift, the golden ratio multiplier as a signed i64.
// CHECK-DAG: [[SHIFT:%[0-9]+]] = arith.constant 61 : i64
// CHECK-DAG: [[GOLDEN:%[0-9]+]] = arith.constant -7046029254386353131 : i64
// CHECK-DAG: [[SLOTS:%[0-9]+]] = memref.get_global @slots_2 : memref<8xi64>
// CHECK-DAG: [[KEYS:%[0-9]+]] = memref.get_global @keys_1 : memref<3xf64>
// CHECK-DAG: [[NAN:%[0-9]+]] = arith.constant 0x7ff8000000000000 : f64
// CHECK-DAG: [[TABLE:%[0-9]+]] = memref.get_global @table_3 : memref<6xf64>
// CHECK: scf.for %[[ROW:[0-9]+]] =
// CHECK-NEXT: [[KEY:%[0-9]+]] = memref.load %[[USER]][%[[ROW]]] : memref<?xf64>
// -0.0 + 0.0 is 0.0: both zeros hash alike.
// CHECK-NEXT: [[ZEROED:%[0-9]+]] = arith.addf [[KEY]], %{{[0-9]+}} : f64
// CHECK-NEXT: [[BITS:%[0-9]+]] = arith.bitcast [[ZEROED]] : f64 to i64
// CHECK-NEXT: [[MIXED:%[0-9]+]] = arith.muli [[BITS]], [[GOLDEN]] : i64
// CHECK-NEXT: [[HASH:%[0-9]+]] = arith.shrui [[MIXED]], [[SHIFT]] : i64
// Probe the slots, comparing the keys of occupied ones as numbers.
// CHECK-NEXT: [[FOUND:%[0-9]+]] = scf.for
// CHECK: arith.addi [[HASH]], %{{[0-9]+}} : i64
// CHECK: memref.load [[SLOTS]]
// CHECK: [[CANDIDATE:%[0-9]+]] = memref.load [[KEYS]][%{{[0-9]+}}] : memref<3xf64>
// CHECK-NEXT: arith.cmpf oeq, [[CANDIDATE]], [[KEY]] : f64
// CHECK: scf.yield
// A NaN key is table row 2.
// CHECK: [[ISNAN:%[0-9]+]] = arith.cmpf uno, [[KEY]], [[KEY]] : f64
// CHECK-NEXT: [[CODE:%[0-9]+]] = arith.select [[ISNAN]], %{{[0-9]+}}, [[FOUND]] : i64
// Gather the row's two values, NaN where no row matched.
// CHECK-NEXT: [[KNOWN:%[0-9]+]] = arith.cmpi sge, [[CODE]], %{{[0-9]+}} : i64
// CHECK: [[MEAN:%[0-9]+]] = memref.load [[TABLE]][%{{[0-9]+}}] : memref<6xf64>
// CHECK-NEXT: [[MEANV:%[0-9]+]] = arith.select [[KNOWN]], [[MEAN]], [[NAN]] : f64
// CHECK: [[N:%[0-9]+]] = memref.load [[TABLE]][%{{[0-9]+}}] : memref<6xf64>
// CHECK-NEXT: [[NV:%[0-9]+]] = arith.select [[KNOWN]], [[N]], [[NAN]] : f64
// The joined frame's columns: "age" read from the input frame, then the gathered values.
// CHECK-NEXT: [[AGEV:%[0-9]+]] = memref.load %[[AGE]][%[[ROW]]] : memref<?xf64>
// CHECK: memref.store [[AGEV]]
// CHECK: memref.store [[MEANV]]
// CHECK: memref.store [[NV]]
// CHECK-NOT: feature.
// LLVM: define void @"joined_stage0"(i64 %{{.*}}, ptr
// LLVM: bitcast double %{{.*}} to i64
// LLVM: ret void

// -----

// .loc on a key of two columns: each column's code, packed and looked up as an i64 key; a row
// whose key is missing is flagged to run in Python (where pandas raises KeyError).
func.func @located(%a: tensor<?x1xi64>, %b: tensor<?x1xi64>) -> tensor<?x1xf64> {
  %p = feature.pack_codes %a, %b radix [3 : i64, 4 : i64] : (tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?x1xi64>
  %r = feature.lookup_keys %p[0] keys <keys_4 : tensor<2xi64>> table <slots_5 : tensor<8xi64>> probes 1 nan_row -1 : tensor<?x1xi64> -> tensor<?x1xi64>
  %v = feature.gather_rows %r values <table_6 : tensor<2x1xf64>> fill 0x7FF8000000000000 : f64 on_missing python : tensor<?x1xi64> -> tensor<?x1xf64>
  func.return %v : tensor<?x1xf64>
}

// CHECK: func.func @located_stage0
// CHECK-SAME: {value = "located_stage0.python_rows", width = 1 : i64, dtype = "i8", shape = [], role = "python_rows", reasons = ["lookup-miss"]}
// Packing: any negative code gives -1, else a * 4 + b.
// CHECK: [[A:%[0-9]+]] = memref.load
// CHECK: [[ANEG:%[0-9]+]] = arith.cmpi slt, [[A]], %{{[0-9]+}} : i64
// CHECK: arith.muli %{{[0-9]+}}, %{{[0-9]+}} : i64
// CHECK: [[B:%[0-9]+]] = memref.load
// CHECK: arith.cmpi slt, [[B]], %{{[0-9]+}} : i64
// CHECK: [[PACKED:%[0-9]+]] = arith.select %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}} : i64
// An i64 key is hashed as it is, and compared as an integer.
// CHECK-NEXT: arith.muli [[PACKED]], %{{[0-9]+}} : i64
// CHECK: arith.cmpi eq, %{{[0-9]+}}, [[PACKED]] : i64
// The row is flagged when no row matched.
// CHECK: [[KNOWN:%[0-9]+]] = arith.cmpi sge, %{{[0-9]+}}, %{{[0-9]+}} : i64
// CHECK-NEXT: [[MISSING:%[0-9]+]] = arith.xori [[KNOWN]], %{{[0-9]+}} : i1
// CHECK: [[FLAG:%[0-9]+]] = arith.extui [[MISSING]] : i1 to i8
// CHECK-NEXT: memref.store [[FLAG]]
// LLVM: define void @"located_stage0"(i64 %{{.*}}, ptr

// -----

// A tree ensemble reading its input rows in place: the first row of each block of 64 sums
// the block tree by tree into a stack buffer. Float32 inputs are rounded once per block into
// a stack buffer. From 8 rows, the block's rows walk each tree together: a pass moves every
// row still at an internal node (negative: a leaf) down one level and compacts the list of
// those still inside; fewer rows walk one after another, an scf.while on the node number.
// NaN goes the node's missing way; each row then reads its sums.
func.func @forest(%x: tensor<?x4xf64>) -> tensor<?x2xf64> {
  %r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<5x2xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<2xf64>> compare "le" input "f32" sum "f64" flags 1 divisor 2.000000e+00 : f64 check "none" : tensor<?x4xf64> -> tensor<?x2xf64>
  func.return %r : tensor<?x2xf64>
}

// CHECK: func.func @forest_stage0
// CHECK: [[ROUNDED:%[0-9]+]] = memref.alloca() : memref<256xf64>
// CHECK: [[SUMS:%[0-9]+]] = memref.alloca() : memref<128xf64>
// CHECK: [[REACHED:%[0-9]+]] = memref.alloca() : memref<64xi32>
// CHECK-NEXT: [[ACTIVE:%[0-9]+]] = memref.alloca() : memref<64xi32>
// CHECK: scf.for [[ROW:%[0-9]+]] = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} {
// CHECK-NEXT: [[AT:%[0-9]+]] = arith.remui [[ROW]], %{{[0-9]+}} : index
// CHECK-NEXT: [[FIRST:%[0-9]+]] = arith.cmpi eq, [[AT]], %{{[0-9]+}} : index
// CHECK-NEXT: scf.if [[FIRST]] {
// CHECK: [[X:%[0-9]+]] = memref.load %{{.*}}[%{{[0-9]+}}] : memref<?xf64>
// CHECK-NEXT: [[X32:%[0-9]+]] = arith.truncf [[X]] : f64 to f32
// CHECK-NEXT: [[XR:%[0-9]+]] = arith.extf [[X32]] : f32 to f64
// CHECK-NEXT: memref.store [[XR]], [[ROUNDED]]
// CHECK: [[MANY:%[0-9]+]] = arith.cmpi uge, %{{[0-9]+}}, %{{[0-9]+}} : index
// CHECK-NEXT: scf.if [[MANY]] {
// CHECK: scf.while ([[LEFT:%.*]] = %{{[0-9]+}}) : (index) -> index {
// CHECK-NEXT: [[ANY:%[0-9]+]] = arith.cmpi ugt, [[LEFT]], %{{[0-9]+}} : index
// CHECK-NEXT: scf.condition([[ANY]]) [[LEFT]] : index
// CHECK: scf.for %{{[0-9]+}} = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args([[KEPT:%.*]] = %{{[0-9]+}}) -> (index) {
// CHECK: [[V:%[0-9]+]] = memref.load [[ROUNDED]]
// CHECK: [[LE:%[0-9]+]] = arith.cmpf ole, [[V]], %{{[0-9]+}} : f64
// CHECK: [[NAN:%[0-9]+]] = arith.cmpf uno, [[V]], [[V]] : f64
// CHECK: arith.select [[NAN]], %{{[0-9]+}}, [[LE]] : i1
// CHECK: memref.store %{{[0-9]+}}, [[REACHED]]
// CHECK-NEXT: memref.store %{{[0-9]+}}, [[ACTIVE]][[[KEPT]]]
// CHECK: } else {
// CHECK: [[LEAF:%[0-9]+]] = scf.while ([[NODE:%.*]] = %{{[0-9]+}}) : (i32) -> i32 {
// CHECK-NEXT: [[INTERNAL:%[0-9]+]] = arith.cmpi sge, [[NODE]], %{{[0-9]+}} : i32
// CHECK-NEXT: scf.condition([[INTERNAL]]) [[NODE]] : i32
// CHECK: arith.xori [[LEAF]], %{{[0-9]+}} : i32
// CHECK: memref.store %{{[0-9]+}}, [[SUMS]][%{{[0-9]+}}] : memref<128xf64>
// CHECK: memref.load [[SUMS]]
// CHECK: arith.divf %{{.*}}, %{{.*}} : f64
// LLVM: define void @"forest_stage0"(i64 %{{.*}}, ptr
// LLVM: alloca double, i64 256
// LLVM: alloca double, i64 128
// LLVM: fptrunc double %{{.*}} to float

// -----

// With "top 2" each tree's first two levels are a complete binary tree from its root: from 8
// rows, every row of the block first goes down them a level at a time by index arithmetic
// (level 0: node root + 0; its child root + 2i + 1 + right, stored without loading a child),
// then the last of them loads the child and starts the list of rows still inside, which the
// ordinary passes walk on. Missing values go the node's way (flags 1).
func.func @top_levels(%x: tensor<?x4xf64>) -> tensor<?x1xf32> {
  %r = feature.tree_ensemble %x nodes <n : tensor<7x4xi32>> thresholds <t : tensor<7xf64>> leaves <l : tensor<6x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "lt" input "f32" sum "f32" flags 1 check "none" top 2 : tensor<?x4xf64> -> tensor<?x1xf32>
  func.return %r : tensor<?x1xf32>
}

// CHECK: func.func @top_levels_stage0
// CHECK: [[REACHED:%[0-9]+]] = memref.alloca() : memref<64xi32>
// CHECK-NEXT: [[ACTIVE:%[0-9]+]] = memref.alloca() : memref<64xi32>
// CHECK: [[MANY:%[0-9]+]] = arith.cmpi uge, %{{[0-9]+}}, %{{[0-9]+}} : index
// CHECK-NEXT: scf.if [[MANY]] {
// CHECK-NEXT: [[ROOT:%[0-9]+]] = arith.index_cast %{{[0-9]+}} : i32 to index
// CHECK-NEXT: scf.for [[I:%[0-9]+]] = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} {
// CHECK-NEXT: [[NODE:%[0-9]+]] = arith.addi [[ROOT]], %{{[0-9]+}} : index
// CHECK: [[LT:%[0-9]+]] = arith.cmpf olt, %{{[0-9]+}}, %{{[0-9]+}} : f64
// CHECK: [[NAN:%[0-9]+]] = arith.cmpf uno
// CHECK: [[LEFT:%[0-9]+]] = arith.select [[NAN]], %{{[0-9]+}}, [[LT]] : i1
// CHECK-NEXT: [[RIGHT:%[0-9]+]] = arith.xori [[LEFT]], %{{[0-9]+}} : i1
// CHECK-NOT: memref.load
// CHECK: memref.store %{{[0-9]+}}, [[REACHED]][[[I]]] : memref<64xi32>
// CHECK-NEXT: }
// CHECK-NEXT: [[INSIDE:%[0-9]+]] = scf.for [[J:%[0-9]+]] = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args([[KEPT:%.*]] = %{{[0-9]+}}) -> (index) {
// CHECK-NEXT: [[AT:%[0-9]+]] = memref.load [[REACHED]][[[J]]] : memref<64xi32>
// CHECK: [[CHILD:%[0-9]+]] = arith.select %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}} : i32
// CHECK: memref.store [[CHILD]], [[REACHED]][[[J]]] : memref<64xi32>
// CHECK-NEXT: memref.store %{{[0-9]+}}, [[ACTIVE]][[[KEPT]]] : memref<64xi32>
// CHECK: scf.while ({{%[0-9]+}} = [[INSIDE]]) : (index) -> index {
// LLVM: define void @"top_levels_stage0"(i64 %{{.*}}, ptr

// -----

// With layout "branches" the block's tree sums are one call to a function that the LLVM IR
// translation writes from the bound blobs (here unbound: it stays a declaration).
func.func @generated(%x: tensor<?x4xf64>) -> tensor<?x1xf32> {
  %r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<5x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "lt" input "f32" sum "f32" flags 1 check "none" layout "branches" : tensor<?x4xf64> -> tensor<?x1xf32>
  func.return %r : tensor<?x1xf32>
}

// CHECK: func.func private @[[TREES:wm_trees_[0-9a-f]+]](memref<?xf64>, index, index, memref<?xf64>) -> () attributes {willump.tree_branches = {nodes = #pipeline.blob<n : tensor<3x4xi32>>, thresholds = #pipeline.blob<t : tensor<3xf64>>, leaves = #pipeline.blob<l : tensor<5x1xf64>>, roots = #pipeline.blob<r : tensor<2xi32>>, tree_outputs = #pipeline.blob<o : tensor<2xi32>>, features = 4 : i64, outputs = 1 : i64, compare = "lt", input = "f32", sum = "f32"}}
// CHECK: func.func @generated_stage0(%{{[0-9]+}}: index, %{{[0-9]+}}: memref<?xi64>, %{{[0-9]+}}: memref<?xf32>, [[X:%[0-9]+]]: memref<?xf64>)
// CHECK: [[SUMS:%[0-9]+]] = memref.alloca() : memref<1024xf64>
// CHECK-NOT: scf.while
// CHECK: [[BUFFER:%[0-9]+]] = "memref.cast"([[SUMS]]) : (memref<1024xf64>) -> memref<?xf64>
// CHECK-NEXT: func.call @[[TREES]]([[X]], %{{[0-9]+}}, %{{[0-9]+}}, [[BUFFER]]) : (memref<?xf64>, index, index, memref<?xf64>) -> ()
// LLVM: declare void @"wm_trees_{{[0-9a-f]+}}"(ptr {{.*}}, i64 {{.*}}, i64 {{.*}}, ptr {{.*}})
// LLVM: call ccc void @"wm_trees_{{[0-9a-f]+}}"(ptr

// -----

// A branches ensemble too large to run a row at a time, whose rows a scaler computes, gets a
// kernel of its own (stage0_1) reading the rows stage0 stores; the stage's Python calls
// still run after both kernels, in program order.
func.func @stored(%x: tensor<?x2xf64>) -> (tensor<?x2xf64>, tensor<?x2xf64>) {
  %s = feature.standardize %x sub <m : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %r = feature.tree_ensemble %s nodes <n : tensor<3000x4xi32>> thresholds <t : tensor<3000xf64>> leaves <l : tensor<3001x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f64" sum "f64" flags 0 check "none" layout "branches" : tensor<?x2xf64> -> tensor<?x1xf64>
  %p1 = pipeline.python_call "first"(%r) reason "udf" : (tensor<?x1xf64>) -> tensor<?x2xf64>
  %p2 = pipeline.python_call "second"(%x) reason "udf" : (tensor<?x2xf64>) -> tensor<?x2xf64>
  func.return %p1, %p2 : tensor<?x2xf64>, tensor<?x2xf64>
}

// CHECK: stored = {steps = [{kernel = "stored_stage0"}, {kernel = "stored_stage0_1"}, {python = "first", args = ["v1"], results = ["v2"]}, {python = "second", args = ["arg0"], results = ["v3"]}]
// CHECK: func.func @stored_stage0(
// CHECK-SAME: willump.outputs = [{value = "v0", width = 2 : i64
// CHECK: func.func @stored_stage0_1(
// CHECK-SAME: willump.inputs = [{value = "v0", part = "values", dtype = "f64", width = 2 : i64}]

// -----

// Rows computed in the kernel (a scaler first) are stored once, rounded, in a row on the
// stack and summed alone; categorical splits test a bit of the node's bitset.
func.func @boosted(%x: tensor<?x2xf64>) -> tensor<?x3xf64> {
  %s = feature.standardize %x sub <m : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %r = feature.tree_ensemble %s nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<6x1xf64>> roots <r : tensor<3xi32>> tree_outputs <o : tensor<3xi32>> base <b : tensor<3xf64>> categories <cr : tensor<3x2xi32>>, <cb : tensor<2xi32>> compare "le" input "f64" sum "f64" flags 83 check "infinite" columns [1 : i64] : tensor<?x2xf64> -> tensor<?x3xf64>
  func.return %r : tensor<?x3xf64>
}

// CHECK: func.func @boosted_stage0
// CHECK: [[ROWBUF:%[0-9]+]] = memref.alloca() : memref<2xf64>
// CHECK: [[SUMBUF:%[0-9]+]] = memref.alloca() : memref<3xf64>
// CHECK: memref.store %{{[0-9]+}}, [[ROWBUF]][%{{.*}}] : memref<2xf64>
// CHECK: scf.while
// CHECK: memref.load [[ROWBUF]]
// CHECK: math.trunc
// CHECK: arith.fptosi %{{[0-9]+}} : f64 to i32
// CHECK: arith.shrui
// LLVM: define void @"boosted_stage0"(i64 %{{.*}}, ptr

// -----

// Integer and boolean columns: an int64 column read as i64, numpy's promotion (i64 - i64
// stays i64, i64 / f64 is f64, i64 >= i64 compares as integers) and astype(int) of a
// boolean (zero-extended) and of a float column (a NaN or infinity is error 5; out of range is
// -2**63, as numpy gives).

func.func @years(%df: !pipeline.frame<"year" : f64, "x" : f64>) -> (tensor<?xf64>, tensor<?xi64>) {
  %y = pipeline.to_array %df ["year"] : !pipeline.frame<"year" : f64, "x" : f64> -> tensor<?x1xi64>
  %x = pipeline.to_array %df ["x"] : !pipeline.frame<"year" : f64, "x" : f64> -> tensor<?x1xf64>
  %k = pipeline.constant 2010 : i64
  %d = pipeline.binary "sub" %y, %k : (tensor<?x1xi64>, i64) -> tensor<?x1xi64>
  %q = pipeline.binary "div" %d, %x : (tensor<?x1xi64>, tensor<?x1xf64>) -> tensor<?x1xf64>
  %g = pipeline.binary "ge" %y, %k : (tensor<?x1xi64>, i64) -> tensor<?x1xi1>
  %c = pipeline.cast %g : tensor<?x1xi1> -> tensor<?x1xi64>
  %t = pipeline.cast %x : tensor<?x1xf64> -> tensor<?x1xi64>
  %s = pipeline.binary "add" %c, %t : (tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?x1xi64>
  %q0 = pipeline.take_column %q [0] : tensor<?x1xf64> -> tensor<?xf64>
  %s0 = pipeline.take_column %s [0] : tensor<?x1xi64> -> tensor<?xi64>
  func.return %q0, %s0 : tensor<?xf64>, tensor<?xi64>
}

// CHECK-LABEL: builtin.module attributes {willump.schedule = {years = {steps = [{kernel = "years_stage0"}], returns = ["v9", "v10"], errors = {"7" = {op = "pipeline.cast"}}, constants = {v2 = 2010 : i64}}}} {
// CHECK:       willump.inputs = [{value = "arg0", part = "values", dtype = "i64", column = "year"}, {value = "arg0", part = "values", dtype = "f64", column = "x"}]
// CHECK-DAG:   [[K:%[0-9]+]] = arith.constant 2010 : i64
// CHECK-DAG:   [[LIMIT:%[0-9]+]] = arith.constant 9.2233720368547758e+18 : f64
// CHECK-DAG:   [[MIN:%[0-9]+]] = arith.constant -9223372036854775808 : i64
// CHECK:       scf.for
// CHECK:         [[YEAR:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xi64>
// CHECK:         [[X:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xf64>
// CHECK-NEXT:    [[D:%[0-9]+]] = arith.subi [[YEAR]], [[K]] : i64
// CHECK-NEXT:    [[DF:%[0-9]+]] = arith.sitofp [[D]] : i64 to f64
// CHECK-NEXT:    {{%[0-9]+}} = arith.divf [[DF]], [[X]] : f64
// CHECK-NEXT:    [[GE:%[0-9]+]] = arith.cmpi sge, [[YEAR]], [[K]] : i64
// CHECK-NEXT:    [[C:%[0-9]+]] = arith.extui [[GE]] : i1 to i64
// CHECK:         [[ABS:%[0-9]+]] = math.absf [[X]] : f64
// CHECK-NEXT:    {{%[0-9]+}} = arith.cmpf uge, [[ABS]], {{%[0-9]+}} : f64
// CHECK:         [[IN:%[0-9]+]] = arith.cmpf olt, [[ABS]], [[LIMIT]] : f64
// CHECK-NEXT:    [[SAFE:%[0-9]+]] = arith.select [[IN]], [[X]], {{%[0-9]+}} : f64
// CHECK-NEXT:    [[T:%[0-9]+]] = arith.fptosi [[SAFE]] : f64 to i64
// CHECK-NEXT:    [[TT:%[0-9]+]] = arith.select [[IN]], [[T]], [[MIN]] : i64
// CHECK-NEXT:    {{%[0-9]+}} = arith.addi [[C]], [[TT]] : i64

// LLVM-LABEL: define void @"years_stage0"
// LLVM:         call i64 @"llvm.fptosi.sat.i64.f64"(double

// -----

// Constant columns (df["bias"] = 1.0 over a frame, a constant over a 2-wide batch, a batch
// reduction over a column): each value of the row is the scalar itself; the rows operand is
// not read. The reduction runs in its own kernel first and reaches the next row kernel as a
// one-value argument.

func.func @constants(%df: !pipeline.frame<"x" : f64>) -> (tensor<?xf64>, tensor<?x2xi64>, tensor<?xf64>) {
  %c = pipeline.constant 1.0 : f64
  %b = pipeline.broadcast %c over %df : f64 over !pipeline.frame<"x" : f64> -> tensor<?xf64>
  %x = pipeline.to_array %df ["x"] : !pipeline.frame<"x" : f64> -> tensor<?x1xf64>
  %h = pipeline.hstack %x, %x : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x2xf64>
  %k = pipeline.constant 3 : i64
  %z = pipeline.broadcast %k over %h : i64 over tensor<?x2xf64> -> tensor<?x2xi64>
  %x0 = pipeline.take_column %x [0] : tensor<?x1xf64> -> tensor<?xf64>
  %m = pipeline.reduce "mean" %x0 : tensor<?xf64> -> f64
  %r = pipeline.broadcast %m over %x0 : f64 over tensor<?xf64> -> tensor<?xf64>
  func.return %b, %z, %r : tensor<?xf64>, tensor<?x2xi64>, tensor<?xf64>
}

// CHECK-LABEL: builtin.module attributes {willump.schedule = {constants = {steps = [{kernel = "constants_stage0"}, {kernel = "constants_stage0_1_reduce"}, {kernel = "constants_stage0_1"}], returns = ["v1", "v5", "v8"]
// CHECK:       func.func @constants_stage0(
// CHECK-DAG:   [[ONE:%[0-9]+]] = arith.constant 1.000000e+00 : f64
// CHECK-DAG:   [[THREE:%[0-9]+]] = arith.constant 3 : i64
// CHECK:       scf.for %[[ROW:[0-9]+]] =
// CHECK-NEXT:    memref.load
// CHECK-NEXT:    memref.store [[ONE]], %{{[0-9]+}}[%[[ROW]]] : memref<?xf64>
// CHECK-NEXT:    [[AT:%[0-9]+]] = arith.muli %[[ROW]], %{{[0-9]+}} : index
// CHECK-NEXT:    memref.store [[THREE]], %{{[0-9]+}}[[[AT]]] : memref<?xi64>
// CHECK-NEXT:    [[NEXT:%[0-9]+]] = arith.addi [[AT]], %{{[0-9]+}} : index
// CHECK-NEXT:    memref.store [[THREE]], %{{[0-9]+}}[[[NEXT]]] : memref<?xi64>
// CHECK:       func.func @constants_stage0_1(
// CHECK-SAME:    willump.inputs = [{value = "v7", part = "scalar", dtype = "f64", width = 1 : i64}]
// CHECK:       scf.for %[[ROW:[0-9]+]] =
// CHECK-NEXT:    [[MEAN:%[0-9]+]] = memref.load %{{[0-9]+}}[%{{[0-9]+}}] : memref<?xf64>
// CHECK-NEXT:    memref.store [[MEAN]], %{{[0-9]+}}[%[[ROW]]] : memref<?xf64>

// LLVM-LABEL: define void @"constants_stage0"

// -----

// A float32 column read as f32 and computed on in float32 as numpy does (a Python number
// beside it is an f32 constant, NEP 50); beside a float64 column it is widened exactly, and
// astype(float32) of a float64 column rounds to nearest.

func.func @narrow(%df: !pipeline.frame<"h" : f64, "x" : f64>) -> (tensor<?xf32>, tensor<?xf64>, tensor<?xf32>) {
  %h = pipeline.to_array %df ["h"] : !pipeline.frame<"h" : f64, "x" : f64> -> tensor<?x1xf32>
  %x = pipeline.to_array %df ["x"] : !pipeline.frame<"h" : f64, "x" : f64> -> tensor<?x1xf64>
  %c = pipeline.constant 0.1 : f32
  %m = pipeline.binary "mul" %h, %c : (tensor<?x1xf32>, f32) -> tensor<?x1xf32>
  %a = pipeline.binary "add" %m, %x : (tensor<?x1xf32>, tensor<?x1xf64>) -> tensor<?x1xf64>
  %n = pipeline.cast %x : tensor<?x1xf64> -> tensor<?x1xf32>
  %m0 = pipeline.take_column %m [0] : tensor<?x1xf32> -> tensor<?xf32>
  %a0 = pipeline.take_column %a [0] : tensor<?x1xf64> -> tensor<?xf64>
  %n0 = pipeline.take_column %n [0] : tensor<?x1xf32> -> tensor<?xf32>
  func.return %m0, %a0, %n0 : tensor<?xf32>, tensor<?xf64>, tensor<?xf32>
}

// CHECK:       willump.inputs = [{value = "arg0", part = "values", dtype = "f32", column = "h"}, {value = "arg0", part = "values", dtype = "f64", column = "x"}
// CHECK:       scf.for
// CHECK-NEXT:    [[H:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xf32>
// CHECK-NEXT:    [[X:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xf64>
// CHECK-NEXT:    [[M:%[0-9]+]] = arith.mulf [[H]], {{%[0-9]+}} : f32
// CHECK-NEXT:    [[W:%[0-9]+]] = arith.extf [[M]] : f32 to f64
// CHECK-NEXT:    {{%[0-9]+}} = arith.addf [[W]], [[X]] : f64
// CHECK-NEXT:    {{%[0-9]+}} = arith.truncf [[X]] : f64 to f32

// LLVM-LABEL: define void @"narrow_stage0"
// LLVM:         fmul float

// -----

// A speculative cast (Series.map to int64 values): a value that is not an exact integer
// (NaN from a missing key, a fraction, out of range) is error 6, after which the runtime
// runs the original function; no error 5 for NaN.

func.func @mapped(%x: tensor<?x1xf64>) -> tensor<?x1xi64> {
  %k = pipeline.cast %x speculative : tensor<?x1xf64> -> tensor<?x1xi64>
  func.return %k : tensor<?x1xi64>
}

// CHECK-LABEL: errors = {"0" = {op = "pipeline.cast"}}
// CHECK-NOT:     arith.constant 5 : i64
// CHECK:         [[SIX:%[0-9]+]] = arith.constant 6 : i64
// CHECK:       scf.for
// CHECK-NEXT:    [[X:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xf64>
// CHECK-NEXT:    [[ABS:%[0-9]+]] = math.absf [[X]] : f64
// CHECK-NEXT:    [[IN:%[0-9]+]] = arith.cmpf olt, [[ABS]], {{%[0-9]+}} : f64
// CHECK-NEXT:    [[SAFE:%[0-9]+]] = arith.select [[IN]], [[X]], {{%[0-9]+}} : f64
// CHECK-NEXT:    [[T:%[0-9]+]] = arith.fptosi [[SAFE]] : f64 to i64
// CHECK-NEXT:    [[BACK:%[0-9]+]] = arith.sitofp [[T]] : i64 to f64
// CHECK-NEXT:    {{%[0-9]+}} = arith.cmpf une, [[BACK]], [[X]] : f64
// CHECK:         scf.if
// CHECK-NEXT:      memref.store [[SIX]]

// -----

// numpy's floor division of int64: the divisor is 1 where the hardware would trap (a zero
// divisor gives 0, -2**63 // -1 gives -2**63), the truncated quotient moves down where the
// signs differ and it is inexact; pandas' (speculative) records error 6 at a zero divisor.
// A float remainder is llvm.frem moved to the divisor's sign (npy_divmod); fmax is maxnum,
// after error 8 where its operands are 0.0 and -0.0 (numpy keeps either by the row's place).

func.func @divisions(%k: tensor<?x1xi64>, %j: tensor<?x1xi64>, %x: tensor<?x1xf64>) -> (tensor<?x1xi64>, tensor<?x1xf64>) {
  %q = pipeline.binary "floor_divide" %k, %j speculative : (tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?x1xi64>
  %r = pipeline.binary "remainder" %x, %x : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>
  %m = pipeline.binary "fmax" %r, %x : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>
  func.return %q, %m : tensor<?x1xi64>, tensor<?x1xf64>
}

// CHECK-LABEL: errors = {"0" = {op = "pipeline.binary"}, "2" = {op = "pipeline.binary"}}
// CHECK:         [[SIX:%[0-9]+]] = arith.constant 6 : i64
// CHECK:         [[EIGHT:%[0-9]+]] = arith.constant 8 : i64
// CHECK:       scf.for
// CHECK-NEXT:    [[K:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xi64>
// CHECK-NEXT:    [[J:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xi64>
// CHECK-NEXT:    {{%[0-9]+}} = arith.cmpi eq, [[J]], {{%[0-9]+}} : i64
// CHECK:         scf.if
// CHECK-NEXT:      memref.store [[SIX]]
// CHECK:         [[ZERO:%[0-9]+]] = arith.cmpi eq, [[J]], {{%[0-9]+}} : i64
// CHECK:         [[SAFE:%[0-9]+]] = arith.select {{%[0-9]+}}, {{%[0-9]+}}, [[J]] : i64
// CHECK-NEXT:    {{%[0-9]+}} = arith.remsi [[K]], [[SAFE]] : i64
// CHECK:         [[Q:%[0-9]+]] = arith.divsi [[K]], [[SAFE]] : i64
// CHECK:         {{%[0-9]+}} = arith.select [[ZERO]], {{%[0-9]+}}, {{%[0-9]+}} : i64
// CHECK:         [[X:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xf64>
// CHECK-NEXT:    [[MOD:%[0-9]+]] = llvm.frem [[X]], [[X]] : f64
// CHECK:         math.copysign
// CHECK-NEXT:    arith.select
// CHECK-NEXT:    {{%[0-9]+}} = arith.addf [[MOD]], [[X]] : f64
// CHECK-NEXT:    arith.select
// CHECK-NEXT:    [[R:%[0-9]+]] = arith.select {{%[0-9]+}}, [[MOD]], {{%[0-9]+}} : f64
// CHECK:         math.copysign {{%[0-9]+}}, [[R]] : f64
// CHECK-NEXT:    math.copysign {{%[0-9]+}}, [[X]] : f64
// CHECK-NEXT:    arith.cmpf une
// CHECK:         scf.if
// CHECK-NEXT:      memref.store [[EIGHT]]
// CHECK:         {{%[0-9]+}} = arith.maxnumf [[R]], [[X]] : f64

// LLVM-LABEL: define void @"divisions_stage0"
// LLVM:         frem double
// LLVM:         call double @"llvm.maxnum.f64"

// -----

// np.hypot is a call of libm's hypot, as numpy's loop (MLIR's math has no hypot), declared
// once; an int64 operand is converted first.

func.func @hypot_of(%x: tensor<?x1xf64>, %k: tensor<?x1xi64>) -> tensor<?x1xf64> {
  %h = pipeline.binary "hypot" %x, %k : (tensor<?x1xf64>, tensor<?x1xi64>) -> tensor<?x1xf64>
  %g = pipeline.binary "hypot" %h, %x : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>
  func.return %g : tensor<?x1xf64>
}

// CHECK:         func.func private @hypot(f64, f64) -> f64
// CHECK-NOT:     func.func private @hypot
// CHECK-LABEL: func.func @hypot_of_stage0
// CHECK:         [[K:%[0-9]+]] = arith.sitofp {{%[0-9]+}} : i64 to f64
// CHECK-NEXT:    [[H:%[0-9]+]] = func.call @hypot({{%[0-9]+}}, [[K]]) : (f64, f64) -> f64
// CHECK-NEXT:    {{%[0-9]+}} = func.call @hypot([[H]], {{%[0-9]+}}) : (f64, f64) -> f64

// LLVM:         declare double @"hypot"(double
// LLVM-LABEL: define void @"hypot_of_stage0"
// LLVM:         call ccc double @"hypot"(double

// -----

// numpy's trigonometric, hyperbolic and logarithmic ufuncs are numpy's own loops, f64 and
// f32 alike: of an input column, over a chunk of 256 rows into a stack buffer when the row
// leaves the chunk last computed (feature.ufunc_loop), a ufunc of such a value over that
// chunk in the same fill; rint is round-half-to-even, and trunc of an int64 is the value
// itself.

func.func @math(%x: tensor<?x1xf64>, %k: tensor<?x1xi64>, %f: tensor<?x1xf32>) -> (tensor<?x1xf64>, tensor<?x1xi64>, tensor<?x1xf32>) {
  %s = pipeline.unary "sin" %x : tensor<?x1xf64> -> tensor<?x1xf64>
  %a = pipeline.unary "arccos" %s : tensor<?x1xf64> -> tensor<?x1xf64>
  %h = pipeline.unary "arcsinh" %a : tensor<?x1xf64> -> tensor<?x1xf64>
  %l = pipeline.unary "log10" %h : tensor<?x1xf64> -> tensor<?x1xf64>
  %c = pipeline.unary "cbrt" %l : tensor<?x1xf64> -> tensor<?x1xf64>
  %r = pipeline.unary "rint" %c : tensor<?x1xf64> -> tensor<?x1xf64>
  %t = pipeline.unary "trunc" %k : tensor<?x1xi64> -> tensor<?x1xi64>
  %e = pipeline.unary "exp" %f : tensor<?x1xf32> -> tensor<?x1xf32>
  func.return %r, %t, %e : tensor<?x1xf64>, tensor<?x1xi64>, tensor<?x1xf32>
}

// CHECK-LABEL: func.func @math_stage0
// CHECK-SAME:      (%[[N:[0-9]+]]: index, %{{[0-9]+}}: memref<?xi64>, %{{.*}}, %[[X:[0-9]+]]: memref<?xf64>, %{{[0-9]+}}: memref<?xi64>, %[[F:[0-9]+]]: memref<?xf32>)
// CHECK-DAG:     %[[C0:[0-9]+]] = arith.constant 0 : index
// CHECK-DAG:     %[[SIZE:[0-9]+]] = arith.constant 256 : index
// CHECK:         %[[CHUNK:[0-9]+]] = memref.alloca() : memref<256xf64>
// CHECK-NEXT:    %[[FIRST:[0-9]+]] = memref.alloca() : memref<1xindex>
// CHECK-NEXT:    memref.store %[[N]], %[[FIRST]][%[[C0]]] : memref<1xindex>
// CHECK-NEXT:    %[[ACOS:[0-9]+]] = memref.alloca() : memref<256xf64>
// CHECK:         scf.for %[[I:[0-9]+]] =
// CHECK:           %[[AT:[0-9]+]] = memref.load %[[FIRST]][%[[C0]]] : memref<1xindex>
// CHECK-NEXT:      %[[OFFSET:[0-9]+]] = arith.subi %[[I]], %[[AT]] : index
// CHECK-NEXT:      %[[STALE:[0-9]+]] = arith.cmpi uge, %[[OFFSET]], %[[SIZE]] : index
// CHECK-NEXT:      scf.if %[[STALE]] {
// CHECK-NEXT:        %[[LEFT:[0-9]+]] = arith.subi %[[N]], %[[I]] : index
// CHECK-NEXT:        %[[COUNT:[0-9]+]] = arith.minui %[[LEFT]], %[[SIZE]] : index
// CHECK-NEXT:        feature.ufunc_loop "sin" %[[X]][%[[I]]] into %[[CHUNK]] count %[[COUNT]] : memref<?xf64>, memref<256xf64>
// CHECK-NEXT:        memref.store %[[I]], %[[FIRST]][%[[C0]]] : memref<1xindex>
// CHECK-NEXT:        feature.ufunc_loop "arccos" %[[CHUNK]][%[[C0]]] into %[[ACOS]] count %[[COUNT]] : memref<256xf64>, memref<256xf64>
// CHECK-NEXT:        feature.ufunc_loop "arcsinh" %[[ACOS]][%[[C0]]] into %{{[0-9]+}} count %[[COUNT]]
// CHECK-NEXT:        feature.ufunc_loop "log10"
// CHECK-NEXT:        feature.ufunc_loop "cbrt" %{{[0-9]+}}[%[[C0]]] into %[[CBRT:[0-9]+]] count %[[COUNT]]
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[K:[0-9]+]] = arith.select %[[STALE]], %[[C0]], %[[OFFSET]] : index
// CHECK:           %[[C:[0-9]+]] = memref.load %[[CBRT]][%[[K]]] : memref<256xf64>
// CHECK-NEXT:      %[[R:[0-9]+]] = math.roundeven %[[C]] : f64
// CHECK-NOT:       math.trunc
// CHECK:           feature.ufunc_loop "exp" %[[F]][%[[I]]] into %{{[0-9]+}} count %{{[0-9]+}} : memref<?xf32>, memref<256xf32>
// CHECK:           memref.store %[[R]]

// LLVM-LABEL: define void @"math_stage0"
// LLVM:         call ccc void @"willump.ufunc_loop.sin.f64"
// LLVM:         call ccc void @"willump.ufunc_loop.arccos.f64"
// LLVM:         call ccc void @"willump.ufunc_loop.cbrt.f64"
// LLVM:         call double @"llvm.roundeven.f64"

// -----

// A ufunc of exact arithmetic on columns (x * 0.5): the chunk's inputs are computed first,
// row by row with the columns read again at each row, into a second stack buffer that
// numpy's loop reads.

func.func @ahead(%x: tensor<?x1xf64>) -> tensor<?x1xf64> {
  %h = pipeline.constant 0.5 : f64
  %m = pipeline.binary "mul" %x, %h : (tensor<?x1xf64>, f64) -> tensor<?x1xf64>
  %l = pipeline.unary "log1p" %m : tensor<?x1xf64> -> tensor<?x1xf64>
  func.return %l : tensor<?x1xf64>
}

// CHECK-LABEL: func.func @ahead_stage0
// CHECK-SAME:      (%[[N:[0-9]+]]: index, %{{[0-9]+}}: memref<?xi64>, %{{[0-9]+}}: memref<?xf64>, %[[X:[0-9]+]]: memref<?xf64>)
// CHECK-DAG:     %[[C0:[0-9]+]] = arith.constant 0 : index
// CHECK-DAG:     %[[HALF:[0-9]+]] = arith.constant 5.000000e-01 : f64
// CHECK-DAG:     %[[INPUTS:[0-9]+]] = memref.alloca() : memref<256xf64>
// CHECK-DAG:     %[[CHUNK:[0-9]+]] = memref.alloca() : memref<256xf64>
// CHECK:         scf.for %[[I:[0-9]+]] =
// CHECK:           scf.if
// CHECK-NEXT:        %{{[0-9]+}} = arith.subi %[[N]], %[[I]] : index
// CHECK-NEXT:        %[[COUNT:[0-9]+]] = arith.minui
// CHECK-NEXT:        scf.for %[[J:[0-9]+]] = %[[C0]] to %[[COUNT]]
// CHECK-NEXT:          %[[ROW:[0-9]+]] = arith.addi %[[I]], %[[J]] : index
// CHECK-NEXT:          %[[V:[0-9]+]] = memref.load %[[X]][%[[ROW]]] : memref<?xf64>
// CHECK-NEXT:          %[[M:[0-9]+]] = arith.mulf %[[V]], %[[HALF]] : f64
// CHECK-NEXT:          memref.store %[[M]], %[[INPUTS]][%[[J]]] : memref<256xf64>
// CHECK-NEXT:        }
// CHECK-NEXT:        feature.ufunc_loop "log1p" %[[INPUTS]][%[[C0]]] into %[[CHUNK]] count %[[COUNT]] : memref<256xf64>, memref<256xf64>

// -----

// np.power of two columns is numpy's loop over chunks of both, computed ahead into two stack
// buffers; a row function's power (scalar_math) and a power of two scalars are numpy's
// scalar arithmetic, the C library's pow.

func.func @powers(%x: tensor<?x1xf64>, %y: tensor<?x1xf64>) -> (tensor<?x1xf64>, tensor<?x1xf64>, f64) {
  %c = pipeline.take_column %x [0] : tensor<?x1xf64> -> tensor<?xf64>
  %s = pipeline.reduce "mean" %c : tensor<?xf64> -> f64
  %p = pipeline.binary "power" %x, %y : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>
  %r = pipeline.binary "power" %x, %y scalar_math : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x1xf64>
  %t = pipeline.binary "power" %s, %s : (f64, f64) -> f64
  func.return %p, %r, %t : tensor<?x1xf64>, tensor<?x1xf64>, f64
}

// CHECK-LABEL: func.func @powers_stage0
// CHECK:         scf.if
// CHECK:           scf.for
// CHECK:             memref.store {{%[0-9]+}}, %[[LHS:[0-9]+]][{{%[0-9]+}}] : memref<256xf64>
// CHECK:             memref.store {{%[0-9]+}}, %[[RHS:[0-9]+]][{{%[0-9]+}}] : memref<256xf64>
// CHECK:           feature.ufunc_loop "power" %[[LHS]][{{%[0-9]+}}] with %[[RHS]] : memref<256xf64> into
// CHECK:         math.powf {{%[0-9]+}}, {{%[0-9]+}} : f64
// CHECK-NOT:     feature.ufunc
// CHECK:         math.powf

// -----

// FunctionTransformer(np.sqrt, validate=True): ``check_finite`` records NaN and infinity
// in the input before the function runs (scikit-learn's check_array refuses both).

func.func @validated(%x: tensor<?x1xf64>) -> tensor<?x1xf64> {
  %s = pipeline.unary "sqrt" %x {check_finite} : tensor<?x1xf64> -> tensor<?x1xf64>
  func.return %s : tensor<?x1xf64>
}

// CHECK-LABEL: func.func @validated_stage0
// CHECK:         scf.for
// CHECK:           arith.cmpf uno
// CHECK:           math.absf
// CHECK:           arith.cmpf oeq
// CHECK:           scf.if
// CHECK:           math.sqrt

// LLVM-LABEL: define void @"validated_stage0"
// LLVM:         fcmp uno double
// LLVM:         call double @"llvm.sqrt.f64"

// -----

// An hstack of a CSR input and a dense batch into a sparse matrix: the dense row becomes a
// segment of its nonzero entries (scipy's csr_matrix of a dense array stores NaN, not 0.0 or
// -0.0), each written at the next slot, which moves on only past a nonzero entry.

func.func @mixed(%s: tensor<?x3xf64, "csr">, %x: tensor<?x2xf64>) -> tensor<?x1xf64> {
  %h = pipeline.hstack %s, %x : (tensor<?x3xf64, "csr">, tensor<?x2xf64>) -> tensor<?x5xf64, "csr">
  %d = feature.sparse_linear %h coef <coef : tensor<1x5xf64>> offset 0 : (tensor<?x5xf64, "csr">) -> tensor<?x1xf64>
  func.return %d : tensor<?x1xf64>
}

// CHECK-LABEL: func.func @mixed_stage0
// CHECK-DAG:     [[NONE:%[0-9]+]] = arith.constant 0 : index
// CHECK-DAG:     [[ONE:%[0-9]+]] = arith.constant 1 : index
// CHECK-DAG:     [[ZERO:%[0-9]+]] = arith.constant 0.000000e+00 : f64
// CHECK-DAG:     [[C0:%[0-9]+]] = arith.constant 0 : i32
// CHECK-DAG:     [[C1:%[0-9]+]] = arith.constant 1 : i32
// CHECK:         scf.for
// CHECK:           memref.store [[C0]], [[IDS:%[0-9]+]][[[NONE]]] : memref<?xi32>
// CHECK-NEXT:      memref.store [[X0:%[0-9]+]], [[VALUES:%[0-9]+]][[[NONE]]] : memref<?xf64>
// CHECK-NEXT:      [[NZ0:%[0-9]+]] = arith.cmpf une, [[X0]], [[ZERO]] : f64
// CHECK-NEXT:      [[STEP0:%[0-9]+]] = arith.select [[NZ0]], [[ONE]], [[NONE]] : index
// CHECK-NEXT:      [[AT1:%[0-9]+]] = arith.addi [[NONE]], [[STEP0]] : index
// CHECK-NEXT:      memref.store [[C1]], [[IDS]][[[AT1]]] : memref<?xi32>
// CHECK-NEXT:      memref.store {{%[0-9]+}}, [[VALUES]][[[AT1]]] : memref<?xf64>
// CHECK:           [[COUNT:%[0-9]+]] = arith.addi [[AT1]], {{%[0-9]+}} : index
// CHECK:           scf.for {{%[0-9]+}} = [[NONE]] to [[COUNT]] step [[ONE]]

// -----

// isna of a string column: a placeholder category (empty, in no slot) is the code of every
// missing value, None and NaN alike: marker 3 (1 | 2) matches a row whose flag & 3 != 0.
func.func @missing(%df: !pipeline.frame<"c" : !pipeline.str>) -> tensor<?xi1> {
  %c = feature.encode_strings %df "c" bytes <b : tensor<1xui8>> offsets <o : tensor<3xi64>> table <t : tensor<8xi64>> probes 1 missing 1 marker 3 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>
  %v = pipeline.take_column %c [0] : tensor<?x1xi64> -> tensor<?xi64>
  %one = pipeline.constant 1 : i64
  %m = pipeline.binary "eq" %v, %one : (tensor<?xi64>, i64) -> tensor<?xi1>
  func.return %m : tensor<?xi1>
}

// CHECK-LABEL: func.func @missing_stage0(
// CHECK-DAG: [[ZERO:%[0-9]+]] = arith.constant 0 : i8
// CHECK-DAG: [[MARKER:%[0-9]+]] = arith.constant 3 : i8
// CHECK: [[IS_MISSING:%[0-9]+]] = arith.cmpi ne, [[FLAG:%[0-9]+]], [[ZERO]] : i8
// CHECK-NEXT: [[MARKED:%[0-9]+]] = arith.andi [[FLAG]], [[MARKER]] : i8
// CHECK-NEXT: [[FITTED:%[0-9]+]] = arith.cmpi ne, [[MARKED]], [[ZERO]] : i8
// CHECK-NEXT: [[UNKNOWN:%[0-9]+]] = arith.select [[IS_MISSING]], %{{[0-9]+}}, %{{[0-9]+}} : i64
// CHECK-NEXT: arith.select [[FITTED]], %{{[0-9]+}}, [[UNKNOWN]] : i64

// -----

// A fill before the encoder (SimpleImputer of str): NaN (filled_marker 2) takes the fill's
// code 0, after the encoder's own None category (missing 2, marker 1) is chosen.
func.func @imputed(%df: !pipeline.frame<"c" : !pipeline.str>) -> tensor<?x3xf64> {
  %c = feature.encode_strings %df "c" bytes <b : tensor<2xui8>> offsets <o : tensor<4xi64>> table <t : tensor<8xi64>> probes 1 missing 2 marker 1 filled 0 filled_marker 2 on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>
  %o = feature.onehot %c categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
  func.return %o : tensor<?x3xf64>
}

// CHECK-LABEL: func.func @imputed_stage0(
// CHECK-DAG: [[NAN:%[0-9]+]] = arith.constant 2 : i8
// CHECK-DAG: [[FILL:%[0-9]+]] = arith.constant 0 : i64
// CHECK: [[MARKED:%[0-9]+]] = arith.andi [[FLAG:%[0-9]+]], [[NAN]] : i8
// CHECK-NEXT: [[FILLED:%[0-9]+]] = arith.cmpi ne, [[MARKED]], %{{[0-9]+}} : i8
// CHECK-NEXT: arith.select [[FILLED]], [[FILL]], %{{[0-9]+}} : i64

// -----

// SimpleImputer(missing_values=None): None (filled_marker 1) takes the fill's code; NaN,
// which scikit-learn refuses, hands the row back to Python (the kernel's python_rows).
func.func @imputed_none(%df: !pipeline.frame<"c" : !pipeline.str>) -> tensor<?x3xf64> {
  %c = feature.encode_strings %df "c" bytes <b : tensor<2xui8>> offsets <o : tensor<4xi64>> table <t : tensor<8xi64>> probes 1 missing -1 filled 0 filled_marker 1 nan_refused on_unknown ignore : !pipeline.frame<"c" : !pipeline.str> -> tensor<?x1xi64>
  %o = feature.onehot %c categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
  func.return %o : tensor<?x3xf64>
}

// CHECK-LABEL: func.func @imputed_none_stage0(
// CHECK-SAME:  reasons = ["imputer-nan"]
// CHECK-DAG: [[NONE:%[0-9]+]] = arith.constant 1 : i8
// CHECK-DAG: [[NAN:%[0-9]+]] = arith.constant 2 : i8
// CHECK: [[MARKED:%[0-9]+]] = arith.andi [[FLAG:%[0-9]+]], [[NONE]] : i8
// CHECK-NEXT: [[FILLED:%[0-9]+]] = arith.cmpi ne, [[MARKED]], %{{[0-9]+}} : i8
// CHECK-NEXT: arith.select [[FILLED]], %{{[0-9]+}}, %{{[0-9]+}} : i64
// CHECK-NEXT: {{%[0-9]+}} = arith.andi [[FLAG]], [[NAN]] : i8

// -----

// Dates: a datetime column's ticks read as they are (the runtime checks their unit), "%b-%Y" text read byte by byte in an scf.if for rows of the format's width (8)
// that are not missing; any other row (or an invalid date) is error 7, after which the
// runtime runs the original function. Fields split the ticks with floor division; NaT
// (-2**63) gives NaN.

func.func @dates(%df: !pipeline.frame<"when" : !pipeline.str, "at" : !pipeline.datetime<"s">>, %ymd: tensor<?x3xf64>) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>) {
  %a = pipeline.datetime_column %df "at" : !pipeline.frame<"when" : !pipeline.str, "at" : !pipeline.datetime<"s">> -> tensor<?xi64>
  %y = pipeline.datetime_field "year" %a unit "s" : tensor<?xi64> -> tensor<?xf64>
  %t = pipeline.parse_datetime %df "when" "%b-%Y" unit "us" : !pipeline.frame<"when" : !pipeline.str, "at" : !pipeline.datetime<"s">> -> tensor<?xi64>
  %m = pipeline.datetime_field "month" %t unit "us" : tensor<?xi64> -> tensor<?xf64>
  %d = pipeline.make_datetime %ymd unit "ns" : tensor<?x3xf64> -> tensor<?xi64>
  %w = pipeline.datetime_field "dayofweek" %d unit "ns" : tensor<?xi64> -> tensor<?xf64>
  func.return %m, %w, %y : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
}

// CHECK-LABEL: errors = {"2" = {op = "pipeline.parse_datetime", column = "when"}, "4" = {op = "pipeline.make_datetime"}}
// CHECK:       willump.inputs = [{value = "arg0", part = "M8[s]", dtype = "i64", column = "at"}, {value = "arg0", part = "bytes", dtype = "i8", column = "when"}, {value = "arg0", part = "offsets", dtype = "i64", column = "when"}, {value = "arg0", part = "missing", dtype = "i8", column = "when"}, {value = "arg1", part = "values", dtype = "f64", width = 3 : i64}]
// CHECK-DAG:   [[WIDTH:%[0-9]+]] = arith.constant 8 : i64
// CHECK-DAG:   [[JAN:%[0-9]+]] = arith.constant 6971758 : i64
// CHECK-DAG:   {{%[0-9]+}} = arith.constant 7 : i64
// CHECK-DAG:   [[NAT:%[0-9]+]] = arith.constant -9223372036854775808 : i64
// CHECK-DAG:   {{%[0-9]+}} = arith.constant 1678 : i64
// CHECK-DAG:   {{%[0-9]+}} = arith.constant 86400000000000 : i64
// CHECK:       scf.for
// CHECK:         {{%[0-9]+}} = arith.cmpi eq, {{%[0-9]+}}, [[WIDTH]] : i64
// CHECK:         {{%[0-9]+}}, {{%[0-9]+}} = scf.if {{%[0-9]+}} -> (i64, i1) {
// CHECK:           arith.cmpi eq, {{%[0-9]+}}, [[JAN]] : i64
// CHECK:         } else {
// CHECK-NEXT:      scf.yield [[NAT]], {{%[0-9]+}} : i64, i1
// CHECK:         arith.divsi
// CHECK:         arith.remsi
// CHECK:         arith.fptosi

// LLVM-LABEL: define void @"dates_stage0"
// LLVM:         sdiv i64
// LLVM:         srem i64

// -----

// A date difference: NaT on either side gives NaT; a signed overflow, or a result of NaT's
// ticks, is error 7.

func.func @gap(%t: tensor<?xi64>) -> tensor<?xi64> {
  %k = pipeline.constant 86400 : i64
  %d = pipeline.datetime_sub %t, %k : (tensor<?xi64>, i64) -> tensor<?xi64>
  func.return %d : tensor<?xi64>
}

// CHECK-LABEL: errors = {"1" = {op = "pipeline.datetime_sub"}}
// CHECK:       scf.for
// CHECK:         [[A:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xi64>
// CHECK-NEXT:    [[D:%[0-9]+]] = arith.subi [[A]], [[K:%[0-9]+]] : i64
// CHECK-NEXT:    {{%[0-9]+}} = arith.cmpi eq, [[A]], [[NAT:%[0-9]+]] : i64
// CHECK-NEXT:    {{%[0-9]+}} = arith.cmpi eq, [[K]], [[NAT]] : i64
// CHECK:         arith.xori [[A]], [[K]] : i64
// CHECK-NEXT:    arith.xori [[A]], [[D]] : i64
// CHECK:         arith.cmpi eq, [[D]], [[NAT]] : i64
// CHECK:         arith.select {{%[0-9]+}}, [[NAT]], [[D]] : i64

// -----

// dt.year * 12 (int32 in pandas): the product in i64, truncated to i32 and sign-extended.
func.func @months(%y: tensor<?xi64>) -> tensor<?xi64> {
  %k = pipeline.constant 12 : i64
  %m = pipeline.binary "mul" %y, %k : (tensor<?xi64>, i64) -> tensor<?xi64>
  %w = pipeline.wrap_int %m bits 32 : tensor<?xi64> -> tensor<?xi64>
  func.return %w : tensor<?xi64>
}

// CHECK-LABEL: func.func @months_stage0(
// CHECK:         [[M:%[0-9]+]] = arith.muli {{%[0-9]+}}, {{%[0-9]+}} : i64
// CHECK-NEXT:    [[T:%[0-9]+]] = arith.trunci [[M]] : i64 to i32
// CHECK-NEXT:    {{%[0-9]+}} = arith.extsi [[T]] : i32 to i64

// -----

// A batch reduction: the column is stored by the first kernel, reduced once over all rows by
// a kernel of its own (numpy's pairwise sum), and read as a one-value scalar by the rows.
func.func @center(%df: !pipeline.frame<"a" : f64>) -> tensor<?xf64> {
  %x = pipeline.to_array %df ["a"] : !pipeline.frame<"a" : f64> -> tensor<?x1xf64>
  %a = pipeline.take_column %x [0] : tensor<?x1xf64> -> tensor<?xf64>
  %m = pipeline.reduce "mean" %a : tensor<?xf64> -> f64
  %s = pipeline.reduce "std" %a ddof 1 : i64 : tensor<?xf64> -> f64
  %d = pipeline.binary "sub" %a, %m : (tensor<?xf64>, f64) -> tensor<?xf64>
  %z = pipeline.binary "div" %d, %s : (tensor<?xf64>, f64) -> tensor<?xf64>
  func.return %z : tensor<?xf64>
}

// CHECK: steps = [{kernel = "center_stage0"}, {kernel = "center_stage0_1_reduce"}, {kernel = "center_stage0_1"}]
// CHECK: func.func private @wm_pairwise_sum_f64(%{{.*}}: memref<?xf64>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: f64, %{{.*}}: i1) -> f64
// CHECK: func.call @wm_pairwise_sum_f64
// CHECK: func.func @center_stage0_1_reduce(%{{.*}}: index, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>)
// CHECK-SAME: willump.outputs = [{value = "v2", width = 1 : i64, dtype = "f64", shape = [], scalar = "mean"}, {value = "v3", width = 1 : i64, dtype = "f64", shape = [], scalar = "std"}]
// CHECK: func.func @center_stage0_1(
// CHECK-SAME: {value = "v2", part = "scalar", dtype = "f64", width = 1 : i64}

// -----

// String ops: strip narrows the row, concatenation writes it into a scratch buffer sized by
// both columns' longest rows, a predicate whose missing values pandas makes NaN flags the row
// to run in Python.
func.func @names(%df: !pipeline.frame<"a" : !pipeline.str, "b" : !pipeline.str>) -> (tensor<?xf64>, tensor<?xi1>) {
  %a = pipeline.select_columns %df ["a"] : !pipeline.frame<"a" : !pipeline.str, "b" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  %b = pipeline.select_columns %df ["b"] : !pipeline.frame<"a" : !pipeline.str, "b" : !pipeline.str> -> !pipeline.frame<"b" : !pipeline.str>
  %t = pipeline.str_strip "both" %a : !pipeline.frame<"a" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  %n = pipeline.str_concat %t, %b pieces ["", " ", ""] : (!pipeline.frame<"a" : !pipeline.str>, !pipeline.frame<"b" : !pipeline.str>) -> !pipeline.frame<"a" : !pipeline.str>
  %k = pipeline.str_len %n : !pipeline.frame<"a" : !pipeline.str> -> tensor<?xf64>
  %m = pipeline.str_match "startswith" %b "x" na "python" : !pipeline.frame<"b" : !pipeline.str> -> tensor<?xi1>
  func.return %k, %m : tensor<?xf64>, tensor<?xi1>
}

// CHECK: func.func @names_stage0(
// CHECK-SAME: willump.inputs = [{value = "arg0", part = "bytes", dtype = "i8", column = "a"}, {value = "arg0", part = "offsets", dtype = "i64", column = "a"}, {value = "arg0", part = "missing", dtype = "i8", column = "a"}, {value = "arg0", part = "bytes", dtype = "i8", column = "b"}, {value = "arg0", part = "offsets", dtype = "i64", column = "b"}, {value = "arg0", part = "missing", dtype = "i8", column = "b"}, {value = "names_stage0.3.bytes", part = "scratch", dtype = "i8", size = {fixed = 2 : i64, per_byte = 1 : i64, value = "arg0", column = "a", more = [[1 : i64, "arg0", "b"]]}}]
// CHECK-SAME: willump.outputs = [{value = "v4", width = 1 : i64, dtype = "f64", shape = []}, {value = "v5", width = 1 : i64, dtype = "i1", shape = []}, {value = "names_stage0.python_rows", width = 1 : i64, dtype = "i8", shape = [], role = "python_rows", reasons = ["str-missing"]}]
// CHECK: scf.while
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<?xi8>
// CHECK: arith.sitofp %{{.*}} : i64 to f64

// -----

// The pieces of str.split(): a while loop decoding code points, a piece starting at each
// non-space one after a space; of str.split(","): a loop counting the byte.
func.func @pieces(%df: !pipeline.frame<"a" : !pipeline.str>) -> (tensor<?xf64>, tensor<?xf64>) {
  %w = pipeline.str_split_count %df : !pipeline.frame<"a" : !pipeline.str> -> tensor<?xf64>
  %c = pipeline.str_split_count %df sep "," : !pipeline.frame<"a" : !pipeline.str> -> tensor<?xf64>
  func.return %w, %c : tensor<?xf64>, tensor<?xf64>
}

// CHECK: func.func @pieces_stage0(
// CHECK: scf.while
// CHECK: arith.xori
// CHECK: arith.sitofp %{{.*}} : i64 to f64
// CHECK: scf.for
// CHECK: arith.cmpi eq, %{{.*}}, %{{.*}} : i8
// CHECK: arith.sitofp %{{.*}} : i64 to f64

// -----

// OneHotEncoder(min_frequency=...): codes 0 and 2 share the last column, which an unknown
// code (negative) takes too (handle_unknown="infrequent_if_exist").
func.func @infrequent(%c: tensor<?x1xi64>) -> tensor<?x3xf64> {
  %o = feature.onehot %c categories 4 drop -1 infrequent [0 : i64, 2 : i64] unknown_infrequent : tensor<?x1xi64> -> tensor<?x3xf64>
  func.return %o : tensor<?x3xf64>
}

// CHECK-LABEL: func.func @infrequent_stage0(
// CHECK: [[ONE:%[0-9]+]] = arith.cmpi eq, [[CODE:%[0-9]+]], %{{[0-9]+}} : i64
// CHECK: arith.select
// CHECK: arith.cmpi eq, [[CODE]], %{{[0-9]+}} : i64
// CHECK: arith.select
// CHECK: [[ZERO:%[0-9]+]] = arith.cmpi eq, [[CODE]], %{{[0-9]+}} : i64
// CHECK-NEXT: [[TWO:%[0-9]+]] = arith.cmpi eq, [[CODE]], %{{[0-9]+}} : i64
// CHECK-NEXT: [[UNKNOWN:%[0-9]+]] = arith.cmpi slt, [[CODE]], %{{[0-9]+}} : i64
// CHECK-NEXT: [[EITHER:%[0-9]+]] = arith.ori [[ZERO]], [[TWO]] : i1
// CHECK-NEXT: [[ANY:%[0-9]+]] = arith.ori [[EITHER]], [[UNKNOWN]] : i1
// CHECK-NEXT: arith.select [[ANY]]

// -----

// str.count("ab"): a while loop that moves past each match; str.find("ab"): a loop over the
// bytes a match can start at, counting code points (lead bytes) before the first match.
func.func @search(%df: !pipeline.frame<"a" : !pipeline.str>) -> (tensor<?xf64>, tensor<?xf64>) {
  %c = pipeline.str_search "count" %df "ab" : !pipeline.frame<"a" : !pipeline.str> -> tensor<?xf64>
  %f = pipeline.str_search "find" %df "ab" : !pipeline.frame<"a" : !pipeline.str> -> tensor<?xf64>
  func.return %c, %f : tensor<?xf64>, tensor<?xf64>
}

// CHECK: func.func @search_stage0(
// CHECK: scf.if
// CHECK: scf.while
// CHECK: arith.cmpi eq, %{{.*}}, %{{.*}} : i8
// CHECK: arith.sitofp %{{.*}} : i64 to f64
// CHECK: scf.if
// CHECK: scf.for
// CHECK: arith.cmpi slt, %{{.*}}, %{{.*}} : i64
// CHECK: arith.andi %{{.*}}, %{{.*}} : i32
// CHECK: arith.sitofp %{{.*}} : i64 to f64

// -----

// str.replace("ab", "xyz"): a while loop writing the replacement for each match and copying
// every other byte into a scratch buffer of ceil(3 / 2) = 2 times the longest row.
func.func @replace(%df: !pipeline.frame<"a" : !pipeline.str>) -> tensor<?xf64> {
  %r = pipeline.str_replace %df "ab" "xyz" : !pipeline.frame<"a" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  %n = pipeline.str_len %r : !pipeline.frame<"a" : !pipeline.str> -> tensor<?xf64>
  func.return %n : tensor<?xf64>
}

// CHECK: func.func @replace_stage0(
// CHECK: scf.while
// CHECK: scf.if
// CHECK: arith.cmpi eq, %{{.*}}, %{{.*}} : i8
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<?xi8>
// CHECK: } else {
// CHECK: memref.load
// CHECK: memref.store

// -----

// The length of a piece of str.split(): piece 0 found in one scan, the last piece (-1) after a
// scan that counts the pieces; a missing row hands the batch to the original.
func.func @piece(%df: !pipeline.frame<"a" : !pipeline.str>) -> tensor<?xf64> {
  %p = pipeline.str_split_piece %df piece 0 : !pipeline.frame<"a" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  %l = pipeline.str_split_piece %df piece -1 sep "," : !pipeline.frame<"a" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  %c = pipeline.str_len %p : !pipeline.frame<"a" : !pipeline.str> -> tensor<?xf64>
  %d = pipeline.str_len %l : !pipeline.frame<"a" : !pipeline.str> -> tensor<?xf64>
  %s = pipeline.binary "add" %c, %d : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
  func.return %s : tensor<?xf64>
}

// CHECK: func.func @piece_stage0(
// CHECK-SAME: role = "python_rows", reasons = ["split-missing"]
// CHECK: scf.while
// CHECK: arith.select
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.cmpi eq, %{{.*}}, %{{.*}} : i8

// -----

// s.str[4].str.upper(): a row without position 4 (or without a value) flags "str-position",
// which hands the batch to the original only when it flags every row (pandas' pieces of an
// object column are then float64, whose .str it refuses).
func.func @position(%df: !pipeline.frame<"a" : !pipeline.str>) -> !pipeline.frame<"a" : !pipeline.str> {
  %p = pipeline.str_slice %df [4] : !pipeline.frame<"a" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  %u = pipeline.str_case "upper" %p map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <q : tensor<1xi32>> expansion 8 : !pipeline.frame<"a" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  func.return %u : !pipeline.frame<"a" : !pipeline.str>
}

// CHECK: func.func @position_stage0(
// CHECK-SAME: role = "python_rows", reasons = ["str-position", "str-case"]
// CHECK: arith.cmpi ne, %{{.*}}, %{{.*}} : i8

// -----

// pd.cut(x, 2): the batch's minimum and maximum in a kernel of their own, then each row's code
// from pandas' edges (k * step + start, the first moved down by 0.1% of the range); edges
// that do not increase hand the batch back.
func.func @cut(%x: tensor<?xf64>) -> tensor<?xf64> {
  %lo = pipeline.reduce "min" %x : tensor<?xf64> -> f64
  %hi = pipeline.reduce "max" %x : tensor<?xf64> -> f64
  %c = pipeline.cut_width %x, %lo, %hi bins 2 right : (tensor<?xf64>, f64, f64) -> tensor<?xf64>
  func.return %c : tensor<?xf64>
}

// CHECK: func.func @cut_stage0_0_reduce(
// CHECK-SAME: scalar = "min"}, {{.*}} scalar = "max"}
// CHECK: func.func @cut_stage0(
// CHECK-SAME: role = "python_rows", reasons = ["cut-edges"]
// CHECK: arith.divf %{{.*}}, %{{.*}} : f64
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK: arith.addf %{{.*}}, %{{.*}} : f64
// CHECK: arith.cmpf olt, %{{.*}}, %{{.*}} : f64

// -----

// fillna of a str column: a missing row gets the fill value's bytes, a present one its own,
// in a scratch buffer sized by the fill value plus the column's longest row; no row is missing.
func.func @filled(%df: !pipeline.frame<"a" : !pipeline.str>) -> tensor<?xf64> {
  %f = pipeline.str_fill %df "none" : !pipeline.frame<"a" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  %k = pipeline.str_len %f : !pipeline.frame<"a" : !pipeline.str> -> tensor<?xf64>
  func.return %k : tensor<?xf64>
}

// CHECK: func.func @filled_stage0(
// CHECK-SAME: {value = "filled_stage0.0.bytes", part = "scratch", dtype = "i8", size = {fixed = 5 : i64, per_byte = 1 : i64, value = "arg0", column = "a"}}
// CHECK: scf.if %{{.*}} -> (index) {
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<?xi8>
// CHECK: } else {
// CHECK: scf.for

// -----

// A transformed str column returned: offsets, missing flags, bytes and their capacity, with the
// column whose index and dtype the runtime gives it.
func.func @upper(%df: !pipeline.frame<"a" : !pipeline.str>) -> !pipeline.frame<"a" : !pipeline.str> {
  %u = pipeline.str_case "upper" %df map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <q : tensor<1xi32>> expansion 8 : !pipeline.frame<"a" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  func.return %u : !pipeline.frame<"a" : !pipeline.str>
}

// CHECK: func.func @upper_stage0(%{{.*}}: index, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xi8>, %{{.*}}: memref<?xi8>, %{{.*}}: memref<?xi64>,
// CHECK-SAME: willump.outputs = [{value = "v0", width = 1 : i64, dtype = "i8", shape = [], string = "a", like = "arg0", like_column = "a"}, {value = "upper_stage0.python_rows", width = 1 : i64, dtype = "i8", shape = [], role = "python_rows", reasons = ["str-case"]}]

// -----

// A concatenation returned: pandas gives it the str dtype of the first of the columns it is
// made of that has one (object + str is str), object if none has: dtype_from lists them in
// order, through the upper-casing of the first.
func.func @joined(%df: !pipeline.frame<"a" : !pipeline.str, "b" : !pipeline.str>) -> !pipeline.frame<"a" : !pipeline.str> {
  %a = pipeline.select_columns %df ["a"] : !pipeline.frame<"a" : !pipeline.str, "b" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  %b = pipeline.select_columns %df ["b"] : !pipeline.frame<"a" : !pipeline.str, "b" : !pipeline.str> -> !pipeline.frame<"b" : !pipeline.str>
  %u = pipeline.str_case "upper" %a map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <q : tensor<1xi32>> expansion 8 : !pipeline.frame<"a" : !pipeline.str> -> !pipeline.frame<"a" : !pipeline.str>
  %n = pipeline.str_concat %u, %b pieces ["", "/", ""] : (!pipeline.frame<"a" : !pipeline.str>, !pipeline.frame<"b" : !pipeline.str>) -> !pipeline.frame<"a" : !pipeline.str>
  func.return %n : !pipeline.frame<"a" : !pipeline.str>
}

// CHECK: func.func @joined_stage0(
// CHECK-SAME: string = "a", like = "arg0", like_column = "a", dtype_from = {{\[}}["arg0", "a"], ["arg0", "b"]]}

// -----

// An imputer of finite fills ({finite}): its output is infinite only where its input was, so
// the input's infinity test (one per row) stands for the scaler's and the model's after it.
func.func @finite_fill(%x: tensor<?x1xf64>) -> tensor<?x1xf64> {
  %f = feature.impute %x fill <fill_1 : tensor<1xf64>> {finite} : tensor<?x1xf64> -> tensor<?x1xf64>
  %s = feature.standardize %f sub <mean_2 : tensor<1xf64>> div <scale_3 : tensor<1xf64>> : tensor<?x1xf64> -> tensor<?x1xf64>
  func.return %s : tensor<?x1xf64>
}

// CHECK-LABEL: func.func @finite_fill_stage0(
// CHECK: scf.for
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpf uno
// CHECK-NOT: arith.cmpf oeq
// CHECK: arith.divf

// -----

// Without {finite} (a fill may be infinite: SimpleImputer(strategy="constant",
// fill_value=np.inf)), the scaler tests the imputer's output again.
func.func @maybe_infinite_fill(%x: tensor<?x1xf64>) -> tensor<?x1xf64> {
  %f = feature.impute %x fill <fill_1 : tensor<1xf64>> : tensor<?x1xf64> -> tensor<?x1xf64>
  %s = feature.standardize %f sub <mean_2 : tensor<1xf64>> div <scale_3 : tensor<1xf64>> : tensor<?x1xf64> -> tensor<?x1xf64>
  func.return %s : tensor<?x1xf64>
}

// CHECK-LABEL: func.func @maybe_infinite_fill_stage0(
// CHECK: scf.for
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpf uno
// CHECK: arith.cmpf oeq
// CHECK: arith.divf

// -----

// Modified Huber probabilities as scikit-learn computes them: clip to [-1, 1] (NaN stays
// NaN: ordered comparisons are false), add 1, divide by 2.

func.func @huber(%d: tensor<?x1xf64>) -> tensor<?x1xf64> {
  %h = feature.modified_huber_proba %d : tensor<?x1xf64> -> tensor<?x1xf64>
  func.return %h : tensor<?x1xf64>
}

// CHECK-LABEL: func.func @huber_stage0
// CHECK-DAG:     [[ONE:%[0-9]+]] = arith.constant 1.000000e+00 : f64
// CHECK-DAG:     [[TWO:%[0-9]+]] = arith.constant 2.000000e+00 : f64
// CHECK-DAG:     [[MINUS:%[0-9]+]] = arith.constant -1.000000e+00 : f64
// CHECK:       scf.for
// CHECK:         [[X:%[0-9]+]] = memref.load {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xf64>
// CHECK-NEXT:    [[BELOW:%[0-9]+]] = arith.cmpf olt, [[X]], [[MINUS]] : f64
// CHECK-NEXT:    [[LOW:%[0-9]+]] = arith.select [[BELOW]], [[MINUS]], [[X]] : f64
// CHECK-NEXT:    [[ABOVE:%[0-9]+]] = arith.cmpf ogt, [[LOW]], [[ONE]] : f64
// CHECK-NEXT:    [[CLIP:%[0-9]+]] = arith.select [[ABOVE]], [[ONE]], [[LOW]] : f64
// CHECK-NEXT:    [[SUM:%[0-9]+]] = arith.addf [[CLIP]], [[ONE]] : f64
// CHECK-NEXT:    {{%[0-9]+}} = arith.divf [[SUM]], [[TWO]] : f64

// -----

// Normalizer(norm="l2"): NaN or infinity is an error; the squares summed in column order,
// a norm below 10 * eps (2.220446049250313e-15) replaced by 1, each value divided by it.

func.func @unit(%x: tensor<?x2xf64>) -> tensor<?x2xf64> {
  %y = feature.normalize %x norm l2 : tensor<?x2xf64> -> tensor<?x2xf64>
  func.return %y : tensor<?x2xf64>
}

// CHECK-LABEL: errors = {"0" = {op = "feature.normalize"}}
// CHECK:       scf.for
// CHECK:         scf.if
// CHECK:         [[A:%[0-9]+]] = arith.mulf [[X0:%[0-9]+]], [[X0]] : f64
// CHECK-NEXT:    [[B:%[0-9]+]] = arith.mulf [[X1:%[0-9]+]], [[X1]] : f64
// CHECK-NEXT:    [[S:%[0-9]+]] = arith.addf [[A]], [[B]] : f64
// CHECK-NEXT:    [[N:%[0-9]+]] = math.sqrt [[S]] : f64
// CHECK-NEXT:    [[TINY:%[0-9]+]] = arith.cmpf olt, [[N]], {{%[0-9]+}} : f64
// CHECK-NEXT:    [[D:%[0-9]+]] = arith.select [[TINY]], {{%[0-9]+}}, [[N]] : f64
// CHECK-NEXT:    {{%[0-9]+}} = arith.divf [[X0]], [[D]] : f64
// CHECK-NEXT:    {{%[0-9]+}} = arith.divf [[X1]], [[D]] : f64

// -----

// A word op and a char_wb op on the same text: the word op lowers the char_wb op with its
// own, and the char_wb word loop (the word cache in "words") lists the word op's "tokens":
// no scan of the whole row for runs of word characters (classes & (word | end), 5). The
// loop scans one word ahead and prefetches that word's set of cache slots ("word_slots").
func.func @shared(%docs: !pipeline.frame<"docs" : !pipeline.str>) -> tensor<?x8xi64, "csr"> {
  %t = feature.decode_text %docs "docs" lowercase 1 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<9xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"docs" : !pipeline.str> -> !feature.text
  %w = feature.count_terms %t word ngram 1 to 1 vocab <wc_d0f0f5307adb9347 : tensor<4xi32>>, <wo_a12453cedde3686d : tensor<3xi64>>, <wt_7b844631937807b0 : tensor<8xi64>> probes 1 : !feature.text -> tensor<?x2xi64, "csr">
  %c = feature.count_terms %t char_wb ngram 2 to 2 vocab <cvc_7ac371b02a3c811c : tensor<12xi32>>, <cvo_70b44dd6aa75b9b5 : tensor<7xi64>>, <cvt_a928916386980859 : tensor<32xi64>> probes 2 : !feature.text -> tensor<?x6xi64, "csr">
  %h = pipeline.hstack %w, %c : (tensor<?x2xi64, "csr">, tensor<?x6xi64, "csr">) -> tensor<?x8xi64, "csr">
  func.return %h : tensor<?x8xi64, "csr">
}

{-#
  dialect_resources: {
    pipeline: {
      wc_d0f0f5307adb9347: "0x0800000061000000620000006300000064000000",
      wo_a12453cedde3686d: "0x08000000000000000000000002000000000000000400000000000000",
      wt_7b844631937807b0: "0x0800000062003006000000800000000000000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF64005006000000800100000000000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
      cvc_7ac371b02a3c811c: "0x08000000200000006100000020000000630000006100000062000000620000002000000063000000640000006400000020000000",
      cvo_70b44dd6aa75b9b5: "0x08000000000000000000000002000000000000000400000000000000060000000000000008000000000000000A000000000000000C00000000000000",
      cvt_a928916386980859: "0x08000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF62003006000000800200000000000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF21002006000000800000000000000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF210040060000008001000000000000006300100200000080030000000000000064005006000000800400000000000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF65001002000000800500000000000000"
    }
  }
#-}

// CHECK-LABEL: func.func @shared_stage0(
// CHECK-SAME: {value = "shared_stage0.1.tokens", part = "scratch", dtype = "i64"
// CHECK-SAME: {value = "shared_stage0.2.words", part = "scratch", dtype = "i32"
// CHECK-NOT: arith.constant 5 : i8
// CHECK: scf.for
// CHECK: feature.prefetch {{%[0-9]+}}[{{%[0-9]+}}] : memref<?xi64>
// CHECK: func.return

// LLVM-LABEL: define void @"shared_stage0"
// LLVM:         call void @"llvm.prefetch.p0"(ptr %{{.*}}, i32 0, i32 3, i32 1)

// -----

// PolynomialFeatures: powers_ [[1, 0], [2, 0], [1, 1], [2, 1], [0, 0]] are x0, x0 * x0,
// x1 * x0, (x1 * x0) * x0 (scikit-learn folds a product from its last factor, and the
// product x1 * x0 is computed once) and 1.0. NaN or infinity is an error.

func.func @poly(%x: tensor<?x2xf64>) -> tensor<?x5xf64> {
  %p = feature.polynomial %x powers <powers_5604534f392b0282 : tensor<5x2xi64>> : tensor<?x2xf64> -> tensor<?x5xf64>
  func.return %p : tensor<?x5xf64>
}

{-#
  dialect_resources: {
    pipeline: {
      powers_5604534f392b0282: "0x080000000100000000000000000000000000000002000000000000000000000000000000010000000000000001000000000000000200000000000000010000000000000000000000000000000000000000000000"
    }
  }
#-}

// CHECK-LABEL: errors = {"0" = {op = "feature.polynomial"}}
// CHECK:       [[ONE:%[0-9]+]] = arith.constant 1.000000e+00 : f64
// CHECK:       scf.for
// CHECK:         [[X0:%[0-9]+]] = memref.load
// CHECK:         [[X1:%[0-9]+]] = memref.load
// CHECK:         scf.if
// CHECK:         [[SQ:%[0-9]+]] = arith.mulf [[X0]], [[X0]] : f64
// CHECK-NEXT:    [[P:%[0-9]+]] = arith.mulf [[X1]], [[X0]] : f64
// CHECK-NEXT:    [[C:%[0-9]+]] = arith.mulf [[P]], [[X0]] : f64
// CHECK-NOT:     arith.mulf
// CHECK:         memref.store [[X0]]
// CHECK:         memref.store [[SQ]]
// CHECK:         memref.store [[P]]
// CHECK:         memref.store [[C]]
// CHECK:         memref.store [[ONE]]

// -----

// KBinsDiscretizer: the bin is the number of inner edges (edges[1], edges[2]) at or below
// the value (np.searchsorted side="right": a value on an edge is in the bin above it).

func.func @bins(%x: tensor<?x2xf64>) -> tensor<?x1xi64> {
  %b = feature.discretize %x [1] edges <edges_6 : tensor<4xf64>> : tensor<?x2xf64> -> tensor<?x1xi64>
  func.return %b : tensor<?x1xi64>
}

// CHECK-LABEL: errors = {"0" = {op = "feature.discretize"}}
// CHECK:       [[E:%[0-9]+]] = memref.get_global @edges_6 : memref<4xf64>
// CHECK:       scf.for
// CHECK:         scf.if
// CHECK:         [[E1:%[0-9]+]] = memref.load [[E]][{{%[0-9]+}}] : memref<4xf64>
// CHECK-NEXT:    [[GE1:%[0-9]+]] = arith.cmpf oge, [[X:%[0-9]+]], [[E1]] : f64
// CHECK-NEXT:    [[N1:%[0-9]+]] = arith.extui [[GE1]] : i1 to i64
// CHECK-NEXT:    [[S1:%[0-9]+]] = arith.addi {{%[0-9]+}}, [[N1]] : i64
// CHECK-NEXT:    [[E2:%[0-9]+]] = memref.load [[E]][{{%[0-9]+}}] : memref<4xf64>
// CHECK-NEXT:    [[GE2:%[0-9]+]] = arith.cmpf oge, [[X]], [[E2]] : f64
// CHECK-NEXT:    [[N2:%[0-9]+]] = arith.extui [[GE2]] : i1 to i64
// CHECK-NEXT:    [[S2:%[0-9]+]] = arith.addi [[S1]], [[N2]] : i64
// CHECK-NEXT:    memref.store [[S2]]
