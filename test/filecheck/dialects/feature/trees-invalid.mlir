// RUN: willump-opt %s --split-input-file --verify-diagnostics | filecheck %s

// feature.tree_ensemble: blob shapes and element types, attributes and the result type.

// The input must be a batch of f64 rows.

%x = "test.op"() : () -> tensor<?x4xi64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" : tensor<?x4xi64> -> tensor<?x1xf64>

// CHECK: input must hold f64 values

// -----

// Blob element types and shapes must agree with each other.

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi64>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: nodes blob 'n' must hold i32 values

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x3xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: nodes must hold (feature, flags, left, right) per node

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<2xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: thresholds blob 't' has 2 values, not 3

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<3xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: tree_outputs blob 'o' has 3 values, not 2

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x2xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: leaves must have 1 to 1 values each

// -----

// Attributes: the comparison, precisions, checks and flags.

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "ge" input "f32" sum "f64" flags 0 check "none" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: compare must be one of le, lt, got 'ge'

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f16" sum "f64" flags 0 check "none" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: input precision must be one of f64, f32, got 'f16'

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "all" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: check must be one of none, nan_or_infinite, infinite, got 'all'

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 128 check "none" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: flags 128 has unknown bits

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 2 check "none" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: categories are given exactly when a node is categorical

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" columns [4 : i64] : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: checked column 4 is out of range

// -----

// The result: K outputs (a vector for one), f32 with a float32 sum.

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" : tensor<?x4xf64> -> tensor<?x2xf64>

// CHECK: result must be tensor<?x1xf64>

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" : tensor<?x4xf64> -> tensor<?xf32>

// CHECK: result must be tensor<?x1xf64>

// -----

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<3x4xi32>> thresholds <t : tensor<3xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" layout "diagonal" : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: layout must be one of nodes, branches, got 'diagonal'

// -----

// At most 8 complete top levels ...

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<6x4xi32>> thresholds <t : tensor<6xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" top 9 : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: top must be 1 to 8 levels

// -----

// ... and 2^N - 1 nodes for each tree.

%x = "test.op"() : () -> tensor<?x4xf64>
%r = feature.tree_ensemble %x nodes <n : tensor<5x4xi32>> thresholds <t : tensor<5xf64>> leaves <l : tensor<4x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "le" input "f32" sum "f64" flags 0 check "none" top 2 : tensor<?x4xf64> -> tensor<?x1xf64>

// CHECK: top 2 needs 3 nodes per tree
