// RUN: ember-opt %s --ember-outline-parallel-loops="min-work=1024" | FileCheck %s

// A large parallel loop becomes a call of the thread-pool runtime with the body outlined:
// memrefs travel in a stack struct as their LLVM descriptors, constants are cloned.
// CHECK: func.func private @ember_parallel_for((!llvm.ptr, i64, i64) -> (), !llvm.ptr, i64, i64, i64)
// CHECK-LABEL: func.func @big
func.func @big(%a: memref<64x32xf32>, %out: memref<64x32xf32>) {
  // CHECK: %[[CTX:.*]] = llvm.alloca %{{.*}} x !llvm.struct<(struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>)>
  // CHECK: builtin.unrealized_conversion_cast %arg0 : memref<64x32xf32> to !llvm.struct
  // CHECK: llvm.store
  // CHECK: %[[FN:.*]] = constant @big_par_0 : (!llvm.ptr, i64, i64) -> ()
  // CHECK: call @ember_parallel_for(%[[FN]], %[[CTX]], %{{.*}}, %{{.*}}, %{{.*}})
  // CHECK-NOT: scf.parallel
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c32) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<64x32xf32>
    %w = arith.mulf %v, %two : f32
    memref.store %w, %out[%i, %j] : memref<64x32xf32>
    scf.reduce
  }
  return
}
// The outlined body: unpack ctx, first dimension over [begin, end), the second whole.
// CHECK-LABEL: func.func private @big_par_0(%arg0: !llvm.ptr, %arg1: i64, %arg2: i64)
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: llvm.load
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<{{.*}}> to memref<64x32xf32>
// CHECK: %[[B:.*]] = arith.index_cast %arg1 : i64 to index
// CHECK: %[[E:.*]] = arith.index_cast %arg2 : i64 to index
// CHECK: scf.for %[[I:.*]] = %[[B]] to %[[E]]
// CHECK: scf.for %[[J:.*]] = %c0{{.*}} to %c32
// CHECK: memref.load %{{.*}}[%[[I]], %[[J]]]
// CHECK: arith.mulf

// Below min-work the loop stays.
// CHECK-LABEL: func.func @small
func.func @small(%a: memref<4x4xf32>) {
  // CHECK: scf.parallel
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    memref.store %z, %a[%i, %j] : memref<4x4xf32>
    scf.reduce
  }
  return
}

// A reduction's inner loop counts as work: 8 parallel iterations of 256 each reach min-work.
// CHECK-LABEL: func.func @row_sums
func.func @row_sums(%a: memref<8x256xf32>, %out: memref<8xf32>) {
  // CHECK: call @ember_parallel_for(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[WORK:.*]])
  // CHECK-NOT: scf.parallel
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c256 = arith.constant 256 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.for %j = %c0 to %c256 step %c1 {
      %v = memref.load %a[%i, %j] : memref<8x256xf32>
      %s = memref.load %out[%i] : memref<8xf32>
      %t = arith.addf %s, %v : f32
      memref.store %t, %out[%i] : memref<8xf32>
    }
    scf.reduce
  }
  return
}

// Dynamic upper bounds (a dynamic batch): outlined whatever the size (the runtime runs small
// ones on the calling thread); the first dimension's bound is the call's end, an inner one
// travels in ctx and multiplies the work per first-dimension iteration.
// CHECK-LABEL: func.func @dynamic_bounds
func.func @dynamic_bounds(%a: memref<?x?xf32>, %out: memref<?x?xf32>) {
  // CHECK: %[[N:.*]] = memref.dim %arg0, %c0
  // CHECK: %[[M:.*]] = memref.dim %arg0, %c1
  // CHECK: %[[END:.*]] = arith.index_cast %[[N]] : index to i64
  // CHECK: %[[MI:.*]] = arith.index_cast %[[M]] : index to i64
  // CHECK: %[[WORK:.*]] = arith.muli %{{.*}}, %[[MI]] : i64
  // CHECK: call @ember_parallel_for(%{{.*}}, %{{.*}}, %{{.*}}, %[[END]], %[[WORK]])
  // CHECK-NOT: scf.parallel
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %a, %c0 : memref<?x?xf32>
  %m = memref.dim %a, %c1 : memref<?x?xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %m) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<?x?xf32>
    memref.store %v, %out[%i, %j] : memref<?x?xf32>
    scf.reduce
  }
  return
}
// CHECK-LABEL: func.func private @dynamic_bounds_par_{{[0-9]+}}
// CHECK: %[[B:.*]] = arith.index_cast %arg1 : i64 to index
// CHECK: %[[E:.*]] = arith.index_cast %arg2 : i64 to index
// CHECK: scf.for %{{.*}} = %[[B]] to %[[E]]
// CHECK: scf.for
