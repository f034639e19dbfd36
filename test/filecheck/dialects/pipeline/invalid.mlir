// RUN: willump-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Attribute and type verifiers run while parsing; --verify-diagnostics prints their message.

%x = "test.op"() : () -> !pipeline.frame<"a" : f64, "a" : f64>

// CHECK: frame has duplicate column names: ['a', 'a']

// -----

%x = "test.op"() : () -> !pipeline.frame<"a" : i64>

// CHECK: column 'a' has dtype i64; expected f64, !pipeline.str, !pipeline.datetime or !pipeline.object

// -----

%x = "test.op"() {blob = #pipeline.blob<w : tensor<?x3xf64>>} : () -> ()

// CHECK: a blob has a static shape

// -----

%df = "test.op"() : () -> !pipeline.frame<"a" : f64>
%x = pipeline.to_array %df ["b"] : !pipeline.frame<"a" : f64> -> tensor<?x1xf64>

// CHECK: frame has no column 'b'

// -----

%df = "test.op"() : () -> !pipeline.frame<"s" : !pipeline.str>
%x = pipeline.to_array %df ["s"] : !pipeline.frame<"s" : !pipeline.str> -> tensor<?x1xf64>

// CHECK: column 's' is not numeric

// -----

%df = "test.op"() : () -> !pipeline.frame<"a" : f64, "kind" : !pipeline.object>
%x = pipeline.to_array %df ["a", "kind"] : !pipeline.frame<"a" : f64, "kind" : !pipeline.object> -> tensor<?x2xf64>

// CHECK: column 'kind' is not numeric

// -----

%df = "test.op"() : () -> !pipeline.frame<"a" : f64, "b" : f64>
%x = pipeline.to_array %df ["a", "b"] : !pipeline.frame<"a" : f64, "b" : f64> -> tensor<?x3xf64>

// CHECK: result must be tensor<?x2xf64>

// -----

%df = "test.op"() : () -> !pipeline.frame<"a" : f64, "b" : f64>
%x = pipeline.to_array %df ["a"] : !pipeline.frame<"a" : f64, "b" : f64> -> tensor<4x1xf64>

// CHECK: result must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<4x1xf64>

// -----

%df = "test.op"() : () -> !pipeline.frame<"a" : f64>
%f = pipeline.select_columns %df ["z"] : !pipeline.frame<"a" : f64> -> !pipeline.frame<"z" : f64>

// CHECK: frame has no column 'z'

// -----

%df = "test.op"() : () -> !pipeline.frame<"a" : f64, "b" : f64>
%f = pipeline.select_columns %df ["a", "b"] : !pipeline.frame<"a" : f64, "b" : f64> -> !pipeline.frame<"b" : f64, "a" : f64>

// CHECK: result columns must be the selected columns, in order

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "" %x params {} : tensor<?x2xf64> -> tensor<?x2xf64>

// CHECK: estimator name must not be empty

// -----

%x = "test.op"() : () -> tensor<2xf64>
%y = pipeline.transform "StandardScaler" %x params {} : tensor<2xf64> -> tensor<?x2xf64>

// CHECK: input must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<2xf64>

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.transform "StandardScaler" %x params {} : tensor<?x2xf64> -> tensor<?x?xf64>

// CHECK: result must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<?x?xf64>

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.predict "" "predict" %x params {} : tensor<?x2xf64> -> tensor<?xf64>

// CHECK: estimator name must not be empty

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.predict "Ridge" "score" %x params {} : tensor<?x2xf64> -> tensor<?xf64>

// CHECK: method must be one of predict, predict_proba, decision_function, got 'score'

// -----

%x = "test.op"() : () -> tensor<?x2x3xf64>
%y = pipeline.predict "Ridge" "predict" %x params {} : tensor<?x2x3xf64> -> tensor<?xf64>

// CHECK: input must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<?x2x3xf64>

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.predict "Ridge" "predict" %x params {} : tensor<?x2xf64> -> tensor<8xf64>

// CHECK: result must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<8xf64>

// -----

%y = "pipeline.hstack"() : () -> tensor<?x0xf64>

// CHECK: hstack needs at least one input

// -----

%a = "test.op"() : () -> tensor<3xf64>
%y = pipeline.hstack %a : (tensor<3xf64>) -> tensor<?x3xf64>

// CHECK: input must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<3xf64>

// -----

%a, %b = "test.op"() : () -> (tensor<?x2xf64>, tensor<?xf64>)
%y = pipeline.hstack %a, %b : (tensor<?x2xf64>, tensor<?xf64>) -> tensor<?x2xf64>

// CHECK: result must have 3 columns: the inputs' total width

// -----

%p = "test.op"() : () -> tensor<?x2xf64>
%c = pipeline.take_column %p [2] : tensor<?x2xf64> -> tensor<?xf64>

// CHECK: column 2 is out of range for width 2

// -----

%p = "test.op"() : () -> tensor<2x2xf64>
%c = pipeline.take_column %p [0] : tensor<2x2xf64> -> tensor<?xf64>

// CHECK: input must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<2x2xf64>

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.unary "erf" %x : tensor<?x2xf64> -> tensor<?x2xf64>

// CHECK: unknown unary function 'erf'; expected one of log1p, log, exp, expm1, sqrt, abs, negative, floor, ceil, tanh, square, sign, sin, cos, tan, arcsin, arccos, arctan, sinh, cosh, arcsinh, arccosh, arctanh, log2, log10, exp2, cbrt, trunc, rint, fabs

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.unary "exp" %x : tensor<?x2xf64> -> tensor<?x3xf64>

// CHECK: result must be tensor<?x2xf64>

// -----

%x = "test.op"() : () -> tensor<2xf64>
%y = pipeline.unary "exp" %x : tensor<2xf64> -> tensor<2xf64>

// CHECK: input must be a batch tensor<?xT> or tensor<?xWxT>, got tensor<2xf64>

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.binary "mod" %x, %x : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64>

// CHECK: unknown binary function 'mod'

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%y = pipeline.binary "lt" %x, %x : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64>

// CHECK: result must be tensor<?x2xi1>

// -----

%c = pipeline.constant 1.0 : f64
%y = "pipeline.binary"(%c, %c) <{function = "add"}> : (f64, f64) -> tensor<?xf64>

// CHECK: result must be f64

// -----

%a, %b = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x3xf64>)
%y = pipeline.binary "add" %a, %b : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x3xf64>

// CHECK: do not broadcast

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%c = pipeline.constant 1.0 : f64
%y = "pipeline.broadcast"(%c, %x) : (f64, tensor<?x2xf64>) -> tensor<?xf64>

// CHECK: result must be tensor<?x2xf64>

// -----

%x = "test.op"() : () -> tensor<?xf64>
%y = "pipeline.broadcast"(%x, %x) : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>

// CHECK: value must be an f64, f32 or i64 scalar, got tensor<?xf64>

// -----

%x = "test.op"() : () -> tensor<?x4xf64, "csr">
%c = pipeline.constant 1 : i64
%y = "pipeline.broadcast"(%c, %x) : (i64, tensor<?x4xf64, "csr">) -> tensor<?x4xi64>

// CHECK: rows must be a dense batch or a frame

// -----

%m, %x = "test.op"() : () -> (tensor<?x2xf64>, tensor<?x2xf64>)
%y = pipeline.where %m, %x, %x : (tensor<?x2xf64>, tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64>

// CHECK: condition must be a batch of i1

// -----

%m, %x = "test.op"() : () -> (tensor<?x2xi1>, tensor<?x2xf64>)
%c = pipeline.constant 0.0 : f64
%y = pipeline.where %m, %x, %c : (tensor<?x2xi1>, tensor<?x2xf64>, f64) -> tensor<?x1xf64>

// CHECK: result type does not match the broadcast of the operands

// -----

%x = "test.op"() : () -> tensor<?xi64>
%y = pipeline.binary "add" %x, %x : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xf64>

// CHECK: result must be tensor<?xi64>

// -----

%x = "test.op"() : () -> tensor<?xi1>
%y = pipeline.binary "add" %x, %x : (tensor<?xi1>, tensor<?xi1>) -> tensor<?xi64>

// CHECK: 'add' of two boolean operands is not supported

// -----

%x = "test.op"() : () -> tensor<?xi64>
%y = pipeline.binary "power" %x, %x : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>

// CHECK: an integer power is not supported

// -----

%x = "test.op"() : () -> tensor<?xf64>
%y = pipeline.binary "floor_divide" %x, %x speculative : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>

// CHECK: a speculative binary is an integer floor_divide or remainder

// -----

%x = "test.op"() : () -> tensor<?xf16>
%y = pipeline.binary "add" %x, %x : (tensor<?xf16>, tensor<?xf16>) -> tensor<?xf16>

// CHECK: lhs must hold f64, f32, i64 or i1 values, got tensor<?xf16>

// -----

%x = "test.op"() : () -> tensor<?xf32>
%y = pipeline.binary "fmod" %x, %x : (tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>

// CHECK: 'fmod' of f32 values is not supported

// -----

%x = "test.op"() : () -> tensor<?xf32>
%y = pipeline.unary "sign" %x : tensor<?xf32> -> tensor<?xf32>

// CHECK: 'sign' of f32 values is not supported

// -----

%x = "test.op"() : () -> tensor<?xf32>
%y = pipeline.reduce "sum" %x : tensor<?xf32> -> f64

// CHECK: sum of f32 values is not supported

// -----

%x = "test.op"() : () -> tensor<?xf32>
%y = pipeline.cast %x : tensor<?xf32> -> tensor<?xi64>

// CHECK: a cast from f32 to i64 is not supported

// -----

%x, %y = "test.op"() : () -> (tensor<?xf32>, tensor<?xf64>)
%z = pipeline.hstack %x, %y : (tensor<?xf32>, tensor<?xf64>) -> tensor<?x2xf32>

// CHECK: a dense f32 result is of f32 inputs only

// -----

%x = "test.op"() : () -> tensor<?xi1>
%y = pipeline.unary "negative" %x : tensor<?xi1> -> tensor<?xi1>

// CHECK: a unary function of booleans is not supported

// -----

%x = "test.op"() : () -> tensor<?xi64>
%y = pipeline.unary "sqrt" %x : tensor<?xi64> -> tensor<?xi64>

// CHECK: result must be tensor<?xf64>

// -----

%x = "test.op"() : () -> tensor<?xi64>
%y = pipeline.cast %x : tensor<?xi64> -> tensor<?xi64>

// CHECK: a cast must change the element type

// -----

%x = "test.op"() : () -> tensor<?xi1>
%y = pipeline.cast %x speculative : tensor<?xi1> -> tensor<?xi64>

// CHECK: a speculative cast is from f64 to i64

// -----

%x = "test.op"() : () -> tensor<?xi64>
%y = pipeline.cast %x : tensor<?xi64> -> tensor<?x1xf64>

// CHECK: result must have the input's shape

// -----

%df = "test.op"() : () -> !pipeline.frame<"a" : f64>
%x = pipeline.to_array %df ["a"] : !pipeline.frame<"a" : f64> -> tensor<?x1xf16>

// CHECK: result elements must be f64, f32, i64 or i1, got f16

// -----

%c = "pipeline.constant"() <{value = 2.5 : f16}> : () -> f16

// CHECK: the value must be an f64, f32 or i64, got f16

// -----

%df = "test.op"() : () -> !pipeline.frame<"s" : !pipeline.str>
%t = pipeline.parse_datetime %df "s" "%Y-%j" unit "us" : !pipeline.frame<"s" : !pipeline.str> -> tensor<?xi64>

// CHECK: format '%Y-%j': directive %j is not compiled

// -----

%df = "test.op"() : () -> !pipeline.frame<"s" : !pipeline.str>
%t = pipeline.parse_datetime %df "s" "%m-%d" unit "us" : !pipeline.frame<"s" : !pipeline.str> -> tensor<?xi64>

// CHECK: format '%m-%d': a format needs %Y and each directive at most once

// -----

%df = "test.op"() : () -> !pipeline.frame<"s" : f64>
%t = pipeline.parse_datetime %df "s" "%Y" unit "us" : !pipeline.frame<"s" : f64> -> tensor<?xi64>

// CHECK: column 's' is not of type !pipeline.str

// -----

%x = "test.op"() : () -> tensor<?x2xf64>
%t = pipeline.make_datetime %x unit "us" : tensor<?x2xf64> -> tensor<?xi64>

// CHECK: input must be tensor<?xWxf64> with 3 <= W <= 6: year, month, day, hour, minute, second

// -----

%t = "test.op"() : () -> tensor<?xi64>
%f = pipeline.datetime_field "week" %t unit "us" : tensor<?xi64> -> tensor<?xf64>

// CHECK: unknown datetime field 'week'

// -----

%t = "test.op"() : () -> tensor<?xi64>
%f = pipeline.datetime_field "hour" %t unit "D" : tensor<?xi64> -> tensor<?xf64>

// CHECK: unknown datetime unit 'D'; expected one of s, ms, us, ns

// -----

%x = "test.op"() : () -> !pipeline.frame<"t" : !pipeline.datetime<"D">>

// CHECK: unknown datetime unit 'D'; expected one of s, ms, us, ns

// -----

%df = "test.op"() : () -> !pipeline.frame<"t" : f64>
%t = pipeline.datetime_column %df "t" : !pipeline.frame<"t" : f64> -> tensor<?xi64>

// CHECK: column 't' is not a datetime

// -----

%t = "test.op"() : () -> tensor<?xi64>
%f = pipeline.datetime_field "is_month_end" %t unit "us" : tensor<?xi64> -> tensor<?xf64>

// CHECK: result must be tensor<?xi1>

// -----

%x = "test.op"() : () -> tensor<?xi1>
%m = "pipeline.reduce"(%x) <{function = "max"}> : (tensor<?xi1>) -> i1

// CHECK: max of booleans is not supported

// -----

%x = "test.op"() : () -> tensor<?xf64>
%m = "pipeline.reduce"(%x) <{function = "std"}> : (tensor<?xf64>) -> f64

// CHECK: ddof is given for var and std, and only for them

// -----

%s = "test.op"() : () -> !pipeline.frame<"a" : f64>
%n = pipeline.str_len %s : !pipeline.frame<"a" : f64> -> tensor<?xf64>

// CHECK: input must be a one-column frame of !pipeline.str, got !pipeline.frame<"a" : f64>

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%n = pipeline.str_split_count %s sep ", " : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>

// CHECK: sep must be one ASCII character

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%n = pipeline.str_search "index" %s "a" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>

// CHECK: kind must be one of count, find, rfind

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%n = pipeline.str_search "count" %s "" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>

// CHECK: the pattern must not be empty

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%r = pipeline.str_replace %s "" "x" : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>

// CHECK: the pattern must not be empty

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%n = pipeline.str_split_piece %s piece 1 sep "ab" : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>

// CHECK: sep must be one ASCII character

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%t = pipeline.str_strip "middle" %s : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>

// CHECK: side must be one of both, left, right

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%n = pipeline.str_concat %s pieces ["a"] : (!pipeline.frame<"c" : !pipeline.str>) -> !pipeline.frame<"c" : !pipeline.str>

// CHECK: str_concat needs one more piece than inputs

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str, "d" : !pipeline.str>
%f = pipeline.str_fill %s "" : !pipeline.frame<"c" : !pipeline.str, "d" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str, "d" : !pipeline.str>

// CHECK: input must be a one-column frame of !pipeline.str

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%m = pipeline.str_match "matches" %s "a" na "false" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi1>

// CHECK: predicate must be one of contains, startswith, endswith

// -----

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%m = pipeline.str_match "contains" %s "a" na "nan" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi1>

// CHECK: na must be one of false, true, python

// -----

%x, %lo = "test.op"() : () -> (tensor<?xf64>, i64)
%c = pipeline.cut_width %x, %lo, %lo bins 4 right : (tensor<?xf64>, i64, i64) -> tensor<?xf64>

// CHECK: low and high must be f64, the input's element

// -----

%x, %lo = "test.op"() : () -> (tensor<?xf64>, f64)
%c = pipeline.cut_width %x, %lo, %lo bins 0 : (tensor<?xf64>, f64, f64) -> tensor<?xf64>

// CHECK: bins must be at least 1

// -----

%x = "test.op"() : () -> tensor<?xi64>
%w = pipeline.wrap_int %x bits 64 : tensor<?xi64> -> tensor<?xi64>

// CHECK: bits must be one of 8, 16, 32

// -----

%x = "test.op"() : () -> tensor<?xf64>
%w = pipeline.wrap_int %x bits 32 : tensor<?xf64> -> tensor<?xf64>

// CHECK: input must be a batch of i64

// -----

%x = "test.op"() : () -> tensor<?xf64>
%y = pipeline.binary "add" %x, %x scalar_math : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>

// CHECK: scalar_math is a power's

// -----

%x = "test.op"() : () -> tensor<?xf64>
%y = pipeline.unary "log" %x {libm} : tensor<?xf64> -> tensor<?xf64>

// CHECK: libm is an exp's
