// RUN: WILLUMP_ROUNDTRIP
// RUN: WILLUMP_GENERIC_ROUNDTRIP
// RUN: willump-opt %s --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

// Frame access and estimator calls, as the frontend emits them for a DataFrame input.

func.func @score(%df: !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str>) -> tensor<?xf64> {
  %num = pipeline.to_array %df ["age", "income"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str> -> tensor<?x2xf64>
  %cat = pipeline.select_columns %df ["city"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str> -> !pipeline.frame<"city" : !pipeline.str>
  %s = pipeline.transform "StandardScaler" %num params {mean = #pipeline.blob<mean_0 : tensor<2xf64>>, scale = #pipeline.blob<scale_1 : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
  %o = pipeline.transform "OneHotEncoder" %cat params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<b_2 : tensor<9xui8>>, offsets = #pipeline.blob<o_3 : tensor<4xi64>>, missing = -1 : i64, drop = -1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
  %x = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x5xf64>
  %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<coef_4 : tensor<1x5xf64>>, intercept = #pipeline.blob<b_5 : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x5xf64> -> tensor<?x2xf64>
  %p1 = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
  func.return %p1 : tensor<?xf64>
}

// CHECK-LABEL: func.func @score(%df: !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str>) -> tensor<?xf64> {
// CHECK-NEXT:    %num = pipeline.to_array %df ["age", "income"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str> -> tensor<?x2xf64>
// CHECK-NEXT:    %cat = pipeline.select_columns %df ["city"] : !pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str> -> !pipeline.frame<"city" : !pipeline.str>
// CHECK-NEXT:    %s = pipeline.transform "StandardScaler" %num params {mean = #pipeline.blob<mean_0 : tensor<2xf64>>, scale = #pipeline.blob<scale_1 : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
// CHECK-NEXT:    %o = pipeline.transform "OneHotEncoder" %cat params {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<b_2 : tensor<9xui8>>, offsets = #pipeline.blob<o_3 : tensor<4xi64>>, missing = -1 : i64, drop = -1 : i64}]} : !pipeline.frame<"city" : !pipeline.str> -> tensor<?x3xf64>
// CHECK-NEXT:    %x = pipeline.hstack %s, %o : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x5xf64>
// CHECK-NEXT:    %p = pipeline.predict "LogisticRegression" "predict_proba" %x params {coef = #pipeline.blob<coef_4 : tensor<1x5xf64>>, intercept = #pipeline.blob<b_5 : tensor<1xf64>>, proba = "binary_sigmoid"} : tensor<?x5xf64> -> tensor<?x2xf64>
// CHECK-NEXT:    %p1 = pipeline.take_column %p [1] : tensor<?x2xf64> -> tensor<?xf64>
// CHECK-NEXT:    func.return %p1 : tensor<?xf64>

// GENERIC:      %num = "pipeline.to_array"(%df) <{columns = ["age", "income"]}> : (!pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str>) -> tensor<?x2xf64>
// GENERIC-NEXT: %cat = "pipeline.select_columns"(%df) <{columns = ["city"]}> : (!pipeline.frame<"age" : f64, "income" : f64, "city" : !pipeline.str>) -> !pipeline.frame<"city" : !pipeline.str>
// GENERIC-NEXT: %s = "pipeline.transform"(%num) <{estimator = "StandardScaler", params = {mean = #pipeline.blob<mean_0 : tensor<2xf64>>, scale = #pipeline.blob<scale_1 : tensor<2xf64>>}}> : (tensor<?x2xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %o = "pipeline.transform"(%cat) <{estimator = "OneHotEncoder", params = {handle_unknown = "ignore", columns = [{kind = "str", bytes = #pipeline.blob<b_2 : tensor<9xui8>>, offsets = #pipeline.blob<o_3 : tensor<4xi64>>, missing = -1 : i64, drop = -1 : i64}]}}> : (!pipeline.frame<"city" : !pipeline.str>) -> tensor<?x3xf64>
// GENERIC-NEXT: %x = "pipeline.hstack"(%s, %o) : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x5xf64>
// GENERIC-NEXT: %p = "pipeline.predict"(%x) <{estimator = "LogisticRegression", method = "predict_proba", params = {coef = #pipeline.blob<coef_4 : tensor<1x5xf64>>, intercept = #pipeline.blob<b_5 : tensor<1xf64>>, proba = "binary_sigmoid"}}> : (tensor<?x5xf64>) -> tensor<?x2xf64>
// GENERIC-NEXT: %p1 = "pipeline.take_column"(%p) <{index = #builtin.int<1>}> : (tensor<?x2xf64>) -> tensor<?xf64>

// -----

// Elementwise arithmetic, with scalars and broadcasting.

%x, %v, %m = "test.op"() : () -> (tensor<?x3xf64>, tensor<?x1xf64>, tensor<?x3xi1>)
%c = pipeline.constant 2.5 : f64
%n = pipeline.constant -3.0 : f64 {note = "negated"}
%inf = pipeline.constant 0x7FF0000000000000 : f64
%l = pipeline.unary "log1p" %x : tensor<?x3xf64> -> tensor<?x3xf64>
%lv = pipeline.unary "sqrt" %x {check_finite} : tensor<?x3xf64> -> tensor<?x3xf64>
%a = pipeline.binary "add" %l, %c : (tensor<?x3xf64>, f64) -> tensor<?x3xf64>
%b = pipeline.binary "mul" %n, %v : (f64, tensor<?x1xf64>) -> tensor<?x1xf64>
%w = pipeline.binary "div" %x, %v : (tensor<?x3xf64>, tensor<?x1xf64>) -> tensor<?x3xf64>
%w2 = pipeline.binary "sub" %v, %x : (tensor<?x1xf64>, tensor<?x3xf64>) -> tensor<?x3xf64>
%g = pipeline.binary "gt" %x, %c : (tensor<?x3xf64>, f64) -> tensor<?x3xi1>
%s = pipeline.where %g, %x, %c : (tensor<?x3xi1>, tensor<?x3xf64>, f64) -> tensor<?x3xf64>
%t = pipeline.where %m, %a, %v : (tensor<?x3xi1>, tensor<?x3xf64>, tensor<?x1xf64>) -> tensor<?x3xf64>

// CHECK:      %x, %v, %m = "test.op"() : () -> (tensor<?x3xf64>, tensor<?x1xf64>, tensor<?x3xi1>)
// CHECK-NEXT: %c = pipeline.constant 2.500000e+00 : f64
// CHECK-NEXT: %n = pipeline.constant -3.000000e+00 : f64 {note = "negated"}
// CHECK-NEXT: %inf = pipeline.constant 0x7ff0000000000000 : f64
// CHECK-NEXT: %l = pipeline.unary "log1p" %x : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %lv = pipeline.unary "sqrt" %x {check_finite} : tensor<?x3xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %a = pipeline.binary "add" %l, %c : (tensor<?x3xf64>, f64) -> tensor<?x3xf64>
// CHECK-NEXT: %b = pipeline.binary "mul" %n, %v : (f64, tensor<?x1xf64>) -> tensor<?x1xf64>
// CHECK-NEXT: %w = pipeline.binary "div" %x, %v : (tensor<?x3xf64>, tensor<?x1xf64>) -> tensor<?x3xf64>
// CHECK-NEXT: %w2 = pipeline.binary "sub" %v, %x : (tensor<?x1xf64>, tensor<?x3xf64>) -> tensor<?x3xf64>
// CHECK-NEXT: %g = pipeline.binary "gt" %x, %c : (tensor<?x3xf64>, f64) -> tensor<?x3xi1>
// CHECK-NEXT: %s = pipeline.where %g, %x, %c : (tensor<?x3xi1>, tensor<?x3xf64>, f64) -> tensor<?x3xf64>
// CHECK-NEXT: %t = pipeline.where %m, %a, %v : (tensor<?x3xi1>, tensor<?x3xf64>, tensor<?x1xf64>) -> tensor<?x3xf64>

// GENERIC:      %c = "pipeline.constant"() <{value = 2.500000e+00 : f64}> : () -> f64
// GENERIC-NEXT: %n = "pipeline.constant"() <{value = -3.000000e+00 : f64}> {note = "negated"} : () -> f64
// GENERIC-NEXT: %inf = "pipeline.constant"() <{value = 0x7ff0000000000000 : f64}> : () -> f64
// GENERIC-NEXT: %l = "pipeline.unary"(%x) <{function = "log1p"}> : (tensor<?x3xf64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %lv = "pipeline.unary"(%x) <{function = "sqrt"}> {check_finite} : (tensor<?x3xf64>) -> tensor<?x3xf64>
// GENERIC-NEXT: %a = "pipeline.binary"(%l, %c) <{function = "add"}> : (tensor<?x3xf64>, f64) -> tensor<?x3xf64>
// GENERIC:      %g = "pipeline.binary"(%x, %c) <{function = "gt"}> : (tensor<?x3xf64>, f64) -> tensor<?x3xi1>
// GENERIC-NEXT: %s = "pipeline.where"(%g, %x, %c) : (tensor<?x3xi1>, tensor<?x3xf64>, f64) -> tensor<?x3xf64>

// -----

// A scalar broadcast over rows: once per row of a frame (df["bias"] = 1.0), or in every
// entry of a batch of a mask's shape; a batch reduction's scalar too.

%df, %m, %x = "test.op"() : () -> (!pipeline.frame<"age" : f64, "city" : !pipeline.str>, tensor<?x2xi1>, tensor<?xf64>)
%c = pipeline.constant 1.0 : f64
%k = pipeline.constant 3 : i64
%h = pipeline.constant 0.1 : f32
%mean = pipeline.reduce "mean" %x : tensor<?xf64> -> f64
%b = pipeline.broadcast %c over %df : f64 over !pipeline.frame<"age" : f64, "city" : !pipeline.str> -> tensor<?xf64>
%z = pipeline.broadcast %k over %m : i64 over tensor<?x2xi1> -> tensor<?x2xi64>
%n = pipeline.broadcast %h over %x : f32 over tensor<?xf64> -> tensor<?xf32>
%r = pipeline.broadcast %mean over %x {note = "centre"} : f64 over tensor<?xf64> -> tensor<?xf64>

// CHECK:      %b = pipeline.broadcast %c over %df : f64 over !pipeline.frame<"age" : f64, "city" : !pipeline.str> -> tensor<?xf64>
// CHECK-NEXT: %z = pipeline.broadcast %k over %m : i64 over tensor<?x2xi1> -> tensor<?x2xi64>
// CHECK-NEXT: %n = pipeline.broadcast %h over %x : f32 over tensor<?xf64> -> tensor<?xf32>
// CHECK-NEXT: %r = pipeline.broadcast %mean over %x {note = "centre"} : f64 over tensor<?xf64> -> tensor<?xf64>

// GENERIC:      %b = "pipeline.broadcast"(%c, %df) : (f64, !pipeline.frame<"age" : f64, "city" : !pipeline.str>) -> tensor<?xf64>
// GENERIC-NEXT: %z = "pipeline.broadcast"(%k, %m) : (i64, tensor<?x2xi1>) -> tensor<?x2xi64>

// -----

// pd.cut into equal-width bins, edges from the batch's minimum and maximum.

%x, %i = "test.op"() : () -> (tensor<?xf64>, tensor<?xi64>)
%lo = pipeline.reduce "min" %x : tensor<?xf64> -> f64
%hi = pipeline.reduce "max" %x : tensor<?xf64> -> f64
%a = pipeline.reduce "min" %i : tensor<?xi64> -> i64
%b = pipeline.reduce "max" %i : tensor<?xi64> -> i64
%c = pipeline.cut_width %x, %lo, %hi bins 4 right : (tensor<?xf64>, f64, f64) -> tensor<?xf64>
%k = pipeline.cut_width %i, %a, %b bins 3 include_lowest : (tensor<?xi64>, i64, i64) -> tensor<?xf64>

// CHECK:      %c = pipeline.cut_width %x, %lo, %hi bins 4 right : (tensor<?xf64>, f64, f64) -> tensor<?xf64>
// CHECK-NEXT: %k = pipeline.cut_width %i, %a, %b bins 3 include_lowest : (tensor<?xi64>, i64, i64) -> tensor<?xf64>

// GENERIC:      %c = "pipeline.cut_width"(%x, %lo, %hi) <{bins = 4 : i64, right}> : (tensor<?xf64>, f64, f64) -> tensor<?xf64>

// -----

// int32 arithmetic of .dt fields held as i64: wrapped to 32 bits after each op.

%y = "test.op"() : () -> tensor<?xi64>
%k = pipeline.constant 12 : i64
%m = pipeline.binary "mul" %y, %k : (tensor<?xi64>, i64) -> tensor<?xi64>
%w = pipeline.wrap_int %m bits 32 : tensor<?xi64> -> tensor<?xi64>

// CHECK:      %w = pipeline.wrap_int %m bits 32 : tensor<?xi64> -> tensor<?xi64>
// GENERIC:    %w = "pipeline.wrap_int"(%m) <{bits = 32 : i64}> : (tensor<?xi64>) -> tensor<?xi64>

// -----

// float32 values, as numpy computes on them: in float32 beside float32 values, bools and
// numbers (NEP 50), in float64 beside float64 or int64 values.

%h, %d, %k = "test.op"() : () -> (tensor<?xf32>, tensor<?xf64>, tensor<?xi64>)
%c = pipeline.constant 0.1 : f32
%a = pipeline.binary "mul" %h, %c : (tensor<?xf32>, f32) -> tensor<?xf32>
%b = pipeline.binary "add" %h, %d : (tensor<?xf32>, tensor<?xf64>) -> tensor<?xf64>
%e = pipeline.binary "sub" %h, %k : (tensor<?xf32>, tensor<?xi64>) -> tensor<?xf64>
%q = pipeline.binary "div" %h, %h : (tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>
%g = pipeline.binary "gt" %h, %c : (tensor<?xf32>, f32) -> tensor<?xi1>
%s = pipeline.where %g, %h, %c : (tensor<?xi1>, tensor<?xf32>, f32) -> tensor<?xf32>
%r = pipeline.unary "sqrt" %h : tensor<?xf32> -> tensor<?xf32>
%n = pipeline.cast %d : tensor<?xf64> -> tensor<?xf32>
%hh = pipeline.hstack %a, %q : (tensor<?xf32>, tensor<?xf32>) -> tensor<?x2xf32>

// CHECK:      %c = pipeline.constant 1.000000e-01 : f32
// CHECK-NEXT: %a = pipeline.binary "mul" %h, %c : (tensor<?xf32>, f32) -> tensor<?xf32>
// CHECK-NEXT: %b = pipeline.binary "add" %h, %d : (tensor<?xf32>, tensor<?xf64>) -> tensor<?xf64>
// CHECK-NEXT: %e = pipeline.binary "sub" %h, %k : (tensor<?xf32>, tensor<?xi64>) -> tensor<?xf64>
// CHECK-NEXT: %q = pipeline.binary "div" %h, %h : (tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>
// CHECK-NEXT: %g = pipeline.binary "gt" %h, %c : (tensor<?xf32>, f32) -> tensor<?xi1>
// CHECK-NEXT: %s = pipeline.where %g, %h, %c : (tensor<?xi1>, tensor<?xf32>, f32) -> tensor<?xf32>
// CHECK-NEXT: %r = pipeline.unary "sqrt" %h : tensor<?xf32> -> tensor<?xf32>
// CHECK-NEXT: %n = pipeline.cast %d : tensor<?xf64> -> tensor<?xf32>
// CHECK-NEXT: %hh = pipeline.hstack %a, %q : (tensor<?xf32>, tensor<?xf32>) -> tensor<?x2xf32>

// GENERIC:      %c = "pipeline.constant"() <{value = 1.000000e-01 : f32}> : () -> f32

// -----

// Division ufuncs and NaN-ignoring extrema; pandas' integer division is speculative.

%k, %j, %y = "test.op"() : () -> (tensor<?xi64>, tensor<?xi64>, tensor<?xf64>)
%q = pipeline.binary "floor_divide" %k, %j speculative : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
%r = pipeline.binary "remainder" %k, %j : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
%f = pipeline.binary "fmod" %y, %k : (tensor<?xf64>, tensor<?xi64>) -> tensor<?xf64>
%h = pipeline.binary "fmax" %y, %y : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>

// CHECK:      %q = pipeline.binary "floor_divide" %k, %j speculative : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
// CHECK-NEXT: %r = pipeline.binary "remainder" %k, %j : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
// CHECK-NEXT: %f = pipeline.binary "fmod" %y, %k : (tensor<?xf64>, tensor<?xi64>) -> tensor<?xf64>
// CHECK-NEXT: %h = pipeline.binary "fmax" %y, %y : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>

// GENERIC:      %q = "pipeline.binary"(%k, %j) <{function = "floor_divide", speculative}> : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>

// -----

// Per-row outputs, every predict method, and opaque Python calls.

%x, %obj = "test.op"() : () -> (tensor<?x4xf64>, !pipeline.object)
%d = pipeline.predict "LinearSVC" "decision_function" %x params {coef = #pipeline.blob<w_0 : tensor<3x4xf64>>, intercept = #pipeline.blob<b_1 : tensor<3xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?x3xf64>
%k = pipeline.predict "LinearSVC" "predict" %x params {coef = #pipeline.blob<w_0 : tensor<3x4xf64>>, intercept = #pipeline.blob<b_1 : tensor<3xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?xi64>
%r = pipeline.predict "Ridge" "predict" %x params {coef = #pipeline.blob<w_2 : tensor<1x4xf64>>, intercept = #pipeline.blob<b_3 : tensor<1xf64>>} {note = 1 : i64} : tensor<?x4xf64> -> tensor<?xf64>
%y = pipeline.python_call "my_udf"(%x, %obj) reason "unknown function" : (tensor<?x4xf64>, !pipeline.object) -> tensor<?x4xf64>
%u, %w = pipeline.python_call "split"(%y) reason "returns a tuple" source "pipeline.py:12" : (tensor<?x4xf64>) -> (!pipeline.object, tensor<?xf64>)
pipeline.python_call "log"(%y) reason "side effect only" : (tensor<?x4xf64>) -> ()

// CHECK:      %x, %obj = "test.op"() : () -> (tensor<?x4xf64>, !pipeline.object)
// CHECK-NEXT: %d = pipeline.predict "LinearSVC" "decision_function" %x params {coef = #pipeline.blob<w_0 : tensor<3x4xf64>>, intercept = #pipeline.blob<b_1 : tensor<3xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?x3xf64>
// CHECK-NEXT: %k = pipeline.predict "LinearSVC" "predict" %x params {coef = #pipeline.blob<w_0 : tensor<3x4xf64>>, intercept = #pipeline.blob<b_1 : tensor<3xf64>>, proba = "none"} : tensor<?x4xf64> -> tensor<?xi64>
// CHECK-NEXT: %r = pipeline.predict "Ridge" "predict" %x params {coef = #pipeline.blob<w_2 : tensor<1x4xf64>>, intercept = #pipeline.blob<b_3 : tensor<1xf64>>} {note = 1 : i64} : tensor<?x4xf64> -> tensor<?xf64>
// CHECK-NEXT: %y = pipeline.python_call "my_udf"(%x, %obj) reason "unknown function" : (tensor<?x4xf64>, !pipeline.object) -> tensor<?x4xf64>
// CHECK-NEXT: %u, %w = pipeline.python_call "split"(%y) reason "returns a tuple" source "pipeline.py:12" : (tensor<?x4xf64>) -> (!pipeline.object, tensor<?xf64>)
pipeline.python_call "log"(%y) reason "side effect only" : (tensor<?x4xf64>) -> ()

// GENERIC:      %r = "pipeline.predict"(%x) <{estimator = "Ridge", method = "predict", params = {coef = #pipeline.blob<w_2 : tensor<1x4xf64>>, intercept = #pipeline.blob<b_3 : tensor<1xf64>>}}> {note = 1 : i64} : (tensor<?x4xf64>) -> tensor<?xf64>
// GENERIC-NEXT: %y = "pipeline.python_call"(%x, %obj) <{callee = "my_udf", reason = "unknown function"}> : (tensor<?x4xf64>, !pipeline.object) -> tensor<?x4xf64>
// GENERIC-NEXT: %u, %w = "pipeline.python_call"(%y) <{callee = "split", reason = "returns a tuple", source = "pipeline.py:12"}> : (tensor<?x4xf64>) -> (!pipeline.object, tensor<?xf64>)

// -----

// Integer and boolean columns: numpy's promotion (int64 op int64 stays i64, true division
// and a float operand give f64, comparisons i1) and astype as pipeline.cast.

%df = "test.op"() : () -> !pipeline.frame<"year" : f64, "n" : f64>
%year = pipeline.to_array %df ["year"] : !pipeline.frame<"year" : f64, "n" : f64> -> tensor<?x1xi64>
%k = pipeline.constant 2010 : i64
%d = pipeline.binary "sub" %year, %k : (tensor<?x1xi64>, i64) -> tensor<?x1xi64>
%q = pipeline.binary "div" %d, %k : (tensor<?x1xi64>, i64) -> tensor<?x1xf64>
%g = pipeline.binary "ge" %year, %k : (tensor<?x1xi64>, i64) -> tensor<?x1xi1>
%a = pipeline.unary "abs" %d : tensor<?x1xi64> -> tensor<?x1xi64>
%l = pipeline.unary "log1p" %d : tensor<?x1xi64> -> tensor<?x1xf64>
%c = pipeline.cast %g : tensor<?x1xi1> -> tensor<?x1xi64>
%sp = pipeline.cast %q speculative : tensor<?x1xf64> -> tensor<?x1xi64>
%w = pipeline.where %g, %d, %q : (tensor<?x1xi1>, tensor<?x1xi64>, tensor<?x1xf64>) -> tensor<?x1xf64>

// CHECK:      %year = pipeline.to_array %df ["year"] : !pipeline.frame<"year" : f64, "n" : f64> -> tensor<?x1xi64>
// CHECK-NEXT: %k = pipeline.constant 2010 : i64
// CHECK-NEXT: %d = pipeline.binary "sub" %year, %k : (tensor<?x1xi64>, i64) -> tensor<?x1xi64>
// CHECK-NEXT: %q = pipeline.binary "div" %d, %k : (tensor<?x1xi64>, i64) -> tensor<?x1xf64>
// CHECK-NEXT: %g = pipeline.binary "ge" %year, %k : (tensor<?x1xi64>, i64) -> tensor<?x1xi1>
// CHECK-NEXT: %a = pipeline.unary "abs" %d : tensor<?x1xi64> -> tensor<?x1xi64>
// CHECK-NEXT: %l = pipeline.unary "log1p" %d : tensor<?x1xi64> -> tensor<?x1xf64>
// CHECK-NEXT: %c = pipeline.cast %g : tensor<?x1xi1> -> tensor<?x1xi64>
// CHECK-NEXT: %sp = pipeline.cast %q speculative : tensor<?x1xf64> -> tensor<?x1xi64>
// CHECK-NEXT: %w = pipeline.where %g, %d, %q : (tensor<?x1xi1>, tensor<?x1xi64>, tensor<?x1xf64>) -> tensor<?x1xf64>

// GENERIC:      %k = "pipeline.constant"() <{value = 2010 : i64}> : () -> i64
// GENERIC:      %c = "pipeline.cast"(%g) : (tensor<?x1xi1>) -> tensor<?x1xi64>
// GENERIC-NEXT: %sp = "pipeline.cast"(%q) <{speculative}> : (tensor<?x1xf64>) -> tensor<?x1xi64>

// -----

// Dates: text parsed in a fixed-width format, a frame of parts assembled, calendar fields.

func.func @dates(%df: !pipeline.frame<"when" : !pipeline.str, "year" : f64, "month" : f64, "day" : f64>, %dt: !pipeline.frame<"at" : !pipeline.datetime<"ns">>) -> tensor<?xf64> {
  %a = pipeline.datetime_column %dt "at" : !pipeline.frame<"at" : !pipeline.datetime<"ns">> -> tensor<?xi64>
  %w = pipeline.select_columns %df ["when"] : !pipeline.frame<"when" : !pipeline.str, "year" : f64, "month" : f64, "day" : f64> -> !pipeline.frame<"when" : !pipeline.str>
  %t = pipeline.parse_datetime %w "when" "%Y-%m-%dT%H:%M:%S%z" unit "us" : !pipeline.frame<"when" : !pipeline.str> -> tensor<?xi64>
  %b = pipeline.parse_datetime %w "when" "%b-%Y" unit "ns" : !pipeline.frame<"when" : !pipeline.str> -> tensor<?xi64>
  %ymd = pipeline.to_array %df ["year", "month", "day"] : !pipeline.frame<"when" : !pipeline.str, "year" : f64, "month" : f64, "day" : f64> -> tensor<?x3xf64>
  %d = pipeline.make_datetime %ymd unit "us" : tensor<?x3xf64> -> tensor<?xi64>
  %h = pipeline.datetime_field "hour" %t unit "us" : tensor<?xi64> -> tensor<?xf64>
  %m = pipeline.datetime_field "dayofweek" %d unit "us" : tensor<?xi64> -> tensor<?xf64>
  %e = pipeline.datetime_field "is_month_end" %a unit "ns" : tensor<?xi64> -> tensor<?xi1>
  func.return %h : tensor<?xf64>
}

// CHECK:      %a = pipeline.datetime_column %dt "at" : !pipeline.frame<"at" : !pipeline.datetime<"ns">> -> tensor<?xi64>
// CHECK:      %t = pipeline.parse_datetime %w "when" "%Y-%m-%dT%H:%M:%S%z" unit "us" : !pipeline.frame<"when" : !pipeline.str> -> tensor<?xi64>
// CHECK-NEXT: %b = pipeline.parse_datetime %w "when" "%b-%Y" unit "ns" : !pipeline.frame<"when" : !pipeline.str> -> tensor<?xi64>
// CHECK:      %d = pipeline.make_datetime %ymd unit "us" : tensor<?x3xf64> -> tensor<?xi64>
// CHECK-NEXT: %h = pipeline.datetime_field "hour" %t unit "us" : tensor<?xi64> -> tensor<?xf64>
// CHECK-NEXT: %m = pipeline.datetime_field "dayofweek" %d unit "us" : tensor<?xi64> -> tensor<?xf64>
// CHECK-NEXT: %e = pipeline.datetime_field "is_month_end" %a unit "ns" : tensor<?xi64> -> tensor<?xi1>

// GENERIC: %t = "pipeline.parse_datetime"(%w) <{column = "when", format = "%Y-%m-%dT%H:%M:%S%z", unit = "us"}> : (!pipeline.frame<"when" : !pipeline.str>) -> tensor<?xi64>

// -----

// A date difference, with a constant date as either operand.

func.func @gap(%t: tensor<?xi64>, %u: tensor<?xi64>) -> tensor<?xi64> {
  %k = pipeline.constant 1356998400000000 : i64
  %d = pipeline.datetime_sub %t, %k : (tensor<?xi64>, i64) -> tensor<?xi64>
  %e = pipeline.datetime_sub %t, %u : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
  %a = pipeline.datetime_sub %k, %t : (i64, tensor<?xi64>) -> tensor<?xi64>
  %n = pipeline.datetime_field "days" %d unit "us" : tensor<?xi64> -> tensor<?xf64>
  func.return %e : tensor<?xi64>
}

// CHECK:      %d = pipeline.datetime_sub %t, %k : (tensor<?xi64>, i64) -> tensor<?xi64>
// CHECK-NEXT: %e = pipeline.datetime_sub %t, %u : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
// CHECK-NEXT: %a = pipeline.datetime_sub %k, %t : (i64, tensor<?xi64>) -> tensor<?xi64>
// CHECK-NEXT: %n = pipeline.datetime_field "days" %d unit "us" : tensor<?xi64> -> tensor<?xf64>

// -----

func.func @reductions(%x: tensor<?xf64>, %k: tensor<?xi64>) -> (f64, i64) {
  %m = pipeline.reduce "mean" %x : tensor<?xf64> -> f64
  %v = pipeline.reduce "var" %k ddof 0 : i64 : tensor<?xi64> -> f64
  %s = pipeline.reduce "sum" %k : tensor<?xi64> -> i64
  %d = pipeline.reduce "median" %x : tensor<?xf64> -> f64
  %r = pipeline.binary "sub" %m, %d : (f64, f64) -> f64
  func.return %r, %s : f64, i64
}
// CHECK: pipeline.reduce "mean" %{{.*}} : tensor<?xf64> -> f64
// CHECK: pipeline.reduce "var" %{{.*}} ddof 0 : i64 : tensor<?xi64> -> f64
// CHECK: pipeline.reduce "sum" %{{.*}} : tensor<?xi64> -> i64
// CHECK: pipeline.reduce "median" %{{.*}} : tensor<?xf64> -> f64
// CHECK: pipeline.binary "sub" %{{.*}}, %{{.*}} : (f64, f64) -> f64

// -----

// A column of a dtype native code does not read (here a category) is part of the frame,
// as !pipeline.object; only the columns it reads are selected.

func.func @python_column(%df: !pipeline.frame<"a" : f64, "kind" : !pipeline.object>) -> tensor<?x1xf64> {
  %a = pipeline.to_array %df ["a"] : !pipeline.frame<"a" : f64, "kind" : !pipeline.object> -> tensor<?x1xf64>
  %k = pipeline.select_columns %df ["kind"] : !pipeline.frame<"a" : f64, "kind" : !pipeline.object> -> !pipeline.frame<"kind" : !pipeline.object>
  func.return %a : tensor<?x1xf64>
}
// CHECK-LABEL: func.func @python_column(%df: !pipeline.frame<"a" : f64, "kind" : !pipeline.object>) -> tensor<?x1xf64> {
// CHECK-NEXT:    %a = pipeline.to_array %df ["a"] : !pipeline.frame<"a" : f64, "kind" : !pipeline.object> -> tensor<?x1xf64>
// CHECK-NEXT:    %k = pipeline.select_columns %df ["kind"] : !pipeline.frame<"a" : f64, "kind" : !pipeline.object> -> !pipeline.frame<"kind" : !pipeline.object>

// -----

// A row function's power is numpy's scalar arithmetic (the C library's pow).
%x = "test.op"() : () -> tensor<?xf64>
%p = pipeline.binary "power" %x, %x scalar_math : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>

// CHECK:      %p = pipeline.binary "power" %x, %x scalar_math : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
// GENERIC:    %p = "pipeline.binary"(%x, %x) <{function = "power", scalar_math}> : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
