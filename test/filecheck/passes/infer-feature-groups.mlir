// RUN: willump-opt %s --split-input-file -p infer-feature-groups | filecheck %s

// Two vectorizer-like producers read one frame through a shared decoding and are stacked
// into the model's input: two groups, [0, 4) and [4, 12). Same labels get a "#n" suffix.
// Each op only one group needs is tagged with its index (%cw, after %c, too); the shared
// decoding %t and the structural hstack get no cascade.group.

func.func @text(%df: !pipeline.frame<"title" : !pipeline.str>) -> tensor<?xf64> {
  %t = "test.op"(%df) : (!pipeline.frame<"title" : !pipeline.str>) -> !feature.text
  %w = "test.op"(%t) {kind = "word"} : (!feature.text) -> tensor<?x4xf64, "csr">
  %c = "test.op"(%t) {kind = "char"} : (!feature.text) -> tensor<?x8xf64, "csr">
  %cw = "test.op"(%c) : (tensor<?x8xf64, "csr">) -> tensor<?x8xf64, "csr">
  %x = pipeline.hstack %w, %cw : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> tensor<?x12xf64, "csr">
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<1x12xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x12xf64, "csr"> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %y : tensor<?xf64>
}

// CHECK-LABEL: func.func @text(%df: !pipeline.frame<"title" : !pipeline.str>) -> tensor<?xf64> {
// CHECK-NEXT:    %t = "test.op"(%df) : (!pipeline.frame<"title" : !pipeline.str>) -> !feature.text
// CHECK-NEXT:    %w = "test.op"(%t) {kind = "word", cascade.group = 0 : i64} : (!feature.text) -> tensor<?x4xf64, "csr">
// CHECK-NEXT:    %c = "test.op"(%t) {kind = "char", cascade.group = 1 : i64} : (!feature.text) -> tensor<?x8xf64, "csr">
// CHECK-NEXT:    %cw = "test.op"(%c) {cascade.group = 1 : i64} : (tensor<?x8xf64, "csr">) -> tensor<?x8xf64, "csr">
// CHECK-NEXT:    %x = pipeline.hstack %w, %cw : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> tensor<?x12xf64, "csr">
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<1x12xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "binary_sigmoid"} {cascade.groups = [{name = "test.op #1", spans = array<i64: 0, 4>}, {name = "test.op #2", spans = array<i64: 4, 12>}]} : tensor<?x12xf64, "csr"> -> tensor<?x2xf64>
// CHECK-NEXT:    %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    func.return %y : tensor<?xf64>

// -----

// Vectorizers named by their estimator and analyzer; the column selection they share is
// structural and gets no cascade.group.

func.func @tfidf(%df: !pipeline.frame<"title" : !pipeline.str, "body" : !pipeline.str>) -> tensor<?xf64> {
  %a = pipeline.select_columns %df ["title"] : !pipeline.frame<"title" : !pipeline.str, "body" : !pipeline.str> -> !pipeline.frame<"title" : !pipeline.str>
  %w = pipeline.transform "TfidfVectorizer" %a params {analyzer = "word"} : !pipeline.frame<"title" : !pipeline.str> -> tensor<?x4xf64, "csr">
  %c = pipeline.transform "TfidfVectorizer" %a params {analyzer = "char_wb"} : !pipeline.frame<"title" : !pipeline.str> -> tensor<?x8xf64, "csr">
  %x = pipeline.hstack %w, %c : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> tensor<?x12xf64, "csr">
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x12xf64, "csr"> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %y : tensor<?xf64>
}

// CHECK-LABEL: func.func @tfidf(
// CHECK-NEXT:    %a = pipeline.select_columns %df ["title"] : !pipeline.frame<"title" : !pipeline.str, "body" : !pipeline.str> -> !pipeline.frame<"title" : !pipeline.str>
// CHECK-NEXT:    %w = pipeline.transform "TfidfVectorizer" %a params {analyzer = "word"} {cascade.group = 0 : i64} : !pipeline.frame<"title" : !pipeline.str> -> tensor<?x4xf64, "csr">
// CHECK-NEXT:    %c = pipeline.transform "TfidfVectorizer" %a params {analyzer = "char_wb"} {cascade.group = 1 : i64} : !pipeline.frame<"title" : !pipeline.str> -> tensor<?x8xf64, "csr">
// CHECK-NEXT:    %x = pipeline.hstack %w, %c
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} {cascade.groups = [{name = "TfidfVectorizer(word)", spans = array<i64: 0, 4>}, {name = "TfidfVectorizer(char_wb)", spans = array<i64: 4, 12>}]} : tensor<?x12xf64, "csr"> -> tensor<?x2xf64>

// -----

// A movielens-like chain of joins. The second join's key is read from the first join's
// result (%j1 ["movieId"]): the pass makes it read %df, so that the movie join no longer
// depends on the user join. The model reads joined columns and an input column ("year"),
// interleaved: the user join's group has two spans. Lookups and gathers are tagged, the
// key reads and joins (structural) are not.

func.func @ratings(%df: !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64>) -> tensor<?xf64> {
  %uk = pipeline.to_array %df ["userId"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64> -> tensor<?x1xf64>
  %ur = feature.lookup_keys %uk[0] keys <uk : tensor<4xf64>> table <ut : tensor<8xi64>> probes 1 nan_row -1 : tensor<?x1xf64> -> tensor<?x1xi64>
  %uv = feature.gather_rows %ur values <uv : tensor<4x2xf64>> fill 0x7FF8000000000000 : f64 on_missing fill : tensor<?x1xi64> -> tensor<?x2xf64>
  %j1 = feature.join %df, %uv : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64>, tensor<?x2xf64> -> !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64>
  %mk = pipeline.to_array %j1 ["movieId"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64> -> tensor<?x1xf64>
  %mr = feature.lookup_keys %mk[0] keys <mk : tensor<4xf64>> table <mt : tensor<8xi64>> probes 1 nan_row -1 : tensor<?x1xf64> -> tensor<?x1xi64>
  %mv = feature.gather_rows %mr values <mv : tensor<4x1xf64>> fill 0x7FF8000000000000 : f64 on_missing fill : tensor<?x1xi64> -> tensor<?x1xf64>
  %j2 = feature.join %j1, %mv : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64>, tensor<?x1xf64> -> !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64, "movie_mean" : f64>
  %x = pipeline.to_array %j2 ["user_mean", "movie_mean", "year", "user_count"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64, "movie_mean" : f64> -> tensor<?x4xf64>
  %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %y : tensor<?xf64>
}

// CHECK-LABEL: func.func @ratings(
// CHECK-NEXT:    %uk = pipeline.to_array %df ["userId"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64> -> tensor<?x1xf64>
// CHECK-NEXT:    %ur = feature.lookup_keys %uk[0] {{.*}} {cascade.group = 0 : i64} : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT:    %uv = feature.gather_rows %ur {{.*}} {cascade.group = 0 : i64} : tensor<?x1xi64> -> tensor<?x2xf64>
// CHECK-NEXT:    %j1 = feature.join %df, %uv : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64>, tensor<?x2xf64> -> !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64>
// CHECK-NEXT:    %mk = pipeline.to_array %df ["movieId"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64> -> tensor<?x1xf64>
// CHECK-NEXT:    %mr = feature.lookup_keys %mk[0] {{.*}} {cascade.group = 1 : i64} : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT:    %mv = feature.gather_rows %mr {{.*}} {cascade.group = 1 : i64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT:    %j2 = feature.join %j1, %mv : !pipeline.frame<{{.*}}>, tensor<?x1xf64> -> !pipeline.frame<{{.*}}>
// CHECK-NEXT:    %x = pipeline.to_array %j2 ["user_mean", "movie_mean", "year", "user_count"] : !pipeline.frame<{{.*}}> -> tensor<?x4xf64>
// CHECK-NEXT:    %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} {cascade.groups = [{name = "join on userId", spans = array<i64: 0, 1, 3, 4>}, {name = "join on movieId", spans = array<i64: 1, 2>}, {name = "input columns", spans = array<i64: 2, 3>}]} : tensor<?x4xf64> -> tensor<?x2xf64>
// CHECK-NEXT:    %y = pipeline.take_column %p [1]
// CHECK-NEXT:    func.return %y

// -----

// An op reading one named column (`column`) through a join that renamed it (pandas' _x
// suffix) is made to read the original frame under the original name; the join's label
// uses that name.

func.func @genres(%df: !pipeline.frame<"userId" : f64, "genre" : !pipeline.str, "year" : f64>) -> tensor<?xf64> {
  %uk = pipeline.to_array %df ["userId"] : !pipeline.frame<"userId" : f64, "genre" : !pipeline.str, "year" : f64> -> tensor<?x1xf64>
  %ur = feature.lookup_keys %uk[0] keys <uk : tensor<4xf64>> table <ut : tensor<8xi64>> probes 1 nan_row -1 : tensor<?x1xf64> -> tensor<?x1xi64>
  %uv = feature.gather_rows %ur values <uv : tensor<4x2xf64>> fill 0x7FF8000000000000 : f64 on_missing fill : tensor<?x1xi64> -> tensor<?x2xf64>
  %j1 = feature.join %df, %uv : !pipeline.frame<"userId" : f64, "genre" : !pipeline.str, "year" : f64>, tensor<?x2xf64> -> !pipeline.frame<"userId" : f64, "genre_x" : !pipeline.str, "year" : f64, "user_mean" : f64, "user_count" : f64>
  %g = feature.encode_strings %j1 "genre_x" bytes <gb : tensor<5xui8>> offsets <go : tensor<3xi64>> table <gt : tensor<8xi64>> probes 1 missing -1 on_unknown ignore : !pipeline.frame<"userId" : f64, "genre_x" : !pipeline.str, "year" : f64, "user_mean" : f64, "user_count" : f64> -> tensor<?x1xi64>
  %gv = feature.gather_rows %g values <gv : tensor<2x1xf64>> fill 0x7FF8000000000000 : f64 on_missing fill : tensor<?x1xi64> -> tensor<?x1xf64>
  %j2 = feature.join %j1, %gv : !pipeline.frame<"userId" : f64, "genre_x" : !pipeline.str, "year" : f64, "user_mean" : f64, "user_count" : f64>, tensor<?x1xf64> -> !pipeline.frame<"userId" : f64, "genre_x" : !pipeline.str, "year" : f64, "user_mean" : f64, "user_count" : f64, "genre_mean" : f64>
  %x = pipeline.to_array %j2 ["user_mean", "genre_mean", "year"] : !pipeline.frame<"userId" : f64, "genre_x" : !pipeline.str, "year" : f64, "user_mean" : f64, "user_count" : f64, "genre_mean" : f64> -> tensor<?x3xf64>
  %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x3xf64> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %y : tensor<?xf64>
}

// CHECK-LABEL: func.func @genres(
// CHECK:         %g = feature.encode_strings %df "genre" {{.*}} {cascade.group = 1 : i64} : !pipeline.frame<"userId" : f64, "genre" : !pipeline.str, "year" : f64> -> tensor<?x1xi64>
// CHECK-NEXT:    %gv = feature.gather_rows %g {{.*}} {cascade.group = 1 : i64}
// CHECK:         pipeline.predict {{.*}} {cascade.groups = [{name = "join on userId", spans = array<i64: 0, 1>}, {name = "join on genre", spans = array<i64: 1, 2>}, {name = "input columns", spans = array<i64: 2, 3>}]}

// -----

// A predict whose result does not reach the return is not the model: the groups go on the
// one that does.

func.func @debug(%x: tensor<?x3xf64>) -> tensor<?x2xf64> {
  %a = "test.op"(%x) : (tensor<?x3xf64>) -> tensor<?x2xf64>
  %b = "test.op"(%x) : (tensor<?x3xf64>) -> tensor<?x1xf64>
  %side = pipeline.predict "LogisticRegression" "predict_proba" %a params {proba = "binary_sigmoid"} : tensor<?x2xf64> -> tensor<?x2xf64>
  "test.op"(%side) : (tensor<?x2xf64>) -> ()
  %m = pipeline.hstack %a, %b : (tensor<?x2xf64>, tensor<?x1xf64>) -> tensor<?x3xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %m params {proba = "binary_sigmoid"} : tensor<?x3xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @debug(%x: tensor<?x3xf64>) -> tensor<?x2xf64> {
// CHECK-NEXT:    %a = "test.op"(%x) {cascade.group = 0 : i64}
// CHECK-NEXT:    %b = "test.op"(%x) {cascade.group = 1 : i64}
// CHECK-NEXT:    %side = pipeline.predict "LogisticRegression" "predict_proba" %a params {proba = "binary_sigmoid"} : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT:    "test.op"(%side)
// CHECK-NEXT:    %m = pipeline.hstack %a, %b
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %m params {proba = "binary_sigmoid"} {cascade.groups = [{name = "test.op #1", spans = array<i64: 0, 2>}, {name = "test.op #2", spans = array<i64: 2, 3>}]} : tensor<?x3xf64> -> tensor<?x2xf64>

// -----

// Two predict ops reach the return: no single model, the function is refused and left as
// it was.

func.func @two(%x: tensor<?x3xf64>) -> (tensor<?x2xf64>, tensor<?x2xf64>) {
  %a = "test.op"(%x) : (tensor<?x3xf64>) -> tensor<?x2xf64>
  %b = "test.op"(%x) : (tensor<?x3xf64>) -> tensor<?x2xf64>
  %m = pipeline.hstack %a, %b : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x4xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %m params {proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
  %q = pipeline.predict "LogisticRegression" "predict_proba" %m params {proba = "softmax"} : tensor<?x4xf64> -> tensor<?x2xf64>
  func.return %p, %q : tensor<?x2xf64>, tensor<?x2xf64>
}

// CHECK-LABEL: func.func @two(%x: tensor<?x3xf64>) -> (tensor<?x2xf64>, tensor<?x2xf64>) attributes {cascade.groups_refused = "the result comes from 2 model calls, not one"} {
// CHECK-NEXT:    %a = "test.op"(%x) : (tensor<?x3xf64>) -> tensor<?x2xf64>
// CHECK-NEXT:    %b = "test.op"(%x) : (tensor<?x3xf64>) -> tensor<?x2xf64>
// CHECK-NEXT:    %m = pipeline.hstack %a, %b
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %m params {proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
// CHECK-NEXT:    %q = pipeline.predict "LogisticRegression" "predict_proba" %m params {proba = "softmax"} : tensor<?x4xf64> -> tensor<?x2xf64>

// -----

// One model called twice on one input (predict and predict_proba, returned as a pair):
// one model, whose first call carries the groups.

func.func @twins(%x: tensor<?x3xf64>) -> !pipeline.object {
  %a = "test.op"(%x) : (tensor<?x3xf64>) -> tensor<?x2xf64>
  %b = "test.op"(%x) : (tensor<?x3xf64>) -> tensor<?x2xf64>
  %m = pipeline.hstack %a, %b : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x4xf64>
  %l = pipeline.predict "LogisticRegression" "predict" %m params {proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?xi64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %m params {proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
  %t = pipeline.python_call "py0_pack"(%l, %p) reason "a list, tuple or dict of values stays in Python" source "tuple(...)" : (tensor<?xi64>, tensor<?x2xf64>) -> !pipeline.object
  func.return %t : !pipeline.object
}

// CHECK-LABEL: func.func @twins(%x: tensor<?x3xf64>) -> !pipeline.object {
// CHECK:         %l = pipeline.predict "LogisticRegression" "predict" %m params {proba = "binary_sigmoid"} {cascade.groups = [{name = "test.op #1", spans = array<i64: 0, 2>}, {name = "test.op #2", spans = array<i64: 2, 4>}]}
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %m params {proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>

// -----

// No model at all.

func.func @none(%x: tensor<?x3xf64>) -> tensor<?x2xf64> {
  %a = "test.op"(%x) : (tensor<?x3xf64>) -> tensor<?x2xf64>
  func.return %a : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @none(%x: tensor<?x3xf64>) -> tensor<?x2xf64> attributes {cascade.groups_refused = "the result comes from 0 model calls, not one"} {

// -----

// The model reads input columns only: one feature group, nothing a cascade could skip.

func.func @one(%df: !pipeline.frame<"a" : f64, "b" : f64>) -> tensor<?x2xf64> {
  %x = pipeline.to_array %df ["b", "a"] : !pipeline.frame<"a" : f64, "b" : f64> -> tensor<?x2xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x2xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @one(%df: !pipeline.frame<"a" : f64, "b" : f64>) -> tensor<?x2xf64> attributes {cascade.groups_refused = "the model's input has one feature group (input columns): nothing to skip"} {
// CHECK-NEXT:    %x = pipeline.to_array %df ["b", "a"]
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x2xf64> -> tensor<?x2xf64>

// -----

// A batch statistic depends on every row: a cascade (features of some rows) is refused.
func.func @stat(%x: tensor<?x2xf64>) -> tensor<?xi64> {
  %a = pipeline.take_column %x [0] : tensor<?x2xf64> -> tensor<?xf64>
  %m = pipeline.reduce "mean" %a : tensor<?xf64> -> f64
  %c = pipeline.binary "sub" %x, %m : (tensor<?x2xf64>, f64) -> tensor<?x2xf64>
  %p = pipeline.predict "LogisticRegression" "predict" %c params {coef = #pipeline.blob<w : tensor<1x2xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>} : tensor<?x2xf64> -> tensor<?xi64>
  func.return %p : tensor<?xi64>
}

// CHECK: cascade.groups_refused = "a batch statistic (pandas mean) depends on every row of the batch, and a cascade computes features on some rows only"
