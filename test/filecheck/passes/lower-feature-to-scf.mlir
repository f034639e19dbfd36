// RUN: willump-opt %s --split-input-file -p lower-feature-to-scf | filecheck %s
// RUN: willump-opt %s --split-input-file -p lower-feature-to-scf,convert-to-llvm -t llvm | filecheck %s --check-prefix=LLVM

// A frame with two numeric columns and a string column: impute + scale the numbers, one-hot
// the strings, a binary logistic regression. One row loop, no intermediate matrix.
func.func @score(%df: !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str>) -> tensor<?xf64> {
  %x = pipeline.to_array %df ["a", "b"] : !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str> -> tensor<?x2xf64>
  %f = feature.impute %x fill <"fill_1" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %s = feature.standardize %f sub <"mean_2" : tensor<2xf64>> div <"scale_3" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
  %c = feature.encode_strings %df "city" bytes <"b_1" : tensor<9xui8>> offsets <"o_2" : tensor<3xi64>> table <"t_3" : tensor<8xi64>> probes 2 missing -1 on_unknown "error" : !pipeline.frame<"a" : f64, "b" : f64, "city" : !pipeline.str> -> tensor<?x1xi64>
  %o = feature.onehot %c categories 2 drop -1 : tensor<?x1xi64> -> tensor<?x2xf64>
  %h = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x4xf64>
  %d = feature.linear %h coef <"w_1" : tensor<1x4xf64>> offset 0 intercept <"b_2" : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x1xf64>
  %p = feature.sigmoid %d : tensor<?x1xf64> -> tensor<?x1xf64>
  %pp = feature.binary_proba %p : tensor<?x1xf64> -> tensor<?x2xf64>
  %r = pipeline.take_column %pp [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %r : tensor<?xf64>
}

// CHECK: builtin.module attributes {willump.schedule = {score = {steps = [{kernel = "score_stage0"}], returns = ["v9"], errors = {"1" = {op = "feature.impute"}, "2" = {op = "feature.standardize"}, "3" = {op = "feature.encode_strings", value = "arg0", column = "city"}, "6" = {op = "feature.linear"}}, constants = {}}}}
// CHECK-DAG: "memref.global"() <{sym_name = "fill_1", type = memref<2xf64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "w_1", type = memref<4xf64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "t_3", type = memref<8xi64>, initial_value, sym_visibility = "public"}>
// CHECK: func.func @score_stage0(%{{.*}}: index, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: memref<?xi8>, %{{.*}}: memref<?xi64>, %{{.*}}: memref<?xi8>)
// CHECK-SAME: willump.kernel
// CHECK-SAME: willump.inputs = [{value = "arg0", part = "values", dtype = "f64", column = "a"}, {value = "arg0", part = "values", dtype = "f64", column = "b"}, {value = "arg0", part = "bytes", dtype = "i8", column = "city"}
// CHECK-SAME: willump.outputs = [{value = "v9", width = 1 : i64, dtype = "f64", shape = []}]
// CHECK-DAG: memref.get_global @fill_1 : memref<2xf64>
// The hash table, FNV-1a's offset basis (0xcbf29ce484222325 as a signed i64) and prime, the
// slot mask (table size 8 - 1), the probe count and the "not found" code, hoisted out of the loop.
// CHECK-DAG: [[TABLE:%[0-9]+]] = memref.get_global @t_3 : memref<8xi64>
// CHECK-DAG: [[BASIS:%[0-9]+]] = arith.constant -3750763034362895579 : i64
// CHECK-DAG: [[PRIME:%[0-9]+]] = arith.constant 1099511628211 : i64
// CHECK-DAG: [[MASK:%[0-9]+]] = arith.constant 7 : i64
// CHECK-DAG: [[PROBES:%[0-9]+]] = arith.constant 2 : index
// CHECK-DAG: [[NONE:%[0-9]+]] = arith.constant -1 : i64
// CHECK: scf.for
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
// ... then probe `probes` consecutive slots from hash & mask, carrying the code found so far ...
// CHECK-NEXT: [[CODE:%[0-9]+]] = scf.for %[[P:[0-9]+]] = %{{[0-9]+}} to [[PROBES]] step %{{[0-9]+}} iter_args(%[[FOUND:[0-9]+]] = [[NONE]]) -> (i64) {
// CHECK-NEXT: [[P64:%[0-9]+]] = arith.index_cast %[[P]] : index to i64
// CHECK-NEXT: [[SHIFTED:%[0-9]+]] = arith.addi [[HASH]], [[P64]] : i64
// CHECK-NEXT: [[SLOT:%[0-9]+]] = arith.andi [[SHIFTED]], [[MASK]] : i64
// CHECK-NEXT: [[SLOTI:%[0-9]+]] = arith.index_cast [[SLOT]] : i64 to index
// CHECK-NEXT: [[ENTRY:%[0-9]+]] = memref.load [[TABLE]][[[SLOTI]]] : memref<8xi64>
// CHECK-NEXT: [[OCCUPIED:%[0-9]+]] = arith.cmpi sge, [[ENTRY]], %{{[0-9]+}} : i64
// CHECK: scf.if %{{[0-9]+}} -> (i64) {
// ... and compare an occupied slot's category bytes with the row's (a loop carrying i1).
// CHECK: [[SAME:%[0-9]+]] = scf.for %{{[0-9]+}} = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%{{[0-9]+}} = %{{[0-9]+}}) -> (i1) {
// CHECK: arith.cmpi eq, %{{[0-9]+}}, %{{[0-9]+}} : i8
// CHECK: scf.yield %{{[0-9]+}} : i1
// CHECK-NEXT: }
// CHECK-NEXT: [[HIT:%[0-9]+]] = arith.select [[SAME]], [[ENTRY]], %[[FOUND]] : i64
// CHECK-NEXT: scf.yield [[HIT]] : i64
// CHECK-NEXT: } else {
// CHECK-NEXT: scf.yield %[[FOUND]] : i64
// CHECK-NEXT: }
// CHECK: scf.yield %{{[0-9]+}} : i64
// CHECK-NEXT: }
// A missing value overrides the code found.
// CHECK: arith.select %{{[0-9]+}}, [[NONE]], [[CODE]] : i64
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
  %t = feature.decode_text %docs "docs" lowercase 1 strip "none" map <"ci" : tensor<4352xi32>>, <"cb" : tensor<512xi32>>, <"cs" : tensor<9xi32>> classes <"cc" : tensor<1114112xui8>> expansion 2 : !pipeline.frame<"docs" : !pipeline.str> -> !feature.text
  %c = feature.count_terms %t "word" ngram 1 to 2 vocab <"vc" : tensor<20xi32>>, <"vo" : tensor<5xi64>>, <"vt" : tensor<16xi64>> probes 2 : !feature.text -> tensor<?x4xf64, "csr">
  %w = feature.weight_terms %c idf <"idf" : tensor<4xf64>> norm "l2" : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">
  %d = feature.sparse_linear %w coef <"coef" : tensor<1x4xf64>> offset 0 intercept <"b" : tensor<1xf64>> : (tensor<?x4xf64, "csr">) -> tensor<?x1xf64>
  func.return %d : tensor<?x1xf64>
}

// CHECK-LABEL: builtin.module attributes {willump.schedule = {classify = {steps = [{kernel = "classify_stage0"}], returns = ["v3"], errors = {"0" = {op = "feature.decode_text", value = "arg0", column = "docs"}, "2" = {op = "feature.weight_terms"}, "3" = {op = "feature.sparse_linear"}}, constants = {}}}}
// CHECK-DAG: "memref.global"() <{sym_name = "cc", type = memref<1114112xi8>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "vt", type = memref<16xi64>, initial_value, sym_visibility = "public"}>
// CHECK-DAG: "memref.global"() <{sym_name = "coef", type = memref<4xf64>, initial_value, sym_visibility = "public"}>
// CHECK: func.func @classify_stage0(
// The column's bytes, offsets and missing flags; then scratch buffers: the row's code points
// and their classes (expansion 2 per byte of the longest row, plus 1), the term counts, ...
// CHECK-SAME: willump.inputs = [{value = "arg0", part = "bytes", dtype = "i8", text = 1 : i64, column = "docs"}, {value = "arg0", part = "offsets", dtype = "i64", text = 1 : i64, column = "docs"}, {value = "arg0", part = "missing", dtype = "i8", text = 1 : i64, column = "docs"},
// CHECK-SAME: {value = "classify_stage0.0.cps", part = "scratch", dtype = "i32", size = {fixed = 1 : i64, per_byte = 2 : i64, value = "arg0", column = "docs"}}, {value = "classify_stage0.0.classes", part = "scratch", dtype = "i8", size = {fixed = 1 : i64, per_byte = 2 : i64, value = "arg0", column = "docs"}}
// CHECK-SAME: {value = "classify_stage0.1.counts", part = "scratch", dtype = "i32", size = {fixed = 4 : i64}}
// ... and the weighted values of the row's terms.
// CHECK-SAME: {value = "classify_stage0.2.values", part = "scratch", dtype = "f64", size = {fixed = 4 : i64}}]
// The decision, then the per-row "run in Python" flag.
// CHECK-SAME: willump.outputs = [{value = "v3", width = 1 : i64, dtype = "f64", shape = [1 : i64]}, {value = "classify_stage0.python_rows", width = 1 : i64, dtype = "i1", shape = [], role = "python_rows"}]
// Hoisted: the "not text" error code, the UTF-8 lead byte bounds, the two-level character map,
// the vocabulary table, the "keep probing" marker and coef.
// CHECK-DAG: [[NOT_TEXT:%[0-9]+]] = arith.constant 4 : i64
// CHECK-DAG: [[B128:%[0-9]+]] = arith.constant 128 : i32
// CHECK-DAG: [[B224:%[0-9]+]] = arith.constant 224 : i32
// CHECK-DAG: [[B240:%[0-9]+]] = arith.constant 240 : i32
// CHECK-DAG: [[INDEX:%[0-9]+]] = memref.get_global @ci : memref<4352xi32>
// CHECK-DAG: [[BLOCKS:%[0-9]+]] = memref.get_global @cb : memref<512xi32>
// CHECK-DAG: [[VOCAB:%[0-9]+]] = memref.get_global @vt : memref<16xi64>
// CHECK-DAG: [[PROBING:%[0-9]+]] = arith.constant -2 : i64
// CHECK-DAG: [[COEF:%[0-9]+]] = memref.get_global @coef : memref<4xf64>
// CHECK: scf.for %[[ROW:[0-9]+]] = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} {
// A missing document (None or NaN) is an error, as in scikit-learn.
// CHECK: memref.store [[NOT_TEXT]], %{{[0-9]+}}[%{{[0-9]+}}] : memref<?xi64>
// UTF-8 decoding: a while loop over the row's bytes carrying the byte position, the number of
// code points written and the "run in Python" flag; the lead byte gives the sequence length.
// CHECK: scf.while (%{{[0-9]+}} = %{{[0-9]+}}, %{{[0-9]+}} = %{{[0-9]+}}, %{{[0-9]+}} = %{{[0-9]+}}) : (index, index, i1) -> (index, index, i1) {
// CHECK-NEXT: [[MORE:%[0-9]+]] = arith.cmpi ult, %{{[0-9]+}}, %{{[0-9]+}} : index
// CHECK-NEXT: scf.condition([[MORE]])
// CHECK-NEXT: } do {
// CHECK: [[LEAD:%[0-9]+]] = arith.extui %{{[0-9]+}} : i8 to i32
// CHECK-NEXT: arith.cmpi ult, [[LEAD]], [[B128]] : i32
// CHECK: arith.cmpi ult, [[LEAD]], [[B224]] : i32
// CHECK: arith.cmpi ult, [[LEAD]], [[B240]] : i32
// The code point's block (cp >> 8) in the index, then its entry in the blocks.
// CHECK: memref.load [[INDEX]][%{{[0-9]+}}] : memref<4352xi32>
// CHECK: memref.load [[BLOCKS]][%{{[0-9]+}}] : memref<512xi32>
// Vocabulary lookup: a while loop probes slots from hash & mask until the term is found or an
// empty slot ends the search.
// CHECK: scf.while (%{{[0-9]+}} = %{{[0-9]+}}, %{{[0-9]+}} = [[PROBING]]) : (i64, i64) -> (i64, i64) {
// CHECK-NEXT: [[AGAIN:%[0-9]+]] = arith.cmpi eq, %{{[0-9]+}}, [[PROBING]] : i64
// CHECK-NEXT: scf.condition([[AGAIN]])
// CHECK: memref.load [[VOCAB]]
// The l2 norm, then the dot product with coef.
// CHECK: math.sqrt
// CHECK: arith.divf
// CHECK: memref.load [[COEF]][%{{[0-9]+}}] : memref<4xf64>
// The Python flag of the row.
// CHECK: [[FLAG:%[0-9]+]] = arith.extui %{{[0-9]+}} : i1 to i8
// CHECK-NEXT: memref.store [[FLAG]], %{{[0-9]+}}[%[[ROW]]] : memref<?xi8>
// CHECK-NOT: feature.
// CHECK-NOT: pipeline.

// LLVM: define void @"classify_stage0"(i64 %{{.*}}, ptr
// LLVM: call double @"llvm.sqrt.f64"
// LLVM: ret void
