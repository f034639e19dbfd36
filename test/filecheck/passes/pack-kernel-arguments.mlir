// RUN: willump-opt %s -p pack-kernel-arguments | filecheck %s

// A kernel's body becomes @<name>.unpacked (its noalias arguments kept); @<name>
// takes one pointer to 8-byte slots, slot i holding argument i, and calls the body.
llvm.func @k(%n: i64, %err: !llvm.ptr {llvm.noalias}, %out: !llvm.ptr {llvm.noalias}, %x: !llvm.ptr {llvm.noalias}, %scale: f64) attributes {willump.kernel} {
  %c0 = llvm.mlir.constant(0) : i64
  %p = llvm.getelementptr inbounds %x[%c0] : (!llvm.ptr, i64) -> !llvm.ptr, f64
  %v = llvm.load %p : !llvm.ptr -> f64
  %w = llvm.fmul %v, %scale : f64
  llvm.store %w, %out : f64, !llvm.ptr
  llvm.return
}

// A function that is not a kernel, and a declaration, keep their signatures.
llvm.func @helper(%a: i32) -> i32 {
  llvm.return %a : i32
}
llvm.func @log1p(f64) -> f64

// CHECK:      builtin.module {
// CHECK-NEXT:   llvm.func @k.unpacked(%n: i64, %err: !llvm.ptr {llvm.noalias}, %out: !llvm.ptr {llvm.noalias}, %x: !llvm.ptr {llvm.noalias}, %scale: f64) {
// CHECK-NEXT:     %c0 = llvm.mlir.constant(0) : i64
// CHECK:          llvm.store %w, %out : f64, !llvm.ptr
// CHECK-NEXT:     llvm.return
// CHECK-NEXT:   }
// CHECK-NEXT:   llvm.func @k(%[[ARGS:.*]]: !llvm.ptr) attributes {willump.kernel} {
// CHECK-NEXT:     %[[P0:.*]] = llvm.getelementptr inbounds %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT:     %[[N:.*]] = llvm.load %[[P0]] : !llvm.ptr -> i64
// CHECK-NEXT:     %[[P1:.*]] = llvm.getelementptr inbounds %[[ARGS]][1] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT:     %[[ERR:.*]] = llvm.load %[[P1]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT:     %[[P2:.*]] = llvm.getelementptr inbounds %[[ARGS]][2] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT:     %[[OUT:.*]] = llvm.load %[[P2]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT:     %[[P3:.*]] = llvm.getelementptr inbounds %[[ARGS]][3] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT:     %[[X:.*]] = llvm.load %[[P3]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT:     %[[P4:.*]] = llvm.getelementptr inbounds %[[ARGS]][4] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT:     %[[SCALE:.*]] = llvm.load %[[P4]] : !llvm.ptr -> f64
// CHECK-NEXT:     llvm.call @k.unpacked(%[[N]], %[[ERR]], %[[OUT]], %[[X]], %[[SCALE]]) : (i64, !llvm.ptr, !llvm.ptr, !llvm.ptr, f64) -> ()
// CHECK-NEXT:     llvm.return
// CHECK-NEXT:   }
// CHECK-NEXT:   llvm.func @helper(%a: i32) -> i32 {
// CHECK-NEXT:     llvm.return %a : i32
// CHECK-NEXT:   }
// CHECK-NEXT:   llvm.func @log1p(f64) -> f64
// CHECK-NEXT: }

