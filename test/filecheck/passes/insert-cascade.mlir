// RUN: willump-opt %s --split-input-file -p insert-cascade | filecheck %s

// The input carries what infer-feature-groups and the optimizer wrote on the model op:
// cascade.groups (spans, cost, importance) and cascade.plan. The pass consumes the plan,
// keeps the groups, leaves the full computation in place and appends the cheap path
// before the return.

// Text-like: two vectorizers and the input columns are stacked; the plan keeps groups 0
// and 2. The cheap model reads a new hstack of %w and %n (still sparse), the expensive %c
// is not in it. The take_column after the model is copied onto the cheap probabilities.

func.func @text(%df: !pipeline.frame<"title" : !pipeline.str, "a" : f64, "b" : f64>) -> tensor<?xf64> {
  %t = "test.op"(%df) : (!pipeline.frame<"title" : !pipeline.str, "a" : f64, "b" : f64>) -> !feature.text
  %w = "test.op"(%t) {cascade.group = 0 : i64} : (!feature.text) -> tensor<?x4xf64, "csr">
  %c = "test.op"(%t) {cascade.group = 1 : i64} : (!feature.text) -> tensor<?x8xf64, "csr">
  %n = pipeline.to_array %df ["a", "b"] : !pipeline.frame<"title" : !pipeline.str, "a" : f64, "b" : f64> -> tensor<?x2xf64>
  %x = pipeline.hstack %w, %c, %n : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">, tensor<?x2xf64>) -> tensor<?x14xf64, "csr">
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<1x14xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "binary_sigmoid"} {cascade.groups = [{name = "test.op #1", spans = array<i64: 0, 4>, cost = 2.000000e+00 : f64, importance = 3.000000e-01 : f64}, {name = "test.op #2", spans = array<i64: 4, 12>, cost = 9.000000e+00 : f64, importance = 1.000000e-01 : f64}, {name = "input columns", spans = array<i64: 12, 14>, cost = 0.000000e+00 : f64, importance = 5.000000e-02 : f64}], cascade.plan = {cheap = array<i64: 0, 2>, model = @approx, metric = "top_probability", threshold = 9.000000e-01 : f64}} : tensor<?x14xf64, "csr"> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %y : tensor<?xf64>
}

func.func private @approx(%x: tensor<?x6xf64, "csr">) -> tensor<?x2xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<wa : tensor<1x6xf64>>, intercept = #pipeline.blob<ba : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x6xf64, "csr"> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @text(
// CHECK-NEXT:    %t = "test.op"(%df)
// CHECK-NEXT:    %w = "test.op"(%t) {cascade.group = 0 : i64}
// CHECK-NEXT:    %c = "test.op"(%t) {cascade.group = 1 : i64}
// CHECK-NEXT:    %n = pipeline.to_array %df ["a", "b"]
// CHECK-NEXT:    %x = pipeline.hstack %w, %c, %n : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">, tensor<?x2xf64>) -> tensor<?x14xf64, "csr">
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<1x14xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "binary_sigmoid"} {cascade.groups = [{name = "test.op #1", spans = array<i64: 0, 4>, cost = 2.000000e+00 : f64, importance = 3.000000e-01 : f64}, {name = "test.op #2", spans = array<i64: 4, 12>, cost = 9.000000e+00 : f64, importance = 1.000000e-01 : f64}, {name = "input columns", spans = array<i64: 12, 14>, cost = 0.000000e+00 : f64, importance = 5.000000e-02 : f64}]} : tensor<?x14xf64, "csr"> -> tensor<?x2xf64>
// CHECK-NEXT:    %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    [[CHEAP:%[0-9]+]] = pipeline.hstack %w, %n : (tensor<?x4xf64, "csr">, tensor<?x2xf64>) -> tensor<?x6xf64, "csr">
// CHECK-NEXT:    [[PROBA:%[0-9]+]] = cascade.approx_predict @approx([[CHEAP]]) : (tensor<?x6xf64, "csr">) -> tensor<?x2xf64>
// CHECK-NEXT:    [[SETTLED:%[0-9]+]] = cascade.confidence_mask top_probability([[PROBA]]) >= 9.000000e-01 : tensor<?x2xf64>
// CHECK-NEXT:    %y_1 = pipeline.take_column [[PROBA]] [1] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    [[R:%[0-9]+]] = cascade.select_rows [[SETTLED]], %y_1, %y : tensor<?xf64>
// CHECK-NEXT:    func.return [[R]] : tensor<?xf64>
// CHECK-NEXT:  }
// CHECK-NEXT:  func.func private @approx(%x: tensor<?x6xf64, "csr">) -> tensor<?x2xf64> {
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %x

// -----

// predict and predict_proba of one model returned as a pair, with a column read from the
// input: the cheap path calls the cheap model with each method (predict_proba is its
// probabilities), the pack is copied onto them and the column, and the pair is selected.

func.func @pair(%df: !pipeline.frame<"a" : f64, "b" : f64>) -> !pipeline.object {
  %n = pipeline.to_array %df ["a"] : !pipeline.frame<"a" : f64, "b" : f64> -> tensor<?x1xf64>
  %e = "test.op"(%df) {cascade.group = 1 : i64} : (!pipeline.frame<"a" : f64, "b" : f64>) -> tensor<?x2xf64>
  %x = pipeline.hstack %n, %e : (tensor<?x1xf64>, tensor<?x2xf64>) -> tensor<?x3xf64>
  %l = pipeline.predict "LogisticRegression" "predict" %x params {proba = "binary_sigmoid"} {cascade.groups = [{name = "input columns", spans = array<i64: 0, 1>, cost = 0.000000e+00 : f64, importance = 3.000000e-01 : f64}, {name = "test.op", spans = array<i64: 1, 3>, cost = 9.000000e+00 : f64, importance = 1.000000e-01 : f64}], cascade.plan = {cheap = array<i64: 0>, model = @approx, metric = "top_probability", threshold = 9.000000e-01 : f64}} : tensor<?x3xf64> -> tensor<?xi64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x3xf64> -> tensor<?x2xf64>
  %b = pipeline.to_array %df ["b"] : !pipeline.frame<"a" : f64, "b" : f64> -> tensor<?x1xf64>
  %t = pipeline.python_call "py0_pack"(%l, %p, %b) reason "a list, tuple or dict of values stays in Python" source "tuple(...)" : (tensor<?xi64>, tensor<?x2xf64>, tensor<?x1xf64>) -> !pipeline.object
  func.return %t : !pipeline.object
}

func.func private @approx(%x: tensor<?x1xf64>) -> tensor<?x2xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x1xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @pair(
// CHECK:         %t = pipeline.python_call "py0_pack"(%l, %p, %b)
// CHECK-NEXT:    [[PROBA:%[0-9]+]] = cascade.approx_predict @approx(%n) : (tensor<?x1xf64>) -> tensor<?x2xf64>
// CHECK-NEXT:    [[LABELS:%[0-9]+]] = pipeline.predict "LogisticRegression" "predict" %n params {proba = "binary_sigmoid"} : tensor<?x1xf64> -> tensor<?xi64>
// CHECK-NEXT:    [[SETTLED:%[0-9]+]] = cascade.confidence_mask top_probability([[PROBA]]) >= 9.000000e-01 : tensor<?x2xf64>
// CHECK-NEXT:    %t_1 = pipeline.python_call "py0_pack"([[LABELS]], [[PROBA]], %b)
// CHECK-NEXT:    [[R:%[0-9]+]] = cascade.select_rows [[SETTLED]], %t_1, %t : !pipeline.object
// CHECK-NEXT:    func.return [[R]] : !pipeline.object

// -----

// The join chain after infer-feature-groups (the movie key reads %df). The plan keeps the
// movie join and the input column "year": the cheap input reads a new join of %df["year"]
// with the movie values %mv only. The user join (%uk, %ur, %uv, %j1) and %j2 are not in
// the cheap path; they stay, unchanged, on the full path.

func.func @ratings(%df: !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64>) -> tensor<?xf64> {
  %uk = pipeline.to_array %df ["userId"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64> -> tensor<?x1xf64>
  %ur = feature.lookup_keys %uk[0] keys <uk : tensor<4xf64>> table <ut : tensor<8xi64>> probes 1 nan_row -1 {cascade.group = 0 : i64} : tensor<?x1xf64> -> tensor<?x1xi64>
  %uv = feature.gather_rows %ur values <uv : tensor<4x2xf64>> fill 0x7FF8000000000000 : f64 on_missing fill {cascade.group = 0 : i64} : tensor<?x1xi64> -> tensor<?x2xf64>
  %j1 = feature.join %df, %uv : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64>, tensor<?x2xf64> -> !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64>
  %mk = pipeline.to_array %df ["movieId"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64> -> tensor<?x1xf64>
  %mr = feature.lookup_keys %mk[0] keys <mk : tensor<4xf64>> table <mt : tensor<8xi64>> probes 1 nan_row -1 {cascade.group = 1 : i64} : tensor<?x1xf64> -> tensor<?x1xi64>
  %mv = feature.gather_rows %mr values <mv : tensor<4x1xf64>> fill 0x7FF8000000000000 : f64 on_missing fill {cascade.group = 1 : i64} : tensor<?x1xi64> -> tensor<?x1xf64>
  %j2 = feature.join %j1, %mv : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64>, tensor<?x1xf64> -> !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64, "movie_mean" : f64>
  %x = pipeline.to_array %j2 ["user_mean", "movie_mean", "year", "user_count"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64, "movie_mean" : f64> -> tensor<?x4xf64>
  %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} {cascade.groups = [{name = "join on userId", spans = array<i64: 0, 1, 3, 4>, cost = 4.000000e+00 : f64, importance = 2.000000e-01 : f64}, {name = "join on movieId", spans = array<i64: 1, 2>, cost = 1.000000e+00 : f64, importance = 2.500000e-01 : f64}, {name = "input columns", spans = array<i64: 2, 3>, cost = 0.000000e+00 : f64, importance = 5.000000e-02 : f64}], cascade.plan = {cheap = array<i64: 1, 2>, model = @approx, metric = "top_probability", threshold = 8.500000e-01 : f64}} : tensor<?x4xf64> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %y : tensor<?xf64>
}

func.func private @approx(%x: tensor<?x2xf64>) -> tensor<?x2xf64> {
  %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x2xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @ratings(
// CHECK-NEXT:    %uk = pipeline.to_array %df ["userId"]
// CHECK-NEXT:    %ur = feature.lookup_keys %uk[0]
// CHECK-NEXT:    %uv = feature.gather_rows %ur
// CHECK-NEXT:    %j1 = feature.join %df, %uv
// CHECK-NEXT:    %mk = pipeline.to_array %df ["movieId"]
// CHECK-NEXT:    %mr = feature.lookup_keys %mk[0]
// CHECK-NEXT:    %mv = feature.gather_rows %mr
// CHECK-NEXT:    %j2 = feature.join %j1, %mv
// CHECK-NEXT:    %x = pipeline.to_array %j2 ["user_mean", "movie_mean", "year", "user_count"]
// CHECK-NEXT:    %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} {cascade.groups = [{{.*}}]} : tensor<?x4xf64> -> tensor<?x2xf64>
// CHECK-NEXT:    %y = pipeline.take_column %p [1]
// CHECK-NEXT:    [[YEAR:%[0-9]+]] = pipeline.select_columns %df ["year"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64> -> !pipeline.frame<"year" : f64>
// CHECK-NEXT:    [[JOIN:%[0-9]+]] = feature.join [[YEAR]], %mv : !pipeline.frame<"year" : f64>, tensor<?x1xf64> -> !pipeline.frame<"year" : f64, "movie_mean" : f64>
// CHECK-NEXT:    [[CHEAP:%[0-9]+]] = pipeline.to_array [[JOIN]] ["movie_mean", "year"] : !pipeline.frame<"year" : f64, "movie_mean" : f64> -> tensor<?x2xf64>
// CHECK-NEXT:    [[PROBA:%[0-9]+]] = cascade.approx_predict @approx([[CHEAP]]) : (tensor<?x2xf64>) -> tensor<?x2xf64>
// CHECK-NEXT:    [[SETTLED:%[0-9]+]] = cascade.confidence_mask top_probability([[PROBA]]) >= 8.500000e-01 : tensor<?x2xf64>
// CHECK-NEXT:    %y_1 = pipeline.take_column [[PROBA]] [1] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    [[R:%[0-9]+]] = cascade.select_rows [[SETTLED]], %y_1, %y : tensor<?xf64>
// CHECK-NEXT:    func.return [[R]] : tensor<?xf64>

// -----

// The plan keeps only the user join (two spans): the cheap input reads %j1 directly, %j2
// and the movie join are not in the cheap path.

func.func @users(%df: !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64>) -> tensor<?xf64> {
  %uk = pipeline.to_array %df ["userId"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64> -> tensor<?x1xf64>
  %ur = feature.lookup_keys %uk[0] keys <uk : tensor<4xf64>> table <ut : tensor<8xi64>> probes 1 nan_row -1 {cascade.group = 0 : i64} : tensor<?x1xf64> -> tensor<?x1xi64>
  %uv = feature.gather_rows %ur values <uv : tensor<4x2xf64>> fill 0x7FF8000000000000 : f64 on_missing fill {cascade.group = 0 : i64} : tensor<?x1xi64> -> tensor<?x2xf64>
  %j1 = feature.join %df, %uv : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64>, tensor<?x2xf64> -> !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64>
  %mk = pipeline.to_array %df ["movieId"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64> -> tensor<?x1xf64>
  %mr = feature.lookup_keys %mk[0] keys <mk : tensor<4xf64>> table <mt : tensor<8xi64>> probes 1 nan_row -1 {cascade.group = 1 : i64} : tensor<?x1xf64> -> tensor<?x1xi64>
  %mv = feature.gather_rows %mr values <mv : tensor<4x1xf64>> fill 0x7FF8000000000000 : f64 on_missing fill {cascade.group = 1 : i64} : tensor<?x1xi64> -> tensor<?x1xf64>
  %j2 = feature.join %j1, %mv : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64>, tensor<?x1xf64> -> !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64, "movie_mean" : f64>
  %x = pipeline.to_array %j2 ["user_mean", "movie_mean", "year", "user_count"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64, "movie_mean" : f64> -> tensor<?x4xf64>
  %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} {cascade.groups = [{name = "join on userId", spans = array<i64: 0, 1, 3, 4>, cost = 4.000000e+00 : f64, importance = 2.000000e-01 : f64}, {name = "join on movieId", spans = array<i64: 1, 2>, cost = 1.000000e+00 : f64, importance = 2.500000e-01 : f64}, {name = "input columns", spans = array<i64: 2, 3>, cost = 0.000000e+00 : f64, importance = 5.000000e-02 : f64}], cascade.plan = {cheap = array<i64: 0>, model = @approx, metric = "top_probability", threshold = 8.500000e-01 : f64}} : tensor<?x4xf64> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %y : tensor<?xf64>
}

func.func private @approx(%x: tensor<?x2xf64>) -> tensor<?x2xf64> {
  %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x2xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @users(
// CHECK:         %y = pipeline.take_column %p [1]
// CHECK-NEXT:    [[CHEAP:%[0-9]+]] = pipeline.to_array %j1 ["user_mean", "user_count"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64, "user_mean" : f64, "user_count" : f64> -> tensor<?x2xf64>
// CHECK-NEXT:    [[PROBA:%[0-9]+]] = cascade.approx_predict @approx([[CHEAP]]) : (tensor<?x2xf64>) -> tensor<?x2xf64>

// -----

// A model called with "predict" (class labels): the cheap probabilities still decide which
// rows are settled, and a second pipeline.predict, the cheap estimator and parameters with
// the original method, gives the labels the settled rows return. The plan keeps the first
// hstack part alone, which the cheap model reads directly.

func.func @labels(%df: !pipeline.frame<"title" : !pipeline.str>) -> tensor<?xi64> {
  %w = "test.op"(%df) {cascade.group = 0 : i64} : (!pipeline.frame<"title" : !pipeline.str>) -> tensor<?x4xf64>
  %c = "test.op"(%df) {cascade.group = 1 : i64} : (!pipeline.frame<"title" : !pipeline.str>) -> tensor<?x8xf64>
  %x = pipeline.hstack %w, %c : (tensor<?x4xf64>, tensor<?x8xf64>) -> tensor<?x12xf64>
  %p = pipeline.predict "LinearSVC" "predict" %x params {coef = #pipeline.blob<w : tensor<1x12xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "none"} {cascade.groups = [{name = "test.op #1", spans = array<i64: 0, 4>, cost = 1.000000e+00 : f64, importance = 4.000000e-01 : f64}, {name = "test.op #2", spans = array<i64: 4, 12>, cost = 6.000000e+00 : f64, importance = 1.000000e-01 : f64}], cascade.plan = {cheap = array<i64: 0>, model = @approx, metric = "top_probability", threshold = 8.000000e-01 : f64}} : tensor<?x12xf64> -> tensor<?xi64>
  func.return %p : tensor<?xi64>
}

func.func private @approx(%x: tensor<?x4xf64>) -> tensor<?x2xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<wa : tensor<1x4xf64>>, intercept = #pipeline.blob<ba : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @labels(
// CHECK-NEXT:    %w = "test.op"(%df)
// CHECK-NEXT:    %c = "test.op"(%df)
// CHECK-NEXT:    %x = pipeline.hstack %w, %c
// CHECK-NEXT:    %p = pipeline.predict "LinearSVC" "predict" %x params {coef = #pipeline.blob<w : tensor<1x12xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "none"} {cascade.groups = [{{.*}}]} : tensor<?x12xf64> -> tensor<?xi64>
// CHECK-NEXT:    [[PROBA:%[0-9]+]] = cascade.approx_predict @approx(%w) : (tensor<?x4xf64>) -> tensor<?x2xf64>
// CHECK-NEXT:    [[LABELS:%[0-9]+]] = pipeline.predict "LogisticRegression" "predict" %w params {coef = #pipeline.blob<wa : tensor<1x4xf64>>, intercept = #pipeline.blob<ba : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?xi64>
// CHECK-NEXT:    [[SETTLED:%[0-9]+]] = cascade.confidence_mask top_probability([[PROBA]]) >= 8.000000e-01 : tensor<?x2xf64>
// CHECK-NEXT:    [[R:%[0-9]+]] = cascade.select_rows [[SETTLED]], [[LABELS]], %p : tensor<?xi64>
// CHECK-NEXT:    func.return [[R]] : tensor<?xi64>

// -----

// Three classes and the margin metric; the cheap group is a whole hstack part (%n), read
// as it is. The function returns the model's probabilities directly, so nothing is copied
// after the model and the cheap probabilities are the approximate result.

func.func @classes(%df: !pipeline.frame<"title" : !pipeline.str, "a" : f64>) -> tensor<?x3xf64> {
  %w = "test.op"(%df) {cascade.group = 0 : i64} : (!pipeline.frame<"title" : !pipeline.str, "a" : f64>) -> tensor<?x4xf64>
  %n = pipeline.to_array %df ["a"] : !pipeline.frame<"title" : !pipeline.str, "a" : f64> -> tensor<?x1xf64>
  %x = pipeline.hstack %w, %n : (tensor<?x4xf64>, tensor<?x1xf64>) -> tensor<?x5xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<3x5xf64>>, intercept = #pipeline.blob<b : tensor<3xf64>>, proba = "softmax"} {cascade.groups = [{name = "test.op", spans = array<i64: 0, 4>, cost = 3.000000e+00 : f64, importance = 2.000000e-01 : f64}, {name = "input columns", spans = array<i64: 4, 5>, cost = 0.000000e+00 : f64, importance = 1.000000e-01 : f64}], cascade.plan = {cheap = array<i64: 1>, model = @approx, metric = "margin", threshold = 4.000000e-01 : f64}} : tensor<?x5xf64> -> tensor<?x3xf64>
  func.return %p : tensor<?x3xf64>
}

func.func private @approx(%x: tensor<?x1xf64>) -> tensor<?x3xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<wa : tensor<3x1xf64>>, intercept = #pipeline.blob<ba : tensor<3xf64>>, proba = "softmax"} : tensor<?x1xf64> -> tensor<?x3xf64>
  func.return %p : tensor<?x3xf64>
}

// CHECK-LABEL: func.func @classes(
// CHECK:         %p = pipeline.predict "LogisticRegression" "predict_proba" %x
// CHECK-NEXT:    [[PROBA:%[0-9]+]] = cascade.approx_predict @approx(%n) : (tensor<?x1xf64>) -> tensor<?x3xf64>
// CHECK-NEXT:    [[SETTLED:%[0-9]+]] = cascade.confidence_mask margin([[PROBA]]) >= 4.000000e-01 : tensor<?x3xf64>
// CHECK-NEXT:    [[R:%[0-9]+]] = cascade.select_rows [[SETTLED]], [[PROBA]], %p : tensor<?x3xf64>
// CHECK-NEXT:    func.return [[R]] : tensor<?x3xf64>

// A cheap model reading another type than the cheap groups give is not a diagnostic: the
// pass raises a Python ValueError ("cheap model @approx reads ..., the cheap groups give
// ..."), so that case is not tested here.

// -----

// A plan without metric and threshold (top-K only: a regressor has no confidence): the
// function computes the cheap result alone, the cheap model's predict inlined on the cheap
// columns; the expensive group, the hstack and the full model are erased.

func.func @scorer(%x: tensor<?x6xf64>) -> tensor<?xf64> {
  %a = "test.op"(%x) {cascade.group = 0 : i64} : (tensor<?x6xf64>) -> tensor<?x2xf64>
  %b = pipeline.python_call "expensive"(%x) reason "unknown function" {cascade.group = 1 : i64} : (tensor<?x6xf64>) -> tensor<?x3xf64>
  %h = pipeline.hstack %a, %b : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x5xf64>
  %p = pipeline.predict "Ridge" "predict" %h params {coef = #pipeline.blob<w : tensor<5xf64>>} {cascade.groups = [{name = "a", spans = array<i64: 0, 2>}, {name = "b", spans = array<i64: 2, 5>}], cascade.plan = {cheap = array<i64: 0>, model = @cheap}} : tensor<?x5xf64> -> tensor<?xf64>
  %s = pipeline.unary "negative" %p : tensor<?xf64> -> tensor<?xf64>
  func.return %s : tensor<?xf64>
}
func.func private @cheap(%x: tensor<?x2xf64>) -> tensor<?xf64> {
  %p = pipeline.predict "Ridge" "predict" %x params {coef = #pipeline.blob<w2 : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?xf64>
  func.return %p : tensor<?xf64>
}

// CHECK-LABEL: func.func @scorer(%x: tensor<?x6xf64>) -> tensor<?xf64> {
// CHECK-NEXT:    %a = "test.op"(%x) {cascade.group = 0 : i64} : (tensor<?x6xf64>) -> tensor<?x2xf64>
// CHECK-NEXT:    %p = pipeline.predict "Ridge" "predict" %a params {coef = #pipeline.blob<w2 : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    %s = pipeline.unary "negative" %p : tensor<?xf64> -> tensor<?xf64>
// CHECK-NEXT:    func.return %s : tensor<?xf64>
// CHECK-NEXT:  }

// -----

// The scorer keeps the ops of the full path that check their input (ChecksInput), with what
// they read: the f64-to-i64 cast %n of the expensive group refuses NaN on every row, as the
// original does; the expensive Python call, the pure cast %f, the hstack and the full model
// are erased.

func.func @scorer_checks(%x: tensor<?x6xf64>, %c: tensor<?xf64>) -> tensor<?xf64> {
  %a = "test.op"(%x) {cascade.group = 0 : i64} : (tensor<?x6xf64>) -> tensor<?x2xf64>
  %n = pipeline.cast %c {cascade.group = 1 : i64} : tensor<?xf64> -> tensor<?xi64>
  %f = pipeline.cast %n {cascade.group = 1 : i64} : tensor<?xi64> -> tensor<?xf64>
  %b = pipeline.python_call "expensive"(%x, %f) reason "unknown function" {cascade.group = 1 : i64} : (tensor<?x6xf64>, tensor<?xf64>) -> tensor<?x3xf64>
  %h = pipeline.hstack %a, %b : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x5xf64>
  %p = pipeline.predict "Ridge" "predict" %h params {coef = #pipeline.blob<w : tensor<5xf64>>} {cascade.groups = [{name = "a", spans = array<i64: 0, 2>}, {name = "b", spans = array<i64: 2, 5>}], cascade.plan = {cheap = array<i64: 0>, model = @cheap}} : tensor<?x5xf64> -> tensor<?xf64>
  func.return %p : tensor<?xf64>
}
func.func private @cheap(%x: tensor<?x2xf64>) -> tensor<?xf64> {
  %p = pipeline.predict "Ridge" "predict" %x params {coef = #pipeline.blob<w2 : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?xf64>
  func.return %p : tensor<?xf64>
}

// CHECK-LABEL: func.func @scorer_checks(%x: tensor<?x6xf64>, %c: tensor<?xf64>) -> tensor<?xf64> {
// CHECK-NEXT:    %a = "test.op"(%x) {cascade.group = 0 : i64} : (tensor<?x6xf64>) -> tensor<?x2xf64>
// CHECK-NEXT:    %n = pipeline.cast %c {cascade.group = 1 : i64} : tensor<?xf64> -> tensor<?xi64>
// CHECK-NEXT:    %p = pipeline.predict "Ridge" "predict" %a params {coef = #pipeline.blob<w2 : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    func.return %p : tensor<?xf64>
// CHECK-NEXT:  }
