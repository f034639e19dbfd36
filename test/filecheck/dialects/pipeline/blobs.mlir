// RUN: willump-opt %s | filecheck %s

// Blobs given as dialect resources are read into the run's blob store and printed back
// with the IR that references them; an unreferenced resource is not printed.

func.func @score(%x: tensor<?x2xf64>) -> tensor<?x2xf64> {
  %s = pipeline.transform "StandardScaler" %x params {mean = #pipeline.blob<mean_2f4a0c9e1b7d3e58 : tensor<2xf64>>, scale = #pipeline.blob<scale_61d6917377306369 : tensor<2xf64>>} : tensor<?x2xf64> -> tensor<?x2xf64>
  func.return %s : tensor<?x2xf64>
}

{-#
  dialect_resources: {
    pipeline: {
      scale_61d6917377306369: "0x08000000000000000000F03F0000000000000040",
      unused_0000000000000000: "0x080000000000000000000000"
    }
  }
#-}

// CHECK:      params {mean = #pipeline.blob<mean_2f4a0c9e1b7d3e58 : tensor<2xf64>>, scale = #pipeline.blob<scale_61d6917377306369 : tensor<2xf64>>}
// CHECK:      {-#
// CHECK-NEXT:   dialect_resources: {
// CHECK-NEXT:     pipeline: {
// CHECK-NEXT:       scale_61d6917377306369: "0x08000000000000000000F03F0000000000000040"
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT: #-}
// CHECK-NOT:  unused
