// RUN: willump-opt %s --split-input-file --verify-diagnostics -p lower-pipeline-to-feature | filecheck %s

// A DataFrame pipeline: impute and scale the numbers, one-hot the categories, then a binary
// logistic regression's predict_proba.

func.func @binary_proba(%df: !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64>) -> tensor<?x2xf64> {
  %num = pipeline.to_array %df ["age", "income"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64> -> tensor<?x2xf64>
  %cat = pipeline.select_columns %df ["city", "zip"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64> -> !pipeline.frame<"city" : !pipeline.str, "zip" : f64>
  %i = pipeline.transform "SimpleImputer" %num params {fill = #pipeline.blob<"fill" : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
  %s = pipeline.transform "StandardScaler" %i params {mean = #pipeline.blob<"mean" : tensor<2xf64>>, scale = #pipeline.blob<"scale" : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
  %o = pipeline.transform "OneHotEncoder" %cat params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<"city_bytes" : tensor<9xui8>>, offsets = #pipeline.blob<"city_offsets" : tensor<4xi64>>, table = #pipeline.blob<"city_table" : tensor<8xi64>>, probes = 2 : i64, missing = -1 : i64, drop = -1 : i64}, {kind = "f64", categories = #pipeline.blob<"zip_cats" : tensor<4xf64>>, missing = 3 : i64, drop = 0 : i64}]} : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x6xf64>
  %x = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x6xf64>) -> tensor<?x8xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<"coef" : tensor<1x8xf64>>, intercept = #pipeline.blob<"intercept" : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x8xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @binary_proba(%df: !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64>) -> tensor<?x2xf64> {
// CHECK-NEXT: %num = pipeline.to_array %df ["age", "income"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64> -> tensor<?x2xf64>
// CHECK-NEXT: %cat = pipeline.select_columns %df ["city", "zip"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64> -> !pipeline.frame<"city" : !pipeline.str, "zip" : f64>
// CHECK-NEXT: %i = feature.impute %num fill <"fill" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %s = feature.standardize %i sub <"mean" : tensor<2xf64>> div <"scale" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.encode_strings %cat "city" bytes <"city_bytes" : tensor<9xui8>> offsets <"city_offsets" : tensor<4xi64>> table <"city_table" : tensor<8xi64>> probes 2 missing -1 on_unknown "ignore" : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V1:%[0-9]+]] = pipeline.to_array %cat ["zip"] : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.encode_numbers [[V1]][0] categories <"zip_cats" : tensor<4xf64>> missing 3 on_unknown "ignore" : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V3:%[0-9]+]] = feature.onehot [[V0]] categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V4:%[0-9]+]] = feature.onehot [[V2]] categories 4 drop 0 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: %o = pipeline.hstack [[V3]], [[V4]] : (tensor<?x3xf64>, tensor<?x3xf64>) -> tensor<?x6xf64>
// CHECK-NEXT: %x = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x6xf64>) -> tensor<?x8xf64>
// CHECK-NEXT: [[V5:%[0-9]+]] = feature.linear %x coef <"coef" : tensor<1x8xf64>> offset 0 intercept <"intercept" : tensor<1xf64>> {check_finite} : tensor<?x8xf64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V6:%[0-9]+]] = feature.sigmoid [[V5]] : tensor<?x1xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %p = feature.binary_proba [[V6]] : tensor<?x1xf64> -> tensor<?x2xf64>
// CHECK-NEXT: func.return %p : tensor<?x2xf64>
// CHECK-NEXT: }

// -----

// Scalers.

%x = "test.op"() : () -> tensor<?x2xf64>
%a = pipeline.transform "StandardScaler" %x params {mean = #pipeline.blob<"mean" : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%b = pipeline.transform "StandardScaler" %x params {scale = #pipeline.blob<"scale" : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%c = pipeline.transform "StandardScaler" %x params {} : tensor<?x2xf64> -> tensor<?x2xf64>
%d = pipeline.transform "RobustScaler" %x params {center = #pipeline.blob<"center" : tensor<2xf64>>, scale = #pipeline.blob<"iqr" : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%e = pipeline.transform "RobustScaler" %x params {scale = #pipeline.blob<"iqr" : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%f = pipeline.transform "MaxAbsScaler" %x params {scale = #pipeline.blob<"max_abs" : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%g = pipeline.transform "MinMaxScaler" %x params {scale = #pipeline.blob<"mm_scale" : tensor<2xf64>>, min = #pipeline.blob<"mm_min" : tensor<2xf64>>, clip = 0 : i64} : tensor<?x2xf64> -> tensor<?x2xf64>
%h = pipeline.transform "MinMaxScaler" %x params {scale = #pipeline.blob<"mm_scale" : tensor<2xf64>>, min = #pipeline.blob<"mm_min" : tensor<2xf64>>, clip = 1 : i64, clip_range = #pipeline.blob<"mm_range" : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%a, %b, %c, %d, %e, %f, %g, %h) : (tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x2xf64>
// CHECK-NEXT: %a = feature.standardize %x sub <"mean" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %b = feature.standardize %x div <"scale" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %d = feature.standardize %x sub <"center" : tensor<2xf64>> div <"iqr" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %e = feature.standardize %x div <"iqr" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %f = feature.standardize %x div <"max_abs" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %g = feature.mul_add %x mul <"mm_scale" : tensor<2xf64>> add <"mm_min" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %h = feature.mul_add %x mul <"mm_scale" : tensor<2xf64>> add <"mm_min" : tensor<2xf64>> clip <"mm_range" : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: "test.op"(%a, %b, %x, %d, %e, %f, %g, %h) : (tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>) -> ()

// -----

// Encoders over a numeric matrix, a single column (no hstack), and an OrdinalEncoder over a frame.

%x = "test.op"() : () -> tensor<?x2xf64>
%df = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str, "zip" : f64>
%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%o = pipeline.transform "OneHotEncoder" %x params {handle_unknown = "error", columns = [{kind = "f64", categories = #pipeline.blob<"c0" : tensor<3xf64>>, missing = -1 : i64, drop = -1 : i64}, {kind = "f64", categories = #pipeline.blob<"c1" : tensor<2xf64>>, missing = -1 : i64, drop = 1 : i64}]} : tensor<?x2xf64> -> tensor<?x4xf64>
%o1 = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<"b" : tensor<9xui8>>, offsets = #pipeline.blob<"off" : tensor<4xi64>>, table = #pipeline.blob<"t" : tensor<8xi64>>, probes = 1 : i64, missing = 2 : i64, drop = -1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
%r = pipeline.transform "OrdinalEncoder" %df params {handle_unknown = "use_encoded_value", unknown_value = -1.0 : f64, encoded_missing_value = -2.0 : f64, columns = [{kind = "str", bytes = #pipeline.blob<"b" : tensor<9xui8>>, offsets = #pipeline.blob<"off" : tensor<4xi64>>, table = #pipeline.blob<"t2" : tensor<16xi64>>, probes = 3 : i64, missing = -1 : i64, drop = -1 : i64}, {kind = "f64", categories = #pipeline.blob<"z" : tensor<4xf64>>, missing = 3 : i64, drop = -1 : i64}]} : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x2xf64>
%r1 = pipeline.transform "OrdinalEncoder" %x params {handle_unknown = "error", columns = [{kind = "f64", categories = #pipeline.blob<"c0" : tensor<3xf64>>, missing = -1 : i64, drop = -1 : i64}, {kind = "f64", categories = #pipeline.blob<"c1" : tensor<2xf64>>, missing = -1 : i64, drop = -1 : i64}]} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%o, %o1, %r, %r1) : (tensor<?x4xf64>, tensor<?x3xf64>, tensor<?x2xf64>, tensor<?x2xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x2xf64>
// CHECK-NEXT: %df = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str, "zip" : f64>
// CHECK-NEXT: %s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.encode_numbers %x[0] categories <"c0" : tensor<3xf64>> missing -1 on_unknown "error" : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.encode_numbers %x[1] categories <"c1" : tensor<2xf64>> missing -1 on_unknown "error" : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.onehot [[V0]] categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V3:%[0-9]+]] = feature.onehot [[V1]] categories 2 drop 1 : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %o = pipeline.hstack [[V2]], [[V3]] : (tensor<?x3xf64>, tensor<?x1xf64>) -> tensor<?x4xf64>
// CHECK-NEXT: [[V4:%[0-9]+]] = feature.encode_strings %s "city" bytes <"b" : tensor<9xui8>> offsets <"off" : tensor<4xi64>> table <"t" : tensor<8xi64>> probes 1 missing 2 on_unknown "ignore" : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xi64>
// CHECK-NEXT: %o1 = feature.onehot [[V4]] categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V5:%[0-9]+]] = feature.encode_strings %df "city" bytes <"b" : tensor<9xui8>> offsets <"off" : tensor<4xi64>> table <"t2" : tensor<16xi64>> probes 3 missing -1 on_unknown "ignore" : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V6:%[0-9]+]] = pipeline.to_array %df ["zip"] : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V7:%[0-9]+]] = feature.encode_numbers [[V6]][0] categories <"z" : tensor<4xf64>> missing 3 on_unknown "ignore" : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V8:%[0-9]+]] = feature.ordinal [[V5]] missing -1 {unknown_value = -1.000000e+00 : f64, missing_value = -2.000000e+00 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V9:%[0-9]+]] = feature.ordinal [[V7]] missing 3 {unknown_value = -1.000000e+00 : f64, missing_value = -2.000000e+00 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %r = pipeline.hstack [[V8]], [[V9]] : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x2xf64>
// CHECK-NEXT: [[V10:%[0-9]+]] = feature.encode_numbers %x[0] categories <"c0" : tensor<3xf64>> missing -1 on_unknown "error" : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V11:%[0-9]+]] = feature.encode_numbers %x[1] categories <"c1" : tensor<2xf64>> missing -1 on_unknown "error" : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V12:%[0-9]+]] = feature.ordinal [[V10]] missing -1 {unknown_value = 0x7ff8000000000000 : f64, missing_value = 0x7ff8000000000000 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V13:%[0-9]+]] = feature.ordinal [[V11]] missing -1 {unknown_value = 0x7ff8000000000000 : f64, missing_value = 0x7ff8000000000000 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %r1 = pipeline.hstack [[V12]], [[V13]] : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x2xf64>
// CHECK-NEXT: "test.op"(%o, %o1, %r, %r1) : (tensor<?x4xf64>, tensor<?x3xf64>, tensor<?x2xf64>, tensor<?x2xf64>) -> ()

// -----

// Multinomial logistic regression: every method.

%x = "test.op"() : () -> tensor<?x4xf64>
%d = pipeline.predict "LogisticRegression" "decision_function" %x params {coef = #pipeline.blob<"w" : tensor<3x4xf64>>, intercept = #pipeline.blob<"b" : tensor<3xf64>>, proba = "softmax"} : tensor<?x4xf64> -> tensor<?x3xf64>
%p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<"w" : tensor<3x4xf64>>, intercept = #pipeline.blob<"b" : tensor<3xf64>>, proba = "softmax"} : tensor<?x4xf64> -> tensor<?x3xf64>
%q = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<"w" : tensor<3x4xf64>>, intercept = #pipeline.blob<"b" : tensor<3xf64>>, proba = "ovr_sigmoid"} : tensor<?x4xf64> -> tensor<?x3xf64>
%k = pipeline.predict "LogisticRegression" "predict" %x params {coef = #pipeline.blob<"w" : tensor<3x4xf64>>, intercept = #pipeline.blob<"b" : tensor<3xf64>>, proba = "softmax"} : tensor<?x4xf64> -> tensor<?xi64>
"test.op"(%d, %p, %q, %k) : (tensor<?x3xf64>, tensor<?x3xf64>, tensor<?x3xf64>, tensor<?xi64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x4xf64>
// CHECK-NEXT: %d = feature.linear %x coef <"w" : tensor<3x4xf64>> offset 0 intercept <"b" : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %x coef <"w" : tensor<3x4xf64>> offset 0 intercept <"b" : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %p = feature.softmax [[V0]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.linear %x coef <"w" : tensor<3x4xf64>> offset 0 intercept <"b" : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.sigmoid [[V1]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %q = feature.normalize_rows [[V2]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V3:%[0-9]+]] = feature.linear %x coef <"w" : tensor<3x4xf64>> offset 0 intercept <"b" : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %k = feature.argmax [[V3]] : tensor<?x3xf64> -> tensor<?xi64>
// CHECK-NEXT: "test.op"(%d, %p, %q, %k) : (tensor<?x3xf64>, tensor<?x3xf64>, tensor<?x3xf64>, tensor<?xi64>) -> ()

// -----

// Binary classifiers: a decision per row, and predict is "decision > 0".

%x = "test.op"() : () -> tensor<?x4xf64>
%d = pipeline.predict "LogisticRegression" "decision_function" %x params {coef = #pipeline.blob<"w" : tensor<1x4xf64>>, intercept = #pipeline.blob<"b" : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?xf64>
%k = pipeline.predict "LogisticRegression" "predict" %x params {coef = #pipeline.blob<"w" : tensor<1x4xf64>>, intercept = #pipeline.blob<"b" : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?xi64>
%p = pipeline.predict "SGDClassifier" "predict_proba" %x params {coef = #pipeline.blob<"w" : tensor<1x4xf64>>, intercept = #pipeline.blob<"b" : tensor<1xf64>>, proba = "ovr_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
%s = pipeline.predict "LinearSVC" "decision_function" %x params {coef = #pipeline.blob<"w" : tensor<1x4xf64>>, intercept = #pipeline.blob<"b" : tensor<1xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?xf64>
"test.op"(%d, %k, %p, %s) : (tensor<?xf64>, tensor<?xi64>, tensor<?x2xf64>, tensor<?xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x4xf64>
// CHECK-NEXT: %d = feature.linear %x coef <"w" : tensor<1x4xf64>> offset 0 intercept <"b" : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %x coef <"w" : tensor<1x4xf64>> offset 0 intercept <"b" : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %k = feature.argmax [[V0]] : tensor<?x1xf64> -> tensor<?xi64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.linear %x coef <"w" : tensor<1x4xf64>> offset 0 intercept <"b" : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.sigmoid [[V1]] : tensor<?x1xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %p = feature.binary_proba [[V2]] : tensor<?x1xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %s = feature.linear %x coef <"w" : tensor<1x4xf64>> offset 0 intercept <"b" : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?xf64>
// CHECK-NEXT: "test.op"(%d, %k, %p, %s) : (tensor<?xf64>, tensor<?xi64>, tensor<?x2xf64>, tensor<?xf64>) -> ()

// -----

// One-vs-rest linear classifiers.

%x = "test.op"() : () -> tensor<?x4xf64>
%p = pipeline.predict "SGDClassifier" "predict_proba" %x params {coef = #pipeline.blob<"w" : tensor<3x4xf64>>, intercept = #pipeline.blob<"b" : tensor<3xf64>>, proba = "ovr_sigmoid"} : tensor<?x4xf64> -> tensor<?x3xf64>
%k = pipeline.predict "LinearSVC" "predict" %x params {coef = #pipeline.blob<"w" : tensor<3x4xf64>>, intercept = #pipeline.blob<"b" : tensor<3xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?xi64>
%d = pipeline.predict "SGDClassifier" "decision_function" %x params {coef = #pipeline.blob<"w" : tensor<3x4xf64>>, intercept = #pipeline.blob<"b" : tensor<3xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?x3xf64>
"test.op"(%p, %k, %d) : (tensor<?x3xf64>, tensor<?xi64>, tensor<?x3xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x4xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %x coef <"w" : tensor<3x4xf64>> offset 0 intercept <"b" : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.sigmoid [[V0]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %p = feature.normalize_rows [[V1]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.linear %x coef <"w" : tensor<3x4xf64>> offset 0 intercept <"b" : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %k = feature.argmax [[V2]] : tensor<?x3xf64> -> tensor<?xi64>
// CHECK-NEXT: %d = feature.linear %x coef <"w" : tensor<3x4xf64>> offset 0 intercept <"b" : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: "test.op"(%p, %k, %d) : (tensor<?x3xf64>, tensor<?xi64>, tensor<?x3xf64>) -> ()

// -----

// Linear regressors: one target or several.

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "LinearRegression" "predict" %x params {coef = #pipeline.blob<"w" : tensor<1x4xf64>>, intercept = #pipeline.blob<"b" : tensor<1xf64>>} : tensor<?x4xf64> -> tensor<?xf64>
%z = pipeline.predict "Ridge" "predict" %x params {coef = #pipeline.blob<"v" : tensor<2x4xf64>>, intercept = #pipeline.blob<"c" : tensor<2xf64>>} : tensor<?x4xf64> -> tensor<?x2xf64>
"test.op"(%y, %z) : (tensor<?xf64>, tensor<?x2xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x4xf64>
// CHECK-NEXT: %y = feature.linear %x coef <"w" : tensor<1x4xf64>> offset 0 intercept <"b" : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?xf64>
// CHECK-NEXT: %z = feature.linear %x coef <"v" : tensor<2x4xf64>> offset 0 intercept <"c" : tensor<2xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x2xf64>
// CHECK-NEXT: "test.op"(%y, %z) : (tensor<?xf64>, tensor<?x2xf64>) -> ()

// -----

// Errors name the estimator.

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "KNeighborsClassifier" "predict" %x params {} : tensor<?x4xf64> -> tensor<?xi64>
"test.op"(%y) : (tensor<?xi64>) -> ()

// CHECK: pipeline.predict 'KNeighborsClassifier': unsupported estimator; expected one of LogisticRegression, LinearSVC, SGDClassifier, LinearRegression, Ridge

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "PCA" %x params {} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'PCA': unsupported estimator; expected one of SimpleImputer, StandardScaler, RobustScaler, MaxAbsScaler, MinMaxScaler, OneHotEncoder, OrdinalEncoder

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "Ridge" "decision_function" %x params {coef = #pipeline.blob<"w" : tensor<1x4xf64>>} : tensor<?x4xf64> -> tensor<?xf64>
"test.op"(%y) : (tensor<?xf64>) -> ()

// CHECK: pipeline.predict 'Ridge': method 'decision_function' is not supported; expected one of predict

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "LinearSVC" "predict_proba" %x params {coef = #pipeline.blob<"w" : tensor<1x4xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.predict 'LinearSVC': has no predict_proba (parameter proba is 'none')

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<"w" : tensor<3x4xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.predict 'LogisticRegression': proba 'binary_sigmoid' needs a binary model, but coef has 3 rows

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "MinMaxScaler" %x params {scale = #pipeline.blob<"s" : tensor<2xf64>>, min = #pipeline.blob<"m" : tensor<2xf64>>, clip = 1 : i64} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'MinMaxScaler': clip=1 needs parameter 'clip_range', a tensor<2xf64> blob [low, high]

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "SimpleImputer" %x params {fill = 0.0 : f64} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'SimpleImputer': parameter 'fill' must be a #pipeline.blob, got 0.000000e+00 : f64

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "SimpleImputer" %x params {fill = #pipeline.blob<"f" : tensor<3xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'SimpleImputer': lowers to an invalid feature.impute: fill blob 'f' has 3 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "OneHotEncoder" %x params {handle_unknown = "ignore", columns = [{kind = "f64", categories = #pipeline.blob<"c" : tensor<3xf64>>}, {kind = "f64", categories = #pipeline.blob<"c" : tensor<3xf64>>}]} : tensor<?x2xf64> -> tensor<?x5xf64>
"test.op"(%y) : (tensor<?x5xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': lowers to tensor<?x6xf64>, but the call's result is tensor<?x5xf64>

// -----

%x = "test.op"() : () -> tensor<?x1xf64>
%y = pipeline.transform "OneHotEncoder" %x params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<"b" : tensor<9xui8>>, offsets = #pipeline.blob<"off" : tensor<4xi64>>, table = #pipeline.blob<"t" : tensor<8xi64>>, probes = 1 : i64}]} : tensor<?x1xf64> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': column 0 has kind 'str' but the input is not a frame

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "OrdinalEncoder" %x params {handle_unknown = "ignore", columns = [{kind = "f64", categories = #pipeline.blob<"c" : tensor<3xf64>>}]} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'OrdinalEncoder': parameter 'handle_unknown' must be one of error, use_encoded_value, got 'ignore'

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "MaxAbsScaler" %x params {} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'MaxAbsScaler': missing parameter 'scale'

// -----

// An OrdinalEncoder column can override encoded_missing_value (a None category keeps its index).

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%r = pipeline.transform "OrdinalEncoder" %s params {handle_unknown = "error", encoded_missing_value = -5.0 : f64, columns = [{kind = "str", bytes = #pipeline.blob<"b" : tensor<2xui8>>, offsets = #pipeline.blob<"off" : tensor<4xi64>>, table = #pipeline.blob<"t" : tensor<8xi64>>, probes = 1 : i64, missing = 2 : i64, drop = -1 : i64, encoded_missing_value = 2.0 : f64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xf64>
"test.op"(%r) : (tensor<?x1xf64>) -> ()

// CHECK:      [[C:%[0-9]+]] = feature.encode_strings %s "city" bytes <"b" : tensor<2xui8>> offsets <"off" : tensor<4xi64>> table <"t" : tensor<8xi64>> probes 1 missing 2 on_unknown "error" : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xi64>
// CHECK-NEXT: %r = feature.ordinal [[C]] missing 2 {unknown_value = 0x7ff8000000000000 : f64, missing_value = 2.000000e+00 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>

// -----

// A string column needs its hash table and probe count.

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<"b" : tensor<9xui8>>, offsets = #pipeline.blob<"off" : tensor<4xi64>>, probes = 1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': missing parameter 'table'

// -----

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<"b" : tensor<9xui8>>, offsets = #pipeline.blob<"off" : tensor<4xi64>>, table = #pipeline.blob<"t" : tensor<8xi64>>}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': missing parameter 'probes'

// -----

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<"b" : tensor<9xui8>>, offsets = #pipeline.blob<"off" : tensor<4xi64>>, table = #pipeline.blob<"t" : tensor<6xi64>>, probes = 1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': lowers to an invalid feature.encode_strings: table size 6 is not a power of two

// -----

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<"b" : tensor<9xui8>>, offsets = #pipeline.blob<"off" : tensor<4xi64>>, table = #pipeline.blob<"t" : tensor<8xi64>>, probes = 9 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': lowers to an invalid feature.encode_strings: probes must be in [1, 8], got 9
