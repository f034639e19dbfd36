// RUN: willump-opt %s --split-input-file -p fold-scalers | filecheck %s

// A StandardScaler (mean [10, 0], scale [2, 1]) before a tree that checks nothing: the split
// (x0 - 10) / 2 <= 1.5 becomes x0 <= 13 and x1 / 1 <= -0.25 stays x1 <= -0.25, in a new
// thresholds blob; the model reads the raw rows, refuses infinity as the scaler did, and
// the scaler is gone.

func.func @folded(%x: tensor<?x2xf64>) -> tensor<?xf64> {
  %s = pipeline.transform "StandardScaler" %x params {mean = #pipeline.blob<mean_b4c08dbe33500ee5 : tensor<2xf64>>, scale = #pipeline.blob<scale_97810326f6c3d0ad : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
  %p = pipeline.predict "HistGradientBoostingRegressor" "predict" %s params {nodes = #pipeline.blob<nodes_4f35ae70e3816d37 : tensor<2x4xi32>>, thresholds = #pipeline.blob<thresholds_ea350e1050f93ba6 : tensor<2xf64>>, leaves = #pipeline.blob<leaves_02fdac2d5803e881 : tensor<3x1xf64>>, roots = #pipeline.blob<roots_fb68766b833e4f16 : tensor<1xi32>>, tree_outputs = #pipeline.blob<tree_outputs_fb68766b833e4f16 : tensor<1xi32>>, base = #pipeline.blob<base_2ae973481822fb5e : tensor<1xf64>>, compare = "le", input_precision = "f64", sum_precision = "f64", node_flags = 0 : i64, check = "none", link = "identity"} : tensor<?x2xf64> -> tensor<?xf64>
  func.return %p : tensor<?xf64>
}

{-#
  dialect_resources: {
    pipeline: {
      mean_b4c08dbe33500ee5: "0x0800000000000000000024400000000000000000",
      scale_97810326f6c3d0ad: "0x080000000000000000000040000000000000F03F",
      nodes_4f35ae70e3816d37: "0x08000000000000000000000001000000FFFFFFFF0100000000000000FEFFFFFFFDFFFFFF",
      thresholds_ea350e1050f93ba6: "0x08000000000000000000F83F000000000000D0BF",
      leaves_02fdac2d5803e881: "0x080000000000000000000000000000000000F03F0000000000000040",
      roots_fb68766b833e4f16: "0x0800000000000000",
      tree_outputs_fb68766b833e4f16: "0x0800000000000000",
      base_2ae973481822fb5e: "0x080000000000000000000000"
    }
  }
#-}

// CHECK-LABEL: func.func @folded(%x: tensor<?x2xf64>) -> tensor<?xf64> {
// CHECK-NOT:     pipeline.transform
// CHECK:         %p = pipeline.predict "HistGradientBoostingRegressor" "predict" %x params {
// CHECK-SAME:      thresholds = #pipeline.blob<thresholds_51c9627c29a73f16 : tensor<2xf64>>
// CHECK-SAME:      input_precision = "f64"
// CHECK-SAME:      check = "infinite"
// CHECK-SAME:    {folded = "StandardScaler"} : tensor<?x2xf64> -> tensor<?xf64>
// CHECK:       {-#
// CHECK:           thresholds_51c9627c29a73f16: "0x080000000000000000002A40000000000000D0BF"
// CHECK-NOT:       thresholds_ea350e1050f93ba6
// CHECK:       #-}

// -----

// A model that checks its input (a RandomForest refuses values that only overflow float32
// once scaled, which no threshold on the raw value tells) keeps its scaler.

func.func @checks_its_input(%x: tensor<?x2xf64>) -> tensor<?xf64> {
  %s = pipeline.transform "StandardScaler" %x params {mean = #pipeline.blob<mean_b4c08dbe33500ee5 : tensor<2xf64>>, scale = #pipeline.blob<scale_97810326f6c3d0ad : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
  %p = pipeline.predict "RandomForestRegressor" "predict" %s params {nodes = #pipeline.blob<nodes_4f35ae70e3816d37 : tensor<2x4xi32>>, thresholds = #pipeline.blob<thresholds_ea350e1050f93ba6 : tensor<2xf64>>, leaves = #pipeline.blob<leaves_02fdac2d5803e881 : tensor<3x1xf64>>, roots = #pipeline.blob<roots_fb68766b833e4f16 : tensor<1xi32>>, tree_outputs = #pipeline.blob<tree_outputs_fb68766b833e4f16 : tensor<1xi32>>, base = #pipeline.blob<base_2ae973481822fb5e : tensor<1xf64>>, compare = "le", input_precision = "f32", sum_precision = "f64", node_flags = 0 : i64, check = "nan_or_infinite", link = "identity"} : tensor<?x2xf64> -> tensor<?xf64>
  func.return %p : tensor<?xf64>
}

{-#
  dialect_resources: {
    pipeline: {
      mean_b4c08dbe33500ee5: "0x0800000000000000000024400000000000000000",
      scale_97810326f6c3d0ad: "0x080000000000000000000040000000000000F03F",
      nodes_4f35ae70e3816d37: "0x08000000000000000000000001000000FFFFFFFF0100000000000000FEFFFFFFFDFFFFFF",
      thresholds_ea350e1050f93ba6: "0x08000000000000000000F83F000000000000D0BF",
      leaves_02fdac2d5803e881: "0x080000000000000000000000000000000000F03F0000000000000040",
      roots_fb68766b833e4f16: "0x0800000000000000",
      tree_outputs_fb68766b833e4f16: "0x0800000000000000",
      base_2ae973481822fb5e: "0x080000000000000000000000"
    }
  }
#-}

// CHECK-LABEL: func.func @checks_its_input(
// CHECK:         %s = pipeline.transform "StandardScaler" %x
// CHECK:         %p = pipeline.predict "RandomForestRegressor" "predict" %s params {
// CHECK-SAME:      thresholds = #pipeline.blob<thresholds_ea350e1050f93ba6 : tensor<2xf64>>
// CHECK-SAME:      check = "nan_or_infinite"
// CHECK-NOT:     folded

// -----

// A categorical split (flags 2 in node 0) is not a threshold on the scaled value: kept.

func.func @categorical(%x: tensor<?x2xf64>) -> tensor<?xf64> {
  %s = pipeline.transform "StandardScaler" %x params {mean = #pipeline.blob<mean_b4c08dbe33500ee5 : tensor<2xf64>>, scale = #pipeline.blob<scale_97810326f6c3d0ad : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
  %p = pipeline.predict "HistGradientBoostingRegressor" "predict" %s params {nodes = #pipeline.blob<nodes_e86c7f2cc6e8c3ad : tensor<2x4xi32>>, thresholds = #pipeline.blob<thresholds_ea350e1050f93ba6 : tensor<2xf64>>, leaves = #pipeline.blob<leaves_02fdac2d5803e881 : tensor<3x1xf64>>, roots = #pipeline.blob<roots_fb68766b833e4f16 : tensor<1xi32>>, tree_outputs = #pipeline.blob<tree_outputs_fb68766b833e4f16 : tensor<1xi32>>, base = #pipeline.blob<base_2ae973481822fb5e : tensor<1xf64>>, compare = "le", input_precision = "f64", sum_precision = "f64", node_flags = 2 : i64, check = "none", link = "identity"} : tensor<?x2xf64> -> tensor<?xf64>
  func.return %p : tensor<?xf64>
}

{-#
  dialect_resources: {
    pipeline: {
      mean_b4c08dbe33500ee5: "0x0800000000000000000024400000000000000000",
      scale_97810326f6c3d0ad: "0x080000000000000000000040000000000000F03F",
      nodes_e86c7f2cc6e8c3ad: "0x08000000000000000200000001000000FFFFFFFF0100000000000000FEFFFFFFFDFFFFFF",
      thresholds_ea350e1050f93ba6: "0x08000000000000000000F83F000000000000D0BF",
      leaves_02fdac2d5803e881: "0x080000000000000000000000000000000000F03F0000000000000040",
      roots_fb68766b833e4f16: "0x0800000000000000",
      tree_outputs_fb68766b833e4f16: "0x0800000000000000",
      base_2ae973481822fb5e: "0x080000000000000000000000"
    }
  }
#-}

// CHECK-LABEL: func.func @categorical(
// CHECK:         %s = pipeline.transform "StandardScaler" %x
// CHECK:         pipeline.predict "HistGradientBoostingRegressor" "predict" %s
// CHECK-NOT:     folded
