// RUN: willump-opt %s --split-input-file -p lower-cascade | filecheck %s

// Inputs are cascades as schedule-lazy leaves them. Each is split into @f, the cheap path
// returning (cheap result, cheap class probabilities) with the mask's metric and threshold
// in cascade.settle, and @f__rest, the branch body as a function of the compacted
// arguments. The mask, the compactions, the branch and the merge are gone (the runtime
// does them); the cheap model's call is inlined as its pipeline.predict and its private
// function is erased.

// One compacted argument. The binary cheap model's take_column stays in @f; the function
// without a cascade (@plain) is left alone.

func.func @text(%df: !pipeline.frame<"title" : !pipeline.str>) -> tensor<?xf64> {
  %t = "test.op"(%df) : (!pipeline.frame<"title" : !pipeline.str>) -> !feature.text
  %w = "test.op"(%t) {cascade.group = 0 : i64} : (!feature.text) -> tensor<?x4xf64, "csr">
  %q = cascade.approx_predict @approx(%w) : (tensor<?x4xf64, "csr">) -> tensor<?x2xf64>
  %settled = cascade.confidence_mask top_probability(%q) >= 9.000000e-01 : tensor<?x2xf64>
  %ya = pipeline.take_column %q [1] : tensor<?x2xf64> -> tensor<?xf64>
  %rest, %rows = cascade.compact %df drop %settled : !pipeline.frame<"title" : !pipeline.str>
  %full = cascade.lazy_branch(%d = %rest) : (!pipeline.frame<"title" : !pipeline.str>) -> tensor<?xf64> {
    %t2 = "test.op"(%d) : (!pipeline.frame<"title" : !pipeline.str>) -> !feature.text
    %w2 = "test.op"(%t2) {cascade.group = 0 : i64} : (!feature.text) -> tensor<?x4xf64, "csr">
    %c = "test.op"(%t2) {cascade.group = 1 : i64} : (!feature.text) -> tensor<?x8xf64, "csr">
    %x = pipeline.hstack %w2, %c : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> tensor<?x12xf64, "csr">
    %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x12xf64, "csr"> -> tensor<?x2xf64>
    %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
    cascade.yield %y : tensor<?xf64>
  }
  %r = cascade.merge %full into %ya at %rows : tensor<?xf64>
  func.return %r : tensor<?xf64>
}

func.func private @approx(%x: tensor<?x4xf64, "csr">) -> tensor<?x2xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<wa : tensor<1x4xf64>>, intercept = #pipeline.blob<ba : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64, "csr"> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

func.func @plain(%x: tensor<?x4xf64>) -> tensor<?x2xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @text(%df: !pipeline.frame<"title" : !pipeline.str>) -> (tensor<?xf64>, tensor<?x2xf64>) attributes {cascade.settle = {metric = "top_probability", threshold = 9.000000e-01 : f64}} {
// CHECK-NEXT:    %t = "test.op"(%df) : (!pipeline.frame<"title" : !pipeline.str>) -> !feature.text
// CHECK-NEXT:    %w = "test.op"(%t) {cascade.group = 0 : i64} : (!feature.text) -> tensor<?x4xf64, "csr">
// CHECK-NEXT:    [[PROBA:%.+]] = pipeline.predict "LogisticRegression" "predict_proba" %w params {coef = #pipeline.blob<wa : tensor<1x4xf64>>, intercept = #pipeline.blob<ba : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64, "csr"> -> tensor<?x2xf64>
// CHECK-NEXT:    %ya = pipeline.take_column [[PROBA]] [1] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    func.return %ya, [[PROBA]] : tensor<?xf64>, tensor<?x2xf64>
// CHECK-NEXT:  }
// CHECK-NEXT:  func.func @text__rest([[D:%.+]]: !pipeline.frame<"title" : !pipeline.str>) -> tensor<?xf64> {
// CHECK-NEXT:    %t2 = "test.op"([[D]]) : (!pipeline.frame<"title" : !pipeline.str>) -> !feature.text
// CHECK-NEXT:    %w2 = "test.op"(%t2) {cascade.group = 0 : i64} : (!feature.text) -> tensor<?x4xf64, "csr">
// CHECK-NEXT:    %c = "test.op"(%t2) {cascade.group = 1 : i64} : (!feature.text) -> tensor<?x8xf64, "csr">
// CHECK-NEXT:    %x = pipeline.hstack %w2, %c : (tensor<?x4xf64, "csr">, tensor<?x8xf64, "csr">) -> tensor<?x12xf64, "csr">
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x12xf64, "csr"> -> tensor<?x2xf64>
// CHECK-NEXT:    %y = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    func.return %y : tensor<?xf64>
// CHECK-NEXT:  }
// CHECK-NEXT:  func.func @plain(%x: tensor<?x4xf64>) -> tensor<?x2xf64> {
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
// CHECK-NEXT:    func.return %p : tensor<?x2xf64>
// CHECK-NEXT:  }
// CHECK-NEXT: }
// CHECK-NOT:   @approx

// -----

// Two compacted arguments, three classes, the margin metric and a "predict" model: @f
// returns the cheap labels and the cheap probabilities; @labels__rest takes both
// compacted arguments in order.

func.func @labels(%df: !pipeline.frame<"text" : !pipeline.str>, %num: tensor<?x2xf64>) -> tensor<?xi64> {
  %q = cascade.approx_predict @approx3(%num) : (tensor<?x2xf64>) -> tensor<?x3xf64>
  %qa = pipeline.predict "LogisticRegression" "predict" %num params {coef = #pipeline.blob<wa : tensor<3x2xf64>>, intercept = #pipeline.blob<ba : tensor<3xf64>>, proba = "softmax"} : tensor<?x2xf64> -> tensor<?xi64>
  %settled = cascade.confidence_mask margin(%q) >= 3.000000e-01 : tensor<?x3xf64>
  %df_rest, %rows = cascade.compact %df drop %settled : !pipeline.frame<"text" : !pipeline.str>
  %num_rest, %num_rows = cascade.compact %num drop %settled : tensor<?x2xf64>
  %full = cascade.lazy_branch(%d = %df_rest, %n = %num_rest) : (!pipeline.frame<"text" : !pipeline.str>, tensor<?x2xf64>) -> tensor<?xi64> {
    %c = "test.op"(%d) : (!pipeline.frame<"text" : !pipeline.str>) -> tensor<?x8xf64>
    %x = pipeline.hstack %n, %c : (tensor<?x2xf64>, tensor<?x8xf64>) -> tensor<?x10xf64>
    %k = pipeline.predict "LinearSVC" "predict" %x params {coef = #pipeline.blob<w : tensor<3x10xf64>>, intercept = #pipeline.blob<b : tensor<3xf64>>, proba = "none"} : tensor<?x10xf64> -> tensor<?xi64>
    cascade.yield %k : tensor<?xi64>
  }
  %r = cascade.merge %full into %qa at %rows : tensor<?xi64>
  func.return %r : tensor<?xi64>
}

func.func private @approx3(%x: tensor<?x2xf64>) -> tensor<?x3xf64> {
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<wa : tensor<3x2xf64>>, intercept = #pipeline.blob<ba : tensor<3xf64>>, proba = "softmax"} : tensor<?x2xf64> -> tensor<?x3xf64>
  func.return %p : tensor<?x3xf64>
}

// CHECK-LABEL: func.func @labels(%df: !pipeline.frame<"text" : !pipeline.str>, %num: tensor<?x2xf64>) -> (tensor<?xi64>, tensor<?x3xf64>) attributes {cascade.settle = {metric = "margin", threshold = 3.000000e-01 : f64}} {
// CHECK-NEXT:    [[PROBA:%.+]] = pipeline.predict "LogisticRegression" "predict_proba" %num params {coef = #pipeline.blob<wa : tensor<3x2xf64>>, intercept = #pipeline.blob<ba : tensor<3xf64>>, proba = "softmax"} : tensor<?x2xf64> -> tensor<?x3xf64>
// CHECK-NEXT:    %qa = pipeline.predict "LogisticRegression" "predict" %num
// CHECK-NEXT:    func.return %qa, [[PROBA]] : tensor<?xi64>, tensor<?x3xf64>
// CHECK-NEXT:  }
// CHECK-NEXT:  func.func @labels__rest([[D:%.+]]: !pipeline.frame<"text" : !pipeline.str>, [[N:%.+]]: tensor<?x2xf64>) -> tensor<?xi64> {
// CHECK-NEXT:    %c = "test.op"([[D]]) : (!pipeline.frame<"text" : !pipeline.str>) -> tensor<?x8xf64>
// CHECK-NEXT:    %x = pipeline.hstack [[N]], %c : (tensor<?x2xf64>, tensor<?x8xf64>) -> tensor<?x10xf64>
// CHECK-NEXT:    %k = pipeline.predict "LinearSVC" "predict" %x
// CHECK-NEXT:    func.return %k : tensor<?xi64>
// CHECK-NEXT:  }
// CHECK-NEXT: }
// CHECK-NOT:   @approx3
