// RUN: willump-opt %s --split-input-file -p schedule-lazy | filecheck %s

// Inputs are cascades as insert-cascade leaves them: the full path and the cheap path both
// run on every row, and cascade.select_rows picks per row.

// Text: the decoding %t and the cheap vectorizer %w are shared with the cheap path. The
// used argument %df is compacted to the unsettled rows; the branch recomputes everything
// the full result needs on them (%t and %w copied), and its result is merged into the
// cheap one. Outside, only the cheap path is left: %c, %x, the full model and %y are gone.

func.func @text(%df: !pipeline.frame<"title" : !pipeline.str>) -> tensor<?xf64> {
  %t = "test.op"(%df) : (!pipeline.frame<"title" : !pipeline.str>) -> !feature.text
  %w = "test.op"(%t) {cascade.group = 0 : i64} : (!feature.text) -> tensor<?x4xf64, "csr">
  %c = "test.op"(%t) {cascade.group = 1 : i64} : (!feature.text) -> tensor<?x8xf64, "csr">
  %x = pipeline.hstack %w, %c : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> tensor<?x12xf64, "csr">
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x12xf64, "csr"> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  %q = cascade.approx_predict @approx(%w) : (tensor<?x4xf64, "csr">) -> tensor<?x2xf64>
  %settled = cascade.confidence_mask top_probability(%q) >= 9.000000e-01 : tensor<?x2xf64>
  %ya = pipeline.take_column %q [1] : tensor<?x2xf64> -> tensor<?xf64>
  %r = cascade.select_rows %settled, %ya, %y : tensor<?xf64>
  func.return %r : tensor<?xf64>
}

func.func private @approx(%x: tensor<?x4xf64, "csr">) -> tensor<?x2xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x4xf64, "csr"> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @text(%df: !pipeline.frame<"title" : !pipeline.str>) -> tensor<?xf64> {
// CHECK-NEXT:    %t = "test.op"(%df) : (!pipeline.frame<"title" : !pipeline.str>) -> !feature.text
// CHECK-NEXT:    %w = "test.op"(%t) {cascade.group = 0 : i64} : (!feature.text) -> tensor<?x4xf64, "csr">
// CHECK-NEXT:    %q = cascade.approx_predict @approx(%w) : (tensor<?x4xf64, "csr">) -> tensor<?x2xf64>
// CHECK-NEXT:    %settled = cascade.confidence_mask top_probability(%q) >= 9.000000e-01 : tensor<?x2xf64>
// CHECK-NEXT:    %ya = pipeline.take_column %q [1] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    [[REST:%[0-9]+]], [[ROWS:%[0-9]+]] = cascade.compact %df drop %settled : !pipeline.frame<"title" : !pipeline.str>
// CHECK-NEXT:    [[FULL:%[0-9]+]] = cascade.lazy_branch([[D:%[0-9]+]] = [[REST]]) : (!pipeline.frame<"title" : !pipeline.str>) -> tensor<?xf64> {
// CHECK-NEXT:      %t_1 = "test.op"([[D]]) : (!pipeline.frame<"title" : !pipeline.str>) -> !feature.text
// CHECK-NEXT:      %w_1 = "test.op"(%t_1) {cascade.group = 0 : i64} : (!feature.text) -> tensor<?x4xf64, "csr">
// CHECK-NEXT:      %c = "test.op"(%t_1) {cascade.group = 1 : i64} : (!feature.text) -> tensor<?x8xf64, "csr">
// CHECK-NEXT:      %x = pipeline.hstack %w_1, %c : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> tensor<?x12xf64, "csr">
// CHECK-NEXT:      %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x12xf64, "csr"> -> tensor<?x2xf64>
// CHECK-NEXT:      %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:      cascade.yield %y : tensor<?xf64>
// CHECK-NEXT:    }
// CHECK-NEXT:    %r = cascade.merge [[FULL]] into %ya at [[ROWS]] : tensor<?xf64>
// CHECK-NEXT:    func.return %r : tensor<?xf64>
// CHECK-NEXT:  }
// CHECK-NEXT:  func.func private @approx(

// -----

// Every argument is compacted (in argument order) and becomes a branch argument, so the
// branch has the function's signature, %unused too; the merge uses the first compaction's
// row indices.

func.func @mixed(%df: !pipeline.frame<"text" : !pipeline.str>, %num: tensor<?x2xf64>, %unused: tensor<?x1xf64>) -> tensor<?xf64> {
  %n = "test.op"(%num) {cascade.group = 0 : i64} : (tensor<?x2xf64>) -> tensor<?x2xf64>
  %c = "test.op"(%df) {cascade.group = 1 : i64} : (!pipeline.frame<"text" : !pipeline.str>) -> tensor<?x8xf64>
  %x = pipeline.hstack %n, %c : (tensor<?x2xf64>, tensor<?x8xf64>) -> tensor<?x10xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x10xf64> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  %q = cascade.approx_predict @approx(%n) : (tensor<?x2xf64>) -> tensor<?x2xf64>
  %settled = cascade.confidence_mask top_probability(%q) >= 9.000000e-01 : tensor<?x2xf64>
  %ya = pipeline.take_column %q [1] : tensor<?x2xf64> -> tensor<?xf64>
  %r = cascade.select_rows %settled, %ya, %y : tensor<?xf64>
  func.return %r : tensor<?xf64>
}

func.func private @approx(%x: tensor<?x2xf64>) -> tensor<?x2xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x2xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @mixed(
// CHECK-NEXT:    %n = "test.op"(%num)
// CHECK-NEXT:    %q = cascade.approx_predict @approx(%n)
// CHECK-NEXT:    %settled = cascade.confidence_mask top_probability(%q) >= 9.000000e-01
// CHECK-NEXT:    %ya = pipeline.take_column %q [1]
// CHECK-NEXT:    [[DF:%[0-9]+]], [[ROWS:%[0-9]+]] = cascade.compact %df drop %settled : !pipeline.frame<"text" : !pipeline.str>
// CHECK-NEXT:    [[NUM:%[0-9]+]], {{%[0-9]+}} = cascade.compact %num drop %settled : tensor<?x2xf64>
// CHECK-NEXT:    [[UNUSED:%[0-9]+]], {{%[0-9]+}} = cascade.compact %unused drop %settled : tensor<?x1xf64>
// CHECK-NEXT:    [[FULL:%[0-9]+]] = cascade.lazy_branch([[D:%[0-9]+]] = [[DF]], [[X:%[0-9]+]] = [[NUM]], {{%[0-9]+}} = [[UNUSED]]) : (!pipeline.frame<"text" : !pipeline.str>, tensor<?x2xf64>, tensor<?x1xf64>) -> tensor<?xf64> {
// CHECK-NEXT:      %n_1 = "test.op"([[X]]) {cascade.group = 0 : i64} : (tensor<?x2xf64>) -> tensor<?x2xf64>
// CHECK-NEXT:      %c = "test.op"([[D]]) {cascade.group = 1 : i64} : (!pipeline.frame<"text" : !pipeline.str>) -> tensor<?x8xf64>
// CHECK-NEXT:      %x = pipeline.hstack %n_1, %c
// CHECK-NEXT:      %p = pipeline.predict "LogisticRegression" "predict_proba" %x
// CHECK-NEXT:      %y = pipeline.take_column %p [1]
// CHECK-NEXT:      cascade.yield %y : tensor<?xf64>
// CHECK-NEXT:    }
// CHECK-NEXT:    %r = cascade.merge [[FULL]] into %ya at [[ROWS]] : tensor<?xf64>
// CHECK-NEXT:    func.return %r : tensor<?xf64>

// -----

// The join chain after insert-cascade with the movie join and "year" cheap: the movie
// lookup (%mk, %mr, %mv) is shared and copied into the branch; the user join, %j2 and the
// full model move into the branch only; the cheap join stays outside.

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
  %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  %year = pipeline.select_columns %df ["year"] : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64> -> !pipeline.frame<"year" : f64>
  %jc = feature.join %year, %mv : !pipeline.frame<"year" : f64>, tensor<?x1xf64> -> !pipeline.frame<"year" : f64, "movie_mean" : f64>
  %xc = pipeline.to_array %jc ["movie_mean", "year"] : !pipeline.frame<"year" : f64, "movie_mean" : f64> -> tensor<?x2xf64>
  %q = cascade.approx_predict @approx(%xc) : (tensor<?x2xf64>) -> tensor<?x2xf64>
  %settled = cascade.confidence_mask top_probability(%q) >= 8.500000e-01 : tensor<?x2xf64>
  %ya = pipeline.take_column %q [1] : tensor<?x2xf64> -> tensor<?xf64>
  %r = cascade.select_rows %settled, %ya, %y : tensor<?xf64>
  func.return %r : tensor<?xf64>
}

func.func private @approx(%x: tensor<?x2xf64>) -> tensor<?x2xf64> {
  %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x2xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @ratings(
// CHECK-NEXT:    %mk = pipeline.to_array %df ["movieId"]
// CHECK-NEXT:    %mr = feature.lookup_keys %mk[0]
// CHECK-NEXT:    %mv = feature.gather_rows %mr
// CHECK-NEXT:    %year = pipeline.select_columns %df ["year"]
// CHECK-NEXT:    %jc = feature.join %year, %mv
// CHECK-NEXT:    %xc = pipeline.to_array %jc ["movie_mean", "year"]
// CHECK-NEXT:    %q = cascade.approx_predict @approx(%xc)
// CHECK-NEXT:    %settled = cascade.confidence_mask top_probability(%q) >= 8.500000e-01
// CHECK-NEXT:    %ya = pipeline.take_column %q [1]
// CHECK-NEXT:    [[REST:%[0-9]+]], [[ROWS:%[0-9]+]] = cascade.compact %df drop %settled : !pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64>
// CHECK-NEXT:    [[FULL:%[0-9]+]] = cascade.lazy_branch([[D:%[0-9]+]] = [[REST]]) : (!pipeline.frame<"userId" : f64, "movieId" : f64, "year" : f64>) -> tensor<?xf64> {
// CHECK-NEXT:      %uk = pipeline.to_array [[D]] ["userId"]
// CHECK-NEXT:      %ur = feature.lookup_keys %uk[0]
// CHECK-NEXT:      %uv = feature.gather_rows %ur
// CHECK-NEXT:      %j1 = feature.join [[D]], %uv
// CHECK-NEXT:      %mk_1 = pipeline.to_array [[D]] ["movieId"]
// CHECK-NEXT:      %mr_1 = feature.lookup_keys %mk_1[0]
// CHECK-NEXT:      %mv_1 = feature.gather_rows %mr_1
// CHECK-NEXT:      %j2 = feature.join %j1, %mv_1
// CHECK-NEXT:      %x = pipeline.to_array %j2 ["user_mean", "movie_mean", "year", "user_count"]
// CHECK-NEXT:      %p = pipeline.predict "LGBMClassifier" "predict_proba" %x
// CHECK-NEXT:      %y = pipeline.take_column %p [1]
// CHECK-NEXT:      cascade.yield %y : tensor<?xf64>
// CHECK-NEXT:    }
// CHECK-NEXT:    %r = cascade.merge [[FULL]] into %ya at [[ROWS]] : tensor<?xf64>
// CHECK-NEXT:    func.return %r : tensor<?xf64>

// -----

// An op of the full path that checks its input (ChecksInput: the f64-to-i64 cast %n of the
// expensive group) stays outside as well, with what it reads (%e): the original refuses a
// NaN there on settled rows too. Its pure users (%f, %c) move into the branch only.

func.func @checks(%df: !pipeline.frame<"a" : f64, "e" : f64>) -> tensor<?xf64> {
  %a = pipeline.to_array %df ["a"] {cascade.group = 0 : i64} : !pipeline.frame<"a" : f64, "e" : f64> -> tensor<?x1xf64>
  %e = pipeline.to_array %df ["e"] : !pipeline.frame<"a" : f64, "e" : f64> -> tensor<?x1xf64>
  %n = pipeline.cast %e {cascade.group = 1 : i64} : tensor<?x1xf64> -> tensor<?x1xi64>
  %f = pipeline.cast %n {cascade.group = 1 : i64} : tensor<?x1xi64> -> tensor<?x1xf64>
  %c = pipeline.python_call "expensive"(%f) reason "unknown function" {cascade.group = 1 : i64} : (tensor<?x1xf64>) -> tensor<?x2xf64>
  %x = pipeline.hstack %a, %c : (tensor<?x1xf64>, tensor<?x2xf64>) -> tensor<?x3xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x3xf64> -> tensor<?x2xf64>
  %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  %q = cascade.approx_predict @approx(%a) : (tensor<?x1xf64>) -> tensor<?x2xf64>
  %settled = cascade.confidence_mask top_probability(%q) >= 9.000000e-01 : tensor<?x2xf64>
  %ya = pipeline.take_column %q [1] : tensor<?x2xf64> -> tensor<?xf64>
  %r = cascade.select_rows %settled, %ya, %y : tensor<?xf64>
  func.return %r : tensor<?xf64>
}

func.func private @approx(%x: tensor<?x1xf64>) -> tensor<?x2xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x1xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @checks(
// CHECK-NEXT:    %a = pipeline.to_array %df ["a"]
// CHECK-NEXT:    %e = pipeline.to_array %df ["e"]
// CHECK-NEXT:    %n = pipeline.cast %e {cascade.group = 1 : i64} : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT:    %q = cascade.approx_predict @approx(%a)
// CHECK-NEXT:    %settled = cascade.confidence_mask
// CHECK-NEXT:    %ya = pipeline.take_column %q [1]
// CHECK-NEXT:    [[REST:%[0-9]+]], [[ROWS:%[0-9]+]] = cascade.compact %df drop %settled
// CHECK-NEXT:    [[FULL:%[0-9]+]] = cascade.lazy_branch([[D:%[0-9]+]] = [[REST]])
// CHECK-NEXT:      %a_1 = pipeline.to_array [[D]] ["a"]
// CHECK-NEXT:      %e_1 = pipeline.to_array [[D]] ["e"]
// CHECK-NEXT:      %n_1 = pipeline.cast %e_1
// CHECK-NEXT:      %f = pipeline.cast %n_1
// CHECK-NEXT:      %c = pipeline.python_call "expensive"(%f)
// CHECK-NEXT:      %x = pipeline.hstack %a_1, %c
// CHECK-NEXT:      %p = pipeline.predict "LogisticRegression" "predict_proba" %x
// CHECK-NEXT:      %y = pipeline.take_column %p [1]
// CHECK-NEXT:      cascade.yield %y : tensor<?xf64>
// CHECK-NEXT:    }
// CHECK-NEXT:    %r = cascade.merge [[FULL]] into %ya at [[ROWS]] : tensor<?xf64>
// CHECK-NEXT:    func.return %r : tensor<?xf64>
