// RUN: willump-opt %s --split-input-file --verify-diagnostics -p lower-pipeline-to-feature | filecheck %s

// A DataFrame pipeline: impute and scale the numbers, one-hot the categories, then a binary
// logistic regression's predict_proba.

func.func @binary_proba(%df: !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64>) -> tensor<?x2xf64> {
  %num = pipeline.to_array %df ["age", "income"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64> -> tensor<?x2xf64>
  %cat = pipeline.select_columns %df ["city", "zip"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64> -> !pipeline.frame<"city" : !pipeline.str, "zip" : f64>
  %i = pipeline.transform "SimpleImputer" %num params {fill = #pipeline.blob<fill : tensor<2xf64>>, finite = 1 : i64} : tensor<?x2xf64> -> tensor<?x2xf64>
  %s = pipeline.transform "StandardScaler" %i params {mean = #pipeline.blob<mean : tensor<2xf64>>, scale = #pipeline.blob<scale : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
  %o = pipeline.transform "OneHotEncoder" %cat params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<city_bytes : tensor<9xui8>>, offsets = #pipeline.blob<city_offsets : tensor<4xi64>>, table = #pipeline.blob<city_table : tensor<8xi64>>, probes = 2 : i64, missing = -1 : i64, drop = -1 : i64}, {kind = "f64", categories = #pipeline.blob<zip_cats : tensor<4xf64>>, missing = 3 : i64, drop = 0 : i64}]} : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x6xf64>
  %x = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x6xf64>) -> tensor<?x8xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<coef : tensor<1x8xf64>>, intercept = #pipeline.blob<intercept : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x8xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @binary_proba(%df: !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64>) -> tensor<?x2xf64> {
// CHECK-NEXT: %num = pipeline.to_array %df ["age", "income"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64> -> tensor<?x2xf64>
// CHECK-NEXT: %cat = pipeline.select_columns %df ["city", "zip"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str, "zip" : f64> -> !pipeline.frame<"city" : !pipeline.str, "zip" : f64>
// CHECK-NEXT: %i = feature.impute %num fill <fill : tensor<2xf64>> {finite} : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %s = feature.standardize %i sub <mean : tensor<2xf64>> div <scale : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.encode_strings %cat "city" bytes <city_bytes : tensor<9xui8>> offsets <city_offsets : tensor<4xi64>> table <city_table : tensor<8xi64>> probes 2 missing -1 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V1:%[0-9]+]] = pipeline.to_array %cat ["zip"] : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.encode_numbers [[V1]][0] categories <zip_cats : tensor<4xf64>> missing 3 on_unknown ignore : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V3:%[0-9]+]] = feature.onehot [[V0]] categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V4:%[0-9]+]] = feature.onehot [[V2]] categories 4 drop 0 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: %o = pipeline.hstack [[V3]], [[V4]] : (tensor<?x3xf64>, tensor<?x3xf64>) -> tensor<?x6xf64>
// CHECK-NEXT: %x = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x6xf64>) -> tensor<?x8xf64>
// CHECK-NEXT: [[V5:%[0-9]+]] = feature.linear %x coef <coef : tensor<1x8xf64>> offset 0 intercept <intercept : tensor<1xf64>> {check_finite} : tensor<?x8xf64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V6:%[0-9]+]] = feature.sigmoid [[V5]] : tensor<?x1xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %p = feature.binary_proba [[V6]] : tensor<?x1xf64> -> tensor<?x2xf64>
// CHECK-NEXT: func.return %p : tensor<?x2xf64>
// CHECK-NEXT: }

// -----

// Scalers.

%x = "test.op"() : () -> tensor<?x2xf64>
%a = pipeline.transform "StandardScaler" %x params {mean = #pipeline.blob<mean : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%b = pipeline.transform "StandardScaler" %x params {scale = #pipeline.blob<scale : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%c = pipeline.transform "StandardScaler" %x params {} : tensor<?x2xf64> -> tensor<?x2xf64>
%d = pipeline.transform "RobustScaler" %x params {center = #pipeline.blob<center : tensor<2xf64>>, scale = #pipeline.blob<iqr : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%e = pipeline.transform "RobustScaler" %x params {scale = #pipeline.blob<iqr : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%f = pipeline.transform "MaxAbsScaler" %x params {scale = #pipeline.blob<max_abs : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
%g = pipeline.transform "MinMaxScaler" %x params {scale = #pipeline.blob<mm_scale : tensor<2xf64>>, min = #pipeline.blob<mm_min : tensor<2xf64>>, clip = 0 : i64} : tensor<?x2xf64> -> tensor<?x2xf64>
%h = pipeline.transform "MinMaxScaler" %x params {scale = #pipeline.blob<mm_scale : tensor<2xf64>>, min = #pipeline.blob<mm_min : tensor<2xf64>>, clip = 1 : i64, clip_range = #pipeline.blob<mm_range : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%a, %b, %c, %d, %e, %f, %g, %h) : (tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x2xf64>
// CHECK-NEXT: %a = feature.standardize %x sub <mean : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %b = feature.standardize %x div <scale : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %d = feature.standardize %x sub <center : tensor<2xf64>> div <iqr : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %e = feature.standardize %x div <iqr : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %f = feature.standardize %x div <max_abs : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %g = feature.mul_add %x mul <mm_scale : tensor<2xf64>> add <mm_min : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %h = feature.mul_add %x mul <mm_scale : tensor<2xf64>> add <mm_min : tensor<2xf64>> clip <mm_range : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT: "test.op"(%a, %b, %x, %d, %e, %f, %g, %h) : (tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>) -> ()

// -----

// Normalizer: each row divided by its norm.

%x = "test.op"() : () -> tensor<?x3xf64>
%a = pipeline.transform "Normalizer" %x params {norm = "l1"} : tensor<?x3xf64> -> tensor<?x3xf64>
%b = pipeline.transform "Normalizer" %x params {norm = "max"} : tensor<?x3xf64> -> tensor<?x3xf64>
"test.op"(%a, %b) : (tensor<?x3xf64>, tensor<?x3xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x3xf64>
// CHECK-NEXT: %a = feature.normalize %x norm l1 : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %b = feature.normalize %x norm max : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: "test.op"(%a, %b) : (tensor<?x3xf64>, tensor<?x3xf64>) -> ()

// -----

// PolynomialFeatures: the products of powers_; KBinsDiscretizer: the bin of each column, as
// f64 (ordinal) or one-hot (onehot, onehot-dense), from a frame through to_array.

%x = "test.op"() : () -> tensor<?x2xf64>
%df = "test.op"() : () -> !pipeline.frame<"a" : f64, "b" : f64>
%p = pipeline.transform "PolynomialFeatures" %x params {powers = #pipeline.blob<powers : tensor<6x2xi64>>} : tensor<?x2xf64> -> tensor<?x6xf64>
%k = pipeline.transform "KBinsDiscretizer" %df params {encode = "ordinal", columns = [{edges = #pipeline.blob<e0 : tensor<4xf64>>}, {edges = #pipeline.blob<e1 : tensor<2xf64>>}]} : !pipeline.frame<"a" : f64, "b" : f64> -> tensor<?x2xf64>
%h = pipeline.transform "KBinsDiscretizer" %x params {encode = "onehot-dense", columns = [{edges = #pipeline.blob<e0 : tensor<4xf64>>}, {edges = #pipeline.blob<e2 : tensor<3xf64>>}]} : tensor<?x2xf64> -> tensor<?x5xf64>
"test.op"(%p, %k, %h) : (tensor<?x6xf64>, tensor<?x2xf64>, tensor<?x5xf64>) -> ()

// CHECK:      %p = feature.polynomial %x powers <powers : tensor<6x2xi64>> : tensor<?x2xf64> -> tensor<?x6xf64>
// CHECK-NEXT: [[A:%[0-9]+]] = pipeline.to_array %df ["a", "b"] : !pipeline.frame<"a" : f64, "b" : f64> -> tensor<?x2xf64>
// CHECK-NEXT: [[B0:%[0-9]+]] = feature.discretize [[A]][0] edges <e0 : tensor<4xf64>> : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[F0:%[0-9]+]] = pipeline.cast [[B0]] : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: [[B1:%[0-9]+]] = feature.discretize [[A]][1] edges <e1 : tensor<2xf64>> : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[F1:%[0-9]+]] = pipeline.cast [[B1]] : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %k = pipeline.hstack [[F0]], [[F1]] : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x2xf64>
// CHECK-NEXT: [[C0:%[0-9]+]] = feature.discretize %x[0] edges <e0 : tensor<4xf64>> : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[H0:%[0-9]+]] = feature.onehot [[C0]] categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[C1:%[0-9]+]] = feature.discretize %x[1] edges <e2 : tensor<3xf64>> : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[H1:%[0-9]+]] = feature.onehot [[C1]] categories 2 drop -1 : tensor<?x1xi64> -> tensor<?x2xf64>
// CHECK-NEXT: %h = pipeline.hstack [[H0]], [[H1]] : (tensor<?x3xf64>, tensor<?x2xf64>) -> tensor<?x5xf64>

// -----

// Encoders over a numeric matrix, a single column (no hstack), and an OrdinalEncoder over a frame.

%x = "test.op"() : () -> tensor<?x2xf64>
%df = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str, "zip" : f64>
%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%o = pipeline.transform "OneHotEncoder" %x params {handle_unknown = "error", columns = [{kind = "f64", categories = #pipeline.blob<c0 : tensor<3xf64>>, missing = -1 : i64, drop = -1 : i64}, {kind = "f64", categories = #pipeline.blob<c1 : tensor<2xf64>>, missing = -1 : i64, drop = 1 : i64}]} : tensor<?x2xf64> -> tensor<?x4xf64>
%o1 = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<9xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, table = #pipeline.blob<t : tensor<8xi64>>, probes = 1 : i64, missing = 2 : i64, drop = -1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
%r = pipeline.transform "OrdinalEncoder" %df params {handle_unknown = "use_encoded_value", unknown_value = -1.0 : f64, encoded_missing_value = -2.0 : f64, columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<9xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, table = #pipeline.blob<t2 : tensor<16xi64>>, probes = 3 : i64, missing = -1 : i64, drop = -1 : i64}, {kind = "f64", categories = #pipeline.blob<z : tensor<4xf64>>, missing = 3 : i64, drop = -1 : i64}]} : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x2xf64>
%r1 = pipeline.transform "OrdinalEncoder" %x params {handle_unknown = "error", columns = [{kind = "f64", categories = #pipeline.blob<c0 : tensor<3xf64>>, missing = -1 : i64, drop = -1 : i64}, {kind = "f64", categories = #pipeline.blob<c1 : tensor<2xf64>>, missing = -1 : i64, drop = -1 : i64}]} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%o, %o1, %r, %r1) : (tensor<?x4xf64>, tensor<?x3xf64>, tensor<?x2xf64>, tensor<?x2xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x2xf64>
// CHECK-NEXT: %df = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str, "zip" : f64>
// CHECK-NEXT: %s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.encode_numbers %x[0] categories <c0 : tensor<3xf64>> missing -1 on_unknown error : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.encode_numbers %x[1] categories <c1 : tensor<2xf64>> missing -1 on_unknown error : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.onehot [[V0]] categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V3:%[0-9]+]] = feature.onehot [[V1]] categories 2 drop 1 : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %o = pipeline.hstack [[V2]], [[V3]] : (tensor<?x3xf64>, tensor<?x1xf64>) -> tensor<?x4xf64>
// CHECK-NEXT: [[V4:%[0-9]+]] = feature.encode_strings %s "city" bytes <b : tensor<9xui8>> offsets <off : tensor<4xi64>> table <t : tensor<8xi64>> probes 1 missing 2 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xi64>
// CHECK-NEXT: %o1 = feature.onehot [[V4]] categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V5:%[0-9]+]] = feature.encode_strings %df "city" bytes <b : tensor<9xui8>> offsets <off : tensor<4xi64>> table <t2 : tensor<16xi64>> probes 3 missing -1 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V6:%[0-9]+]] = pipeline.to_array %df ["zip"] : !pipeline.frame<"city" : !pipeline.str, "zip" : f64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V7:%[0-9]+]] = feature.encode_numbers [[V6]][0] categories <z : tensor<4xf64>> missing 3 on_unknown ignore : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V8:%[0-9]+]] = feature.ordinal [[V5]] missing -1 {unknown_value = -1.000000e+00 : f64, missing_value = -2.000000e+00 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V9:%[0-9]+]] = feature.ordinal [[V7]] missing 3 {unknown_value = -1.000000e+00 : f64, missing_value = -2.000000e+00 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %r = pipeline.hstack [[V8]], [[V9]] : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x2xf64>
// CHECK-NEXT: [[V10:%[0-9]+]] = feature.encode_numbers %x[0] categories <c0 : tensor<3xf64>> missing -1 on_unknown error : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V11:%[0-9]+]] = feature.encode_numbers %x[1] categories <c1 : tensor<2xf64>> missing -1 on_unknown error : tensor<?x2xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[V12:%[0-9]+]] = feature.ordinal [[V10]] missing -1 {unknown_value = 0x7ff8000000000000 : f64, missing_value = 0x7ff8000000000000 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V13:%[0-9]+]] = feature.ordinal [[V11]] missing -1 {unknown_value = 0x7ff8000000000000 : f64, missing_value = 0x7ff8000000000000 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %r1 = pipeline.hstack [[V12]], [[V13]] : (tensor<?x1xf64>, tensor<?x1xf64>) -> tensor<?x2xf64>
// CHECK-NEXT: "test.op"(%o, %o1, %r, %r1) : (tensor<?x4xf64>, tensor<?x3xf64>, tensor<?x2xf64>, tensor<?x2xf64>) -> ()

// -----

// Multinomial logistic regression: every method.

%x = "test.op"() : () -> tensor<?x4xf64>
%d = pipeline.predict "LogisticRegression" "decision_function" %x params {coef = #pipeline.blob<w : tensor<3x4xf64>>, intercept = #pipeline.blob<b : tensor<3xf64>>, proba = "softmax"} : tensor<?x4xf64> -> tensor<?x3xf64>
%p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<3x4xf64>>, intercept = #pipeline.blob<b : tensor<3xf64>>, proba = "softmax"} : tensor<?x4xf64> -> tensor<?x3xf64>
%q = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<3x4xf64>>, intercept = #pipeline.blob<b : tensor<3xf64>>, proba = "ovr_sigmoid"} : tensor<?x4xf64> -> tensor<?x3xf64>
%k = pipeline.predict "LogisticRegression" "predict" %x params {coef = #pipeline.blob<w : tensor<3x4xf64>>, intercept = #pipeline.blob<b : tensor<3xf64>>, proba = "softmax"} : tensor<?x4xf64> -> tensor<?xi64>
"test.op"(%d, %p, %q, %k) : (tensor<?x3xf64>, tensor<?x3xf64>, tensor<?x3xf64>, tensor<?xi64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x4xf64>
// CHECK-NEXT: %d = feature.linear %x coef <w : tensor<3x4xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %x coef <w : tensor<3x4xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %p = feature.softmax [[V0]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.linear %x coef <w : tensor<3x4xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.sigmoid [[V1]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %q = feature.normalize_rows [[V2]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V3:%[0-9]+]] = feature.linear %x coef <w : tensor<3x4xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %k = feature.argmax [[V3]] {margin = 1.000000e-06 : f64} : tensor<?x3xf64> -> tensor<?xi64>
// CHECK-NEXT: "test.op"(%d, %p, %q, %k) : (tensor<?x3xf64>, tensor<?x3xf64>, tensor<?x3xf64>, tensor<?xi64>) -> ()

// -----

// Binary classifiers: a decision per row, and predict is "decision > 0".

%x = "test.op"() : () -> tensor<?x4xf64>
%d = pipeline.predict "LogisticRegression" "decision_function" %x params {coef = #pipeline.blob<w : tensor<1x4xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?xf64>
%k = pipeline.predict "LogisticRegression" "predict" %x params {coef = #pipeline.blob<w : tensor<1x4xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?xi64>
%p = pipeline.predict "SGDClassifier" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<1x4xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "ovr_sigmoid"} : tensor<?x4xf64> -> tensor<?x2xf64>
%s = pipeline.predict "LinearSVC" "decision_function" %x params {coef = #pipeline.blob<w : tensor<1x4xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?xf64>
"test.op"(%d, %k, %p, %s) : (tensor<?xf64>, tensor<?xi64>, tensor<?x2xf64>, tensor<?xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x4xf64>
// CHECK-NEXT: %d = feature.linear %x coef <w : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %x coef <w : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %k = feature.argmax [[V0]] {margin = 1.000000e-06 : f64} : tensor<?x1xf64> -> tensor<?xi64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.linear %x coef <w : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.sigmoid [[V1]] : tensor<?x1xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %p = feature.binary_proba [[V2]] : tensor<?x1xf64> -> tensor<?x2xf64>
// CHECK-NEXT: %s = feature.linear %x coef <w : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?xf64>
// CHECK-NEXT: "test.op"(%d, %k, %p, %s) : (tensor<?xf64>, tensor<?xi64>, tensor<?x2xf64>, tensor<?xf64>) -> ()

// -----

// One-vs-rest linear classifiers.

%x = "test.op"() : () -> tensor<?x4xf64>
%p = pipeline.predict "SGDClassifier" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<3x4xf64>>, intercept = #pipeline.blob<b : tensor<3xf64>>, proba = "ovr_sigmoid"} : tensor<?x4xf64> -> tensor<?x3xf64>
%k = pipeline.predict "LinearSVC" "predict" %x params {coef = #pipeline.blob<w : tensor<3x4xf64>>, intercept = #pipeline.blob<b : tensor<3xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?xi64>
%d = pipeline.predict "SGDClassifier" "decision_function" %x params {coef = #pipeline.blob<w : tensor<3x4xf64>>, intercept = #pipeline.blob<b : tensor<3xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?x3xf64>
"test.op"(%p, %k, %d) : (tensor<?x3xf64>, tensor<?xi64>, tensor<?x3xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x4xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %x coef <w : tensor<3x4xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.sigmoid [[V0]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %p = feature.normalize_rows [[V1]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.linear %x coef <w : tensor<3x4xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %k = feature.argmax [[V2]] {margin = 1.000000e-06 : f64} : tensor<?x3xf64> -> tensor<?xi64>
// CHECK-NEXT: %d = feature.linear %x coef <w : tensor<3x4xf64>> offset 0 intercept <b : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: "test.op"(%p, %k, %d) : (tensor<?x3xf64>, tensor<?xi64>, tensor<?x3xf64>) -> ()

// -----

// Linear regressors: one target or several.

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "LinearRegression" "predict" %x params {coef = #pipeline.blob<w : tensor<1x4xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>} : tensor<?x4xf64> -> tensor<?xf64>
%z = pipeline.predict "Ridge" "predict" %x params {coef = #pipeline.blob<v : tensor<2x4xf64>>, intercept = #pipeline.blob<c : tensor<2xf64>>} : tensor<?x4xf64> -> tensor<?x2xf64>
"test.op"(%y, %z) : (tensor<?xf64>, tensor<?x2xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x4xf64>
// CHECK-NEXT: %y = feature.linear %x coef <w : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?xf64>
// CHECK-NEXT: %z = feature.linear %x coef <v : tensor<2x4xf64>> offset 0 intercept <c : tensor<2xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x2xf64>
// CHECK-NEXT: "test.op"(%y, %z) : (tensor<?xf64>, tensor<?x2xf64>) -> ()

// -----

// Any linear regressor of LINEAR_REGRESSORS and classifier of LINEAR_CLASSIFIERS lowers the
// same way; modified Huber probabilities are [1 - h, h] of one decision, else h normalized.

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "Lasso" "predict" %x params {coef = #pipeline.blob<w : tensor<1x4xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>} : tensor<?x4xf64> -> tensor<?xf64>
%k = pipeline.predict "Perceptron" "predict" %x params {coef = #pipeline.blob<v : tensor<3x4xf64>>, intercept = #pipeline.blob<c : tensor<3xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?xi64>
%h = pipeline.predict "SGDClassifier" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<1x4xf64>>, intercept = #pipeline.blob<b : tensor<1xf64>>, proba = "modified_huber"} : tensor<?x4xf64> -> tensor<?x2xf64>
%m = pipeline.predict "SGDClassifier" "predict_proba" %x params {coef = #pipeline.blob<v : tensor<3x4xf64>>, intercept = #pipeline.blob<c : tensor<3xf64>>, proba = "modified_huber"} : tensor<?x4xf64> -> tensor<?x3xf64>
"test.op"(%y, %k, %h, %m) : (tensor<?xf64>, tensor<?xi64>, tensor<?x2xf64>, tensor<?x3xf64>) -> ()

// CHECK:      %x = "test.op"() : () -> tensor<?x4xf64>
// CHECK-NEXT: %y = feature.linear %x coef <w : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?xf64>
// CHECK-NEXT: [[V0:%[0-9]+]] = feature.linear %x coef <v : tensor<3x4xf64>> offset 0 intercept <c : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %k = feature.argmax [[V0]] {margin = 1.000000e-06 : f64} : tensor<?x3xf64> -> tensor<?xi64>
// CHECK-NEXT: [[V1:%[0-9]+]] = feature.linear %x coef <w : tensor<1x4xf64>> offset 0 intercept <b : tensor<1xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x1xf64>
// CHECK-NEXT: [[V2:%[0-9]+]] = feature.modified_huber_proba [[V1]] : tensor<?x1xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %h = feature.binary_proba [[V2]] : tensor<?x1xf64> -> tensor<?x2xf64>
// CHECK-NEXT: [[V3:%[0-9]+]] = feature.linear %x coef <v : tensor<3x4xf64>> offset 0 intercept <c : tensor<3xf64>> {check_finite} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[V4:%[0-9]+]] = feature.modified_huber_proba [[V3]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %m = feature.normalize_rows [[V4]] : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: "test.op"(%y, %k, %h, %m) : (tensor<?xf64>, tensor<?xi64>, tensor<?x2xf64>, tensor<?x3xf64>) -> ()

// -----

// Text: a TfidfVectorizer (word analyzer with stop words) on a column selected from a frame
// decodes the column, counts the vocabulary's terms and weights them.

func.func @tfidf(%df: !pipeline.frame<"id" : f64, "text" : !pipeline.str>) -> tensor<?x4xf64, "csr"> {
  %f = pipeline.select_columns %df ["text"] : !pipeline.frame<"id" : f64, "text" : !pipeline.str> -> !pipeline.frame<"text" : !pipeline.str>
  %v = pipeline.transform "TfidfVectorizer" %f params {analyzer = "word", ngram_min = 1 : i64, ngram_max = 2 : i64, lowercase = 1 : i64, strip_accents = "unicode", char_index = #pipeline.blob<ci : tensor<4352xi32>>, char_blocks = #pipeline.blob<cb : tensor<512xi32>>, char_sequences = #pipeline.blob<cs : tensor<9xi32>>, char_classes = #pipeline.blob<cc : tensor<1114112xui8>>, max_expansion = 3 : i64, binary = 0 : i64, stop_codepoints = #pipeline.blob<sv : tensor<7xi32>>, stop_offsets = #pipeline.blob<so : tensor<3xi64>>, stop_table = #pipeline.blob<sh : tensor<8xi64>>, stop_probes = 1 : i64, vocab_codepoints = #pipeline.blob<vc : tensor<20xi32>>, vocab_offsets = #pipeline.blob<vo : tensor<5xi64>>, vocab_table = #pipeline.blob<vt : tensor<16xi64>>, vocab_probes = 2 : i64, idf = #pipeline.blob<idf : tensor<4xf64>>, sublinear_tf = 1 : i64, norm = "l2"} : !pipeline.frame<"text" : !pipeline.str> -> tensor<?x4xf64, "csr">
  func.return %v : tensor<?x4xf64, "csr">
}

// CHECK-LABEL: func.func @tfidf(%df: !pipeline.frame<"id" : f64, "text" : !pipeline.str>) -> tensor<?x4xf64, "csr"> {
// CHECK-NEXT: %f = pipeline.select_columns %df ["text"] : !pipeline.frame<"id" : f64, "text" : !pipeline.str> -> !pipeline.frame<"text" : !pipeline.str>
// CHECK-NEXT: [[T:%[0-9]+]] = feature.decode_text %f "text" lowercase 1 strip unicode map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<9xi32>> classes <cc : tensor<1114112xui8>> expansion 3 : !pipeline.frame<"text" : !pipeline.str> -> !feature.text
// CHECK-NEXT: [[C:%[0-9]+]] = feature.count_terms [[T]] word ngram 1 to 2 vocab <vc : tensor<20xi32>>, <vo : tensor<5xi64>>, <vt : tensor<16xi64>> probes 2 stop <sv : tensor<7xi32>>, <so : tensor<3xi64>>, <sh : tensor<8xi64>> probes 1 : !feature.text -> tensor<?x4xf64, "csr">
// CHECK-NEXT: %v = feature.weight_terms [[C]] idf <idf : tensor<4xf64>> norm l2 {sublinear_tf} : tensor<?x4xf64, "csr"> -> tensor<?x4xf64, "csr">
// CHECK-NEXT: func.return %v : tensor<?x4xf64, "csr">

// -----

// Text: a binary char CountVectorizer of int64 counts, then a TfidfTransformer without idf
// (use_idf=False) weighting them as f64.

%s = "test.op"() : () -> !pipeline.frame<"s" : !pipeline.str>
%c = pipeline.transform "CountVectorizer" %s params {analyzer = "char", ngram_min = 1 : i64, ngram_max = 3 : i64, lowercase = 1 : i64, strip_accents = "ascii", char_index = #pipeline.blob<ci : tensor<4352xi32>>, char_blocks = #pipeline.blob<cb : tensor<512xi32>>, char_sequences = #pipeline.blob<cs : tensor<9xi32>>, char_classes = #pipeline.blob<cc : tensor<1114112xui8>>, max_expansion = 2 : i64, binary = 1 : i64, vocab_codepoints = #pipeline.blob<vc : tensor<20xi32>>, vocab_offsets = #pipeline.blob<vo : tensor<5xi64>>, vocab_table = #pipeline.blob<vt : tensor<16xi64>>, vocab_probes = 2 : i64} : !pipeline.frame<"s" : !pipeline.str> -> tensor<?x4xi64, "csr">
%w = pipeline.transform "TfidfTransformer" %c params {sublinear_tf = 0 : i64, norm = "l1"} : tensor<?x4xi64, "csr"> -> tensor<?x4xf64, "csr">
"test.op"(%w) : (tensor<?x4xf64, "csr">) -> ()

// CHECK:      %s = "test.op"() : () -> !pipeline.frame<"s" : !pipeline.str>
// CHECK-NEXT: [[T:%[0-9]+]] = feature.decode_text %s "s" lowercase 1 strip ascii map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<9xi32>> classes <cc : tensor<1114112xui8>> expansion 2 : !pipeline.frame<"s" : !pipeline.str> -> !feature.text
// CHECK-NEXT: %c = feature.count_terms [[T]] char ngram 1 to 3 vocab <vc : tensor<20xi32>>, <vo : tensor<5xi64>>, <vt : tensor<16xi64>> probes 2 {binary} : !feature.text -> tensor<?x4xi64, "csr">
// CHECK-NEXT: %w = feature.weight_terms %c norm l1 : tensor<?x4xi64, "csr"> -> tensor<?x4xf64, "csr">
// CHECK-NEXT: "test.op"(%w) : (tensor<?x4xf64, "csr">) -> ()

// -----

// Text: HashingVectorizer hashes the terms, then weight_terms applies its norm; with
// norm none the hashed counts are the result (short_tokens: token_pattern=r"\b\w+\b").

%s = "test.op"() : () -> !pipeline.frame<"s" : !pipeline.str>
%a = pipeline.transform "HashingVectorizer" %s params {analyzer = "char_wb", ngram_min = 2 : i64, ngram_max = 4 : i64, lowercase = 0 : i64, strip_accents = "none", char_index = #pipeline.blob<ci : tensor<4352xi32>>, char_blocks = #pipeline.blob<cb : tensor<512xi32>>, char_sequences = #pipeline.blob<cs : tensor<9xi32>>, char_classes = #pipeline.blob<cc : tensor<1114112xui8>>, max_expansion = 1 : i64, binary = 0 : i64, n_features = 1024 : i64, alternate_sign = 1 : i64, norm = "l2"} : !pipeline.frame<"s" : !pipeline.str> -> tensor<?x1024xf64, "csr">
%b = pipeline.transform "HashingVectorizer" %s params {analyzer = "word", ngram_min = 1 : i64, ngram_max = 1 : i64, lowercase = 0 : i64, strip_accents = "none", char_index = #pipeline.blob<ci : tensor<4352xi32>>, char_blocks = #pipeline.blob<cb : tensor<512xi32>>, char_sequences = #pipeline.blob<cs : tensor<9xi32>>, char_classes = #pipeline.blob<cc : tensor<1114112xui8>>, max_expansion = 1 : i64, binary = 1 : i64, short_tokens = 1 : i64, n_features = 16 : i64, alternate_sign = 0 : i64, norm = "none"} : !pipeline.frame<"s" : !pipeline.str> -> tensor<?x16xf32, "csr">
"test.op"(%a, %b) : (tensor<?x1024xf64, "csr">, tensor<?x16xf32, "csr">) -> ()

// CHECK:      %s = "test.op"() : () -> !pipeline.frame<"s" : !pipeline.str>
// CHECK-NEXT: [[T0:%[0-9]+]] = feature.decode_text %s "s" lowercase 0 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<9xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"s" : !pipeline.str> -> !feature.text
// CHECK-NEXT: [[H:%[0-9]+]] = feature.hash_terms [[T0]] char_wb ngram 2 to 4 features 1024 {alternate_sign} : !feature.text -> tensor<?x1024xf64, "csr">
// CHECK-NEXT: %a = feature.weight_terms [[H]] norm l2 : tensor<?x1024xf64, "csr"> -> tensor<?x1024xf64, "csr">
// CHECK-NEXT: [[T1:%[0-9]+]] = feature.decode_text %s "s" lowercase 0 strip none map <ci : tensor<4352xi32>>, <cb : tensor<512xi32>>, <cs : tensor<9xi32>> classes <cc : tensor<1114112xui8>> expansion 1 : !pipeline.frame<"s" : !pipeline.str> -> !feature.text
// CHECK-NEXT: %b = feature.hash_terms [[T1]] word ngram 1 to 1 features 16 {binary, short_tokens} : !feature.text -> tensor<?x16xf32, "csr">
// CHECK-NEXT: "test.op"(%a, %b) : (tensor<?x1024xf64, "csr">, tensor<?x16xf32, "csr">) -> ()

// -----

// Errors name the estimator.

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "KNeighborsClassifier" "predict" %x params {} : tensor<?x4xf64> -> tensor<?xi64>
"test.op"(%y) : (tensor<?xi64>) -> ()

// CHECK: pipeline.predict 'KNeighborsClassifier': unsupported estimator; expected one of LogisticRegression, LogisticRegressionCV, LinearSVC, SGDClassifier, Perceptron, PassiveAggressiveClassifier, RidgeClassifier, RidgeClassifierCV, LinearRegression, Ridge, RidgeCV, Lasso,

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "PCA" %x params {} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'PCA': unsupported estimator; expected one of SimpleImputer, StandardScaler, RobustScaler, MaxAbsScaler, MinMaxScaler, Normalizer, PolynomialFeatures, OneHotEncoder, OrdinalEncoder, TargetEncoder, KBinsDiscretizer

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "Ridge" "decision_function" %x params {coef = #pipeline.blob<w : tensor<1x4xf64>>} : tensor<?x4xf64> -> tensor<?xf64>
"test.op"(%y) : (tensor<?xf64>) -> ()

// CHECK: pipeline.predict 'Ridge': method 'decision_function' is not supported; expected one of predict

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "LinearSVC" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<1x4xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.predict 'LinearSVC': has no predict_proba (parameter proba is 'none')

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%y = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<w : tensor<3x4xf64>>, proba = "binary_sigmoid"} : tensor<?x4xf64> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.predict 'LogisticRegression': proba 'binary_sigmoid' needs a binary model, but coef has 3 rows

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "MinMaxScaler" %x params {scale = #pipeline.blob<s : tensor<2xf64>>, min = #pipeline.blob<m : tensor<2xf64>>, clip = 1 : i64} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'MinMaxScaler': clip=1 needs parameter 'clip_range', a tensor<2xf64> blob [low, high]

// -----

// OneHotEncoder with infrequent categories: a column's infrequent codes share its last
// one-hot column, which an unknown category takes with handle_unknown="infrequent_if_exist".

%x = "test.op"() : () -> tensor<?x1xf64>
%y = pipeline.transform "OneHotEncoder" %x params {handle_unknown = "infrequent_if_exist", columns = [{kind = "f64", categories = #pipeline.blob<c : tensor<4xf64>>, infrequent = [1 : i64, 3 : i64]}]} : tensor<?x1xf64> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: [[C:%[0-9]+]] = feature.encode_numbers %x[0] categories <c : tensor<4xf64>> missing -1 on_unknown ignore : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT: %y = feature.onehot [[C]] categories 4 drop -1 infrequent [1 : i64, 3 : i64] unknown_infrequent : tensor<?x1xi64> -> tensor<?x3xf64>

// -----

// TargetEncoder: a category's encoding read by its code, the target mean for an unknown one.

%x = "test.op"() : () -> tensor<?x1xf64>
%y = pipeline.transform "TargetEncoder" %x params {target_mean = 0.25 : f64, columns = [{kind = "f64", categories = #pipeline.blob<c : tensor<3xf64>>, encodings = #pipeline.blob<e : tensor<1x3xf64>>}]} : tensor<?x1xf64> -> tensor<?x1xf64>
"test.op"(%y) : (tensor<?x1xf64>) -> ()

// CHECK: [[MEAN:%[0-9]+]] = pipeline.constant 2.500000e-01 : f64
// CHECK-NEXT: [[ZERO:%[0-9]+]] = pipeline.constant 0 : i64
// CHECK-NEXT: [[C:%[0-9]+]] = feature.encode_numbers %x[0] categories <c : tensor<3xf64>> missing -1 on_unknown ignore : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT: [[U:%[0-9]+]] = pipeline.binary "lt" [[C]], [[ZERO]] : (tensor<?x1xi64>, i64) -> tensor<?x1xi1>
// CHECK-NEXT: [[E:%[0-9]+]] = feature.weight_lookup [[C]] coef <e : tensor<1x3xf64>> offset 0 categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: [[T:%[0-9]+]] = pipeline.where [[U]], [[MEAN]], [[E]] : (tensor<?x1xi1>, f64, tensor<?x1xf64>) -> tensor<?x1xf64>
// CHECK-NEXT: %y = pipeline.hstack [[T]] : (tensor<?x1xf64>) -> tensor<?x1xf64>

// -----

// SimpleImputer(add_indicator=True): the imputed columns, then the missing flags (x != x as
// 0.0 or 1.0) of the columns that were missing in fit.

%x = "test.op"() : () -> tensor<?x3xf64>
%y = pipeline.transform "SimpleImputer" %x params {fill = #pipeline.blob<f : tensor<3xf64>>, indicator = [0 : i64, 2 : i64]} : tensor<?x3xf64> -> tensor<?x5xf64>
"test.op"(%y) : (tensor<?x5xf64>) -> ()

// CHECK: [[I:%[0-9]+]] = feature.impute %x fill <f : tensor<3xf64>> : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: [[C0:%[0-9]+]] = pipeline.take_column %x [0] : tensor<?x3xf64> -> tensor<?xf64>
// CHECK-NEXT: [[N0:%[0-9]+]] = pipeline.binary "ne" [[C0]], [[C0]] : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xi1>
// CHECK-NEXT: [[F0:%[0-9]+]] = pipeline.cast [[N0]] : tensor<?xi1> -> tensor<?xf64>
// CHECK-NEXT: [[C2:%[0-9]+]] = pipeline.take_column %x [2] : tensor<?x3xf64> -> tensor<?xf64>
// CHECK-NEXT: [[N2:%[0-9]+]] = pipeline.binary "ne" [[C2]], [[C2]] : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xi1>
// CHECK-NEXT: [[F2:%[0-9]+]] = pipeline.cast [[N2]] : tensor<?xi1> -> tensor<?xf64>
// CHECK-NEXT: %y = pipeline.hstack [[I]], [[F0]], [[F2]] : (tensor<?x3xf64>, tensor<?xf64>, tensor<?xf64>) -> tensor<?x5xf64>

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "SimpleImputer" %x params {fill = 0.0 : f64} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'SimpleImputer': parameter 'fill' must be a #pipeline.blob, got 0.000000e+00 : f64

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "SimpleImputer" %x params {fill = #pipeline.blob<f : tensor<3xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
"test.op"(%y) : (tensor<?x2xf64>) -> ()

// CHECK: pipeline.transform 'SimpleImputer': lowers to an invalid feature.impute: fill blob 'f' has 3 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "OneHotEncoder" %x params {handle_unknown = "ignore", columns = [{kind = "f64", categories = #pipeline.blob<c : tensor<3xf64>>}, {kind = "f64", categories = #pipeline.blob<c : tensor<3xf64>>}]} : tensor<?x2xf64> -> tensor<?x5xf64>
"test.op"(%y) : (tensor<?x5xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': lowers to tensor<?x6xf64>, but the call's result is tensor<?x5xf64>

// -----

%x = "test.op"() : () -> tensor<?x1xf64>
%y = pipeline.transform "OneHotEncoder" %x params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<9xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, table = #pipeline.blob<t : tensor<8xi64>>, probes = 1 : i64}]} : tensor<?x1xf64> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': column 0 has kind 'str' but the input is not a frame

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "OrdinalEncoder" %x params {handle_unknown = "ignore", columns = [{kind = "f64", categories = #pipeline.blob<c : tensor<3xf64>>}]} : tensor<?x2xf64> -> tensor<?x2xf64>
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
%r = pipeline.transform "OrdinalEncoder" %s params {handle_unknown = "error", encoded_missing_value = -5.0 : f64, columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<2xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, table = #pipeline.blob<t : tensor<8xi64>>, probes = 1 : i64, missing = 2 : i64, drop = -1 : i64, encoded_missing_value = 2.0 : f64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xf64>
"test.op"(%r) : (tensor<?x1xf64>) -> ()

// CHECK:      [[C:%[0-9]+]] = feature.encode_strings %s "city" bytes <b : tensor<2xui8>> offsets <off : tensor<4xi64>> table <t : tensor<8xi64>> probes 1 missing 2 on_unknown error : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xi64>
// CHECK-NEXT: %r = feature.ordinal [[C]] missing 2 {unknown_value = 0x7ff8000000000000 : f64, missing_value = 2.000000e+00 : f64} : tensor<?x1xi64> -> tensor<?x1xf64>

// -----

// A string column needs its hash table and probe count.

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<9xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, probes = 1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': missing parameter 'table'

// -----

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<9xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, table = #pipeline.blob<t : tensor<8xi64>>}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': missing parameter 'probes'

// -----

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<9xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, table = #pipeline.blob<t : tensor<6xi64>>, probes = 1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': lowers to an invalid feature.encode_strings: table size 6 is not a power of two

// -----

// A fill of missing values before the encoder (SimpleImputer of str, fillna(str)): the filled
// ones take the fill's code, the encoder's own None category keeps None.

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", filled_by = "SimpleImputer", columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<9xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, table = #pipeline.blob<t : tensor<8xi64>>, probes = 1 : i64, missing = 2 : i64, missing_marker = 1 : i64, filled = 0 : i64, filled_marker = 2 : i64, drop = -1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK:      [[C:%[0-9]+]] = feature.encode_strings %s "city" bytes <b : tensor<9xui8>> offsets <off : tensor<4xi64>> table <t : tensor<8xi64>> probes 1 missing 2 marker 1 filled 0 filled_marker 2 on_unknown ignore : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x1xi64>
// CHECK-NEXT: %y = feature.onehot [[C]] categories 3 drop -1 : tensor<?x1xi64> -> tensor<?x3xf64>

// -----

// SimpleImputer(missing_values=None) before the encoder: None takes the fill, NaN is refused.

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", filled_by = "SimpleImputer", columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<9xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, table = #pipeline.blob<t : tensor<8xi64>>, probes = 1 : i64, missing = -1 : i64, filled = 0 : i64, filled_marker = 1 : i64, nan_refused = 1 : i64, drop = -1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK:      feature.encode_strings %s "city" {{.*}} missing -1 filled 0 filled_marker 1 nan_refused on_unknown ignore

// -----

%s = "test.op"() : () -> !pipeline.frame<"city" : !pipeline.str>
%y = pipeline.transform "OneHotEncoder" %s params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<b : tensor<9xui8>>, offsets = #pipeline.blob<off : tensor<4xi64>>, table = #pipeline.blob<t : tensor<8xi64>>, probes = 9 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
"test.op"(%y) : (tensor<?x3xf64>) -> ()

// CHECK: pipeline.transform 'OneHotEncoder': lowers to an invalid feature.encode_strings: probes must be in [1, 8], got 9

// -----

// A text vectorizer reads a frame of exactly one string column.

%df = "test.op"() : () -> !pipeline.frame<"a" : !pipeline.str, "b" : !pipeline.str>
%v = pipeline.transform "CountVectorizer" %df params {analyzer = "word", ngram_min = 1 : i64, ngram_max = 1 : i64, lowercase = 1 : i64, strip_accents = "none", char_index = #pipeline.blob<ci : tensor<4352xi32>>, char_blocks = #pipeline.blob<cb : tensor<512xi32>>, char_sequences = #pipeline.blob<cs : tensor<9xi32>>, char_classes = #pipeline.blob<cc : tensor<1114112xui8>>, max_expansion = 1 : i64, binary = 0 : i64, vocab_codepoints = #pipeline.blob<vc : tensor<20xi32>>, vocab_offsets = #pipeline.blob<vo : tensor<5xi64>>, vocab_table = #pipeline.blob<vt : tensor<16xi64>>, vocab_probes = 2 : i64} : !pipeline.frame<"a" : !pipeline.str, "b" : !pipeline.str> -> tensor<?x4xf64, "csr">
"test.op"(%v) : (tensor<?x4xf64, "csr">) -> ()

// CHECK: pipeline.transform 'CountVectorizer': input must be a frame of one string column, got !pipeline.frame<"a" : !pipeline.str, "b" : !pipeline.str>

// -----

%df = "test.op"() : () -> !pipeline.frame<"a" : !pipeline.str>
%v = pipeline.transform "TfidfVectorizer" %df params {analyzer = "word", ngram_min = 1 : i64, ngram_max = 1 : i64, lowercase = 1 : i64, strip_accents = "none", char_index = #pipeline.blob<ci : tensor<4352xi32>>, char_blocks = #pipeline.blob<cb : tensor<512xi32>>, char_sequences = #pipeline.blob<cs : tensor<9xi32>>, char_classes = #pipeline.blob<cc : tensor<1114112xui8>>, max_expansion = 1 : i64, binary = 0 : i64, vocab_codepoints = #pipeline.blob<vc : tensor<20xi32>>, vocab_offsets = #pipeline.blob<vo : tensor<5xi64>>, vocab_table = #pipeline.blob<vt : tensor<16xi64>>, vocab_probes = 2 : i64, idf = #pipeline.blob<idf : tensor<3xf64>>, sublinear_tf = 0 : i64, norm = "l2"} : !pipeline.frame<"a" : !pipeline.str> -> tensor<?x4xf64, "csr">
"test.op"(%v) : (tensor<?x4xf64, "csr">) -> ()

// CHECK: pipeline.transform 'TfidfVectorizer': lowers to an invalid feature.weight_terms: idf blob 'idf' has 3 values, not 4

// -----

// Tree models: a gradient-boosted binary classifier predicts raw >= 0 (argmax {nonnegative});
// its probabilities are [1 - sigmoid, sigmoid].

func.func @boosted_predict(%x: tensor<?x4xf64>) -> tensor<?xi64> {
  %k = pipeline.predict "GradientBoostingClassifier" "predict" %x params {nodes = #pipeline.blob<n : tensor<3x4xi32>>, thresholds = #pipeline.blob<t : tensor<3xf64>>, leaves = #pipeline.blob<l : tensor<4x1xf64>>, roots = #pipeline.blob<r : tensor<2xi32>>, tree_outputs = #pipeline.blob<o : tensor<2xi32>>, base = #pipeline.blob<b : tensor<1xf64>>, compare = "le", input_precision = "f32", sum_precision = "f64", node_flags = 0 : i64, check = "nan_or_infinite", proba = "binary_sigmoid", decision = "raw_nonnegative"} : tensor<?x4xf64> -> tensor<?xi64>
  func.return %k : tensor<?xi64>
}

// CHECK-LABEL: func.func @boosted_predict(%x: tensor<?x4xf64>) -> tensor<?xi64> {
// CHECK-NEXT: [[RAW:%[0-9]+]] = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "nan_or_infinite" : tensor<?x4xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %k = feature.argmax [[RAW]] {nonnegative} : tensor<?x1xf64> -> tensor<?xi64>

// -----

func.func @boosted_proba(%x: tensor<?x4xf64>) -> tensor<?x2xf64> {
  %p = pipeline.predict "GradientBoostingClassifier" "predict_proba" %x params {nodes = #pipeline.blob<n : tensor<3x4xi32>>, thresholds = #pipeline.blob<t : tensor<3xf64>>, leaves = #pipeline.blob<l : tensor<4x1xf64>>, roots = #pipeline.blob<r : tensor<2xi32>>, tree_outputs = #pipeline.blob<o : tensor<2xi32>>, base = #pipeline.blob<b : tensor<1xf64>>, compare = "le", input_precision = "f32", sum_precision = "f64", node_flags = 0 : i64, check = "nan_or_infinite", proba = "binary_sigmoid", decision = "raw_nonnegative"} : tensor<?x4xf64> -> tensor<?x2xf64>
  func.return %p : tensor<?x2xf64>
}

// CHECK-LABEL: func.func @boosted_proba(%x: tensor<?x4xf64>) -> tensor<?x2xf64> {
// CHECK-NEXT: [[RAW:%[0-9]+]] = feature.tree_ensemble %x
// CHECK-NEXT: [[P:%[0-9]+]] = feature.sigmoid [[RAW]] : tensor<?x1xf64> -> tensor<?x1xf64>
// CHECK-NEXT: %p = feature.binary_proba [[P]] : tensor<?x1xf64> -> tensor<?x2xf64>

// -----

// A forest's raw outputs are its probabilities; predict is their argmax. A histogram
// boosting regressor with a log link predicts exp of its raw output; one with categorical
// splits passes its bitsets and the columns to check.

func.func @forest(%x: tensor<?x4xf64>) -> tensor<?xi64> {
  %k = pipeline.predict "RandomForestClassifier" "predict" %x params {nodes = #pipeline.blob<n : tensor<3x4xi32>>, thresholds = #pipeline.blob<t : tensor<3xf64>>, leaves = #pipeline.blob<l : tensor<4x3xf64>>, roots = #pipeline.blob<r : tensor<2xi32>>, tree_outputs = #pipeline.blob<o : tensor<2xi32>>, base = #pipeline.blob<b : tensor<3xf64>>, compare = "le", input_precision = "f32", sum_precision = "f64", node_flags = 1 : i64, divisor = 2.0 : f64, check = "infinite", proba = "none", decision = "proba"} : tensor<?x4xf64> -> tensor<?xi64>
  func.return %k : tensor<?xi64>
}

// CHECK-LABEL: func.func @forest(%x: tensor<?x4xf64>) -> tensor<?xi64> {
// CHECK-NEXT: [[RAW:%[0-9]+]] = feature.tree_ensemble %x {{.*}} flags 1 divisor 2.000000e+00 : f64 check "infinite" : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %k = feature.argmax [[RAW]] : tensor<?x3xf64> -> tensor<?xi64>

// -----

func.func @poisson(%x: tensor<?x2xf64>) -> tensor<?xf64> {
  %y = pipeline.predict "HistGradientBoostingRegressor" "predict" %x params {nodes = #pipeline.blob<n : tensor<3x4xi32>>, thresholds = #pipeline.blob<t : tensor<3xf64>>, leaves = #pipeline.blob<l : tensor<4x1xf64>>, roots = #pipeline.blob<r : tensor<2xi32>>, tree_outputs = #pipeline.blob<o : tensor<2xi32>>, base = #pipeline.blob<b : tensor<1xf64>>, category_ranges = #pipeline.blob<cr : tensor<3x2xi32>>, category_bits = #pipeline.blob<cb : tensor<2xi32>>, compare = "le", input_precision = "f64", sum_precision = "f64", node_flags = 83 : i64, check = "infinite", check_columns = [1 : i64], link = "exp"} : tensor<?x2xf64> -> tensor<?xf64>
  func.return %y : tensor<?xf64>
}

// CHECK-LABEL: func.func @poisson(%x: tensor<?x2xf64>) -> tensor<?xf64> {
// CHECK-NEXT: [[RAW:%[0-9]+]] = feature.tree_ensemble %x {{.*}} categories <cr : tensor<3x2xi32>>, <cb : tensor<2xi32>> compare "le" input "f64" sum "f64" flags 83 check "infinite" columns [1 : i64] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT: %y = pipeline.unary "exp" [[RAW]] : tensor<?xf64> -> tensor<?xf64>

// -----

// LightGBM's and XGBoost's exp link is the C library's (their C++), not numpy's loop.

func.func @lightgbm_poisson(%x: tensor<?x2xf64>) -> tensor<?xf64> {
  %y = pipeline.predict "LGBMRegressor" "predict" %x params {nodes = #pipeline.blob<n : tensor<3x4xi32>>, thresholds = #pipeline.blob<t : tensor<3xf64>>, leaves = #pipeline.blob<l : tensor<4x1xf64>>, roots = #pipeline.blob<r : tensor<2xi32>>, tree_outputs = #pipeline.blob<o : tensor<2xi32>>, base = #pipeline.blob<b : tensor<1xf64>>, category_ranges = #pipeline.blob<cr : tensor<3x2xi32>>, category_bits = #pipeline.blob<cb : tensor<2xi32>>, compare = "le", input_precision = "f64", sum_precision = "f64", node_flags = 83 : i64, check = "infinite", check_columns = [1 : i64], link = "c_exp"} : tensor<?x2xf64> -> tensor<?xf64>
  func.return %y : tensor<?xf64>
}

// CHECK-LABEL: func.func @lightgbm_poisson(%x: tensor<?x2xf64>) -> tensor<?xf64> {
// CHECK-NEXT: [[RAW:%[0-9]+]] = feature.tree_ensemble %x {{.*}} categories <cr : tensor<3x2xi32>>, <cb : tensor<2xi32>> compare "le" input "f64" sum "f64" flags 83 check "infinite" columns [1 : i64] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT: %y = pipeline.unary "exp" [[RAW]] {libm} : tensor<?xf64> -> tensor<?xf64>

// -----

// LightGBM's softmax ("c_softmax") is the C library's exp too; scikit-learn's ("softmax")
// numpy's loop (feature.softmax without libm).

func.func @lightgbm_multiclass(%x: tensor<?x2xf64>) -> tensor<?x3xf64> {
  %p = pipeline.predict "LGBMClassifier" "predict_proba" %x params {nodes = #pipeline.blob<n : tensor<3x4xi32>>, thresholds = #pipeline.blob<t : tensor<3xf64>>, leaves = #pipeline.blob<l : tensor<4x1xf64>>, roots = #pipeline.blob<r : tensor<3xi32>>, tree_outputs = #pipeline.blob<o : tensor<3xi32>>, base = #pipeline.blob<b : tensor<3xf64>>, compare = "le", input_precision = "f64", sum_precision = "f64", node_flags = 0 : i64, check = "infinite", proba = "c_softmax", decision = "proba"} : tensor<?x2xf64> -> tensor<?x3xf64>
  func.return %p : tensor<?x3xf64>
}

// CHECK-LABEL: func.func @lightgbm_multiclass(%x: tensor<?x2xf64>) -> tensor<?x3xf64> {
// CHECK-NEXT: [[RAW:%[0-9]+]] = feature.tree_ensemble %x {{.*}} : tensor<?x2xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %p = feature.softmax [[RAW]] {libm} : tensor<?x3xf64> -> tensor<?x3xf64>

// -----

// A forest has no decision_function.

func.func @no_decision(%x: tensor<?x4xf64>) -> tensor<?x3xf64> {
  // CHECK: pipeline.predict 'RandomForestClassifier': method 'decision_function' is not supported; expected one of predict, predict_proba
  %d = pipeline.predict "RandomForestClassifier" "decision_function" %x params {nodes = #pipeline.blob<n : tensor<3x4xi32>>, thresholds = #pipeline.blob<t : tensor<3xf64>>, leaves = #pipeline.blob<l : tensor<4x3xf64>>, roots = #pipeline.blob<r : tensor<2xi32>>, tree_outputs = #pipeline.blob<o : tensor<2xi32>>, base = #pipeline.blob<b : tensor<3xf64>>, compare = "le", input_precision = "f32", sum_precision = "f64", node_flags = 0 : i64, proba = "none", decision = "proba"} : tensor<?x4xf64> -> tensor<?x3xf64>
  func.return %d : tensor<?x3xf64>
}
