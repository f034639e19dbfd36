// RUN: willump-opt %s -p choose-tree-layout | filecheck %s --check-prefix=AUTO
// RUN: willump-opt %s -p 'choose-tree-layout{branch_seconds=0.0}' | filecheck %s --check-prefix=COST
// RUN: willump-opt %s -p 'choose-tree-layout{layout=nodes top_fill=0.0 top_levels=2}' | filecheck %s --check-prefix=TOP
// RUN: willump-opt %s -p 'choose-tree-layout{layout=branches}' | filecheck %s --check-prefix=BRANCHES

// Two trees in plain node arrays (as the frontend gives them): tree 0 splits on x0 <= 0.5,
// then x1 <= 1.5 on the left (leaves 0, 1), leaf 2 on the right; tree 1 is one split
// x1 <= -1.0 (leaves 3, 4). A child c >= 0 is internal node c, c < 0 is leaf ~c:
//   nodes = [[0, 0, 1, -3], [1, 0, -1, -2], [1, 0, -4, -5]], roots = [0, 2]

func.func @plain(%x: tensor<?x2xf64>) -> tensor<?x1xf64> {
  %r = feature.tree_ensemble %x nodes <n_4775872a4e995507 : tensor<3x4xi32>> thresholds <t_a89492afa15525e1 : tensor<3xf64>> leaves <l_a648258f9205214e : tensor<5x1xf64>> roots <r_2e9d71c388155704 : tensor<2xi32>> tree_outputs <o_f197ba4b41cdd61d : tensor<2xi32>> base <b_2ae973481822fb5e : tensor<1xf64>> compare "le" input "f64" sum "f64" flags 0 check "none" : tensor<?x2xf64> -> tensor<?x1xf64>
  func.return %r : tensor<?x1xf64>
}

// An ensemble whose layout is given is left as it is.

func.func @given(%x: tensor<?x2xf64>) -> tensor<?x1xf64> {
  %r = feature.tree_ensemble %x nodes <n_4775872a4e995507 : tensor<3x4xi32>> thresholds <t_a89492afa15525e1 : tensor<3xf64>> leaves <l_a648258f9205214e : tensor<5x1xf64>> roots <r_2e9d71c388155704 : tensor<2xi32>> tree_outputs <o_f197ba4b41cdd61d : tensor<2xi32>> base <b_2ae973481822fb5e : tensor<1xf64>> compare "le" input "f64" sum "f64" flags 0 check "none" layout "nodes" : tensor<?x2xf64> -> tensor<?x1xf64>
  func.return %r : tensor<?x1xf64>
}

{-#
  dialect_resources: {
    pipeline: {
      n_4775872a4e995507: "0x08000000000000000000000001000000FDFFFFFF0100000000000000FFFFFFFFFEFFFFFF0100000000000000FCFFFFFFFBFFFFFF",
      t_a89492afa15525e1: "0x08000000000000000000E03F000000000000F83F000000000000F0BF",
      l_a648258f9205214e: "0x08000000000000000000F03F0000000000000040000000000000084000000000000010400000000000001440",
      r_2e9d71c388155704: "0x080000000000000002000000",
      o_f197ba4b41cdd61d: "0x080000000000000000000000",
      b_2ae973481822fb5e: "0x080000000000000000000000"
    }
  }
#-}

// auto: LLVM compiles 3 splits as branches in far less than branch_seconds; the trees are
// shallow (one level of splits below their complete top level, levels_below_top = 1), so
// they keep "top 1" node arrays too, for blocks of rows to walk together.
// AUTO-LABEL: func.func @plain
// AUTO:         feature.tree_ensemble %x nodes <n_4775872a4e995507 : tensor<3x4xi32>> {{.*}} roots <r_2e9d71c388155704 : tensor<2xi32>> {{.*}} check "none" layout "branches" top 1 :
// AUTO-LABEL: func.func @given
// AUTO:         check "none" layout "nodes" :

// Over branch_seconds: node arrays. Level 0 is complete (2 of 2 places are splits, at least
// top_fill = 0.55), level 1 is not (1 of 4): "top 1", and the arrays keep their order.
// COST-LABEL: func.func @plain
// COST:         feature.tree_ensemble %x nodes <n_4775872a4e995507 : tensor<3x4xi32>> thresholds <t_a89492afa15525e1 : tensor<3xf64>> {{.*}} roots <r_2e9d71c388155704 : tensor<2xi32>> {{.*}} check "none" layout "nodes" top 1 :

// Two complete levels, whatever the padding: 3 nodes a tree. Tree 0 is node 0, node 1 and
// padding below leaf 2 (going right to it); tree 1 is node 2 and padding below leaves 3, 4.
// New blobs: nodes, thresholds (NaN for padding) and roots [0, 3]; the others are kept.
// TOP-LABEL: func.func @plain
// TOP:         feature.tree_ensemble %x nodes <n_2d5013cf332872c6 : tensor<6x4xi32>> thresholds <t_f9da2f242a0ea1f9 : tensor<6xf64>> leaves <l_a648258f9205214e : tensor<5x1xf64>> roots <r_532fe9f5bb68c2ac : tensor<2xi32>> {{.*}} check "none" layout "nodes" top 2 :
// TOP-LABEL: func.func @given
// TOP:         check "none" layout "nodes" :
// TOP:       dialect_resources
// TOP-DAG:   n_2d5013cf332872c6: "0x08000000000000000000000001000000FDFFFFFF0100000000000000FFFFFFFFFEFFFFFF0000000000000000FDFFFFFFFDFFFFFF0100000000000000FCFFFFFFFBFFFFFF0000000000000000FCFFFFFFFCFFFFFF0000000000000000FBFFFFFFFBFFFFFF"
// TOP-DAG:   t_f9da2f242a0ea1f9: "0x08000000000000000000E03F000000000000F83F000000000000F87F000000000000F0BF000000000000F87F000000000000F87F"
// TOP-DAG:   r_532fe9f5bb68c2ac: "0x080000000000000003000000"

// BRANCHES-LABEL: func.func @plain
// BRANCHES:         check "none" layout "branches" :
