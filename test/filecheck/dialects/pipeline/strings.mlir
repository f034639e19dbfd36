// RUN: willump-opt %s | willump-opt | filecheck %s

%s = "test.op"() : () -> !pipeline.frame<"c" : !pipeline.str>
%t = "test.op"() : () -> !pipeline.frame<"d" : !pipeline.str>
%l = pipeline.str_case "upper" %s map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <q : tensor<1xi32>> expansion 8 : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
%w = pipeline.str_strip "left" %l chars "x-" : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
%h = pipeline.str_slice %w [0 : 3] : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
%f = pipeline.str_slice %s [-1] : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
%n = pipeline.str_concat %h, %t pieces ["<", " ", ">"] : (!pipeline.frame<"c" : !pipeline.str>, !pipeline.frame<"d" : !pipeline.str>) -> !pipeline.frame<"c" : !pipeline.str>
%k = pipeline.str_len %n : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
%p = pipeline.str_split_count %s : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
%q = pipeline.str_split_count %s sep "," : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
%a = pipeline.str_split_piece %s piece 0 : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
%z = pipeline.str_split_piece %s piece -2 sep "," : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
%m = pipeline.str_match "contains" %f "ss" na "python" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi1>
%i = pipeline.str_match "endswith" %s "Ab" na "false" ignore_case : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi1>
%g = pipeline.str_search "count" %s "ab" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
%r = pipeline.str_search "rfind" %s "\\u00e9" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
%x = pipeline.str_replace %s "-" "\\u2192" : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
%d = pipeline.str_to_int %h : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi64>
%e = pipeline.str_fill %s "n/a" : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>

// CHECK: pipeline.str_case "upper" %{{.*}} map <i : tensor<4352xi32>>, <b : tensor<256xi32>>, <q : tensor<1xi32>> expansion 8
// CHECK: pipeline.str_strip "left" %{{.*}} chars "x-"
// CHECK: pipeline.str_slice %{{.*}} [0 : 3]
// CHECK: pipeline.str_slice %{{.*}} [-1]
// CHECK: pipeline.str_concat %{{.*}}, %{{.*}} pieces ["<", " ", ">"]
// CHECK: pipeline.str_len %{{.*}} : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
// CHECK: pipeline.str_split_count %{{.*}} : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
// CHECK: pipeline.str_split_count %{{.*}} sep "," : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
// CHECK: pipeline.str_split_piece %{{.*}} piece 0 : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
// CHECK: pipeline.str_split_piece %{{.*}} piece -2 sep "," : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
// CHECK: pipeline.str_match "contains" %{{.*}} "ss" na "python"
// CHECK: pipeline.str_match "endswith" %{{.*}} "Ab" na "false" ignore_case
// CHECK: pipeline.str_search "count" %{{.*}} "ab" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
// CHECK: pipeline.str_search "rfind" %{{.*}} "\\u00e9" : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xf64>
// CHECK: pipeline.str_replace %{{.*}} "-" "\\u2192" : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
// CHECK: pipeline.str_to_int %{{.*}} : !pipeline.frame<"c" : !pipeline.str> -> tensor<?xi64>
// CHECK: pipeline.str_fill %{{.*}} "n/a" : !pipeline.frame<"c" : !pipeline.str> -> !pipeline.frame<"c" : !pipeline.str>
