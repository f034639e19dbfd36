// RUN: WILLUMP_ROUNDTRIP
// RUN: WILLUMP_GENERIC_ROUNDTRIP
// RUN: willump-opt %s --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

// A forest of float32 comparisons averaged over its trees, with NaN checked; a boosted
// multiclass model with categorical splits whose infinity check covers column 0 only; a
// float32 sum and a binary decision function (one output, as a vector).

func.func @forest(%x: tensor<?x4xf64>) -> tensor<?x3xf64> {
  %r = feature.tree_ensemble %x nodes <n : tensor<5x4xi32>> thresholds <t : tensor<5xf64>> leaves <l : tensor<7x3xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<3xf64>> compare "le" input "f32" sum "f64" flags 1 divisor 2.000000e+00 : f64 check "nan_or_infinite" : tensor<?x4xf64> -> tensor<?x3xf64>
  func.return %r : tensor<?x3xf64>
}

// CHECK-LABEL: func.func @forest(%x: tensor<?x4xf64>) -> tensor<?x3xf64> {
// CHECK-NEXT:    %r = feature.tree_ensemble %x nodes <n : tensor<5x4xi32>> thresholds <t : tensor<5xf64>> leaves <l : tensor<7x3xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<3xf64>> compare "le" input "f32" sum "f64" flags 1 divisor 2.000000e+00 : f64 check "nan_or_infinite" : tensor<?x4xf64> -> tensor<?x3xf64>

// GENERIC: "feature.tree_ensemble"(%x) <{nodes = #pipeline.blob<n : tensor<5x4xi32>>, thresholds = #pipeline.blob<t : tensor<5xf64>>, leaves = #pipeline.blob<l : tensor<7x3xf64>>, roots = #pipeline.blob<r : tensor<2xi32>>, tree_outputs = #pipeline.blob<o : tensor<2xi32>>, base = #pipeline.blob<b : tensor<3xf64>>, compare = "le", input_precision = "f32", sum_precision = "f64", node_flags = 1 : i64, divisor = 2.000000e+00 : f64, check = "nan_or_infinite"}> : (tensor<?x4xf64>) -> tensor<?x3xf64>

// -----

func.func @boosted(%x: tensor<?x3xf64>) -> tensor<?x3xf64> {
  %r = feature.tree_ensemble %x nodes <n : tensor<9x4xi32>> thresholds <t : tensor<9xf64>> leaves <l : tensor<12x1xf64>> roots <r : tensor<3xi32>> tree_outputs <o : tensor<3xi32>> base <b : tensor<3xf64>> categories <cr : tensor<9x2xi32>>, <cb : tensor<4xi32>> compare "le" input "f64" sum "f64" flags 83 check "infinite" columns [0 : i64] : tensor<?x3xf64> -> tensor<?x3xf64>
  func.return %r : tensor<?x3xf64>
}

// CHECK-LABEL: func.func @boosted(%x: tensor<?x3xf64>) -> tensor<?x3xf64> {
// CHECK-NEXT:    %r = feature.tree_ensemble %x nodes <n : tensor<9x4xi32>> thresholds <t : tensor<9xf64>> leaves <l : tensor<12x1xf64>> roots <r : tensor<3xi32>> tree_outputs <o : tensor<3xi32>> base <b : tensor<3xf64>> categories <cr : tensor<9x2xi32>>, <cb : tensor<4xi32>> compare "le" input "f64" sum "f64" flags 83 check "infinite" columns [0 : i64] : tensor<?x3xf64> -> tensor<?x3xf64>

// GENERIC: category_ranges = #pipeline.blob<cr : tensor<9x2xi32>>, category_bits = #pipeline.blob<cb : tensor<4xi32>>
// GENERIC-SAME: check_columns = [0 : i64]

// -----

func.func @binary(%x: tensor<?x2xf64>) -> tensor<?xf32> {
  %r = feature.tree_ensemble %x nodes <n : tensor<1x4xi32>> thresholds <t : tensor<1xf64>> leaves <l : tensor<2x1xf64>> roots <r : tensor<1xi32>> tree_outputs <o : tensor<1xi32>> base <b : tensor<1xf64>> compare "lt" input "f32" sum "f32" flags 0 check "none" : tensor<?x2xf64> -> tensor<?xf32>
  func.return %r : tensor<?xf32>
}

// CHECK-LABEL: func.func @binary(%x: tensor<?x2xf64>) -> tensor<?xf32> {
// CHECK-NEXT:    %r = feature.tree_ensemble %x nodes <n : tensor<1x4xi32>> thresholds <t : tensor<1xf64>> leaves <l : tensor<2x1xf64>> roots <r : tensor<1xi32>> tree_outputs <o : tensor<1xi32>> base <b : tensor<1xf64>> compare "lt" input "f32" sum "f32" flags 0 check "none" : tensor<?x2xf64> -> tensor<?xf32>

// -----

// Generated branches instead of the node loop.

func.func @branches(%x: tensor<?x2xf64>) -> tensor<?x1xf64> {
  %r = feature.tree_ensemble %x nodes <n : tensor<1x4xi32>> thresholds <t : tensor<1xf64>> leaves <l : tensor<2x1xf64>> roots <r : tensor<1xi32>> tree_outputs <o : tensor<1xi32>> base <b : tensor<1xf64>> compare "le" input "f64" sum "f64" flags 1 check "none" layout "branches" : tensor<?x2xf64> -> tensor<?x1xf64>
  func.return %r : tensor<?x1xf64>
}

// CHECK-LABEL: func.func @branches(%x: tensor<?x2xf64>) -> tensor<?x1xf64> {
// CHECK-NEXT:    %r = feature.tree_ensemble %x nodes <n : tensor<1x4xi32>> thresholds <t : tensor<1xf64>> leaves <l : tensor<2x1xf64>> roots <r : tensor<1xi32>> tree_outputs <o : tensor<1xi32>> base <b : tensor<1xf64>> compare "le" input "f64" sum "f64" flags 1 check "none" layout "branches" : tensor<?x2xf64> -> tensor<?x1xf64>
// GENERIC: check = "none", layout = "branches"}

// -----

// Node arrays whose top two levels are complete binary trees (3 nodes a tree).

func.func @top(%x: tensor<?x2xf64>) -> tensor<?x1xf32> {
  %r = feature.tree_ensemble %x nodes <n : tensor<7x4xi32>> thresholds <t : tensor<7xf64>> leaves <l : tensor<6x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "lt" input "f32" sum "f32" flags 1 check "none" top 2 : tensor<?x2xf64> -> tensor<?x1xf32>
  func.return %r : tensor<?x1xf32>
}

// CHECK-LABEL: func.func @top(%x: tensor<?x2xf64>) -> tensor<?x1xf32> {
// CHECK-NEXT:    %r = feature.tree_ensemble %x nodes <n : tensor<7x4xi32>> thresholds <t : tensor<7xf64>> leaves <l : tensor<6x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "lt" input "f32" sum "f32" flags 1 check "none" top 2 : tensor<?x2xf64> -> tensor<?x1xf32>
// GENERIC: check = "none", top_levels = 2 : i64}

// -----

// Generated branches with complete top levels in the node arrays: blocks of rows read in
// place walk these, rows computed one at a time call the branches.

func.func @branches_top(%x: tensor<?x2xf64>) -> tensor<?x1xf32> {
  %r = feature.tree_ensemble %x nodes <n : tensor<7x4xi32>> thresholds <t : tensor<7xf64>> leaves <l : tensor<6x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "lt" input "f32" sum "f32" flags 1 check "none" layout "branches" top 2 : tensor<?x2xf64> -> tensor<?x1xf32>
  func.return %r : tensor<?x1xf32>
}

// CHECK-LABEL: func.func @branches_top(%x: tensor<?x2xf64>) -> tensor<?x1xf32> {
// CHECK-NEXT:    %r = feature.tree_ensemble %x nodes <n : tensor<7x4xi32>> thresholds <t : tensor<7xf64>> leaves <l : tensor<6x1xf64>> roots <r : tensor<2xi32>> tree_outputs <o : tensor<2xi32>> base <b : tensor<1xf64>> compare "lt" input "f32" sum "f32" flags 1 check "none" layout "branches" top 2 : tensor<?x2xf64> -> tensor<?x1xf32>
// GENERIC: check = "none", layout = "branches", top_levels = 2 : i64}
